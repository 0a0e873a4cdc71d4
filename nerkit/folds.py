"""k-fold splits of a training set and out-of-fold predictions for any tagger.

A corrector learns from the base tagger's real mistakes, so it trains on predictions
for sentences the tagger did not see: split train into k folds, train a fresh tagger on
the other folds and predict the held-out one, k times.

* ``random``: sentences shuffled with the seed and dealt into k folds of equal size.
* ``entity-disjoint`` (CrossWeigh-style): the same folds, but the tagger that predicts
  fold i trains only on sentences that share no entity surface form with fold i, so no
  held-out entity was seen in training.

Each fold's predictions are written as soon as they exist, so an interrupted run
resumes at the next fold; complete sets are also cached across runs (``cache_key``),
keyed by the tagger, its options, the train and dev fingerprints, k, the mode and the
seed, and by what else decides how the tagger trains, as for reusing a trained base
tagger (``nerkit.pipeline.training_provenance``): threads, device, commit, and the
versions of the libraries and of the tagger's plugin. Every file appears whole (written
or copied under a name of its own, then renamed), so a killed copy or two runs filling
the same entry never leave a truncated fold; a fold file that cannot be read all the
same (written by an older nerkit) is trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerkit import schemes
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.store import copy_atomically
from nerkit.types import Prediction, Sentence

FOLD_MODES = ("random", "entity-disjoint")


@dataclass(frozen=True)
class Fold:
    """Held-out sentence indices and the indices the fold's tagger trains on."""

    index: int
    held_out: tuple[int, ...]
    train: tuple[int, ...]


def surface_forms(sentence: Sentence, scheme: str) -> set[str]:
    """Entity strings of a sentence (tokens joined by a space), in any type."""
    return {
        " ".join(sentence.tokens[sp.start : sp.end])
        for sp in (sentence.spans or schemes.spans_lenient(sentence.tags, scheme))
    }


def make_folds(
    sentences: Sequence[Sentence],
    k: int,
    *,
    seed: int = 13,
    mode: str = "random",
    scheme: str = "IOB2",
) -> list[Fold]:
    """``k`` folds covering every sentence exactly once as held out; each fold's tagger
    has at least one sentence to train on (entity-disjoint folds can leave none: a
    ``ConfigError`` says which, before anything is trained)."""
    if mode not in FOLD_MODES:
        raise ConfigError(f"unknown fold mode {mode!r} (known: {', '.join(FOLD_MODES)})")
    if not 2 <= k <= len(sentences):
        raise ConfigError(
            f"folds must be between 2 and the {len(sentences)} training sentences, not {k}"
        )
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    held = [sorted(order[i::k]) for i in range(k)]
    forms = [surface_forms(s, scheme) for s in sentences] if mode == "entity-disjoint" else None
    folds = []
    for i, held_out in enumerate(held):
        rest = [j for f, part in enumerate(held) if f != i for j in part]
        if forms is not None:
            banned = set().union(*(forms[j] for j in held_out))
            rest = [j for j in rest if not (forms[j] & banned)]
        if not rest:
            raise ConfigError(
                f"{mode} folds: fold {i} of {k} leaves its tagger no training sentences "
                "(every sentence outside the fold shares an entity surface form with one "
                "inside it); use fewer folds, or random folds (fold mode random)"
            )
        folds.append(Fold(i, tuple(held_out), tuple(sorted(rest))))
    return folds


def cache_key(
    tagger: str,
    options: dict[str, Any],
    fingerprint: str,
    dev_fingerprint: str | None,
    k: int,
    mode: str,
    seed: int,
    provenance: Mapping[str, Any],
) -> str:
    """The cache entry of one out-of-fold set: everything that decides its predictions
    (train and dev, which the fold taggers may stop early on; ``provenance``: threads,
    device, commit and versions, as ``nerkit.pipeline.training_provenance`` gives them,
    so that predictions made by other code are never taken for fresh ones)."""
    text = json.dumps(
        [tagger, options, fingerprint, dev_fingerprint, k, mode, seed, dict(provenance)],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def default_cache_dir() -> Path:
    return Path(os.environ.get("NERKIT_CACHE_DIR", Path.home() / ".cache" / "nerkit")) / "folds"


def fit_fold(
    make_tagger: Callable[[], Tagger],
    sentences: Sequence[Sentence],
    fold: Fold,
    *,
    scheme: str,
    context: RunContext,
    dev: Sequence[Sentence] | None = None,
) -> list[Prediction]:
    """Train a fresh tagger on ``fold.train`` and predict ``fold.held_out``.

    The fold's seed is the run's plus the fold index, so a fold trained on its own
    (by a sweep's executor, in another process) predicts exactly what it would have
    predicted inside ``out_of_fold``.
    """
    tagger = make_tagger()
    fold_context = RunContext(
        seed=context.seed + fold.index,
        device=context.device,
        threads=context.threads,
        work_dir=None,
        progress=context.progress,
    )
    fold_context.seed_everything()
    tagger.fit([sentences[j] for j in fold.train], dev, scheme=scheme, context=fold_context)
    return tagger.predict([sentences[j] for j in fold.held_out])


def fold_path(directory: Path, fold: Fold | int) -> Path:
    index = fold.index if isinstance(fold, Fold) else fold
    return directory / f"fold-{index}.arrow"


def cached_mark(directory: Path, fold: Fold | int) -> Path:
    """Beside a fold file taken from the cache: it was reused, not trained for the run
    (a resumed run reads its own folds back too, and must not count them as reused)."""
    return fold_path(directory, fold).with_suffix(".from-cache")


def take_from_cache(folds: Sequence[Fold], directory: Path, cache: Path | None) -> None:
    """Copy a complete cached set into ``directory`` (folds already there are kept)."""
    if cache is None or not all(fold_path(cache, f).exists() for f in folds):
        return
    directory.mkdir(parents=True, exist_ok=True)
    for f in folds:
        if not fold_path(directory, f).exists():
            cached_mark(directory, f).touch()
            copy_atomically(fold_path(cache, f), fold_path(directory, f))


def fill_cache(folds: Sequence[Fold], directory: Path, cache: Path) -> None:
    """Copy every fold of ``directory`` into ``cache`` (entries there are kept). Runs
    filling the same entry at once each copy under a name of their own: an entry is
    complete once its last fold file is there, and every file there is whole."""
    cache.mkdir(parents=True, exist_ok=True)
    for f in folds:
        target = fold_path(cache, f)
        if not target.exists():
            copy_atomically(fold_path(directory, f), target)


def out_of_fold(
    make_tagger: Callable[[], Tagger],
    sentences: Sequence[Sentence],
    folds: Sequence[Fold],
    *,
    scheme: str,
    context: RunContext,
    directory: Path,
    cache: Path | None = None,
    dev: Sequence[Sentence] | None = None,
    on_fold: Callable[[int, bool], None] = lambda i, reused: None,
    check: Callable[[list[Prediction], int], None] = lambda predictions, i: None,
) -> list[Prediction]:
    """One prediction per sentence, each made by a tagger that did not train on it.

    Fold i's predictions go to ``directory/fold-i.arrow`` when they exist (a resumed
    run reads them instead of training again); with ``cache``, a complete set is read
    from and written to that folder. ``on_fold(i, reused)`` reports progress;
    ``reused``: taken from the cache (in this sitting or an earlier one of the run).
    ``check(predictions, i)`` sees each fold's predictions once they are stored, and
    may raise to stop the run there.
    """
    from nerkit.store import write_raw_predictions

    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob(".fold-*.tmp"):  # a copy killed half-way: the run's own
        leftover.unlink(missing_ok=True)
    take_from_cache(folds, directory, cache)
    out: list[Prediction | None] = [None] * len(sentences)
    for f in folds:
        path = fold_path(directory, f)
        predictions = _stored_fold(path, f, cache)
        if predictions is not None:
            on_fold(f.index, cached_mark(directory, f).exists())
        else:
            cached_mark(directory, f).unlink(missing_ok=True)
            predictions = fit_fold(
                make_tagger, sentences, f, scheme=scheme, context=context, dev=dev
            )
            write_raw_predictions(path, predictions)
            on_fold(f.index, False)
        check(list(predictions), f.index)
        for j, p in zip(f.held_out, predictions, strict=True):
            out[j] = p
    if cache is not None:
        fill_cache(folds, directory, cache)
    missing = [j for j, p in enumerate(out) if p is None]
    if missing:
        raise AssertionError(f"folds left sentences {missing[:5]} without a prediction")
    return out  # type: ignore[return-value]


def _stored_fold(path: Path, fold: Fold, cache: Path | None) -> list[Prediction] | None:
    """Fold ``fold``'s stored predictions, or ``None`` when there are none. A file that
    cannot be read (cut short by an older nerkit killed while copying it, or by two of
    its runs filling the cache at once) is removed, and so is the cache's copy (it may
    be the damaged one, which every later run would take again): the fold is trained
    again rather than failing every resume."""
    from nerkit.store import read_raw_predictions

    if not path.exists():
        return None
    try:
        predictions = read_raw_predictions(path)
    except NerkitError:
        predictions = None
    if predictions is not None and len(predictions) == len(fold.held_out):
        return predictions
    path.unlink(missing_ok=True)
    if cache is not None:
        fold_path(cache, fold).unlink(missing_ok=True)
    return None
