"""The ``lear`` tagger's options, apart from the tagger: reading them (``nerkit compare``,
``nerkit sweep``, the checks before a run) imports neither torch nor transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nerkit.options import option
from nerkit_hf.options import EncoderTrainingOptions


@dataclass(frozen=True, slots=True)
class LearOptions(EncoderTrainingOptions):
    descriptions: Path | None = option(
        None, "file of LABEL<TAB>description lines (None: descriptions from the label names)"
    )
    nested: bool = option(False, "keep overlapping and nested spans (else flat, no overlaps)")
    start_threshold: float | None = option(
        0.5,
        "start probability a word needs to start an entity (None: the value of "
        "THRESHOLD_GRID that maximises dev F1 after training, 0.5 without dev)",
    )
    end_threshold: float | None = option(
        0.5, "end probability a word needs to end an entity (None: picked on dev, as start)"
    )
    positive_weight: float | None = option(
        None,
        "weight of the start / end targets against the (far more) other positions in the "
        "loss (None: the square root of their ratio in the training data)",
    )
    max_span_length: int = option(20, "longest entity in words (characters for Chinese)")
    span_loss_weight: float = option(
        0.0,
        "weight of the span-matching loss (0: no span matching); nested decoding then "
        "pairs every start with every end whose match probability reaches match_threshold",
    )
    match_threshold: float = option(0.5, "match probability a start / end pair needs")
    max_train_samples: int | None = option(
        None, "train on the first N training sentences only (quick trials, as run_ner.py)"
    )
    dropout: float = option(0.1, "dropout on the encoder output and the fused representations")
