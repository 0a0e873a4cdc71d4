"""From per-word start / end probabilities to entity spans (numpy only).

``start`` and ``end`` are ``(words, labels)`` arrays of probabilities. A word is a
start (end) candidate of a label where its probability reaches the start (end)
threshold; a span ``[i, j]`` (``j`` inclusive here, ``Span(i, j + 1)`` outside) is at
most ``max_span_length`` words long and scores the geometric mean of its start and end
probabilities (times its match probability when a span-matching score is given).

* **flat**: each start is paired with the nearest end of the same label at or after
  it; where spans overlap, the higher score wins (ties: the earlier, then shorter
  span, then label order), so no two returned spans overlap.
* **nested**: without match scores, each start is paired with the nearest end at or
  after it *and* each end with the nearest start at or before it, so an entity inside
  another one of the same label is found as well; with match scores, every start / end
  pair whose match probability reaches ``match_threshold`` is a span. Nested and
  overlapping spans are all kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nerkit.types import Span

MatchScores = Callable[[list[tuple[int, int, int]]], np.ndarray]
"""Given ``(start word, end word, label index)`` candidates, their match probabilities."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    start: float = 0.5
    end: float = 0.5
    match: float = 0.5
    max_span_length: int = 20


@dataclass(frozen=True, slots=True)
class ScoredSpan:
    span: Span
    score: float


def _check(start: np.ndarray, end: np.ndarray, labels: Sequence[str]) -> None:
    if start.shape != end.shape or start.ndim != 2 or start.shape[1] != len(labels):
        raise ValueError(
            f"start {start.shape} and end {end.shape} must both be (words, {len(labels)})"
        )


def _pairs_nearest(starts: np.ndarray, ends: np.ndarray, limit: int) -> set[tuple[int, int]]:
    """Each start with the nearest end at or after it (within ``limit`` words)."""
    out = set()
    for i in starts.tolist():
        at = int(np.searchsorted(ends, i, side="left"))
        if at < len(ends) and ends[at] - i < limit:
            out.add((i, int(ends[at])))
    return out


def _pairs_nearest_back(starts: np.ndarray, ends: np.ndarray, limit: int) -> set[tuple[int, int]]:
    """Each end with the nearest start at or before it (within ``limit`` words)."""
    out = set()
    for j in ends.tolist():
        at = int(np.searchsorted(starts, j, side="right")) - 1
        if at >= 0 and j - starts[at] < limit:
            out.add((int(starts[at]), j))
    return out


def _all_pairs(starts: np.ndarray, ends: np.ndarray, limit: int) -> set[tuple[int, int]]:
    return {(i, j) for i in starts.tolist() for j in ends.tolist() if 0 <= j - i < limit}


def candidates(
    start: np.ndarray,
    end: np.ndarray,
    labels: Sequence[str],
    thresholds: Thresholds,
    *,
    nested: bool,
    match: MatchScores | None = None,
) -> list[ScoredSpan]:
    """Every span the rules above propose, scored, in a fixed order."""
    _check(start, end, labels)
    limit = thresholds.max_span_length
    proposed: list[tuple[int, int, int]] = []
    for c in range(len(labels)):
        starts = np.flatnonzero(start[:, c] >= thresholds.start)
        ends = np.flatnonzero(end[:, c] >= thresholds.end)
        if not len(starts) or not len(ends):
            continue
        if nested and match is not None:
            pairs = _all_pairs(starts, ends, limit)
        elif nested:
            pairs = _pairs_nearest(starts, ends, limit) | _pairs_nearest_back(starts, ends, limit)
        else:
            pairs = _pairs_nearest(starts, ends, limit)
        proposed.extend((i, j, c) for i, j in sorted(pairs))
    if not proposed:
        return []
    base = np.sqrt(np.array([start[i, c] * end[j, c] for i, j, c in proposed], dtype=np.float64))
    if match is not None:
        probability = np.asarray(match(proposed), dtype=np.float64)
        keep = probability >= thresholds.match
        base = base * probability
    else:
        keep = np.ones(len(proposed), dtype=bool)
    return [
        ScoredSpan(Span(i, j + 1, labels[c]), float(score))
        for (i, j, c), score, kept in zip(proposed, base.tolist(), keep.tolist(), strict=True)
        if kept
    ]


def resolve_overlaps(spans: Sequence[ScoredSpan], labels: Sequence[str]) -> list[ScoredSpan]:
    """The highest-scoring spans that do not overlap one another, in text order."""
    rank = {label: k for k, label in enumerate(labels)}
    order = sorted(
        spans, key=lambda s: (-s.score, s.span.start, len(s.span), rank.get(s.span.label, 0))
    )
    taken: list[ScoredSpan] = []
    used = np.zeros(max((s.span.end for s in spans), default=0), dtype=bool)
    for candidate in order:
        if used[candidate.span.start : candidate.span.end].any():
            continue
        used[candidate.span.start : candidate.span.end] = True
        taken.append(candidate)
    return sorted(taken, key=lambda s: (s.span.start, s.span.end))


def decode(
    start: np.ndarray,
    end: np.ndarray,
    labels: Sequence[str],
    thresholds: Thresholds | None = None,
    *,
    nested: bool = False,
    match: MatchScores | None = None,
) -> list[ScoredSpan]:
    """The spans of one sentence: flat (no overlaps) or nested (see the module
    docstring), in text order (start, then end, then label)."""
    thresholds = thresholds or Thresholds()
    found = candidates(start, end, labels, thresholds, nested=nested, match=match)
    if not nested:
        return resolve_overlaps(found, labels)
    rank = {label: k for k, label in enumerate(labels)}
    return sorted(found, key=lambda s: (s.span.start, s.span.end, rank[s.span.label]))
