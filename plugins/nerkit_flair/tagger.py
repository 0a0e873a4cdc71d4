"""FLAIR: flair's ``SequenceTagger`` (BiLSTM-CRF over stacked embeddings), trained by
flair's ``ModelTrainer``, or a saved flair model loaded as it is.

nerkit's tags stay in the dataset's scheme; inside flair entities are span labels and the
model tags in ``tag_format`` (BIO or BIOES). After every epoch nerkit's metric engine
scores the current model's predictions for dev: those scores are the training curve,
and the epoch with the best dev F1 is the model that fit keeps. flair's own dev
evaluation still runs (its learning-rate annealing depends on it); where it is a fresh
prediction of the current model, nerkit scores the tags it decoded rather than
predicting dev twice (:mod:`nerkit_flair.curves`), so training costs what flair's does.

The defaults are the configuration with the best WNUT-17 dev F1 found within 30
CPU-minutes of training (``benchmarks/RESULTS.md``): frozen all-MiniLM-L6-v2, every
layer, sub-token vectors averaged, its vectors computed once and kept by flair's
embedding storage (flair runs a frozen transformer in training mode, so a training
sentence keeps the vectors of one dropout draw, as with flair's own storage), under a
BiLSTM-CRF trained by SGD for up to 40 epochs. In a stack
with parts that learn (``char``, ``onehot``), the frozen parts' vectors are kept and the
others' computed afresh for every batch and every dev evaluation (flair itself would
evaluate dev on the first evaluation's character vectors ever after).

Prediction runs flair's model and decodes its score tensors directly
(:mod:`nerkit_flair.predict`): the same tags as flair's ``predict`` decodes, read into
the same entities as flair's ``predict`` makes of them (flair's ``get_spans_from_bio``,
also on an invalid tag path), renamed by ``label_map``, those of a type the tagger does
not keep dropped, and written in the dataset's scheme. A loaded model with token-level
labels (``PER`` rather than ``B-PER``: flair's ``predict_spans`` false) is read as IO
tags, a run of tokens of one type making one entity.

Confidences: flair's per-token distribution over its tags (the CRF's softmax over
Viterbi scores, or the softmax over emissions without a CRF), with the special tags
dropped and renormalised, taken at the tag flair decoded; for a token nerkit tags
``O``, the probability of ``O`` summed over the tags that count as ``O`` (``O``, and
the tags of every type not kept), as the probability matrix sums it.

Probabilities: flair's per-token distribution over its tags, with ``<START>`` /
``<STOP>`` / ``<unk>`` dropped and the rest renormalised, is returned only when flair's
tags map token by token onto the dataset's scheme (BIO -> IOB2 / IO, BIOES -> IOB2 /
IOE2 / BIOES / BILOU / IO, token-level labels -> IO: the columns are summed); for IOB1
and IOE1 (and token-level labels into any other scheme) the mapping depends on the
neighbours, so ``probabilities`` is None there.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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
from nerkit.options import given, option
from nerkit.types import Prediction, Sentence
from nerkit_flair import convert
from nerkit_flair import embeddings as embedding_names
from nerkit_flair.curves import curve_plugin
from nerkit_flair.predict import entity_types, predict_tags, predict_with

__all__ = ["FlairOptions", "FlairTagger", "predict_tags", "predict_with"]

if TYPE_CHECKING:
    from flair.models import SequenceTagger

FORMAT = "nerkit-flair"
FORMAT_VERSION = 1
MODEL_FILE = "model.pt"
META_FILE = "flair.json"


@dataclass(frozen=True, slots=True)
class FlairOptions:
    embeddings: tuple[str, ...] = option(
        ("transformer",),
        "stacked embeddings: char, onehot, transformer, flair:NAME, word:NAME (GloVe and "
        "the like: a flair name or a word2vec / fastText / gensim file; needs gensim)",
    )
    transformer_model: str = option(
        "",
        "local folder or hub name for 'transformer' (empty: the offline all-MiniLM-L6-v2)",
        path=True,
    )
    fine_tune: bool = option(
        False,
        "train the transformer's weights too (flair's fine_tune: AdamW with a linear "
        "schedule; needs 'transformer' in embeddings)",
    )
    subtoken_pooling: Literal["first", "last", "first_last", "mean"] = option(
        "mean", "how a word's sub-token vectors become one vector"
    )
    transformer_layers: str = option(
        "all", "transformer layers to use: all, or e.g. -1 or -1,-2,-3,-4"
    )
    char_embedding_dim: int = option(25, "size of a character vector ('char')")
    char_hidden_size: int = option(25, "hidden size of the character LSTM ('char')")
    onehot_dim: int = option(100, "size of a word vector ('onehot')")
    onehot_min_freq: int = option(2, "words seen fewer times in train share the <unk> vector")
    hidden_size: int = option(256, "hidden size of the BiLSTM")
    rnn_layers: int = option(1, "BiLSTM layers")
    use_crf: bool = option(True, "decode with a CRF (false: a softmax per token)")
    locked_dropout: float = option(0.5, "flair's locked dropout")
    word_dropout: float = option(0.05, "flair's word dropout")
    tag_format: Literal["BIO", "BIOES"] = option(
        "BIOES", "flair's internal tag format (input and output stay in the dataset's scheme)"
    )
    learning_rate: float | None = option(
        None, "learning rate (empty: 0.1 with SGD, 5e-5 when fine-tuning with AdamW)"
    )
    mini_batch_size: int = option(32, "sentences per training batch")
    eval_batch_size: int = option(32, "sentences per prediction batch")
    max_epochs: int = option(40, "most epochs to train")
    patience: int = option(
        3, "epochs without dev improvement before the learning rate anneals (not with fine_tune)"
    )
    anneal_factor: float = option(
        0.5, "factor the learning rate is multiplied by on a plateau (not with fine_tune)"
    )
    min_learning_rate: float = option(
        1e-4, "training stops once the learning rate falls below (not with fine_tune)"
    )
    train_with_dev: bool = option(False, "add dev to train (no dev-based model selection)")
    embeddings_storage: Literal["auto", "none", "cpu"] = option(
        "auto",
        "keep embeddings between epochs (auto: cpu when part of the stack is frozen; "
        "the vectors of the parts that learn are always computed afresh)",
    )
    model: str = option(
        "",
        "a saved flair model (.pt path or hub name) to use as it is (with train=false)",
        path=True,
    )
    train: bool = option(True, "false: use 'model' as it is, without training")
    label_map: Path | None = option(
        None,
        "TSV file: flair_label<TAB>dataset_label, renaming the entity types of 'model' "
        "(with train=false)",
    )


class FlairTagger(Tagger):
    """A flair ``SequenceTagger`` behind nerkit's Tagger interface.

    ``unmapped_labels`` lists the entity types of a model used with ``train=false`` that
    do not end up, after ``label_map``, as one of the types of the data given to ``fit``
    (they are predicted as ``O``); given no data, the types ``label_map`` does not name.
    """

    options_class = FlairOptions
    options: FlairOptions

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        opts = self.options
        embedding_names.check_names(opts.embeddings)
        for name in ("hidden_size", "rnn_layers", "mini_batch_size", "eval_batch_size"):
            if getattr(opts, name) < 1:
                raise ConfigError(f"flair option {name!r} must be at least 1")
        if opts.max_epochs < 0:
            raise ConfigError("flair option 'max_epochs' must not be negative")
        # checked here: flair or torch would fail only mid-training, with their own words
        ranges = {
            "char_embedding_dim": (opts.char_embedding_dim >= 1, "at least 1"),
            "char_hidden_size": (opts.char_hidden_size >= 1, "at least 1"),
            "onehot_dim": (opts.onehot_dim >= 1, "at least 1"),
            "onehot_min_freq": (opts.onehot_min_freq >= 0, "at least 0"),
            "locked_dropout": (0.0 <= opts.locked_dropout < 1.0, "in [0, 1)"),
            "word_dropout": (0.0 <= opts.word_dropout < 1.0, "in [0, 1)"),
            # 0 would read as empty (the default rate)
            "learning_rate": (
                opts.learning_rate is None or opts.learning_rate > 0.0,
                "above 0 (or empty)",
            ),
            "patience": (opts.patience >= 0, "at least 0"),
            "anneal_factor": (0.0 < opts.anneal_factor < 1.0, "in (0, 1)"),
            "min_learning_rate": (opts.min_learning_rate >= 0.0, "at least 0"),
        }
        for name, (ok, allowed) in ranges.items():
            if not ok:
                raise ConfigError(
                    f"flair option {name!r} must be {allowed}, got {getattr(opts, name)!r}"
                )
        _check_combinations(opts, _named(options, opts))
        self.trains = opts.train
        if not opts.train and not opts.model:
            raise ConfigError("flair option train=false needs model=PATH_OR_HUB_NAME")
        if opts.model and opts.train:
            raise ConfigError(
                "flair option model=... is for using a trained model as it is: add -T train=false"
            )
        self.model: SequenceTagger | None = None
        self.type_map: dict[str, str] = {}
        self.known_types: list[str] = []  # empty: keep every type the model predicts
        self.unmapped_labels: list[str] = []

    # ---------------------------------------------------------------- fit

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        context = context or RunContext()
        self.scheme = schemes.get_scheme(scheme).name
        for tag in {t for s in train for t in s.tags}:
            schemes.check_tag(tag, self.scheme)
        _setup_torch(context)
        if not self.options.train:
            # the types of the data it is given: train's and dev's (test is never seen)
            self._use_existing([*train, *(dev or ())])
            return
        if not train:
            raise NerkitError("flair tagger: no training sentences (fit needs tagged sentences)")
        untagged = [i for i, s in enumerate(train) if s.tokens and not s.tags]
        if untagged:
            raise NerkitError(f"flair tagger: training sentence #{untagged[0]} has no tags")
        with _quiet_flair():
            self._train(train, dev, context)

    def _train(
        self, train: Sequence[Sentence], dev: Sequence[Sentence] | None, context: RunContext
    ) -> None:
        import flair
        from flair.data import Corpus
        from flair.datasets import FlairDatapointDataset
        from flair.models import SequenceTagger
        from flair.trainers import ModelTrainer

        opts = self.options
        flair.set_seed(context.seed)
        # flair cannot hold sentences without tokens; they teach nothing anyway
        flair_train = [convert.to_flair(s, self.scheme) for s in train if s.tokens]
        if not flair_train:
            raise NerkitError("flair tagger: the training sentences have no tokens")
        dev_kept = [s for s in dev or () if s.tokens]
        flair_dev = [convert.to_flair(s, self.scheme) for s in dev_kept] or None
        corpus = Corpus(
            train=FlairDatapointDataset(flair_train),
            dev=FlairDatapointDataset(flair_dev) if flair_dev else None,
            test=None,
            sample_missing_splits=False,
        )
        if not any(s.get_labels(convert.LABEL_TYPE) for s in flair_train):
            raise NerkitError("flair tagger: the training sentences have no entities to learn")
        types = corpus.make_label_dictionary(convert.LABEL_TYPE, add_unk=False)
        # only the types train teaches may be predicted; the others become O
        known_types = sorted(types.get_items())
        # a type only dev has (a small fold's train can lack a rare one) would crash
        # flair's dev evaluation, which looks every gold label up in this dictionary
        for sentence in flair_dev or ():
            for label in sentence.get_labels(convert.LABEL_TYPE):
                types.add_item(label.value)
        stack = embedding_names.build(opts, flair_train, flair_dev or [])
        model = SequenceTagger(
            embeddings=stack,
            tag_dictionary=types,
            tag_type=convert.LABEL_TYPE,
            tag_format=opts.tag_format,
            hidden_size=opts.hidden_size,
            rnn_layers=opts.rnn_layers,
            use_crf=opts.use_crf,
            locked_dropout=opts.locked_dropout,
            word_dropout=opts.word_dropout,
        )
        learning = embedding_names.learning_names(stack)
        storage = opts.embeddings_storage
        if storage == "auto":
            # keep what does not learn (a frozen transformer is then computed once);
            # a stack that learns throughout has nothing worth keeping
            storage = "cpu" if len(learning) < len(embedding_names.parts(stack)) else "none"
        # with train_with_dev the dev scores are still reported, but choose nothing
        select = bool(dev_kept) and not opts.train_with_dev
        curves = curve_plugin(
            model,
            self.scheme,
            opts.eval_batch_size,
            dev_kept,
            context,
            opts.max_epochs,
            select,
            known_types=set(known_types),
            flair_dev=flair_dev,
            # flair's dev evaluation predicts with the current weights on embeddings
            # computed afresh or stored from the stack's frozen part (the plugin drops
            # the learning part's after every evaluation): nerkit scores its tags
            # instead of predicting dev a second time
            reuse_evaluation=not opts.train_with_dev,
            # dev's stored vectors are an evaluation's, unless dev is trained on: a
            # frozen transformer runs with dropout in training (flair leaves it in
            # training mode), and the vectors of that pass would be kept
            stored_dev=storage == "cpu" and not opts.train_with_dev,
            learning=learning if storage == "cpu" else (),
        )
        trainer = ModelTrainer(model, corpus)
        with _work_folder(context) as folder:
            arguments: dict[str, Any] = {
                "base_path": folder,
                "mini_batch_size": opts.mini_batch_size,
                "eval_batch_size": opts.eval_batch_size,
                "max_epochs": opts.max_epochs,
                "train_with_dev": opts.train_with_dev,
                "embeddings_storage_mode": storage,
                "save_final_model": False,
                # the best epoch is chosen by nerkit's dev F1 (the plugin keeps its
                # weights), not by flair's own score and best-model.pt
                "use_final_model_for_eval": True,
                "create_file_logs": True,
                "create_loss_file": True,
                "plugins": [curves],
            }
            if opts.fine_tune:
                trainer.fine_tune(learning_rate=opts.learning_rate or 5e-5, **arguments)
            else:
                trainer.train(
                    learning_rate=opts.learning_rate or 0.1,
                    patience=opts.patience,
                    anneal_factor=opts.anneal_factor,
                    min_learning_rate=opts.min_learning_rate,
                    **arguments,
                )
            # nerkit saves the tagger itself: a .pt copy would only double a run's size
            for path in Path(folder).glob("*.pt"):
                path.unlink()
            if curves.interrupted:
                raise KeyboardInterrupt
        if curves.best_state is not None:
            model.load_state_dict(curves.best_state)
        model.eval()
        # set last: a fit that failed half-way leaves the tagger untrained, not half-trained
        self.model = model
        self.known_types = known_types

    def _use_existing(self, train: Sequence[Sentence]) -> None:
        # the cheap check first: a typo in the map should not cost a model load
        type_map = read_label_map(self.options.label_map, "flair") if self.options.label_map else {}
        model = _load_flair_model(self.options.model)
        self.model = model
        self.type_map = type_map
        model_types = entity_types(model)
        dataset_types = {schemes.split_tag(t)[1] for s in train for t in s.tags} - {""}
        self.known_types = sorted(dataset_types)
        self.unmapped_labels = unmapped_types(model_types, dataset_types, type_map)
        warn_unmapped(
            f"flair model {self.options.model}", self.unmapped_labels, bool(dataset_types)
        )

    # ------------------------------------------------------------ predict

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        if self.model is None:
            raise NerkitError("flair tagger is not trained: call fit() or load() first")
        return predict_with(
            self.model,
            sentences,
            scheme=self.scheme,
            batch_size=self.options.eval_batch_size,
            type_map=self.type_map,
            known_types=set(self.known_types),
        )

    # -------------------------------------------------------- save / load

    def save(self, directory: Path) -> None:
        if self.model is None:
            raise NerkitError("flair tagger is not trained: nothing to save")
        directory = Path(directory)
        save_options(self, directory)
        with _quiet_flair():
            self.model.save(directory / MODEL_FILE)
        write_manifest(
            directory,
            META_FILE,
            FORMAT,
            FORMAT_VERSION,
            text_version=convert.TEXT_VERSION,
            scheme=self.scheme,
            tag_format=self.model.tag_format,
            type_map=self.type_map,
            known_types=self.known_types,
            unmapped_labels=self.unmapped_labels,
        )

    @classmethod
    def load(cls, directory: Path) -> FlairTagger:
        directory = Path(directory)
        meta_path = directory / META_FILE
        meta = read_manifest(directory, META_FILE, FORMAT, FORMAT_VERSION, "flair tagger")
        if not (directory / MODEL_FILE).is_file():
            raise NerkitError(f"{directory} holds no saved flair tagger ({MODEL_FILE} is missing)")
        if meta.get("text_version") != convert.TEXT_VERSION:
            raise NerkitError(
                f"{meta_path}: saved by a nerkit_flair that turned tokens into flair text "
                f"differently (version {meta.get('text_version')}, this one {convert.TEXT_VERSION})"
            )
        tagger = cls(load_options(cls.options_class, directory))
        tagger.scheme = schemes.get_scheme(meta["scheme"]).name
        tagger.type_map = dict(meta.get("type_map", {}))
        tagger.known_types = list(meta.get("known_types", []))
        tagger.unmapped_labels = list(meta.get("unmapped_labels", []))
        tagger.model = _load_flair_model(str(directory / MODEL_FILE))
        return tagger


# ------------------------------------------------------------------ option checks

#: what flair's ``fine_tune`` leaves out: it schedules the learning rate linearly
_ANNEALING = ("patience", "anneal_factor", "min_learning_rate")


def _named(raw: Any, opts: FlairOptions) -> set[str]:
    """The options the user set: named in a dict of options, or (given options built
    already, as a run and ``load`` pass them) those not at their default."""
    if isinstance(raw, dict):
        return set(given(FlairOptions, raw, component="flair"))
    defaults = FlairOptions()
    return {
        name
        for name in FlairOptions.__dataclass_fields__
        if getattr(opts, name) != getattr(defaults, name)
    }


def _check_combinations(opts: FlairOptions, named: set[str]) -> None:
    """Options that would be silently ignored are errors."""
    if opts.label_map is not None and opts.train:
        raise ConfigError(
            "flair option label_map is for a model used as it is (model=..., train=false); "
            "a tagger trained here predicts the dataset's own types"
        )
    if opts.fine_tune:
        ignored = [name for name in _ANNEALING if name in named]
        if ignored:
            raise ConfigError(
                f"flair option fine_tune=true trains with flair's fine_tune, which anneals "
                f"the learning rate linearly and ignores {', '.join(ignored)}: leave "
                f"{'it' if len(ignored) == 1 else 'them'} out, or set fine_tune=false"
            )
        if opts.train and "transformer" not in opts.embeddings:
            raise ConfigError(
                "flair option fine_tune=true fine-tunes a transformer, but 'embeddings' "
                f"({','.join(opts.embeddings)}) has none: add transformer, or set "
                "fine_tune=false"
            )
    embedding_names.layer_indices(opts.transformer_layers)  # the format; the range at load


# ------------------------------------------------------------------ training helpers


def _setup_torch(context: RunContext) -> None:
    import flair
    import torch

    if context.threads:
        torch.set_num_threads(context.threads)
    device = context.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    flair.device = torch.device(device)


@contextlib.contextmanager
def _work_folder(context: RunContext) -> Iterator[Path]:
    """Where flair's trainer writes its logs: ``work_dir/flair`` (kept with the run) or
    a temporary folder."""
    if context.work_dir is not None:
        folder = Path(context.work_dir) / "flair"
        shutil.rmtree(folder, ignore_errors=True)  # a resumed run starts training afresh
        folder.mkdir(parents=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="nerkit-flair-") as tmp:
        yield Path(tmp)


@contextlib.contextmanager
def _quiet_flair() -> Iterator[None]:
    """flair logs every batch at INFO and draws a progress bar for every dev
    evaluation; nerkit reports progress itself (``context.progress``)."""
    from flair.file_utils import Tqdm

    logger = logging.getLogger("flair")
    level = logger.level
    bar = Tqdm.tqdm
    logger.setLevel(logging.WARNING)
    Tqdm.tqdm = staticmethod(lambda *args, **kwargs: bar(*args, **{**kwargs, "disable": True}))  # type: ignore[method-assign]
    try:
        with warnings.catch_warnings():
            # flair 0.15.1 builds a CUDA GradScaler even on CPU; not the user's concern
            warnings.filterwarnings("ignore", message=".*GradScaler", category=FutureWarning)
            yield
    finally:
        Tqdm.tqdm = bar  # type: ignore[method-assign]
        logger.setLevel(level)


def _load_flair_model(name: str) -> SequenceTagger:
    from flair.models import SequenceTagger

    try:
        with _quiet_flair():
            model = SequenceTagger.load(name)
    except Exception as exc:  # flair raises whatever torch or its downloader raised
        where = "file" if Path(name).exists() else "hub name (needs a network connection)"
        raise NerkitError(
            f"flair: cannot load the model {name!r} as a {where}: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(model, SequenceTagger):
        raise NerkitError(f"flair: {name} is a {type(model).__name__}, not a SequenceTagger")
    model.eval()
    return model
