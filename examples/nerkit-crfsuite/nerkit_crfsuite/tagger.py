"""The ``crfsuite`` tagger: a linear-chain CRF trained by CRFsuite's L-BFGS on the
word features of :mod:`nerkit_crfsuite.features`.

* ``fit`` learns from the training tags as given, in the scheme it is told, so the
  tagger predicts in that scheme. ``dev`` is not used: L-BFGS runs until it converges
  or reaches ``max_iterations``. Training has no randomness, so one training set and
  one set of options always give the same model (the run's seed changes nothing).
* ``predict`` takes CRFsuite's most probable tag sequence per sentence. A CRF learns
  transitions only from what it saw, so on rare occasions that sequence breaks the
  scheme (``O I-PER`` in IOB2); such a sequence is repaired as conlleval reads it
  (``O B-PER``), so every prediction is valid. Each token's confidence is the CRF's
  marginal probability of the tag it chose, and the marginals of every tag of the
  scheme come with it (the ``viterbi`` decoder can use them).
* ``save`` writes the CRFsuite model file, the options and the scheme; ``load`` reads
  the model into memory, so the folder may go away afterwards.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pycrfsuite

from nerkit import schemes
from nerkit.decoders import repair_conlleval
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import RunContext, Tagger, load_options, save_options
from nerkit.options import option
from nerkit.types import Prediction, Sentence
from nerkit_crfsuite.features import sentence_features

FORMAT = "nerkit-crfsuite"
FORMAT_VERSION = 1
MODEL_FILE = "model.crfsuite"
META_FILE = "crfsuite.json"


@dataclass(frozen=True, slots=True)
class CRFsuiteOptions:
    c1: float = option(0.1, "L1 regularisation coefficient (0: none)")
    c2: float = option(0.1, "L2 regularisation coefficient (0: none)")
    max_iterations: int = option(100, "most L-BFGS iterations")
    window: int = option(2, "neighbours on each side whose words and shapes a token sees")
    affixes: int = option(3, "longest prefix and suffix, in characters, used as a feature")
    min_freq: int = option(0, "ignore features seen fewer times than this in training")
    all_transitions: bool = option(
        False, "also learn weights for tag transitions never seen in training"
    )


class _Trainer(pycrfsuite.Trainer):
    """Reports each L-BFGS iteration's loss as a training curve."""

    # set after construction: CRFsuite's extension type takes the constructor's arguments
    context: RunContext = RunContext()
    max_iterations: int = 0

    def message(self, message: str) -> None:
        # CRFsuite's log lines, parsed; pycrfsuite's own hooks run only when it prints them
        if self.logparser.feed(message) == "iteration":
            info = self.logparser.last_iteration
            iteration = int(info.get("num", 0))
            if info.get("loss") is not None:
                self.context.curve(iteration, iteration, "train", "loss", float(info["loss"]))
            self.context.progress("training crfsuite", iteration, self.max_iterations)


class CRFsuiteTagger(Tagger):
    """A linear-chain CRF over classic word features (lower case, prefixes and
    suffixes, shape, case and digit flags, the same of up to two neighbours each
    side), trained by CRFsuite's L-BFGS."""

    options_class = CRFsuiteOptions
    options: CRFsuiteOptions

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        opts = self.options
        for name in ("c1", "c2", "window", "affixes", "min_freq"):
            if getattr(opts, name) < 0:
                raise ConfigError(
                    f"crfsuite option {name!r} must be at least 0, got {getattr(opts, name)}"
                )
        if opts.max_iterations < 1:
            raise ConfigError(
                f"crfsuite option 'max_iterations' must be at least 1, got {opts.max_iterations}"
            )
        self.stats: dict[str, Any] = {}  # what training reported; a run stores it
        self.labels: tuple[str, ...] = ()  # the columns of a prediction's probabilities
        self._known: list[bool] = []  # whether the model learnt each of those labels
        self._model: bytes | None = None
        self._tagger: pycrfsuite.Tagger | None = None

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
            raise NerkitError("crfsuite tagger: no training sentences (fit needs tagged sentences)")
        context = context or RunContext()
        scheme_name = schemes.get_scheme(scheme).name
        # a tag of another scheme (U-LOC in IOB2) would be learnt as an odd label, not refused
        for tag in {t for s in train for t in s.tags}:
            schemes.check_tag(tag, scheme_name)
        opts = self.options
        trainer = _Trainer(verbose=False)
        trainer.context, trainer.max_iterations = context, opts.max_iterations
        used = 0
        for index, sentence in enumerate(train):
            if not sentence.tokens:
                continue
            if not sentence.tags:
                name = sentence.sentence_id or f"#{index}"
                raise NerkitError(f"crfsuite tagger: training sentence {name} has no tags")
            trainer.append(self._features(sentence.tokens), list(sentence.tags))
            used += 1
        if not used:
            raise NerkitError("crfsuite tagger: the training sentences have no tokens")
        trainer.select("lbfgs")
        trainer.set_params(
            {
                "c1": opts.c1,
                "c2": opts.c2,
                "max_iterations": opts.max_iterations,
                "feature.minfreq": opts.min_freq,
                "feature.possible_transitions": opts.all_transitions,
            }
        )
        # CRFsuite writes its model to a file; nerkit keeps the bytes in memory
        with tempfile.TemporaryDirectory(dir=context.work_dir) as folder:
            path = Path(folder) / MODEL_FILE
            trainer.train(str(path))
            model = path.read_bytes()
        self.scheme = scheme_name
        self._open(model)
        last = trainer.logparser.last_iteration or {}
        self.stats = {
            "sentences": used,
            "iterations": int(last.get("num", 0)),
            "loss": float(last.get("loss", 0.0)),
            "active_features": int(last.get("active_features", 0)),
        }

    def _features(self, tokens: Sequence[str]) -> list[list[str]]:
        return sentence_features(tokens, window=self.options.window, affixes=self.options.affixes)

    def _open(self, model: bytes) -> None:
        tagger = pycrfsuite.Tagger()
        tagger.open_inmemory(model)
        self._model, self._tagger = model, tagger
        known = set(tagger.labels())
        types = sorted({schemes.split_tag(t)[1] for t in known} - {""})
        prefixes = schemes.get_scheme(self.scheme).prefixes
        # every tag of the scheme over the learnt types, so that a repaired tag the
        # model never saw (an S- in BIOES, say) still has a column
        self.labels = (schemes.OUTSIDE, *(f"{p}-{t}" for t in types for p in prefixes))
        self._known = [label in known for label in self.labels]

    # ------------------------------------------------------------ predict

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        if self._tagger is None:
            raise NerkitError("crfsuite tagger is not trained: call fit() or load() first")
        return [self._predict_one(s.tokens) for s in sentences]

    def _predict_one(self, tokens: Sequence[str]) -> Prediction:
        if not tokens:
            return Prediction(tags=(), confidences=())
        tagger = self._tagger
        assert tagger is not None
        best = tagger.tag(self._features(tokens))
        tags = repair_conlleval(best, self.scheme).tags
        probabilities = np.zeros((len(tokens), len(self.labels)))
        for column, (label, known) in enumerate(zip(self.labels, self._known, strict=True)):
            if known:
                for position in range(len(tokens)):
                    probabilities[position, column] = tagger.marginal(label, position)
        # a repaired token keeps the confidence of CRFsuite's own tag: the repair
        # re-encodes the same entity (O I-PER -> O B-PER), it does not change the belief
        columns = {label: i for i, label in enumerate(self.labels)}
        confidences = tuple(
            float(probabilities[position, columns[tag]]) for position, tag in enumerate(best)
        )
        return Prediction(
            tags=tags, confidences=confidences, probabilities=probabilities, labels=self.labels
        )

    # -------------------------------------------------------- save / load

    def save(self, directory: Path) -> None:
        if self._model is None:
            raise NerkitError("crfsuite tagger is not trained: nothing to save")
        directory = Path(directory)
        save_options(self, directory)
        (directory / MODEL_FILE).write_bytes(self._model)
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "scheme": self.scheme, **self.stats}
        (directory / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> CRFsuiteTagger:
        directory = Path(directory)
        meta_path, model_path = directory / META_FILE, directory / MODEL_FILE
        if not meta_path.is_file() or not model_path.is_file():
            raise NerkitError(
                f"{directory} holds no saved crfsuite tagger ({META_FILE} and {MODEL_FILE} needed)"
            )
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise NerkitError(f"{meta_path}: cannot read: {exc}") from None
        if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
            raise NerkitError(
                f"{meta_path}: not a {FORMAT} model of version {FORMAT_VERSION} "
                f"(format {meta.get('format')!r}, version {meta.get('version')!r})"
            )
        tagger = cls(load_options(CRFsuiteOptions, directory))
        tagger.scheme = schemes.get_scheme(meta.get("scheme", "")).name
        try:
            tagger._open(model_path.read_bytes())
        except Exception as exc:  # CRFsuite reports a corrupt model in several ways
            raise NerkitError(
                f"{model_path}: not a CRFsuite model ({type(exc).__name__}: {exc})"
            ) from None
        tagger.stats = {k: v for k, v in meta.items() if k not in ("format", "version", "scheme")}
        return tagger
