"""How sure is a score: bootstrap confidence intervals and paired significance tests.

Everything works from per-sentence entity counts (correct, predicted, gold), computed
once by the metric engine. A resample is then a weighted sum of those counts, so a
thousand resamples cost a few matrix products instead of a thousand scorings.
Micro precision, recall and F1 are functions of the summed counts:
``P = C / Pred``, ``R = C / Gold`` and ``F1 = 2 C / (Pred + Gold)`` (0 when the
denominator is 0, as in the metric engine).

The tests, and exactly what their p-values are:

* ``bootstrap_ci``: percentile bootstrap over sentences (Efron): draw ``n``
  sentences with replacement ``resamples`` times; the interval is the
  ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles (linear
  interpolation) of the resampled scores.
* ``paired_bootstrap``: Berg-Kirkpatrick, Burkett and Klein (2012), "An Empirical
  Investigation of Statistical Significance in NLP", section 2.2, made two-sided.
  Both systems are scored on the same resampled sentences; with
  ``delta = score(B) - score(A)`` observed on the test set and ``delta_i`` on
  resample ``i``, the resampled deltas are centred on the observed one (the bootstrap
  estimate of the null distribution, symmetric about 0) and
  ``p = (1 + #{|delta_i - delta| >= |delta|}) / (1 + resamples)``: "do A and B
  differ?", not the paper's one-sided "is B better / worse than A?" in the direction
  of the observed difference, a direction chosen after seeing the data (that test
  calls equal systems different at 0.05 about twice as often as it should). ``>=`` so
  that two identical systems get ``p = 1``, and the add-one smoothing of Monte-Carlo
  p-values, so ``p`` is never 0.
* ``approximate_randomization``: Noreen (1989), as in Riezler and Maxwell (2005)
  and sigf: each trial swaps the two systems' outputs of every sentence with
  probability 1/2; ``p = (1 + #{|delta_shuffled| >= |delta|}) / (1 + trials)``
  (two-sided).

Both paired tests compare with a float tolerance of ``1e-12``: a resample or shuffle
whose delta equals the bound exactly, but lands a rounding error below it because its
sums were added in another order, still counts.

Every function takes a ``seed``, an integer of 0 or more (else ``ConfigError``), and
draws from ``numpy.random.default_rng(seed)``.
Resamples are drawn in chunks of a bounded size (a 1000 x 56,000 matrix of draws would
take 450 MB); the draws come from the generator in the same order whatever the chunk
size, so the numbers depend only on the inputs and the seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from nerkit.errors import ConfigError, InputError
from nerkit.metrics import exact_matches, extract_entity_pair
from nerkit.metrics.encoding import TagSequences
from nerkit.types import Span

STATISTICS = ("f1", "precision", "recall")
BOOTSTRAP = "paired-bootstrap"
RANDOMIZATION = "approximate-randomization"

# Cells of one resampling chunk (resamples x sentences). 2**21 keeps the weight and
# index matrices near 16 MiB each whatever the corpus: 37 resamples a chunk for
# WNUT-17's test split, 1 a chunk for a corpus of 2M sentences.
_CHUNK_CELLS = 2**21


@dataclass(frozen=True, slots=True)
class SentenceCounts:
    """Entity counts per sentence: ``correct`` predicted entities (equal to a gold
    one), ``predicted`` entities and ``gold`` entities; three int64 arrays of one length."""

    correct: np.ndarray
    predicted: np.ndarray
    gold: np.ndarray

    def __post_init__(self) -> None:
        arrays = [np.asarray(a, dtype=np.int64) for a in (self.correct, self.predicted, self.gold)]
        if any(a.ndim != 1 for a in arrays) or len({a.size for a in arrays}) != 1:
            raise InputError(
                "correct, predicted and gold counts must be 1-D arrays of one length "
                f"(got shapes {', '.join(str(a.shape) for a in arrays)})"
            )
        if any((a < 0).any() for a in arrays) or (arrays[0] > arrays[1]).any():
            raise InputError("entity counts must be >= 0, with correct <= predicted")
        for name, a in zip(("correct", "predicted", "gold"), arrays, strict=True):
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    def __len__(self) -> int:
        return int(self.correct.size)

    def score(self, statistic: str = "f1") -> float:
        """The micro score of all sentences together."""
        totals = [np.array([float(a.sum())]) for a in (self.correct, self.predicted, self.gold)]
        return float(_statistic(statistic)(*totals)[0])


@dataclass(frozen=True, slots=True)
class ConfidenceInterval:
    """A score and its percentile-bootstrap interval (``low <= f1 <= high`` as a rule;
    see the module docstring). ``f1`` holds the score named by ``statistic``."""

    f1: float
    low: float
    high: float
    resamples: int
    confidence: float
    seed: int
    statistic: str = "f1"


@dataclass(frozen=True, slots=True)
class PairedTest:
    """The result of a paired test of B against A on the same sentences.

    ``delta = f1_b - f1_a``; ``n`` is the number of sentences resampled or shuffled,
    ``iterations`` the number of resamples or trials; ``method`` is
    ``"paired-bootstrap"`` or ``"approximate-randomization"``. ``f1_a`` and ``f1_b``
    hold the score named by ``statistic``.
    """

    f1_a: float
    f1_b: float
    delta: float
    p_value: float
    method: str
    n: int
    seed: int
    iterations: int
    statistic: str = "f1"


# ------------------------------------------------------------------ counts


def sentence_counts(
    gold: TagSequences, pred: TagSequences, scheme: str = "IOB2", mode: str = "lenient"
) -> SentenceCounts:
    """Per-sentence (correct, predicted, gold) entity counts of a batch, by the metric
    engine (so their sums give exactly the micro scores of ``nerkit.metrics.scores``).
    Raises ``InputError`` when gold and predictions differ in shape."""
    gold_entities, pred_entities = extract_entity_pair(gold, pred, scheme, mode)
    n = gold_entities.n_sentences
    hit = exact_matches(gold_entities, pred_entities)
    return SentenceCounts(
        correct=np.bincount(pred_entities.sentence[hit], minlength=n),
        predicted=np.bincount(pred_entities.sentence, minlength=n),
        gold=np.bincount(gold_entities.sentence, minlength=n),
    )


def span_sentence_counts(
    gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]
) -> SentenceCounts:
    """Per-sentence entity counts of gold and predicted spans (which may nest), counted
    as ``nerkit.metrics.span_scores`` counts them: a span repeated within a sentence
    counts once."""
    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    sets = [(set(g), set(p)) for g, p in zip(gold, pred, strict=True)]
    return SentenceCounts(
        correct=np.array([len(g & p) for g, p in sets], dtype=np.int64),
        predicted=np.array([len(p) for _, p in sets], dtype=np.int64),
        gold=np.array([len(g) for g, _ in sets], dtype=np.int64),
    )


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(numerator, denominator).shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _f1(c: np.ndarray, p: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _divide(2.0 * c, p + g)


def _precision(c: np.ndarray, p: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _divide(c, p)


def _recall(c: np.ndarray, p: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _divide(c, g)


_STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "f1": _f1,
    "precision": _precision,
    "recall": _recall,
}


def _statistic(name: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    try:
        return _STATISTICS[name]
    except KeyError:
        raise ConfigError(
            f"unknown statistic {name!r} for a significance test (known: {', '.join(STATISTICS)})"
        ) from None


def _check_iterations(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _check_seed(seed: int) -> int:
    # numpy takes no negative seed, and a bool or float seed is a mistake in a caller.
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be an integer of 0 or more, got {seed!r}")
    return int(seed)


def _chunks(total: int, n_sentences: int) -> Iterator[int]:
    """Sizes of the resampling chunks: at most ``_CHUNK_CELLS`` cells, at least one row."""
    rows = max(1, _CHUNK_CELLS // max(n_sentences, 1))
    for start in range(0, total, rows):
        yield min(rows, total - start)


def _resampled_sums(
    columns: np.ndarray, resamples: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """For each chunk, the column sums of ``columns`` (sentences x k) over
    ``rows`` bootstrap samples of the sentences: an array (rows, k)."""
    n = columns.shape[0]
    as_float = columns.astype(np.float64)  # counts are far below 2**53: sums stay exact
    for rows in _chunks(resamples, n):
        # How often each sentence is drawn, per resample: one bincount over the
        # drawn indices, offset per row (cheaper than rng.multinomial, which draws
        # n binomials per resample).
        drawn = rng.integers(0, n, size=(rows, n), dtype=np.int64)
        drawn += np.arange(rows, dtype=np.int64)[:, None] * n
        weights = np.bincount(drawn.ravel(), minlength=rows * n).reshape(rows, n)
        yield weights.astype(np.float64) @ as_float


# ---------------------------------------------------------- interval


def bootstrap_ci_counts(
    counts: SentenceCounts,
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 13,
    statistic: str = "f1",
) -> ConfidenceInterval:
    """``bootstrap_ci`` from precomputed per-sentence counts."""
    resamples = _check_iterations(resamples, "resamples")
    seed = _check_seed(seed)
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must lie between 0 and 1, got {confidence!r}")
    score = _statistic(statistic)
    if len(counts) == 0:
        raise InputError("no sentences to resample")
    columns = np.stack([counts.correct, counts.predicted, counts.gold], axis=1)
    rng = np.random.default_rng(seed)
    scores = np.concatenate(
        [score(s[:, 0], s[:, 1], s[:, 2]) for s in _resampled_sums(columns, resamples, rng)]
    )
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(scores, [alpha, 1.0 - alpha])
    return ConfidenceInterval(
        f1=counts.score(statistic),
        low=float(low),
        high=float(high),
        resamples=resamples,
        confidence=float(confidence),
        seed=seed,
        statistic=statistic,
    )


def bootstrap_ci(
    gold: TagSequences,
    pred: TagSequences,
    scheme: str = "IOB2",
    mode: str = "lenient",
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 13,
    statistic: str = "f1",
) -> ConfidenceInterval:
    """Micro F1 (or ``statistic``) of ``pred`` against ``gold`` with a percentile
    bootstrap interval over sentences."""
    return bootstrap_ci_counts(
        sentence_counts(gold, pred, scheme, mode),
        resamples=resamples,
        confidence=confidence,
        seed=seed,
        statistic=statistic,
    )


# ------------------------------------------------------------ paired


def _paired_counts(
    gold: TagSequences, pred_a: TagSequences, pred_b: TagSequences, scheme: str, mode: str
) -> tuple[SentenceCounts, SentenceCounts]:
    try:
        a = sentence_counts(gold, pred_a, scheme, mode)
    except InputError as exc:
        raise InputError(f"system A: {exc.reason}") from None
    try:
        b = sentence_counts(gold, pred_b, scheme, mode)
    except InputError as exc:
        raise InputError(f"system B: {exc.reason}") from None
    return a, b


def _check_pair(a: SentenceCounts, b: SentenceCounts) -> None:
    if len(a) != len(b):
        raise InputError(f"a paired test needs the same sentences: A has {len(a)}, B has {len(b)}")
    if len(a) == 0:
        raise InputError("no sentences to compare")
    differ = np.flatnonzero(a.gold != b.gold)
    if differ.size:
        i = int(differ[0])
        raise InputError(
            "a paired test needs the same gold entities: sentence "
            f"{i} has {a.gold[i]} gold entities for A but {b.gold[i]} for B"
        )


def paired_bootstrap_counts(
    a: SentenceCounts,
    b: SentenceCounts,
    *,
    resamples: int = 1000,
    seed: int = 13,
    statistic: str = "f1",
) -> PairedTest:
    """``paired_bootstrap`` from precomputed per-sentence counts of A and B (two-sided,
    see the module docstring)."""
    resamples = _check_iterations(resamples, "resamples")
    seed = _check_seed(seed)
    score = _statistic(statistic)
    _check_pair(a, b)
    f1_a, f1_b = a.score(statistic), b.score(statistic)
    delta = f1_b - f1_a
    columns = np.stack([a.correct, a.predicted, b.correct, b.predicted, a.gold], axis=1)
    rng = np.random.default_rng(seed)
    hits = 0
    # Two-sided, centred on the observed delta; the tolerance counts a resample whose
    # distance from it equals |delta| up to rounding (identical systems: p = 1).
    observed = abs(delta) - 1e-12
    for s in _resampled_sums(columns, resamples, rng):
        resampled = score(s[:, 2], s[:, 3], s[:, 4]) - score(s[:, 0], s[:, 1], s[:, 4])
        hits += int(np.count_nonzero(np.abs(resampled - delta) >= observed))
    return PairedTest(
        f1_a,
        f1_b,
        delta,
        (hits + 1) / (resamples + 1),
        BOOTSTRAP,
        len(a),
        seed,
        resamples,
        statistic,
    )


def approximate_randomization_counts(
    a: SentenceCounts,
    b: SentenceCounts,
    *,
    trials: int = 1000,
    seed: int = 13,
    statistic: str = "f1",
) -> PairedTest:
    """``approximate_randomization`` from precomputed per-sentence counts of A and B."""
    trials = _check_iterations(trials, "trials")
    seed = _check_seed(seed)
    score = _statistic(statistic)
    _check_pair(a, b)
    f1_a, f1_b = a.score(statistic), b.score(statistic)
    delta = f1_b - f1_a
    n = len(a)
    # Swapping sentence j moves (b - a) of its counts from B to A: the shuffled totals
    # are the observed totals plus swaps @ differences, one matrix product per chunk.
    differences = np.stack([b.correct - a.correct, b.predicted - a.predicted], axis=1).astype(
        np.float64
    )
    total_a = np.array([a.correct.sum(), a.predicted.sum()], dtype=np.float64)
    total_b = np.array([b.correct.sum(), b.predicted.sum()], dtype=np.float64)
    gold = float(a.gold.sum())
    rng = np.random.default_rng(seed)
    hits = 0
    # A float tolerance, so that a shuffle giving exactly the observed delta counts
    # even when the two sides are summed in another order.
    observed = abs(delta) - 1e-12
    for rows in _chunks(trials, n):
        swaps = (rng.random((rows, n)) < 0.5).astype(np.float64)
        moved = swaps @ differences
        shuffled_a, shuffled_b = total_a + moved, total_b - moved
        g = np.full(rows, gold)
        shuffled = score(shuffled_b[:, 0], shuffled_b[:, 1], g) - score(
            shuffled_a[:, 0], shuffled_a[:, 1], g
        )
        hits += int(np.count_nonzero(np.abs(shuffled) >= observed))
    return PairedTest(
        f1_a, f1_b, delta, (hits + 1) / (trials + 1), RANDOMIZATION, n, seed, trials, statistic
    )


def paired_bootstrap(
    gold: TagSequences,
    pred_a: TagSequences,
    pred_b: TagSequences,
    scheme: str = "IOB2",
    mode: str = "lenient",
    *,
    resamples: int = 1000,
    seed: int = 13,
    statistic: str = "f1",
) -> PairedTest:
    """Is B's micro F1 different from A's by more than the choice of sentences
    explains? Paired bootstrap (Berg-Kirkpatrick et al. 2012, two-sided: see the
    module docstring). Raises ``InputError`` when the
    prediction sets and gold differ in shape."""
    a, b = _paired_counts(gold, pred_a, pred_b, scheme, mode)
    return paired_bootstrap_counts(a, b, resamples=resamples, seed=seed, statistic=statistic)


def approximate_randomization(
    gold: TagSequences,
    pred_a: TagSequences,
    pred_b: TagSequences,
    scheme: str = "IOB2",
    mode: str = "lenient",
    *,
    trials: int = 1000,
    seed: int = 13,
    statistic: str = "f1",
) -> PairedTest:
    """Is B's micro F1 different from A's? Approximate randomisation over sentences
    (two-sided, see the module docstring). Raises ``InputError`` when the prediction
    sets and gold differ in shape."""
    a, b = _paired_counts(gold, pred_a, pred_b, scheme, mode)
    return approximate_randomization_counts(a, b, trials=trials, seed=seed, statistic=statistic)


__all__ = [
    "BOOTSTRAP",
    "RANDOMIZATION",
    "STATISTICS",
    "ConfidenceInterval",
    "PairedTest",
    "SentenceCounts",
    "approximate_randomization",
    "approximate_randomization_counts",
    "bootstrap_ci",
    "bootstrap_ci_counts",
    "paired_bootstrap",
    "paired_bootstrap_counts",
    "sentence_counts",
    "span_sentence_counts",
]
