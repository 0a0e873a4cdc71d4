"""Bootstrap intervals and paired tests: p-values a user can trust, seeded and exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nerkit.cli.app import app
from nerkit.errors import ConfigError, InputError
from nerkit.evaluation import significance
from nerkit.evaluation.significance import (
    SentenceCounts,
    approximate_randomization,
    approximate_randomization_counts,
    bootstrap_ci,
    bootstrap_ci_counts,
    paired_bootstrap,
    paired_bootstrap_counts,
    sentence_counts,
)
from nerkit.metrics import scores

GOLD_SENTENCE = ["B-PER", "I-PER", "O", "B-LOC", "O"]
MISSED_LOC = ["B-PER", "I-PER", "O", "O", "O"]
N = 300


def gold() -> list[list[str]]:
    return [list(GOLD_SENTENCE) for _ in range(N)]


def system_a() -> list[list[str]]:
    """Misses the LOC entity of every third sentence: F1 = 2 * 500 / (500 + 600)."""
    return [list(MISSED_LOC if i % 3 == 0 else GOLD_SENTENCE) for i in range(N)]


def handful_different() -> list[list[str]]:
    """A with four of its errors fixed and two new ones: six sentences differ."""
    pred = system_a()
    for i in (0, 3, 6, 9):
        pred[i] = list(GOLD_SENTENCE)
    for i in (1, 2):
        pred[i] = list(MISSED_LOC)
    return pred


PAIRED_TESTS = [
    pytest.param(paired_bootstrap, "paired-bootstrap", id="bootstrap"),
    pytest.param(approximate_randomization, "approximate-randomization", id="ar"),
]


@pytest.mark.parametrize(("test", "method"), PAIRED_TESTS)
def test_a_handful_of_different_sentences_is_not_significant(test, method) -> None:
    result = test(gold(), system_a(), handful_different())
    assert result.method == method and result.n == N and result.seed == 13
    assert result.f1_a == pytest.approx(1000 / 1100, abs=1e-15)
    assert result.f1_b == pytest.approx(2 * 502 / (502 + 600), abs=1e-15)
    assert result.delta == pytest.approx(result.f1_b - result.f1_a, abs=1e-15)
    assert result.p_value > 0.05


@pytest.mark.parametrize(("test", "method"), PAIRED_TESTS)
def test_a_clearly_better_system_is_significant(test, method) -> None:
    result = test(gold(), system_a(), gold())
    assert result.f1_b == 1.0 and result.delta == pytest.approx(1 - 1000 / 1100, abs=1e-15)
    # a hundred sentences better, none worse: no resample or shuffle comes close
    assert result.p_value < 0.01
    assert result.p_value == pytest.approx(1 / 1001)  # the smallest p of 1000 iterations
    # the test is symmetric: A against B gives the same p with the opposite delta
    swapped = test(gold(), gold(), system_a())
    assert swapped.delta == -result.delta and swapped.p_value == result.p_value


@pytest.mark.parametrize(("test", "method"), PAIRED_TESTS)
def test_identical_systems_get_p_one(test, method) -> None:
    result = test(gold(), system_a(), system_a())
    assert result.delta == 0.0 and result.p_value == 1.0


def test_same_seed_same_numbers_other_seed_other_draws() -> None:
    args = (gold(), system_a(), handful_different())
    assert paired_bootstrap(*args, seed=5) == paired_bootstrap(*args, seed=5)
    assert approximate_randomization(*args, seed=5) == approximate_randomization(*args, seed=5)
    assert bootstrap_ci(gold(), system_a(), seed=5) == bootstrap_ci(gold(), system_a(), seed=5)
    p_values = {paired_bootstrap(*args, seed=s, resamples=200).p_value for s in range(5)}
    assert len(p_values) > 1  # the seed reaches the generator


def test_numbers_do_not_depend_on_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    n = 2000
    a = SentenceCounts(rng.integers(0, 2, n), rng.integers(1, 3, n), rng.integers(1, 3, n))
    b = SentenceCounts(rng.integers(0, 2, n), rng.integers(1, 3, n), a.gold)

    def run() -> tuple[object, ...]:
        return (
            bootstrap_ci_counts(a, resamples=100),
            paired_bootstrap_counts(a, b, resamples=100),
            approximate_randomization_counts(a, b, trials=100),
        )

    whole = run()
    monkeypatch.setattr(significance, "_CHUNK_CELLS", 7 * n + 3)  # 7 resamples a chunk
    assert run() == whole


def test_counts_are_the_metric_engines() -> None:
    g = [["B-PER", "I-PER", "O"], [], ["B-LOC", "B-LOC", "O", "B-ORG"], ["O"]]
    p = [["B-PER", "I-PER", "O"], [], ["B-LOC", "I-LOC", "O", "B-ORG"], ["B-PER"]]
    counts = sentence_counts(g, p)
    assert counts.correct.tolist() == [1, 0, 1, 0]
    assert counts.predicted.tolist() == [1, 0, 2, 1]
    assert counts.gold.tolist() == [1, 0, 3, 0]
    reference = scores(g, p)
    assert counts.score() == pytest.approx(reference.f1, abs=1e-15)
    assert counts.score("precision") == pytest.approx(reference.precision, abs=1e-15)
    assert counts.score("recall") == pytest.approx(reference.recall, abs=1e-15)


def test_interval_of_a_real_difference() -> None:
    ci = bootstrap_ci(gold(), system_a(), resamples=500, confidence=0.9, seed=3)
    assert (ci.resamples, ci.confidence, ci.seed) == (500, 0.9, 3)
    assert ci.f1 == pytest.approx(1000 / 1100, abs=1e-15)
    assert 0.88 < ci.low < ci.f1 < ci.high < 0.94
    # a perfect system has nothing to vary
    perfect = bootstrap_ci(gold(), gold())
    assert (perfect.low, perfect.f1, perfect.high) == (1.0, 1.0, 1.0)


def test_precision_and_recall_can_be_tested_too() -> None:
    result = paired_bootstrap(gold(), system_a(), gold(), statistic="recall")
    assert result.statistic == "recall"
    assert result.f1_a == pytest.approx(500 / 600, abs=1e-15) and result.f1_b == 1.0
    # A predicts only correct entities: its precision equals B's
    precision = paired_bootstrap(gold(), system_a(), gold(), statistic="precision")
    assert precision.delta == 0.0 and precision.p_value == 1.0


def test_different_shapes_are_input_errors_naming_the_system() -> None:
    shorter = system_a()[:-1]
    with pytest.raises(InputError, match="system B: gold has 300 sentences but predicted has 299"):
        paired_bootstrap(gold(), system_a(), shorter)
    longer_sentence = system_a()
    longer_sentence[4] = [*longer_sentence[4], "O"]
    with pytest.raises(InputError, match="system A: .* at sentence 4: 5 gold tags, 6 predicted"):
        approximate_randomization(gold(), longer_sentence, system_a())


def test_count_arrays_must_pair_up() -> None:
    a = SentenceCounts([1, 0], [1, 1], [1, 2])
    with pytest.raises(InputError, match="same sentences: A has 2, B has 3"):
        paired_bootstrap_counts(a, SentenceCounts([1, 0, 0], [1, 1, 0], [1, 2, 0]))
    with pytest.raises(InputError, match="sentence 1 has 2 gold entities for A but 3 for B"):
        approximate_randomization_counts(a, SentenceCounts([1, 0], [1, 1], [1, 3]))
    with pytest.raises(InputError, match="correct <= predicted"):
        SentenceCounts([2], [1], [1])
    with pytest.raises(InputError, match="one length"):
        SentenceCounts([1, 0], [1], [1])
    with pytest.raises(InputError, match="no sentences"):
        bootstrap_ci_counts(SentenceCounts([], [], []))


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="resamples must be a positive integer, got 0"):
        bootstrap_ci(gold(), gold(), resamples=0)
    with pytest.raises(ConfigError, match="confidence must lie between 0 and 1, got 95"):
        bootstrap_ci(gold(), gold(), confidence=95)
    with pytest.raises(ConfigError, match="trials must be a positive integer"):
        approximate_randomization(gold(), gold(), gold(), trials=-1)
    with pytest.raises(ConfigError, match="unknown statistic 'accuracy'.*f1, precision, recall"):
        paired_bootstrap(gold(), gold(), gold(), statistic="accuracy")


TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


@st.composite
def tagged_pairs(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    lengths = draw(st.lists(st.integers(0, 6), min_size=1, max_size=25))
    sentences = [st.lists(st.sampled_from(TAGS), min_size=k, max_size=k) for k in lengths]
    return [draw(s) for s in sentences], [draw(s) for s in sentences]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tagged_pairs(), st.integers(0, 2**32 - 1), st.sampled_from(["lenient", "strict"]))
def test_the_interval_holds_the_score(
    pair: tuple[list[list[str]], list[list[str]]], seed: int, mode: str
) -> None:
    g, p = pair
    ci = bootstrap_ci(g, p, "IOB2", mode, resamples=200, seed=seed)
    assert ci.low <= ci.f1 <= ci.high
    assert 0.0 <= ci.low <= ci.high <= 1.0
    assert ci.f1 == pytest.approx(scores(g, p, "IOB2", mode).f1, abs=1e-12)


def exact_bootstrap_p(a: SentenceCounts, b: SentenceCounts, resamples: int, seed: int) -> float:
    """The two-sided paired-bootstrap p-value in exact rational arithmetic, on the
    draws the generator gives (one matrix: the chunk size does not change them)."""
    from fractions import Fraction

    def f1(weights: np.ndarray, counts: SentenceCounts) -> Fraction:
        c, p, g = (int(weights @ x) for x in (counts.correct, counts.predicted, counts.gold))
        return Fraction(2 * c, p + g) if p + g else Fraction(0)

    n = len(a)
    ones = np.ones(n, dtype=np.int64)
    delta = f1(ones, b) - f1(ones, a)
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.int64)
    hits = 0
    for row in draws:
        weights = np.bincount(row, minlength=n)
        hits += abs(f1(weights, b) - f1(weights, a) - delta) >= abs(delta)
    return float(Fraction(hits + 1, resamples + 1))


def test_the_paired_bootstrap_is_two_sided_and_counts_exact_ties() -> None:
    """p = (1 + #{|delta_i - delta| >= |delta|}) / (1 + resamples), checked against
    exact arithmetic on small corpora, where a resample often lands exactly on the
    bound (and, in floats, a rounding error below it)."""
    for case in range(120):
        rng = np.random.default_rng(case)
        gold_counts = rng.integers(1, 3, 6)
        predicted = [rng.integers(0, 3, 6) for _ in "ab"]
        a, b = (
            SentenceCounts(
                np.minimum(rng.integers(0, 3, 6), np.minimum(gold_counts, p)), p, gold_counts
            )
            for p in predicted
        )
        result = paired_bootstrap_counts(a, b, resamples=200, seed=case)
        assert result.p_value == exact_bootstrap_p(a, b, 200, case), case


@pytest.mark.parametrize(
    ("test", "iterations"),
    [(paired_bootstrap_counts, "resamples"), (approximate_randomization_counts, "trials")],
    ids=["bootstrap", "ar"],
)
def test_equal_systems_are_called_different_at_about_the_nominal_rate(test, iterations) -> None:
    """Two systems right on each sentence with the same probability: p <= 0.05 should
    come out about 5% of the time (the one-sided bootstrap, its direction chosen after
    seeing the data, came out 8.5% here)."""
    rng = np.random.default_rng(0)
    n, trials, rejected = 100, 400, 0
    ones = np.ones(n, dtype=np.int64)
    for i in range(trials):
        a, b = (SentenceCounts((rng.random(n) < 0.7).astype(np.int64), ones, ones) for _ in "ab")
        rejected += test(a, b, seed=i, **{iterations: 200}).p_value <= 0.05
    assert 0.02 <= rejected / trials <= 0.07


def test_a_negative_seed_is_a_config_error() -> None:
    """numpy's generator takes no negative seed: `nerkit eval --ci --seed -1` and
    `nerkit compare --seed -1` ended in a ValueError traceback (exit 1)."""
    a = sentence_counts(gold(), system_a())
    b = sentence_counts(gold(), handful_different())
    calls = {
        "bootstrap_ci_counts": lambda seed: bootstrap_ci_counts(a, resamples=10, seed=seed),
        "paired_bootstrap_counts": lambda seed: paired_bootstrap_counts(
            a, b, resamples=10, seed=seed
        ),
        "approximate_randomization_counts": lambda seed: approximate_randomization_counts(
            a, b, trials=10, seed=seed
        ),
        "bootstrap_ci": lambda seed: bootstrap_ci(gold(), system_a(), resamples=10, seed=seed),
    }
    for name, call in calls.items():
        for bad in (-1, -(2**70), True, 1.5):
            with pytest.raises(
                ConfigError, match=f"seed must be an integer of 0 or more, got {bad!r}"
            ):
                call(bad)
        assert call(0).seed == 0, name
        assert call(np.int64(7)).seed == 7, name
        assert call(2**70).seed == 2**70, name


def test_compare_with_a_negative_seed_is_an_error_not_a_traceback(
    tmp_path: Path, toy: Path
) -> None:
    """`nerkit compare RUNS --baseline X --seed -1` crashed in numpy (exit 1)."""
    out = tmp_path / "runs"
    for extra in ([], ["-T", "max_length=1"]):
        made = CliRunner().invoke(
            app, ["run", "--tagger", "lexicon", "--dataset", str(toy), "--out", str(out), *extra]
        )
        assert made.exit_code == 0, made.output
    baseline = sorted(out.iterdir())[0].name
    result = CliRunner().invoke(app, ["compare", str(out), "--baseline", baseline, "--seed", "-1"])
    assert result.exit_code == 2, result.output
    assert result.stderr == "Error: seed must be an integer of 0 or more, got -1\n"
    result = CliRunner().invoke(app, ["compare", str(out), "--baseline", baseline, "--seed", "0"])
    assert result.exit_code == 0, result.output
    assert "seed 0" in result.output
