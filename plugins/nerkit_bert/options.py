"""The ``bert`` tagger's options, apart from the tagger: reading them (``nerkit compare``,
``nerkit sweep``, the checks before a run) imports neither torch nor transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nerkit.options import option
from nerkit_hf.options import EncoderTrainingOptions


@dataclass(frozen=True, slots=True)
class BertOptions(EncoderTrainingOptions):
    label_all_subwords: bool = option(
        False, "label every subword (B- becomes I- on continuations), not only the first"
    )
    freeze_embeddings: bool = option(False, "do not train the embedding layer")
    freeze_layers: int = option(0, "do not train the first N encoder layers")
    classifier_dropout: float | None = option(None, "dropout before the head (None: the model's)")
    num_workers: int = option(0, "DataLoader worker processes")
    train: bool = option(
        True,
        "false: predict with the token-classification head of 'model' as it is (a "
        "fine-tuned NER model, such as run_ner.py's output), whose id2label names the tags",
    )
    label_map: Path | None = option(
        None,
        "with train=false: TSV file model_label<TAB>dataset_label, renaming the model's "
        "entity types (types that map to none of train's and dev's are predicted as O; "
        "without train and dev, every type is kept)",
    )
    head_scheme: str = option(
        "auto",
        "with train=false: the scheme of the model's tags (auto: from their prefixes; "
        "IOB1 must be named)",
    )
