"""The ``lear`` tagger: LEAR span extraction (``model.py``) behind the Tagger interface.

Words, not subwords, carry the labels: a word's start / end targets and predictions
sit on its first subword, in the window that owns it (``nerkit_hf.encoding``), so long
sentences are windowed, never truncated, and a span may cross window boundaries. The
training loop is the shared one (``nerkit_hf.training``): AdamW with the task layers'
learning rate multiplied by ``task_layer_lr``, warmup, early stopping on dev F1; the
training options and their defaults are ``bert``'s (``nerkit_hf.options``).

The start / end loss is binary cross-entropy over every (word, label) position. On
real corpora about one position in 100-300 is a start, and with equal weights the
probabilities settle far below the thresholds: the model predicts nothing (WNUT-17 at
10%: test F1 0). The targets are therefore weighted, by default with the square root
of the ratio of other positions to targets in the training data (``positive_weight``;
14 on WNUT-17, 18 on Weibo, 3 on the dense toy corpus). Weighted, the probabilities
are no longer calibrated; the thresholds stay 0.5 by default (the source's, and on
WNUT-17 0.5 did as well as thresholds picked on dev), and with ``start_threshold=None``
they are picked on dev after training (``THRESHOLD_GRID``; 0.5 without dev). The start / end
biases start at the constant probability that minimises this weighted loss
(``prior_probability``) instead of 0.5: from 0.5 the first steps only push every
position down, and on the sparse character-level targets of Weibo the pointers then
stalled for many epochs (100 sentences, 40 epochs: train F1 0.56 from 0.5, 0.81 from
the prior; benchmarks/RESULTS.md).

Entities to learn are a sentence's ``spans`` when it has them (nested gold from JSON
lines spans or a two-tag-column CoNLL file), else the ones its tags encode. Output
(``decoding.py``): flat spans become tags in the dataset's scheme, so the run scores
and corrects LEAR like any tagger; with ``nested`` every decoded span is in
``Prediction.spans`` (score them with ``nerkit.metrics.span_scores``) and the tags
encode the outermost ones.

Confidences: a token inside a predicted entity gets the entity's score (the geometric
mean of its start and end probabilities), any other token one minus the highest start
or end probability it got. No probability matrix: LEAR scores spans, not tags.

``stats`` (saved with the model): the descriptions used and where they came from, the
[UNK] rates and windowed sentences as for ``bert``, the ``positive_weight`` and the
starting ``prior`` used, and the training loop's summary.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nerkit import schemes
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import (
    RunContext,
    Tagger,
    load_options,
    read_manifest,
    save_options,
    write_manifest,
)
from nerkit.io.common import layers
from nerkit.metrics.spans import entity_spans, span_scores
from nerkit.types import Prediction, Sentence, Span
from nerkit_bert.tagger import count_windowed, quiet_transformers, resolve_model
from nerkit_hf import training
from nerkit_hf.encoding import (
    SubwordEncoder,
    Window,
    position_limit,
    record_coverage,
    unknown_pieces,
    window_length,
)
from nerkit_hf.options import train_encoder
from nerkit_lear import decoding
from nerkit_lear.descriptions import (
    Descriptions,
    from_label_names,
    read_descriptions,
)
from nerkit_lear.model import LearModel
from nerkit_lear.options import LearOptions

#: the start / end thresholds tried on dev when the options leave them open
THRESHOLD_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
FORMAT = "nerkit-lear"
FORMAT_VERSION = 1
FILE = "nerkit-lear.json"
WEIGHTS = "lear.safetensors"


class LearTagger(Tagger):
    """LEAR: label descriptions fused into token representations, per-label start /
    end pointers, flat or nested decoding."""

    options_class = LearOptions
    options: LearOptions

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        o = self.options
        o.check(
            "lear",
            {
                "max_span_length": o.max_span_length >= 1,
                "start_threshold": o.start_threshold is None or 0.0 < o.start_threshold <= 1.0,
                "end_threshold": o.end_threshold is None or 0.0 < o.end_threshold <= 1.0,
                "match_threshold": 0.0 < o.match_threshold <= 1.0,
                "span_loss_weight": o.span_loss_weight >= 0.0,
                "positive_weight": o.positive_weight is None or o.positive_weight > 0.0,
                "dropout": 0.0 <= o.dropout < 1.0,
                "max_train_samples": o.max_train_samples is None or o.max_train_samples >= 1,
            },
        )
        self.model: LearModel | None = None
        self.tokenizer: Any = None
        self.encoder: SubwordEncoder | None = None
        self.labels: tuple[str, ...] = ()  # entity types, in the model's order
        self.descriptions: Descriptions | None = None
        self.device = torch.device("cpu")
        self.stats: dict[str, Any] = {}
        #: (epoch, step, split, metric, value) of the last fit, as sent to context.curve
        self.curve_points: list[tuple[int, int, str, str, float]] = []

    @property
    def positive_weight(self) -> float:
        """The loss weight of start / end targets: the option, else the one balanced
        on train by the last fit (``stats``), else 1."""
        return self.options.positive_weight or self.stats.get("positive_weight", 1.0)

    @property
    def thresholds(self) -> decoding.Thresholds:
        """The options' thresholds; where an option is None, the one picked on dev
        (``stats["thresholds"]``), else 0.5."""
        picked = self.stats.get("thresholds", {})
        return self._limits(picked.get("start", 0.5), picked.get("end", 0.5))

    def _limits(self, start: float, end: float) -> decoding.Thresholds:
        """The decoding limits, with ``start`` / ``end`` where the options leave them open."""
        o = self.options
        return decoding.Thresholds(
            o.start_threshold or start, o.end_threshold or end, o.match_threshold, o.max_span_length
        )

    def _pick_thresholds(self, dev: Sequence[Sentence]) -> None:
        """The start / end threshold (one value for both, from THRESHOLD_GRID) that
        maximises dev F1 with the trained model; ties go to the value nearest 0.5.
        With the positive weight the probabilities are not calibrated, so 0.5 need
        not be the best cut."""
        scored, _ = self._word_scores(dev)
        gold = [entity_spans(s, self.scheme) for s in dev]
        f1: dict[float, float] = {}
        for value in THRESHOLD_GRID:
            limits = self._limits(value, value)
            predicted = [
                self._as_scored([found.span for found in self._decode(scores, limits)], len(s))
                for scores, s in zip(scored, dev, strict=True)
            ]
            f1[value] = span_scores(gold, predicted).f1
        best = max(THRESHOLD_GRID, key=lambda v: (f1[v], -abs(v - 0.5)))
        chosen = self._limits(best, best)
        self.stats["thresholds"] = {
            "start": chosen.start,
            "end": chosen.end,
            "dev_f1": {f"{v:g}": f1[v] for v in THRESHOLD_GRID},
        }

    # ---------------------------------------------------------------- fit

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        if not train:
            raise NerkitError("lear tagger: no training sentences (fit needs tagged sentences)")
        for i, s in enumerate(train):
            if s.tokens and not s.tags and not s.spans:
                raise NerkitError(
                    f"lear tagger: training sentence {s.sentence_id or i} has no tags or spans"
                )
        if not any(s.tokens for s in train):
            raise NerkitError("lear tagger: the training sentences have no tokens")
        context = context or RunContext()
        o = self.options
        if o.max_train_samples is not None:
            train = train[: o.max_train_samples]
        self.scheme = schemes.get_scheme(scheme).name
        for tag in {t for s in train for t in s.tags}:
            schemes.check_tag(tag, self.scheme)
        gold = [entity_spans(s, self.scheme) for s in train]
        types = sorted({sp.label for spans in gold for sp in spans})
        if not types:
            raise NerkitError("lear tagger: the training sentences have no entities to learn")
        self.labels = tuple(types)
        self.descriptions = self._descriptions(types)
        self.device = training.resolve_device(context.device)
        training.autocast(o.precision, self.device)  # refuse fp16 on CPU before any work
        if context.threads:
            torch.set_num_threads(context.threads)
        training.seed_all(context.seed)

        encoder_model = self._load_pretrained(resolve_model(o.model))
        encoder = self._encoder(encoder_model)
        self.stats = {
            "descriptions": {"source": self.descriptions.source, **self._description_stats()},
            "unk_rate": {},
            "empty_words": {},
            "windowed_sentences": {},
        }
        self.stats["positive_weight"] = o.positive_weight or balanced_weight(
            train, gold, len(types)
        )
        rate = target_rate(train, gold, len(types))
        self.stats["prior"] = prior = prior_probability(rate, self.positive_weight)
        splits = {"train": train, **({"dev": dev} if dev else {})}
        record_coverage("lear tagger", encoder, splits, self.stats, warn=not o.extend_vocab)
        if o.extend_vocab:
            self.stats["unk_rate_pretrained"] = dict(self.stats["unk_rate"])
            words = [w for s in train for w in s.tokens]
            words += [w for text in self.descriptions.for_labels(self.labels) for w in text.split()]
            added = unknown_pieces(self.tokenizer, words)
            self.stats["added_tokens"] = self.tokenizer.add_tokens(added)
            with quiet_transformers():
                encoder_model.resize_token_embeddings(len(self.tokenizer))
            encoder.clear_cache()
            record_coverage("lear tagger", encoder, splits, self.stats, extended=True)
        self.model = self._build(encoder_model, prior=prior)
        self.model.to(self.device)

        windows = encoder.encode_all([s.tokens for s in train])
        self.stats["windowed_sentences"]["train"] = count_windowed(windows)
        items = [self._item(w, gold[w.sentence]) for w in windows]
        items = [item for item in items if item.positions]
        if not items:
            raise NerkitError("lear tagger: the training sentences have no tokens")
        lengths = [len(item.input_ids) for item in items]
        collate = Collator(self.tokenizer.pad_token_id or 0, len(self.labels))

        def make_batches(order: list[list[int]]) -> Iterator[dict[str, Any]]:
            return (collate([items[i] for i in batch]) for batch in order)

        def loss_of(module: torch.nn.Module, batch: dict[str, Any]) -> torch.Tensor:
            return module(batch)["loss"]

        evaluate = None
        if dev:
            dev_windows = encoder.encode_all([s.tokens for s in dev])
            self.stats["windowed_sentences"]["dev"] = count_windowed(dev_windows)
            evaluate = lambda: self._evaluate(dev)  # noqa: E731

        result, self.stats["training"] = train_encoder(
            self.model,
            o,
            lengths=lengths,
            make_batches=make_batches,
            loss_of=loss_of,
            evaluate=evaluate,
            head=LearModel.is_head,
            device=self.device,
            context=context,
        )
        self.curve_points = result.points
        if dev and (o.start_threshold is None or o.end_threshold is None):
            self._pick_thresholds(dev)

    def _descriptions(self, types: Sequence[str]) -> Descriptions:
        path = self.options.descriptions
        if path is not None:
            found = read_descriptions(path)
            found.for_labels(types)  # a type without a description fails here, naming the file
            return found
        made = from_label_names(types)
        shown = ", ".join(f"{label} -> {made.texts[label]!r}" for label in types)
        warnings.warn(
            f"lear tagger: no description file given (-T descriptions=FILE); "
            f"using descriptions made from the label names: {shown}",
            UserWarning,
            stacklevel=3,
        )
        return made

    def _description_stats(self) -> dict[str, Any]:
        assert self.descriptions is not None
        texts = self.descriptions.for_labels(self.labels)
        return {"texts": dict(zip(self.labels, texts, strict=True))}

    def _load_pretrained(self, source: str) -> Any:
        from transformers import AutoModel, AutoTokenizer

        local = Path(source).is_dir()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            with quiet_transformers():
                model = AutoModel.from_pretrained(source, local_files_only=local)
        except (OSError, ValueError) as exc:
            raise NerkitError(f"lear tagger: cannot load model {source!r}: {exc}") from None
        if not self.tokenizer.is_fast:
            raise NerkitError(f"lear tagger: {source!r} has no fast tokenizer; one is needed")
        return model

    def _build(self, encoder_model: Any, *, prior: float | None = None) -> LearModel:
        """The LEAR network around ``encoder_model``, with the descriptions tokenized
        (``prior``: the probability its pointers start at, see ``LearModel``)."""
        assert self.descriptions is not None
        # a pooler (BERT's) takes no part: keep it out of the optimizer and of DDP
        for name, param in encoder_model.named_parameters():
            if name.startswith("pooler."):
                param.requires_grad_(False)
        texts = self.descriptions.for_labels(self.labels)
        limit = position_limit(encoder_model)
        encoded = self.tokenizer(texts, padding=True, return_tensors="pt")
        if limit is not None and encoded["input_ids"].shape[1] > limit:
            longest = max(range(len(texts)), key=lambda k: len(texts[k]))
            raise ConfigError(
                f"lear tagger: the description of {self.labels[longest]!r} is longer than "
                f"the encoder's {limit} positions ({self.descriptions.source})"
            )
        return LearModel(
            encoder_model,
            encoded["input_ids"],
            encoded["attention_mask"],
            dropout=self.options.dropout,
            span_loss_weight=self.options.span_loss_weight,
            positive_weight=self.positive_weight,
            prior=prior,
        )

    def _encoder(self, encoder_model: Any) -> SubwordEncoder:
        max_length = window_length(self.options.max_length, encoder_model, "lear tagger")
        self.encoder = SubwordEncoder(self.tokenizer, max_length, self.options.stride)
        return self.encoder

    def _item(self, window: Window, spans: Sequence[Span]) -> Item:
        """Training targets of one window: each owned word's start / end labels on its
        first subword, and the match pairs of the spans whose start it owns."""
        index = {label: c for c, label in enumerate(self.labels)}
        position = {window.first + k: p for k, p in enumerate(window.starts)}
        owned = {window.first + k for k, own in enumerate(window.owned) if own}
        starts = [(position[s.start], index[s.label]) for s in spans if s.start in owned]
        ends = [(position[s.end - 1], index[s.label]) for s in spans if s.end - 1 in owned]
        pairs: list[tuple[int, int, int, int]] = []
        if self.options.span_loss_weight > 0:
            gold = {(s.start, s.end - 1, index[s.label]) for s in spans}
            inside = [s for s in spans if window.first <= s.start and s.end <= window.end]
            for c in range(len(self.labels)):
                first = sorted(
                    {s.start for s in inside if index[s.label] == c and s.start in owned}
                )
                last = sorted({s.end - 1 for s in inside if index[s.label] == c})
                for i in first:
                    for j in last:
                        if 0 <= j - i < self.options.max_span_length:
                            pairs.append((position[i], position[j], c, int((i, j, c) in gold)))
        return Item(
            window.input_ids, tuple(sorted(position[w] for w in owned)), starts, ends, pairs
        )

    # ------------------------------------------------------------ predict

    def _word_scores(self, sentences: Sequence[Sentence]) -> tuple[list[WordScores], int]:
        """Per sentence, each word's start and end probabilities (and, with span
        matching, its label-specific states) from the window that owns it."""
        assert self.encoder is not None and self.model is not None
        windows = self.encoder.encode_all([s.tokens for s in sentences])
        n_labels = len(self.labels)
        keep = self.model.span_matching
        hidden = self.model.start_weight.shape[1]
        out = [
            WordScores(
                np.zeros((len(s), n_labels)),
                np.zeros((len(s), n_labels)),
                torch.zeros((len(s), n_labels, hidden), device=self.device) if keep else None,
            )
            for s in sentences
        ]
        lengths = [len(w) for w in windows]
        order = training.length_grouped_batches(
            lengths, self.options.batch_size, 0, 0, shuffle=False
        )
        collate = Collator(self.tokenizer.pad_token_id or 0, n_labels)
        self.model.eval()
        with torch.inference_mode():
            for batch_index in order:
                batch = collate([Item(windows[i].input_ids) for i in batch_index])
                with training.predict_autocast(self.options.precision, self.device):
                    result = self.model(
                        {
                            "input_ids": batch["input_ids"].to(self.device),
                            "attention_mask": batch["attention_mask"].to(self.device),
                        },
                        keep_states=keep,
                    )
                start = torch.sigmoid(result["start_logits"].float()).cpu().numpy()
                end = torch.sigmoid(result["end_logits"].float()).cpu().numpy()
                states = result["states"].float() if keep else None
                for row, i in enumerate(batch_index):
                    window = windows[i]
                    scores = out[window.sentence]
                    for word, position in window.owned_words():
                        scores.start[word] = start[row, position]
                        scores.end[word] = end[row, position]
                        if states is not None and scores.states is not None:
                            scores.states[word] = states[row, position]
        return out, count_windowed(windows)

    def _matcher(self, states: torch.Tensor | None) -> decoding.MatchScores | None:
        """Match probabilities of candidate pairs of one sentence (with span matching)."""
        if states is None or self.model is None:
            return None
        model = self.model

        def match(candidates: list[tuple[int, int, int]]) -> np.ndarray:
            i, j, c = (
                torch.tensor(x, dtype=torch.long, device=states.device)
                for x in zip(*candidates, strict=True)
            )
            with torch.inference_mode():
                logits = model.match_logits(states[i, c], states[j, c], c)
            return torch.sigmoid(logits.float()).cpu().numpy().astype(np.float64)

        return match

    def _spans(self, scores: WordScores) -> list[decoding.ScoredSpan]:
        return self._decode(scores, self.thresholds)

    def _decode(self, scores: WordScores, limits: decoding.Thresholds) -> list[decoding.ScoredSpan]:
        return decoding.decode(
            scores.start,
            scores.end,
            self.labels,
            limits,
            nested=self.options.nested,
            match=self._matcher(scores.states),
        )

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        if self.model is None:
            raise NerkitError("lear tagger is not trained: call fit() or load() first")
        scored, windowed = self._word_scores(sentences)
        self.stats.setdefault("windowed_sentences", {})
        previous = self.stats["windowed_sentences"].get("predicted", 0)
        self.stats["windowed_sentences"]["predicted"] = previous + windowed
        return [
            self._prediction(len(sentence), scores, self._spans(scores))
            for sentence, scores in zip(sentences, scored, strict=True)
        ]

    def _prediction(
        self, n: int, scores: WordScores, found: Sequence[decoding.ScoredSpan]
    ) -> Prediction:
        outer = layers([s.span for s in found])[0] if found else []
        tags = schemes.encode(outer, n, self.scheme)
        confidences = (
            1.0 - np.maximum(scores.start, scores.end).max(axis=1) if n else np.zeros(0)
        ).tolist()
        score_of = {s.span: s.score for s in found}
        for span in outer:
            for k in range(span.start, span.end):
                confidences[k] = score_of[span]
        return Prediction(
            tags=tuple(tags),
            confidences=tuple(min(1.0, max(0.0, float(c))) for c in confidences),
            spans=tuple(s.span for s in found) if self.options.nested else (),
        )

    def _as_scored(self, spans: list[Span], length: int) -> list[Span]:
        """Flat ``spans`` as the run scores them: IO tags cannot separate two adjacent
        entities of one type, so ``predict``'s tags hold them as one, and the dev F1
        that picks the epoch and the thresholds must count them so too."""
        if self.options.nested or schemes.get_scheme(self.scheme).name != "IO":
            return spans
        return schemes.spans_lenient(schemes.encode(spans, length, self.scheme), self.scheme)

    def _evaluate(self, dev: Sequence[Sentence]) -> dict[str, float]:
        scored, _ = self._word_scores(dev)
        gold = [entity_spans(s, self.scheme) for s in dev]
        index = {label: c for c, label in enumerate(self.labels)}
        predicted, losses = [], []
        for sentence, sentence_gold, scores in zip(dev, gold, scored, strict=True):
            predicted.append(self._as_scored([s.span for s in self._spans(scores)], len(sentence)))
            if not len(scores.start):
                continue
            # dev types unseen in training cannot be predicted; they count as errors, not loss
            start_gold, end_gold = np.zeros_like(scores.start), np.zeros_like(scores.end)
            for span in sentence_gold:
                if span.label in index:
                    start_gold[span.start, index[span.label]] = 1.0
                    end_gold[span.end - 1, index[span.label]] = 1.0
            weight = self.positive_weight
            losses.append(
                _bce(scores.start, start_gold, weight) + _bce(scores.end, end_gold, weight)
            )
        result = span_scores(gold, predicted)
        return {
            "loss": float(np.mean(losses)) if losses else 0.0,
            "precision": result.precision,
            "recall": result.recall,
            "f1": result.f1,
        }

    # -------------------------------------------------------- save / load

    def save(self, directory: Path) -> None:
        if self.model is None or self.descriptions is None:
            raise NerkitError("lear tagger is not trained: nothing to save")
        from safetensors.torch import save_file

        directory = Path(directory)
        self.model.encoder.config.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(directory / WEIGHTS))
        save_options(self, directory)
        write_manifest(
            directory,
            FILE,
            FORMAT,
            FORMAT_VERSION,
            scheme=self.scheme,
            labels=list(self.labels),
            descriptions={"source": self.descriptions.source, **self._description_stats()},
            stats=self.stats,
        )

    @classmethod
    def load(cls, directory: Path) -> LearTagger:
        directory = Path(directory)
        payload = read_manifest(directory, FILE, FORMAT, FORMAT_VERSION, "lear tagger")
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        tagger = cls(load_options(cls.options_class, directory))
        tagger.scheme = schemes.get_scheme(payload["scheme"]).name
        tagger.labels = tuple(payload["labels"])
        tagger.descriptions = Descriptions(
            payload["descriptions"]["texts"], payload["descriptions"]["source"]
        )
        tagger.stats = payload.get("stats", {})
        tagger.tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        config = AutoConfig.from_pretrained(directory, local_files_only=True)
        with quiet_transformers():
            encoder_model = AutoModel.from_config(config)
        tagger.model = tagger._build(encoder_model)
        tagger.model.load_state_dict(load_file(str(directory / WEIGHTS)))
        tagger.model.eval()
        tagger._encoder(encoder_model)
        return tagger


# ------------------------------------------------------------------ batches


@dataclass(frozen=True, slots=True)
class Item:
    """One window to train on (or, with only ``input_ids``, to predict)."""

    input_ids: tuple[int, ...]
    positions: tuple[int, ...] = ()  # first subwords of the words this window owns
    starts: Sequence[tuple[int, int]] = ()  # (position, label index)
    ends: Sequence[tuple[int, int]] = ()
    pairs: Sequence[tuple[int, int, int, int]] = ()  # (start pos, end pos, label, is gold)


@dataclass(frozen=True, slots=True)
class WordScores:
    start: np.ndarray  # words x labels
    end: np.ndarray
    states: torch.Tensor | None  # words x labels x hidden, with span matching


@dataclass(frozen=True)
class Collator:
    """Pads items into the tensors ``LearModel.forward`` reads."""

    pad_id: int
    n_labels: int

    def __call__(self, items: Sequence[Item]) -> dict[str, Any]:
        width = max(len(item.input_ids) for item in items)
        shape = (len(items), width)
        ids = torch.full(shape, self.pad_id, dtype=torch.long)
        mask = torch.zeros(shape, dtype=torch.long)
        word_mask = torch.zeros(shape, dtype=torch.bool)
        start = torch.zeros((*shape, self.n_labels))
        end = torch.zeros((*shape, self.n_labels))
        pairs, pair_labels = [], []
        for row, item in enumerate(items):
            ids[row, : len(item.input_ids)] = torch.tensor(item.input_ids, dtype=torch.long)
            mask[row, : len(item.input_ids)] = 1
            word_mask[row, list(item.positions)] = True
            for position, label in item.starts:
                start[row, position, label] = 1.0
            for position, label in item.ends:
                end[row, position, label] = 1.0
            for i, j, c, gold in item.pairs:
                pairs.append((row, i, j, c))
                pair_labels.append(float(gold))
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "word_mask": word_mask,
            "start_labels": start,
            "end_labels": end,
            "pairs": torch.tensor(pairs, dtype=torch.long).reshape(-1, 4),
            "pair_labels": torch.tensor(pair_labels, dtype=torch.float),
        }


def target_rate(train: Sequence[Sentence], gold: Sequence[Sequence[Any]], n_labels: int) -> float:
    """The share of (word, label) positions of the training data that are an entity
    start (the same for ends)."""
    starts = sum(len(spans) for spans in gold)
    positions = sum(len(s.tokens) for s in train) * n_labels
    return starts / max(positions, 1)


def balanced_weight(
    train: Sequence[Sentence], gold: Sequence[Sequence[Any]], n_labels: int
) -> float:
    """The square root of the ratio of other (word, label) positions to entity starts
    in the training data (the same for ends), at least 1: about 3 on the dense toy
    corpus, 14 on WNUT-17, 18 on Weibo. On 10% of WNUT-17 weight 10 did better than
    30, and a fixed 20 overshot on the dense toy corpus (benchmarks/RESULTS.md)."""
    rate = target_rate(train, gold, n_labels)
    return max(1.0, math.sqrt((1.0 - rate) / rate)) if rate > 0 else 1.0


def prior_probability(rate: float, positive_weight: float) -> float:
    """The constant probability that minimises the weighted loss when a share ``rate``
    of the positions are targets: the pointers' starting point."""
    rate = min(max(rate, 1e-6), 1.0 - 1e-6)
    return positive_weight * rate / (positive_weight * rate + 1.0 - rate)


def _bce(probabilities: np.ndarray, targets: np.ndarray, positive_weight: float = 1.0) -> float:
    """Binary cross-entropy as the training loss computes it (positives weighted)."""
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    return float(-(positive_weight * targets * np.log(p) + (1 - targets) * np.log(1 - p)).mean())
