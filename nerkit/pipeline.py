"""A run: load -> fit -> predict -> decode -> score -> store.

Every finished step leaves its output inside ``ID.partial/`` (the saved tagger, the
raw predictions per split, the training curve), so ``--resume ID`` skips what is done
and a killed run loses at most the step it was in. Only the last step renames the
folder to ``ID/``. Those steps came from the data the run began on, whose fingerprints
it records (``data.json``): a resume on changed data is refused rather than mixing the two,
and so is a resume by other code (another commit, other versions of the libraries or of
the tagger's plugin: ``training_provenance``) once a step is stored. One process at a
time works on an unfinished run: it holds a lock on ``ID.partial/run.lock`` while it
runs, and a second ``--resume`` is refused. The records a resume needs leave the run
only after the final rename.

A correction run does not retrain a base tagger that a finished run beside it (same
folder, no corrector) trained already with the same tagger, options, training and dev
data, seed, threads, device and code (``training_provenance``; cached out-of-fold
predictions are reused under the same rule): it copies that run's saved tagger and
records where it came from (``base_from`` in the run table's ``extra``). A run without a
corrector keeps its tagger's raw dev and test predictions (``raw-dev.arrow``,
``raw-test.arrow``, before the decoder), and when that run scored the same dev and test
data the correction run takes them too instead of tagging again (``base_predictions``
in ``extra``): the base stage of both runs is then the same by construction.
``cache=False`` (``--no-cache``) retrains and retags.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import numbers
import operator
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from glob import escape as glob_escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from nerkit import __version__, schemes, store
from nerkit.errors import ConfigError, NerkitError, SchemeError
from nerkit.interfaces import Corrector, Decoder, RunContext, Tagger
from nerkit.options import as_dict, build_options, given
from nerkit.plugin.host import PluginHost, get_host
from nerkit.types import Prediction, Sentence

try:
    import fcntl
except ImportError:  # Windows: runs are not locked there
    fcntl = None  # type: ignore[assignment]

STAGE_BASE = "base"
STAGE_CORRECTED = "corrected"
EVAL_SPLITS = ("dev", "test")
# each split a run may cut to its first N sentences, with the setting that says N
SPLIT_LIMITS = (
    ("train", "max_train_sentences"),
    ("dev", "max_dev_sentences"),
    ("test", "max_test_sentences"),
)
MODES = ("lenient", "strict")
#: metrics rows of entity spans (``nerkit.metrics.span_scores``), written where the gold
#: or the predictions carry spans of their own (nested entities, which tags cannot hold)
SPAN_MODE = "spans"
#: in an unfinished correction run whose base tagger was copied from another run: that
#: run's id and tagger stats (kept for a resume; the finished run has them in ``extra``)
BASE_RECORD = "base.json"
#: in an unfinished run: the wall-clock and CPU seconds of its finished steps, summed over
#: sittings (a resumed run adds to it); the finished run has them in ``extra["time"]``
TIMING_RECORD = "timing.json"
#: in an unfinished run: the training-curve points of each stage that trains, one file
#: each, so that a stage trained again (a resumed run) replaces its own points only
CURVE_RECORDS = {STAGE_BASE: "curves.jsonl", STAGE_CORRECTED: "curves-corrector.jsonl"}
#: in an unfinished run: the fingerprint of each split it was created on (cut to its
#: sizes); every step it stores was made from that data, so a resume on other data is
#: refused (the finished run has them in the run table's ``fingerprints``)
DATA_RECORD = "data.json"
#: in an unfinished run: the file whose lock (``fcntl.flock``) the process running it
#: holds, so that a second process never works on the same steps
RUN_LOCK = store.RUN_LOCK
#: in an unfinished run: its bookkeeping, removed once the run is finished (not before:
#: a run killed before its rename is resumed, and needs them)
BOOKKEEPING = (BASE_RECORD, TIMING_RECORD, DATA_RECORD, *CURVE_RECORDS.values())


class CodeChangedError(NerkitError):
    """An unfinished run whose stored steps other code made is not finished by this
    code (``Run.check_same_code``)."""


class RunHeldError(NerkitError):
    """An unfinished run that another process is running (it holds ``RUN_LOCK``): not
    a failure of the run, which goes on in that process."""

    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; stored as ``config.json`` and in the run table."""

    tagger: str
    dataset: str
    tagger_options: dict[str, Any] = field(default_factory=dict)
    # how a folder's or a Hub data set's files are read (``nerkit run -D``; see
    # ``nerkit.datasets.load.DATASET_OPTIONS``)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    decoder: str = "conlleval"
    decoder_options: dict[str, Any] = field(default_factory=dict)
    corrector: str | None = None
    corrector_options: dict[str, Any] = field(default_factory=dict)
    folds: int = 5
    fold_mode: str = "random"
    cache: bool = True
    seed: int = 13
    threads: int | None = None
    device: str = "cpu"
    data_dir: str | None = None
    # the first N training sentences only (Hugging Face run_ner's max_train_samples):
    # sizes a benchmark; the stored train fingerprint is that of the sentences used
    max_train_sentences: int | None = None
    # the first N dev sentences only (run_ner's max_eval_samples): dev steers early
    # stopping and the corrector's gate
    max_dev_sentences: int | None = None
    # the first N test sentences only (run_ner's max_predict_samples): a benchmark that
    # tagging a large test set would dominate; its scores are comparable only with runs
    # on the same cut, which the stored test fingerprint tells apart
    max_test_sentences: int | None = None
    command: str = ""

    def __post_init__(self) -> None:
        # a setting of another type fails here, not as a traceback deep in the run
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, typed_setting(name, getattr(self, name)))
        if self.dataset_options:
            from nerkit.datasets.load import dataset_options

            object.__setattr__(self, "dataset_options", dataset_options(self.dataset_options))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"unknown run setting {unknown[0]!r}; valid: {', '.join(sorted(known))}"
            )
        return cls(**raw)


# Integers are stored in int64 columns (the run table's seed) and handed to libraries
# that take 64-bit seeds and counts: a larger one would fail only when the run is stored.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# what each run setting holds: (type, None allowed); TOML's own booleans for switches
_SETTING_TYPES: dict[str, tuple[type, bool]] = {
    "tagger": (str, False),
    "dataset": (str, False),
    "tagger_options": (dict, False),
    "dataset_options": (dict, False),
    "decoder": (str, False),
    "decoder_options": (dict, False),
    "corrector": (str, True),
    "corrector_options": (dict, False),
    "folds": (int, False),
    "fold_mode": (str, False),
    "cache": (bool, False),
    "seed": (int, False),
    "threads": (int, True),
    "device": (str, False),
    "data_dir": (str, True),
    "max_train_sentences": (int, True),
    "max_dev_sentences": (int, True),
    "max_test_sentences": (int, True),
    "command": (str, False),
}
_TYPE_NAMES = {
    str: "a string",
    dict: "a table of options",
    int: "an integer",
    bool: "true or false",
}


def typed_setting(name: str, value: Any) -> Any:
    """``value`` of run setting ``name``, checked against the setting's type (a path for a
    string setting is taken as its text); a ``ConfigError`` ``"name: ..."`` otherwise."""
    kind, optional = _SETTING_TYPES[name]
    if value is None and optional:
        return None
    if kind is str and isinstance(value, os.PathLike) and name in ("dataset", "data_dir"):
        value = os.fspath(value)
    if kind is dict and isinstance(value, Mapping):
        return dict(value)
    if kind is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # numpy's integers too
    # bool is an int in Python, but `seed = true` is a mistake, not seed 1
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{name}: expected {_TYPE_NAMES[kind]}, got {value!r}")
    if kind is int and not INT64_MIN <= value <= INT64_MAX:
        raise ConfigError(
            f"{name}: {value} is out of range (a 64-bit integer, {INT64_MIN} to {INT64_MAX})"
        )
    return value


def setting_problem(name: str, value: Any) -> str | None:
    """What is wrong with the (typed) value of run setting ``name`` for a new run, or
    ``None``. Stored runs are not held to these (a run without a corrector once stored
    any ``folds``)."""
    from nerkit.folds import FOLD_MODES

    if name in ("tagger", "dataset") and not value:
        return f"{name} must not be empty"
    if name == "folds" and value < 2:
        return f"folds must be at least 2, not {value} (out-of-fold predictions need two folds)"
    if name == "fold_mode" and value not in FOLD_MODES:
        return f"unknown fold mode {value!r} (known: {', '.join(FOLD_MODES)})"
    if name == "threads" and value is not None and value < 1:
        return f"threads must be at least 1, not {value}"
    if name in dict(SPLIT_LIMITS).values() and value is not None and value < 1:
        return f"{name} must be at least 1, not {value}"
    return None


@dataclass
class StepReporter:
    """Callbacks the CLI uses to show progress; silent by default."""

    step: Callable[[str], None] = lambda name: None
    progress: Callable[[str, int, int], None] = lambda desc, done, total: None
    note: Callable[[str], None] = lambda text: None


def invalid_gold_notes(loaded: Any) -> list[str]:
    """One line per split whose gold tags break the dataset's scheme (``O -> I-PER`` in
    IOB2): they are scored as conlleval reads them, which is right for a stray tag and
    wrong for files in another scheme (IOB1 read as IOB2), so a run says so."""
    scheme = loaded.corpus.scheme
    notes = []
    for split, reports in loaded.invalid.items():
        if not reports:
            continue
        first = reports[0]
        where = f"{loaded.files[split]}" if split in loaded.files else split
        if first.line is not None:
            where += f", line {first.line}"
        hint = "" if loaded.spec is not None else "; files in another scheme: -D from_scheme=NAME"
        notes.append(
            f"{split}: {len(reports)} invalid {scheme} transition(s) in the gold tags, whose "
            f"entities are read as conlleval reads them (first: {where}: "
            f"{first.transition.previous} -> {first.transition.current}{hint})"
        )
    return notes


def limit_splits(loaded: Any, config: RunConfig) -> Any:
    """``loaded`` with train, dev and test cut to ``config.max_train_sentences``,
    ``max_dev_sentences`` and ``max_test_sentences`` (their fingerprints too)."""
    from nerkit.datasets import fingerprint
    from nerkit.types import Corpus

    corpus = loaded.corpus
    limits = {split: getattr(config, name) for split, name in SPLIT_LIMITS}
    cut = {
        split: corpus[split][:limit]
        for split, limit in limits.items()
        if limit is not None and split in corpus and len(corpus[split]) > limit
    }
    if not cut:
        return loaded
    return replace(
        loaded,
        corpus=Corpus(
            dict(corpus.splits) | cut, corpus.name, corpus.scheme, corpus.license, corpus.citation
        ),
        fingerprints=dict(loaded.fingerprints)
        | {split: fingerprint(sentences) for split, sentences in cut.items()},
    )


@dataclass(frozen=True)
class FoldSetup:
    """What out-of-fold prediction needs: the folds, a tagger factory and the cache entry."""

    folds: tuple[Any, ...]  # nerkit.folds.Fold
    make_tagger: Callable[[], Tagger]
    cache_key: str
    cache: Path | None  # the cache entry's folder; None when the run does not cache

    def context(self, config: RunConfig) -> RunContext:
        return RunContext(seed=config.seed, device=config.device, threads=config.threads)


def fold_setup(config: RunConfig, loaded: Any, host: PluginHost | None = None) -> FoldSetup:
    """The folds of a correction run on ``loaded`` (train already limited), as the run
    makes them: also used by a sweep that trains the folds as separate tasks."""
    from nerkit.folds import cache_key, default_cache_dir, make_folds

    registry = (host or get_host()).registry("tagger")
    tagger_name = registry.resolve(config.tagger)
    tagger_cls: type[Tagger] = registry.get(tagger_name)
    corpus = loaded.corpus
    folds = make_folds(
        corpus["train"], config.folds, seed=config.seed, mode=config.fold_mode, scheme=corpus.scheme
    )
    options = as_dict(
        build_options(tagger_cls.options_class, config.tagger_options, component=tagger_name)
    )
    key = cache_key(
        tagger_name,
        options,
        loaded.fingerprints["train"],
        loaded.fingerprints.get("dev"),  # the fold taggers pick their best epoch on dev
        config.folds,
        config.fold_mode,
        config.seed,
        # what the reuse of a trained base tagger requires too: the two rules agree
        provenance=training_provenance(host or get_host(), tagger_name, config),
    )

    def make_tagger() -> Tagger:
        return tagger_cls(
            build_options(tagger_cls.options_class, config.tagger_options, component=tagger_name)
        )

    cache = default_cache_dir() / key if config.cache else None
    return FoldSetup(tuple(folds), make_tagger, key, cache)


def new_run_id(config: RunConfig) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    dataset = Path(config.dataset).name or "data"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in dataset)
    return f"{stamp}-{config.tagger.split('.')[0]}-{safe}-{secrets.token_hex(2)}"


def _new_run_dir(out: Path, config: RunConfig, tries: int = 100) -> Path:
    """Make a new run's ``ID.partial`` folder in ``out``. Two runs begun in the same
    second (by one process or two) may draw the same id: one that names a run, finished
    or not, is drawn again, and the folder is made only if it is not there, so no run is
    ever shared or overwritten."""
    for _ in range(tries):
        run_id = new_run_id(config)
        if store.run_dir(out, run_id).exists():
            continue
        try:
            directory = store.run_dir(out, run_id, partial=True)
            directory.mkdir()
        except FileExistsError:
            continue
        return directory
    raise NerkitError(f"no free run id in {out} after {tries} tries")


def _versions(host: PluginHost) -> dict[str, str]:
    out = {"nerkit": __version__, "python": sys.version.split()[0]}
    # metadata only: importing torch just to read its version would cost seconds
    for package in ("torch", "transformers", "flair", "pyarrow", "numpy", "seqeval"):
        with contextlib.suppress(PackageNotFoundError):
            out[package] = version(package)
    for info in host.plugins():
        if info.status == "loaded" and info.distribution:
            out[f"plugin:{info.name}"] = f"{info.distribution} {info.version}"
    return out


def _git_hash() -> str | None:
    """The commit of nerkit's own git checkout when nerkit runs from one (an editable
    install, ``python -m nerkit`` in the repository), else ``None``: installed into a
    project's ``.venv`` inside that project's repository, nerkit is not the code that
    repository's commits hold, and the version ``_versions`` records names the code."""
    return _checkout_commit(Path(__file__).resolve())


# once per process: a commit made while a run goes on does not change the code the
# process imported, and every record of the run (``code_provenance`` when it is
# created, the fold cache key, the run table) must name the commit it ran
@functools.cache
def _checkout_commit(module: Path) -> str | None:
    """HEAD of the repository whose top folder holds the package of ``module`` (this
    file) and tracks ``module``; ``None`` elsewhere (site-packages inside someone
    else's repository, an untracked copy, no git)."""
    source = module.parent.parent
    if not (source / ".git").exists():  # a folder or, in a worktree, a file
        return None  # not a repository's top folder: no git process needed

    def git(*args: str) -> list[str] | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(source), *args],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.splitlines() if done.returncode == 0 else None

    found = git("rev-parse", "--show-toplevel", "HEAD")
    if not found or len(found) != 2 or Path(found[0]).resolve() != source:
        return None
    own = module.relative_to(source).as_posix()
    if git("ls-files", "--error-unmatch", "--", own) is None:
        return None  # a copy of nerkit the repository does not hold
    return found[1].strip() or None


def _tagger_versions(
    versions: Mapping[str, str], host: PluginHost, tagger_name: str
) -> dict[str, str]:
    """Of ``versions`` (``_versions``), those that decide how tagger ``tagger_name``
    trains: the libraries' and its own plugin's; other plugins do not matter."""
    plugin = f"plugin:{host.registry('tagger').entry(tagger_name).plugin}"
    return {k: v for k, v in versions.items() if not k.startswith("plugin:") or k == plugin}


def training_provenance(host: PluginHost, tagger_name: str, config: RunConfig) -> dict[str, Any]:
    """What decides how tagger ``tagger_name`` trains besides its options, the data and
    the seed: threads, device, commit, the versions of the libraries and of its
    plugin, and the contents of the files and folders its options name (a label map,
    a model used as it is: ``option_files``, only when there are any). A trained base
    tagger (``Run._trained_base``) or cached out-of-fold predictions (``fold_setup``)
    made with others are never reused."""
    files = tagger_option_files(host, config)
    return (
        {
            "threads": config.threads,
            "device": config.device,
            "versions": _tagger_versions(_versions(host), host, tagger_name),
            "git_hash": _git_hash(),
        }
        | ({"option_files": files} if files else {})
        # how the files were read: -D from_scheme=IO gives the same tags (so the same
        # fingerprints) in another scheme
        | ({"dataset_options": config.dataset_options} if config.dataset_options else {})
    )


def _component_plugins(host: PluginHost, config: RunConfig) -> dict[str, str]:
    """``{role: "distribution version"}`` of the plugins of the run's corrector and
    decoder (its tagger's is among ``_tagger_versions``). A plugin added in-process
    (``PluginHost.add``) has no distribution, hence no version, and is left out: Ray's
    workers load from an installed distribution what a sweep's driver may have added
    in-process, and the two records must not differ for that alone."""
    infos = {info.name: info for info in host.plugins()}
    out = {}
    for role in ("corrector", "decoder"):
        name = getattr(config, role)
        if not name:
            continue
        info = infos.get(host.registry(role).entry(name).plugin)
        if info is not None and info.status == "loaded" and info.distribution:
            out[role] = f"{info.distribution} {info.version}"
    return out


def code_provenance(host: PluginHost, config: RunConfig) -> dict[str, Any]:
    """The code an unfinished run's steps are made with, as ``training_provenance``
    tells it: the commit, and the versions of the libraries and of its tagger's plugin,
    and (``plugins``) those of its corrector's and decoder's plugins, whose trained
    corrector and decoded predictions it stores too. Recorded when the run is created:
    a resume by other code would mix the outputs of both (``Run.check_same_code``), and
    put folds of the old code into the fold cache under the new code's key. (The
    threads, device and options it holds too are the run's settings, which a resume
    keeps, and the files the options name are checked on their own.)"""
    tagger_name = host.registry("tagger").resolve(config.tagger)
    return {
        "versions": _tagger_versions(_versions(host), host, tagger_name),
        "git_hash": _git_hash(),
        "plugins": _component_plugins(host, config),
        # the versions the names meant: -t audit is audit.tagger.v1 until a v2 appears
        "components": {
            role: host.registry(role).resolve(name)
            for role in ROLES
            if (name := getattr(config, role))
        },
    }


def _code_changes(then: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between two ``code_provenance`` records, e.g. ``nerkit 0.3.10 ->
    0.3.11``."""

    def shown(value: Any) -> str:
        return "none" if value is None else str(value)

    changes = []
    if then.get("git_hash") != now.get("git_hash"):
        old, new = (shown(r.get("git_hash"))[:12] for r in (then, now))
        changes.append(f"git commit {old} -> {new}")
    old_versions, new_versions = then.get("versions") or {}, now.get("versions") or {}
    for name in sorted(set(old_versions) | set(new_versions)):
        if old_versions.get(name) != new_versions.get(name):
            old, new = shown(old_versions.get(name)), shown(new_versions.get(name))
            changes.append(f"{name.removeprefix('plugin:')} {old} -> {new}")
    # only the roles both records name: a record made before runs recorded them, or
    # with the plugin added in-process on one side (``_component_plugins``), has none
    old_plugins, new_plugins = then.get("plugins") or {}, now.get("plugins") or {}
    for role in sorted(set(old_plugins) & set(new_plugins)):
        if old_plugins[role] != new_plugins[role]:
            changes.append(f"{role} plugin {old_plugins[role]} -> {new_plugins[role]}")
    # a record made before runs recorded them has none
    old_names, new_names = then.get("components") or {}, now.get("components") or {}
    for role in sorted(set(old_names) & set(new_names)):
        if old_names[role] != new_names[role]:
            changes.append(f"{role} {old_names[role]} -> {new_names[role]}")
    return changes


def tagger_option_files(host: PluginHost, config: RunConfig) -> dict[str, str]:
    """``option_files`` of the run's tagger options; its ``Path`` options always
    count as paths."""
    _, cls = options_class(host, "tagger", config.tagger)
    paths = {
        f.name for f in dataclasses.fields(cls) if "Path" in str(f.type) or f.metadata.get("path")
    }
    return option_files(config.tagger_options, paths)


def option_files(options: Mapping[str, Any], path_options: Collection[str] = ()) -> dict[str, str]:
    """``{option: sha256}`` for the options whose value names an existing local file or
    folder (a folder: over its files' relative paths and contents; a file: with the
    files beside it whose names continue its name, as gensim's ``x.kv.vectors.npy``):
    an option names a path, not what is in it, and a changed file must not pass for
    the same. A value counts as a path when its option is one of ``path_options`` or
    when it looks like one (a ``/``, a leading ``~``, a file suffix); also an item of a
    comma-separated list or of a list, after a ``kind:`` prefix (flair's
    ``embeddings=word:vectors.txt,char``), keyed ``option[item]``. A plain word that
    happens to name something in the current folder does not count."""
    out = {}
    for key, value in sorted(options.items()):
        listed = isinstance(value, list | tuple)
        texts = [
            os.fspath(v) for v in (value if listed else [value]) if isinstance(v, str | os.PathLike)
        ]
        candidates = []
        for text in texts:
            if not listed and (
                key in path_options or (_looks_like_path(text) and Path(text).expanduser().exists())
            ):
                candidates.append((key, text))
                continue
            for item in (part.strip() for part in text.split(",")):
                _, colon, after = item.partition(":")
                path = after if colon and not Path(item).expanduser().exists() else item
                if _looks_like_path(path):
                    candidates.append((f"{key}[{item}]", path))
        for name, text in candidates:
            if text.strip():
                path = Path(text).expanduser()
                try:
                    if path.exists():
                        out[name] = _digest(path)
                except OSError as exc:
                    raise NerkitError(f"option {key}={value}: cannot read {path}: {exc}") from None
    return out


def _looks_like_path(text: str) -> bool:
    text = text.strip()
    if not text or text in (".", ".."):
        return False
    if "/" in text or os.sep in text or text.startswith("~"):
        return True
    try:
        float(text)
        return False  # 0.1 has a "suffix" but is a number
    except ValueError:
        return bool(Path(text).suffix)


# digests of this process by path and (size, mtime) of every file: a run asks for the
# same files' digests up to four times
_DIGESTS: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def _digest(path: Path) -> str:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        named = [(p.relative_to(path).as_posix(), p) for p in files]
    else:
        siblings = sorted(p for p in path.parent.glob(glob_escape(path.name) + ".*") if p.is_file())
        named = [(path.name, path)] + [(p.name, p) for p in siblings]
    signature = tuple((name, p.stat().st_size, p.stat().st_mtime_ns) for name, p in named)
    key = (str(path.resolve()), signature)
    if key not in _DIGESTS:
        _DIGESTS[key] = _sha256_files(named)
    return _DIGESTS[key]


def _sha256_files(files: Sequence[tuple[str, Path]]) -> str:
    total = hashlib.sha256()
    for name, path in files:
        one = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                one.update(block)
        total.update(f"{name}\0{one.hexdigest()}\n".encode())
    return total.hexdigest()


def build_tagger(
    host: PluginHost, name: str, options: dict[str, Any]
) -> tuple[str, type[Tagger], Tagger]:
    registry = host.registry("tagger")
    full = registry.resolve(name)
    cls = registry.get(full)
    return full, cls, cls(build_options(cls.options_class, options, component=full))


def build_corrector(
    host: PluginHost, name: str, options: dict[str, Any]
) -> tuple[str, type[Corrector], Corrector]:
    registry = host.registry("corrector")
    full = registry.resolve(name)
    cls = registry.get(full)
    return full, cls, cls(build_options(cls.options_class, options, component=full))


ROLES = ("tagger", "decoder", "corrector")


def options_class(host: PluginHost, role: str, name: str) -> tuple[str, type]:
    """The full registered name of component ``name`` and its options class."""
    registry = host.registry(role)
    full = registry.resolve(name)
    return full, registry.options_class(full)


def resolved_options(host: PluginHost, config: RunConfig) -> dict[str, dict[str, Any]]:
    """Every option of each component as the run used it, defaults filled in. Stored
    beside the config (which keeps only the options asked for), so that a run made
    before a default changed is not taken for one made with the new default."""
    out = {}
    for role in ROLES:
        if name := getattr(config, role):
            full, cls = options_class(host, role, name)
            options = build_options(cls, getattr(config, f"{role}_options"), component=full)
            out[role] = as_dict(options)
    return out


def build_decoder(host: PluginHost, name: str, options: dict[str, Any]) -> tuple[str, Decoder]:
    registry = host.registry("decoder")
    full = registry.resolve(name)
    cls = registry.get(full)
    return full, cls(build_options(cls.options_class, options, component=full))


def load_dataset(config: RunConfig) -> Any:
    """The dataset of a run (``nerkit.datasets.LoadedDataset``), before any cut."""
    from nerkit.datasets import open_dataset
    from nerkit.datasets.load import refuse_options_for_named

    refuse_options_for_named(config.dataset, config.dataset_options)
    return open_dataset(
        config.dataset, data_dir=config.data_dir, scheme=None, **config.dataset_options
    )


def check_data(loaded: Any, config: RunConfig, trains: bool = True) -> None:
    """What a run needs of its dataset (``loaded``, cut to the run's sizes): a train
    split (not for a tagger that ``trains`` not, without a corrector), and with a
    corrector at least one held-out sentence per fold and, in each fold, sentences its
    tagger trains on (the folds are made as the run makes them: entity-disjoint ones
    can leave a fold none)."""
    corpus = loaded.corpus
    if "train" not in corpus:
        if not trains and not config.corrector:
            return  # a model used as it is, scored on the splits there are
        found = ""
        if Path(config.dataset).is_dir():
            names = sorted(p.name for p in Path(config.dataset).iterdir())
            found = f" (its folder holds: {', '.join(names) or 'no files'})"
        raise NerkitError(
            f"dataset {config.dataset} has no train split{found}; a run needs one (a "
            "training file's name starts with 'train' or has a part like '.train'), "
            "unless its tagger is used as it is, without a corrector"
        )
    n = len(corpus["train"])
    if n == 0:
        raise NerkitError(f"dataset {config.dataset}: its train split holds no sentences")
    if config.corrector and config.folds > n:
        cut = ", cut by max_train_sentences" if config.max_train_sentences is not None else ""
        raise ConfigError(
            f"folds must be at most the number of training sentences ({n} in "
            f"{config.dataset}{cut}), not {config.folds}"
        )
    if config.corrector:
        from nerkit.folds import make_folds

        try:
            make_folds(
                corpus["train"],
                config.folds,
                seed=config.seed,
                mode=config.fold_mode,
                scheme=corpus.scheme,
            )
        except ConfigError as exc:
            raise ConfigError(f"dataset {config.dataset}: {exc}") from None


class Timing:
    """Wall-clock and CPU seconds a run spends, per step and in all, summed over its
    sittings. ``lap(step)`` charges the time since the previous lap to ``step`` and saves
    the record, so a killed sitting keeps the time of the steps it finished. CPU time is
    this process's (every thread): with runs beside it on the machine, it still says
    what the run cost, where wall-clock time does not."""

    def __init__(self, path: Path) -> None:
        self.path = path
        record: Any = {}
        if path.is_file():
            with contextlib.suppress(OSError, ValueError):
                record = json.loads(path.read_text())
        if not isinstance(record, dict):
            record = {}
        self.steps: dict[str, dict[str, float]] = {
            name: {"wall_s": float(v["wall_s"]), "cpu_s": float(v["cpu_s"])}
            for name, v in (record.get("steps") or {}).items()
        }
        self.sittings = int(record.get("sittings", 0)) + 1
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def _add(self, step: str, wall_s: float, cpu_s: float) -> None:
        spent = self.steps.setdefault(step, {"wall_s": 0.0, "cpu_s": 0.0})
        spent["wall_s"] += wall_s
        spent["cpu_s"] += cpu_s
        store.write_json(self.path, self.record())

    def lap(self, step: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self._add(step, wall - self._wall, cpu - self._cpu)
        self._wall, self._cpu = wall, cpu

    @classmethod
    def charge(cls, path: Path, step: str, wall_s: float, cpu_s: float) -> None:
        """Add time spent for the run elsewhere (a sweep's fold task) to its record."""
        timing = cls(path)
        timing.sittings -= 1  # not a sitting of the run's own
        timing._add(step, wall_s, cpu_s)

    def record(self) -> dict[str, Any]:
        return {
            "wall_s": round(sum(v["wall_s"] for v in self.steps.values()), 6),
            "cpu_s": round(sum(v["cpu_s"] for v in self.steps.values()), 6),
            "sittings": self.sittings,
            "steps": {
                name: {k: round(v, 6) for k, v in spent.items()}
                for name, spent in self.steps.items()
            },
        }


def unfinished_config(directory: Path) -> RunConfig:
    """The settings of the unfinished run in ``directory`` (its ``config.json``). One
    that cannot be read (a crash of the machine can leave it empty or cut short) is a
    ``NerkitError`` naming the file, not a traceback."""
    path = directory / "config.json"
    run_id = directory.name.removesuffix(store.PARTIAL)
    try:
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            raise ValueError("the file is empty")
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ConfigError(f"expected the run's settings, got {type(raw).__name__}")
        return RunConfig.from_dict(raw)
    # cut short (ValueError), a setting missing (TypeError) or of the wrong type
    except (OSError, ValueError, TypeError, NerkitError) as exc:
        raise NerkitError(
            f"{path}: unreadable settings of the unfinished run {run_id} ({exc}): "
            "restore the file to finish the run, or start a new run"
        ) from None


class Run:
    """One run in ``out``: create it, or resume an unfinished one."""

    def __init__(self, directory: Path, config: RunConfig, host: PluginHost | None = None) -> None:
        self.dir = directory
        self.config = config
        self.host = host or get_host()
        self.fold_stats: dict[str, Any] | None = None
        self.corrector_stats: dict[str, Any] | None = None
        self.tagger_stats: dict[str, Any] = {}
        # stored in the run table's ``extra`` too (a sweep records its executor here)
        self.extra_info: dict[str, Any] = {}
        # False: neither read nor fill the fold cache (a sweep's task on another
        # machine; the sweep's driver keeps the cache)
        self.use_fold_cache = True
        # False: never look for a finished run that trained the base tagger already (a
        # sweep's task in a scratch folder: its driver copies that tagger in beforehand)
        self.reuse_base = True
        self.timing: Timing | None = None

    # ----------------------------------------------------------- lifecycle

    @classmethod
    def create(
        cls,
        out: Path,
        config: RunConfig,
        host: PluginHost | None = None,
        *,
        loaded: Any = None,
    ) -> Run:
        """A new run's ``ID.partial`` folder in ``out``, made only once everything that
        can be checked before the run is: its settings, components and options, and its
        dataset (it opens, its splits parse, it has a train split with enough sentences
        for the folds, and each fold leaves its tagger sentences to train on). A mistake
        there raises before anything is written, so it never leaves an unfinished run
        that would fail the same way on every ``--resume``. The run records the
        fingerprints of the data it checked (``DATA_RECORD``).

        ``loaded``: the dataset, loaded already (a sweep's driver has it); else it is
        loaded here to be checked, and not kept: a sweep holds many runs at once, and
        ``execute`` loads it again (a fraction of the time any tagger takes to train).
        """
        host = host or get_host()
        for name in RunConfig.__dataclass_fields__:
            if problem := setting_problem(name, getattr(config, name)):
                raise ConfigError(problem)
        # fail on a bad tagger / decoder / option before anything is written
        tagger_name, tagger_cls, built = build_tagger(host, config.tagger, config.tagger_options)
        decoder_name, decoder = build_decoder(host, config.decoder, config.decoder_options)
        makers = [(f"tagger {tagger_name!r}", tagger_cls)]
        if config.corrector:
            name, corrector_cls, _ = build_corrector(
                host, config.corrector, config.corrector_options
            )
            makers.append((f"corrector {name!r}", corrector_cls))
        if decoder.needs_probabilities:
            for who, maker in makers:
                if maker.gives_probabilities is False:
                    raise ConfigError(
                        f"decoder {decoder_name!r} reads probabilities, which {who} does not "
                        "give: use --decoder conlleval or discard"
                    )
        # options as their types make them, so that the same run asked for from the
        # command line (strings) and from Python (numbers) stores the same config
        typed = {}
        for role in ROLES:
            if name := getattr(config, role):
                full, options = options_class(host, role, name)
                typed[f"{role}_options"] = given(
                    options, getattr(config, f"{role}_options"), component=full
                )
        config = replace(config, **typed)
        if loaded is None:
            loaded = load_dataset(config)
        limited = limit_splits(loaded, config)
        check_data(limited, config, trains=built.trains)
        out.mkdir(parents=True, exist_ok=True)
        directory = _new_run_dir(out, config)
        record: dict[str, Any] = {
            "fingerprints": dict(limited.fingerprints),
            "code": code_provenance(host, config),
        }
        if files := tagger_option_files(host, config):
            record["option_files"] = files  # what the tagger options' files held then
        (directory / RUN_LOCK).touch()  # there from the start: locking it changes nothing
        store.write_json(directory / DATA_RECORD, record)
        store.write_json(directory / "config.json", asdict(config))
        return cls(directory, config, host)

    @classmethod
    def resume(cls, out: Path, run_id: str, host: PluginHost | None = None) -> Run:
        """The unfinished run ``run_id`` in ``out`` (its folder's name, ``ID.partial``,
        is taken too). ``execute`` refuses it while another process runs it."""
        run_id = run_id.removesuffix(store.PARTIAL)
        directory = store.run_dir(out, run_id, partial=True)
        if store.run_dir(out, run_id).is_dir():
            raise NerkitError(f"run {run_id} in {out} is finished already; nothing to resume")
        if not (directory / "config.json").is_file():
            raise NerkitError(f"no unfinished run {run_id} in {out} (looked for {directory})")
        return cls(directory, unfinished_config(directory), host)

    @property
    def run_id(self) -> str:
        return self.dir.name.removesuffix(store.PARTIAL)

    def check_same_data(self, loaded: Any) -> None:
        """Refuse to go on with data (``loaded``, cut to the run's sizes) other than the
        data the run was created on: the folds, the tagger and the predictions it has
        stored came from that data, and mixed with the new they would be stored under
        the new fingerprints. A run created before runs recorded their data (before
        0.3.8) has no record and goes on as before."""
        path = self.dir / DATA_RECORD
        if not path.is_file():
            return
        try:
            record = json.loads(path.read_text())
            recorded = record["fingerprints"]
            recorded_files = record.get("option_files") or {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise NerkitError(
                f"{path}: unreadable record of the data run {self.run_id} began on"
            ) from None
        now_files = tagger_option_files(self.host, self.config)
        changed = sorted(
            k
            for k in set(recorded_files) | set(now_files)
            if recorded_files.get(k) != now_files.get(k)
        )
        if changed:
            raise NerkitError(
                f"run {self.run_id}: what tagger option {', '.join(changed)} names changed "
                "since the run began; its stored steps were made with the old file: "
                "restore it to finish the run, or start a new run"
            )
        self.extra_info.pop("option_files", None)
        if recorded_files:
            self.extra_info["option_files"] = recorded_files
        now = dict(loaded.fingerprints)

        def shown(fingerprint: str | None) -> str:
            return f"fingerprint {fingerprint[:12]}" if fingerprint else "no such split"

        for split in sorted(set(recorded) | set(now)):
            if recorded.get(split) != now.get(split):
                raise NerkitError(
                    f"run {self.run_id}: the {split} split of {self.config.dataset} changed "
                    f"since the run began ({shown(recorded.get(split))} then, "
                    f"{shown(now.get(split))} now); its stored steps were made from the old "
                    "data: restore that data to finish the run, or start a new run"
                )
        self.check_same_code(record)

    def check_same_code(self, record: dict[str, Any]) -> None:
        """Refuse to go on, with code other than the code the run began with
        (``record["code"]``, ``code_provenance``), a run that stored a step: its folds,
        tagger and predictions would be mixed with those of the new code, stored under
        the new code's versions, and its folds put in the fold cache under the new code's
        key, where later runs would take them for the new code's. A run with no step
        stored yet goes on with the new code, which it records. A run created before
        runs recorded their code has no record and goes on as before."""
        then = record.get("code")
        if not isinstance(then, dict):
            return
        now = code_provenance(self.host, self.config)
        changes = _code_changes(then, now)
        if not changes:
            return
        stored = self._stored_steps()
        if not stored:
            store.write_json(self.dir / DATA_RECORD, record | {"code": now})
            return
        raise CodeChangedError(
            f"run {self.run_id}: the code changed since the run began ({'; '.join(changes)}), "
            f"and its stored steps ({', '.join(stored)}) were made with the old code: go "
            "back to that code to finish the run, or start a new run (a sweep starts it "
            f"anew once {self.dir.name} is moved out of {self.dir.parent})"
        )

    def _stored_steps(self) -> list[str]:
        """The steps whose output the unfinished run holds (for a message)."""
        steps = []
        if any((self.dir / "folds").glob("fold-*.arrow")):
            steps.append("out-of-fold predictions")
        for name, step in (("tagger", "tagger"), ("corrector", "corrector")):
            if (self.dir / name).is_dir():
                steps.append(f"trained {step}")
        for prefix, what in (("raw", "predictions"), ("corrected", "corrected predictions")):
            if any(self.dir.glob(f"{prefix}-*.arrow")):
                steps.append(what)
        return steps

    # --------------------------------------------------------------- steps

    def execute(
        self,
        reporter: StepReporter | None = None,
        *,
        loaded: Any = None,
        trained_folds: Sequence[int] = (),
    ) -> Path:
        """Do (or finish) every step; returns the finished run's folder. The run is
        locked meanwhile: one that another process runs is refused (``NerkitError``).

        ``loaded``: the dataset, loaded already (a sweep's driver ships it to its
        tasks, which need not see the files). ``trained_folds``: folds whose files a
        sweep put into ``folds/`` after training them for this run; they are not
        counted as reused.
        """
        with self.locked():
            self._remove_leftovers()
            return self._execute(reporter, loaded, trained_folds)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the lock of the unfinished run (``RUN_LOCK``) while the block runs: no
        other process works on its steps meanwhile. The lock goes with the process (a
        killed run leaves none behind), and none is taken where ``fcntl`` is missing."""
        path = self.dir / RUN_LOCK
        try:
            handle = path.open("a")
        except FileNotFoundError:  # the folder is gone: finished (or removed) meanwhile
            raise NerkitError(
                f"no unfinished run {self.run_id} in {self.dir.parent} (looked for {self.dir})"
            ) from None
        with handle:
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise RunHeldError(
                        f"run {self.run_id} is being run by another process (it holds "
                        f"{path}); wait for it to end, or stop it, then --resume",
                        self.run_id,
                    ) from None
            # the process that held the lock may have finished the run before letting go
            if not (self.dir / "config.json").is_file():
                raise NerkitError(
                    f"no unfinished run {self.run_id} in {self.dir.parent} (another "
                    "process finished or removed it)"
                )
            yield

    def _remove_leftovers(self) -> None:
        """Files and folders a killed sitting was writing under a temporary name (none
        of them is another process's: the run is locked)."""
        for path in self.dir.glob("*.tmp"):  # hidden names too (``store.temp_path``)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def _execute(
        self,
        reporter: StepReporter | None,
        loaded: Any,
        trained_folds: Sequence[int],
    ) -> Path:
        reporter = reporter or StepReporter()
        cfg = self.config
        timing = self.timing = Timing(self.dir / TIMING_RECORD)
        if loaded is None:
            reporter.step(f"loading dataset {cfg.dataset}")
            loaded = load_dataset(cfg)
        loaded = limit_splits(loaded, cfg)
        self.check_same_data(loaded)
        for text in invalid_gold_notes(loaded):
            reporter.note(text)
        tagger_name, tagger_cls, tagger = build_tagger(self.host, cfg.tagger, cfg.tagger_options)
        check_data(loaded, cfg, trains=tagger.trains)
        corpus = loaded.corpus
        decoder_name, decoder = build_decoder(self.host, cfg.decoder, cfg.decoder_options)
        # the files the tagger's options name, as they were when the run began (see
        # check_same_data): what a later run may reuse its trained tagger for
        if not (self.dir / DATA_RECORD).is_file() and (
            files := tagger_option_files(self.host, cfg)
        ):
            self.extra_info["option_files"] = files
        context = RunContext(
            seed=cfg.seed,
            device=cfg.device,
            threads=cfg.threads,
            work_dir=self.dir,
            curve=self._curve_writer(STAGE_BASE),
            progress=reporter.progress,
        )

        timing.lap("load")

        def decodable(predictions: Sequence[Prediction], who: str, where: str) -> None:
            # a component that does not declare gives_probabilities is found out by its
            # first predictions, not after all the training (at decoding)
            if decoder.needs_probabilities:
                _require_probabilities(decoder_name, predictions, who, where)

        oof = (
            self._out_of_fold(
                loaded,
                tagger_name,
                context,
                reporter,
                set(trained_folds),
                check=lambda predictions, i: decodable(
                    predictions, f"tagger {tagger_name!r}", f"out-of-fold predictions, fold {i}"
                ),
            )
            if cfg.corrector
            else None
        )
        if cfg.corrector:
            timing.lap("folds")

        model_dir = self.dir / "tagger"
        source = self.adopt_trained_base(loaded) if self.reuse_base else None
        base_record = self.dir / BASE_RECORD
        if source is not None:
            reporter.step(f"tagger: {tagger_name} as trained by run {source} (reused)")
            tagger = tagger_cls.load(model_dir)
        elif model_dir.is_dir():
            reporter.step("tagger trained already (resumed)")
            tagger = tagger_cls.load(model_dir)
        else:
            train = corpus.splits.get("train", ())  # none for a tagger that does not train
            reporter.step(
                f"training {tagger_name} on {len(train)} sentences"
                if tagger.trains
                else f"loading {tagger_name} (used as it is)"
            )
            context.seed_everything()
            # the points of a fit that was killed are not the curve of this one, nor is
            # a base copy that was killed (its record written, its tagger not) its origin
            (self.dir / CURVE_RECORDS[STAGE_BASE]).unlink(missing_ok=True)
            base_record.unlink(missing_ok=True)
            dev = corpus.splits.get("dev")
            tagger.fit(train, dev, scheme=corpus.scheme, context=context)
            self._save_atomically(tagger, model_dir)
        # what a tagger reports about its training (e.g. windowed sentences): stored with the run
        self.tagger_stats = dict(getattr(tagger, "stats", {}) or {})
        if base_record.is_file():  # reused: the stats and origin of the run that trained it
            try:
                record = json.loads(base_record.read_text(encoding="utf-8"))
                stats, origin = record["stats"], record["run_id"]
            except (ValueError, TypeError, KeyError) as exc:
                raise NerkitError(
                    f"{base_record}: unreadable record of the reused base tagger ({exc}): "
                    "remove it and the tagger folder beside it to train the tagger anew"
                ) from None
            self.tagger_stats = stats
            self.extra_info["base_from"] = origin
            if record.get("predictions"):
                self.extra_info["base_predictions"] = record["predictions"]
        timing.lap("tagger")

        splits = [s for s in EVAL_SPLITS if s in corpus]
        raw: dict[str, dict[str, list[Prediction]]] = {STAGE_BASE: {}}
        # the scheme each stage's predictions are in (``Tagger.scheme`` need not be the
        # corpus's): they are decoded in it, then converted to the corpus's (_decode)
        stage_schemes = {STAGE_BASE: tagger.scheme}
        for split in splits:
            raw[STAGE_BASE][split] = self._predictions(
                f"raw-{split}",
                lambda split=split: tagger.predict(corpus[split]),
                corpus[split],
                split,
                reporter,
                component=f"tagger {tagger_name!r}",
                scheme=tagger.scheme,
            )
            decodable(raw[STAGE_BASE][split], f"tagger {tagger_name!r}", f"{split}, base stage")
        timing.lap("predict")
        corrector_name = None
        base_input = raw[STAGE_BASE]
        if cfg.corrector and oof is not None:
            # what the corrector reads: the base predictions in the scheme it is fit in
            base_input = {
                split: _predictions_in_scheme(raw[STAGE_BASE][split], tagger.scheme, corpus.scheme)
                for split in splits
            }
            corrector_name, corrector = self._corrector(
                corpus,
                _predictions_in_scheme(oof, tagger.scheme, corpus.scheme),
                base_input,
                context,
                reporter,
            )
            timing.lap("corrector")
            stage_schemes[STAGE_CORRECTED] = corrector.scheme
            raw[STAGE_CORRECTED] = {
                split: self._predictions(
                    f"corrected-{split}",
                    lambda split=split: corrector.correct(corpus[split], base_input[split]),
                    corpus[split],
                    split,
                    reporter,
                    component=f"corrector {corrector_name!r}",
                    scheme=corrector.scheme,
                )
                for split in splits
            }
            timing.lap("correct")

        reporter.step(f"decoding ({decoder_name}) and scoring")
        from nerkit.metrics import scores

        blocks, metric_rows, repairs = [], [], {}
        made_by = {
            STAGE_BASE: f"tagger {tagger_name!r}",
            STAGE_CORRECTED: f"corrector {corrector_name!r}",
        }
        for stage, by_split in raw.items():
            for split in splits:
                gold_sents = corpus[split]
                decoded, changed = [], 0
                for pred in by_split[split]:
                    try:
                        tags, n = _decode(decoder, pred, stage_schemes[stage], corpus.scheme)
                    except NerkitError as exc:
                        # the decoder cannot read what this stage's component gives (the
                        # viterbi decoder and a component without probabilities)
                        raise NerkitError(
                            f"{split}, {stage} stage ({made_by[stage]}), decoder "
                            f"{decoder_name!r}: {exc}"
                        ) from None
                    decoded.append(tags)
                    changed += n
                repairs[f"{stage}/{split}"] = changed
                gold = [s.tags for s in gold_sents]
                confidences = [p.confidences for p in by_split[split]]
                tokens = [s.tokens for s in gold_sents]
                blocks.append((split, stage, tokens, gold, decoded, confidences))
                for mode in MODES:
                    result = scores(gold, decoded, corpus.scheme, mode)
                    for metric, label, value, support in result.rows():
                        metric_rows.append((split, stage, mode, metric, label, value, support))
                for metric, label, value, support in _span_rows(
                    gold_sents, by_split[split], decoded, corpus.scheme
                ):
                    metric_rows.append((split, stage, SPAN_MODE, metric, label, value, support))
                n_tokens = sum(map(len, gold))
                metric_rows.append(
                    (split, stage, "lenient", "repairs", "all", float(changed), n_tokens)
                )
                if stage == STAGE_CORRECTED:
                    changed_tags = sum(
                        a != b
                        for p, q in zip(by_split[split], base_input[split], strict=True)
                        for a, b in zip(p.tags, q.tags, strict=True)
                    )
                    metric_rows.append(
                        (
                            split,
                            stage,
                            "lenient",
                            "corrected_tags",
                            "all",
                            float(changed_tags),
                            n_tokens,
                        )
                    )
        timing.lap("score")

        self._write_tables(
            loaded,
            tagger_name,
            decoder_name,
            corpus.scheme,
            blocks,
            metric_rows,
            repairs,
            corrector_name,
        )
        reporter.step("storing the run")
        final = store.finish(self.dir)
        self._tidy(final)
        return final

    def _tidy(self, final: Path) -> None:
        """Remove the unfinished run's bookkeeping from the finished run ``final``: not
        before its rename, so that a run killed before it resumes with every record
        (its data's fingerprints above all: without them a resume on changed data would
        go on)."""
        for split in EVAL_SPLITS:
            if self.config.corrector:  # a run without one keeps them for correction runs
                (final / f"raw-{split}.arrow").unlink(missing_ok=True)
            (final / f"corrected-{split}.arrow").unlink(missing_ok=True)
        for name in BOOKKEEPING:
            (final / name).unlink(missing_ok=True)
        (final / RUN_LOCK).unlink(missing_ok=True)  # still held: it goes with the process

    # ------------------------------------------------------------- helpers

    def _predictions(
        self,
        name: str,
        make: Callable[[], Sequence[Prediction]],
        sentences: Sequence[Sentence],
        split: str,
        reporter: StepReporter,
        *,
        component: str = "the tagger",
        scheme: str | None = None,
    ) -> list[Prediction]:
        """``make()`` once: kept in the unfinished run, so a resumed run reads it."""
        path = self.dir / f"{name}.arrow"
        if path.exists():
            return store.read_raw_predictions(path)
        reporter.step(f"{name.split('-')[0]}: {split} ({len(sentences)} sentences)")
        predictions = _check_predictions(
            make(), sentences, split, component=component, scheme=scheme
        )
        store.write_raw_predictions(path, predictions)
        return predictions

    def adopt_trained_base(self, loaded: Any) -> str | None:
        """For a correction run whose base tagger is not trained yet: copy the one a
        finished run beside it trained exactly as this run would (see the module's
        docstring); the id of that run, or ``None`` when there is none (or the run does
        not cache). ``loaded``: the dataset, cut to the run's train size."""
        cfg = self.config
        model_dir = self.dir / "tagger"
        if not (cfg.corrector and cfg.cache) or model_dir.is_dir():
            return None
        tagger_name, _, tagger = build_tagger(self.host, cfg.tagger, cfg.tagger_options)
        found = self._trained_base(loaded, tagger_name, tagger)
        if found is None:
            return None
        source, row = found
        fingerprints = json.loads(row["fingerprints"])
        splits = [
            s
            for s in EVAL_SPLITS
            if s in loaded.corpus
            and fingerprints.get(s) == loaded.fingerprints.get(s)
            and (source / f"raw-{s}.arrow").is_file()
        ]
        self._copy_base(source, row, model_dir, splits)
        return source.name

    def _trained_base(
        self, loaded: Any, tagger_name: str, tagger: Tagger
    ) -> tuple[Path, dict[str, Any]] | None:
        """The newest finished run beside this one, without a corrector, that trained
        ``tagger`` as this run would: same tagger and options (defaults filled in),
        train and dev data, seed, threads, device, commit, and versions of the libraries
        and of the tagger's plugin. That run's folder and run-table row, or ``None``."""
        cfg = self.config
        wanted = {
            "tagger": tagger_name,
            "options": tagger.options,
            "seed": cfg.seed,
            "data": {s: loaded.fingerprints.get(s) for s in ("train", "dev")},
        } | training_provenance(self.host, tagger_name, cfg)
        for summary in reversed(store.list_runs(self.dir.parent)):
            if not summary.complete or summary.corrector or summary.tagger != tagger_name:
                continue
            if not (summary.path / "tagger").is_dir():
                continue
            try:
                row = store.read_table(summary.path, "run").to_pylist()[0]
                stored = json.loads(row["config"])
                options = build_options(
                    tagger.options_class, stored.get("tagger_options", {}), component=tagger_name
                )
                fingerprints = json.loads(row["fingerprints"])
                found = {
                    "tagger": stored["tagger"],
                    "options": options,
                    "seed": stored["seed"],
                    "threads": stored.get("threads"),
                    "device": stored.get("device", "cpu"),
                    "data": {s: fingerprints.get(s) for s in ("train", "dev")},
                    "versions": _tagger_versions(
                        json.loads(row["versions"]), self.host, tagger_name
                    ),
                    "git_hash": row["git_hash"],
                }
                stored_files = json.loads(row["extra"] or "{}").get("option_files")
                if stored_files:
                    found["option_files"] = stored_files
                if stored.get("dataset_options"):
                    found["dataset_options"] = stored["dataset_options"]
            except (NerkitError, KeyError, TypeError, ValueError):
                continue  # a run from another version or a damaged one: never reused
            if found == wanted:
                return summary.path, row
        return None

    def _copy_base(
        self, source: Path, row: dict[str, Any], model_dir: Path, splits: Sequence[str]
    ) -> None:
        """Copy ``source``'s trained tagger, its training curve and stats (from its
        run-table ``row``) into this run, then its raw predictions on ``splits`` (data
        both runs share). The tagger folder appears whole, so a killed copy is redone; a
        prediction file appears whole after it, and one not copied yet is made again by
        tagging."""
        stats = json.loads(row["extra"] or "{}").get("tagger") or {}
        record = {"run_id": source.name, "stats": stats, "predictions": []}
        store.write_json(self.dir / BASE_RECORD, record)
        curves = self.dir / CURVE_RECORDS[STAGE_BASE]
        curves.unlink(missing_ok=True)
        if (source / "curves.arrow").exists():
            with curves.open("w") as fh:
                for point in store.read_table(source, "curves").to_pylist():
                    fields = ("epoch", "step", "split", "metric", "value")
                    fh.write(json.dumps([point[f] for f in fields]) + "\n")
        tmp = store.temp_path(model_dir)
        shutil.copytree(source / "tagger", tmp)
        os.replace(tmp, model_dir)
        for split in splits:
            name = f"raw-{split}.arrow"
            store.copy_atomically(source / name, self.dir / name)
        if splits:  # recorded once every file is in place
            store.write_json(self.dir / BASE_RECORD, record | {"predictions": list(splits)})

    def _out_of_fold(
        self,
        loaded: Any,
        tagger_name: str,
        context: RunContext,
        reporter: StepReporter,
        trained: set[int],
        check: Callable[[list[Prediction], int], None],
    ) -> list[Prediction]:
        from nerkit.folds import out_of_fold

        cfg = self.config
        setup = fold_setup(cfg, loaded, self.host)
        reporter.step(
            f"out-of-fold predictions: {cfg.folds} folds ({cfg.fold_mode}) of {tagger_name}"
        )

        self.fold_stats = {
            "folds": cfg.folds,
            "mode": cfg.fold_mode,
            "reused": 0,
            "cache": setup.cache_key,
            # how many sentences each fold's tagger trained on and predicted: entity-
            # disjoint folds train on fewer than random ones
            "sizes": [{"train": len(f.train), "held_out": len(f.held_out)} for f in setup.folds],
        }

        def report(i: int, reused: bool) -> None:
            self.fold_stats["reused"] += int(reused and i not in trained)
            if self.timing is not None:  # a fold is stored: its time is kept
                self.timing.lap("folds")
            reporter.progress("folds", i + 1, cfg.folds)

        corpus = loaded.corpus
        return out_of_fold(
            setup.make_tagger,
            corpus["train"],
            setup.folds,
            scheme=corpus.scheme,
            context=context,
            directory=self.dir / "folds",
            cache=setup.cache if self.use_fold_cache else None,
            dev=corpus.splits.get("dev"),
            on_fold=report,
            check=check,
        )

    def _corrector(
        self,
        corpus: Any,
        oof: list[Prediction],
        base: dict[str, list[Prediction]],
        context: RunContext,
        reporter: StepReporter,
    ) -> tuple[str, Corrector]:
        cfg = self.config
        assert cfg.corrector is not None
        name, cls, corrector = build_corrector(self.host, cfg.corrector, cfg.corrector_options)
        model_dir = self.dir / "corrector"
        if model_dir.is_dir():
            reporter.step("corrector trained already (resumed)")
            loaded = cls.load(model_dir)
            self.corrector_stats = dict(getattr(loaded, "stats", {}) or {})
            return name, loaded
        reporter.step(f"training {name} on {len(oof)} out-of-fold predictions")
        context.seed_everything()
        # the points of a fit that was killed are not the curve of this one
        (self.dir / CURVE_RECORDS[STAGE_CORRECTED]).unlink(missing_ok=True)
        dev = corpus.splits.get("dev")
        corrector.fit(
            corpus["train"],
            oof,
            dev,
            base.get("dev") if dev is not None else None,
            scheme=corpus.scheme,
            context=replace(context, curve=self._curve_writer(STAGE_CORRECTED)),
        )
        self._save_atomically(corrector, model_dir)
        # e.g. the gate's threshold: stored with the run
        self.corrector_stats = dict(getattr(corrector, "stats", {}) or {})
        return name, corrector

    def _curve_writer(self, stage: str) -> Callable[[int, int, str, str, float], None]:
        path = self.dir / CURVE_RECORDS[stage]

        def write(epoch: int, step: int, split: str, metric: str, value: float) -> None:
            # the curves table holds no nulls: a bad point fails the fit that gave it,
            # not the storing of the run (and of every resume after it)
            try:
                point = [operator.index(epoch), operator.index(step), split, metric, float(value)]
            except (TypeError, ValueError):
                point = []
            if not point or not isinstance(split, str) or not isinstance(metric, str):
                raise NerkitError(
                    f"{stage} stage: a training-curve point (epoch, step, split, metric, "
                    f"value) of the wrong kind: {[epoch, step, split, metric, value]!r} "
                    "(epoch and step are integers, split and metric strings, value a number)"
                )
            with path.open("a") as fh:
                fh.write(json.dumps(point) + "\n")

        return write

    @staticmethod
    def _save_atomically(component: Tagger | Corrector, model_dir: Path) -> None:
        tmp = store.temp_path(model_dir)  # of this process: see Run._remove_leftovers
        tmp.mkdir()
        component.save(tmp)
        os.replace(tmp, model_dir)

    def _write_tables(
        self,
        loaded: Any,
        tagger_name: str,
        decoder_name: str,
        scheme: str,
        blocks: list[Any],
        metric_rows: list[tuple[Any, ...]],
        repairs: dict[str, int],
        corrector_name: str | None = None,
    ) -> None:
        cfg = self.config
        corpus = loaded.corpus
        config = asdict(cfg) | {
            "tagger": tagger_name,
            "decoder": decoder_name,
            "corrector": corrector_name,
        }
        store.write_table(
            self.dir,
            "run",
            {
                "run_id": [self.run_id],
                "created_utc": [datetime.now(UTC)],
                "command": [cfg.command],
                "config": [json.dumps(config, sort_keys=True)],
                "tagger": [tagger_name],
                "corrector": [corrector_name],
                "decoder": [decoder_name],
                "dataset": [cfg.dataset],
                "scheme": [scheme],
                "seed": [cfg.seed],
                "fingerprints": [json.dumps(dict(loaded.fingerprints), sort_keys=True)],
                "dataset_license": [corpus.license],
                "dataset_citation": [corpus.citation],
                "versions": [json.dumps(_versions(self.host), sort_keys=True)],
                "git_hash": [_git_hash()],
                "extra": [
                    json.dumps(
                        {
                            "repairs": repairs,
                            # sentences of each scored split: an empty one stores no
                            # prediction rows, and a paired test must still count it
                            "sentences": {s: len(corpus[s]) for s in EVAL_SPLITS if s in corpus},
                            "folds": self.fold_stats,
                            "corrector": self.corrector_stats,
                            "tagger": self.tagger_stats,
                            "time": self.timing.record() if self.timing else None,
                            "options": resolved_options(self.host, cfg),
                        }
                        | self.extra_info,
                        sort_keys=True,
                        default=str,  # numpy numbers and the like, as text
                    )
                ],
            },
        )
        store.write_table(self.dir, "predictions", store.predictions_table(blocks))
        cols = list(zip(*metric_rows, strict=True)) if metric_rows else [[]] * 7
        names = ["split", "stage", "mode", "metric", "label", "value", "support"]
        store.write_table(
            self.dir, "metrics", {n: list(c) for n, c in zip(names, cols, strict=True)}
        )
        records = [self.dir / name for name in CURVE_RECORDS.values()]
        if any(path.exists() for path in records):
            points = [  # the tagger's, then the corrector's
                json.loads(line)
                for path in records
                if path.exists()
                for line in path.read_text().splitlines()
                if line
            ]
            cols = list(zip(*points, strict=True)) if points else [[]] * 5
            names = ["epoch", "step", "split", "metric", "value"]
            store.write_table(
                self.dir, "curves", {n: list(c) for n, c in zip(names, cols, strict=True)}
            )


def _span_rows(
    gold: Sequence[Sentence],
    predictions: Sequence[Prediction],
    decoded: Sequence[Sequence[str]],
    scheme: str,
) -> list[tuple[str, str, float, int]]:
    """Span scores when the gold or the predictions carry spans (nested entities), else
    none (on flat data they would repeat the lenient tag scores). A prediction without
    spans is scored on the entities its decoded tags encode."""
    if not any(s.spans for s in gold) and not any(p.spans for p in predictions):
        return []
    from nerkit import schemes
    from nerkit.metrics import entity_spans, span_scores

    gold_spans = [entity_spans(s, scheme) for s in gold]
    predicted = [
        p.spans or tuple(schemes.spans_lenient(tags, scheme))
        for p, tags in zip(predictions, decoded, strict=True)
    ]
    return span_scores(gold_spans, predicted).rows()


def _check_predictions(
    preds: Sequence[Prediction],
    sentences: Sequence[Sentence],
    split: str,
    *,
    component: str = "the tagger",
    scheme: str | None = None,
) -> list[Prediction]:
    """One prediction per sentence, one tag per token and, given the ``scheme`` the
    component declares, tags of that scheme's form: a decoder would read a bare ``LOC``
    as prefix ``L`` of type ``C`` and the run would score made-up types."""
    preds = list(preds)
    if len(preds) != len(sentences):
        raise NerkitError(
            f"{split}: {component} returned {len(preds)} predictions for {len(sentences)} sentences"
        )
    for i, (p, s) in enumerate(zip(preds, sentences, strict=True)):
        if len(p.tags) != len(s.tokens):
            raise NerkitError(
                f"{split}: sentence {i} ({s.sentence_id}) has {len(s.tokens)} tokens but {component} gave {len(p.tags)} tags"
            )
    if scheme is None:
        return preds
    declared = schemes.get_scheme(scheme)
    # each distinct tag once (a split holds tens of them), the sentence only on failure
    for tag in set().union(*(p.tags for p in preds)):
        try:
            schemes.check_tag(tag, declared)
        except SchemeError as exc:
            i = next(i for i, p in enumerate(preds) if tag in p.tags)
            raise SchemeError(
                f"{split}: sentence {i} ({sentences[i].sentence_id}): {component}, whose "
                f"scheme is {declared.name}, gave a tag outside it: {exc}"
            ) from None
    return preds


def _require_probabilities(
    decoder_name: str, predictions: Sequence[Prediction], who: str, where: str
) -> None:
    for i, p in enumerate(predictions):
        if p.probabilities is None and len(p.tags):
            raise NerkitError(
                f"{where}: decoder {decoder_name!r} reads probabilities, which {who} does "
                f"not give (its prediction of sentence {i} has none): use --decoder "
                "conlleval or discard (a component that declares gives_probabilities = "
                "False is refused before any training)"
            )


def _predictions_in_scheme(
    predictions: Sequence[Prediction], source: str, target: str
) -> list[Prediction]:
    """``predictions`` in ``source`` as a component fit in ``target`` reads them (a
    corrector): tags re-encoded the conlleval way; the probability matrix is dropped,
    its columns being tags of ``source``. Unchanged when the schemes are the same."""
    if _same_scheme(source, target):
        return list(predictions)
    return [
        Prediction(
            tags=tuple(schemes.convert(p.tags, source, target)),
            confidences=p.confidences,
            spans=p.spans,
        )
        for p in predictions
    ]


def _decode(
    decoder: Decoder, prediction: Prediction, source: str, target: str
) -> tuple[tuple[str, ...], int]:
    """Decode in ``source``, the scheme the component predicts in, then re-encode in
    ``target``, the corpus's, when they differ (the scores and ``nerkit predict`` are in
    the corpus's scheme); the count of changed tokens is the decoder's."""
    tags, changed = decoder.decode(prediction, source)
    if not _same_scheme(source, target):
        tags = tuple(schemes.convert(tags, source, target))
    return tags, changed


def _same_scheme(a: str, b: str) -> bool:
    """Whether two scheme names (aliases such as ``BIO`` included) are one scheme."""
    return schemes.get_scheme(a).name == schemes.get_scheme(b).name


def stored_config(run: Path) -> dict[str, Any]:
    row = store.read_table(run, "run").to_pylist()[0]
    return json.loads(row["config"])


@dataclass
class StoredModels:
    """The trained components of a finished run, ready to tag new text as the run did."""

    tagger: Tagger
    decoder: Decoder
    scheme: str
    corrector: Corrector | None = None

    def predict(self, sentences: Sequence[Sentence]) -> list[tuple[str, ...]]:
        """Final tags: the tagger's, corrected when the run had a corrector, decoded
        and in the run's scheme, exactly as the run's stored predictions."""
        source = self.tagger.scheme
        predictions = _check_predictions(
            self.tagger.predict(sentences),
            sentences,
            "input",
            component="the tagger",
            scheme=source,
        )
        if self.corrector is not None:
            predictions = _check_predictions(
                self.corrector.correct(
                    sentences, _predictions_in_scheme(predictions, source, self.scheme)
                ),
                sentences,
                "input",
                component="the corrector",
                scheme=self.corrector.scheme,
            )
            source = self.corrector.scheme
        return [_decode(self.decoder, p, source, self.scheme)[0] for p in predictions]


def load_run_models(run: Path, host: PluginHost | None = None) -> StoredModels:
    """The trained tagger (and corrector), the decoder and the scheme of a finished run."""
    from nerkit.export import is_export

    if is_export(run):
        raise NerkitError(
            f"{run}: this run is a results-only copy (nerkit export), without its models; "
            "use the run it was exported from"
        )
    host = host or get_host()
    config = stored_config(run)
    row = store.read_table(run, "run").to_pylist()[0]
    tagger = host.registry("tagger").get(config["tagger"]).load(run / "tagger")
    _, decoder = build_decoder(host, config["decoder"], config.get("decoder_options", {}))
    corrector = None
    if config.get("corrector"):
        corrector = host.registry("corrector").get(config["corrector"]).load(run / "corrector")
    return StoredModels(tagger, decoder, row["scheme"], corrector)


__all__ = [
    "FoldSetup",
    "Run",
    "RunConfig",
    "StepReporter",
    "StoredModels",
    "fold_setup",
    "limit_splits",
    "load_run_models",
    "unfinished_config",
]
