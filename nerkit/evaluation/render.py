"""Rich tables and JSON-able dicts of partial-match results and error analyses.

rich is imported inside the table builders, so importing this module (or
``nerkit.evaluation``) costs nothing when only the dict forms are wanted.
Scores show as percentages with two decimals, as in ``nerkit.report``; the dicts keep
fractions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nerkit.evaluation.analysis import (
    BucketScores,
    ConfusionMatrix,
    ErrorAnalysis,
    SurfaceCount,
)
from nerkit.evaluation.partial import SCORING_SCHEMES, PartialCounts, PartialResult
from nerkit.metrics import TypeScore

if TYPE_CHECKING:
    from rich.table import Table

_COUNT_COLUMNS = ("COR", "INC", "PAR", "MIS", "SPU", "POS", "ACT")
_SCORE_COLUMNS = ("P", "R", "F1")


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def _table(title: str, columns: list[str], *, first_left: int = 1) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for k, name in enumerate(columns):
        # Numbers never wrap or shrink to "60…"; a type name or surface folds instead.
        if k < first_left:
            table.add_column(name, justify="left", overflow="fold")
        else:
            table.add_column(name, justify="right", no_wrap=True)
    return table


# ------------------------------------------------------------------ partial match


def _count_cells(c: PartialCounts) -> list[str]:
    counts = (c.correct, c.incorrect, c.partial, c.missed, c.spurious, c.possible, c.actual)
    return [str(x) for x in counts] + [_pct(c.precision), _pct(c.recall), _pct(c.f1)]


def partial_table(result: PartialResult, *, title: str = "Partial-match evaluation") -> Table:
    """One row per scoring scheme (strict, exact, partial, type), over all types."""
    table = _table(title, ["scoring", *_COUNT_COLUMNS, *_SCORE_COLUMNS])
    for scoring in SCORING_SCHEMES:
        table.add_row(scoring, *_count_cells(result.overall[scoring]))
    return table


def partial_type_table(result: PartialResult, scoring: str = "strict") -> Table:
    """One row per entity type under one scoring scheme, then the overall row.

    A pair of two types is charged to both (see ``nerkit.evaluation.partial``): the
    gold side (COR INC PAR MIS, summing to POS) to the gold type, the predicted side
    (pred COR / INC / PAR and SPU, summing to ACT) to the predicted type.
    """
    if scoring not in SCORING_SCHEMES:
        raise ValueError(
            f"unknown scoring scheme {scoring!r} (known: {', '.join(SCORING_SCHEMES)})"
        )
    columns = ["type", "COR", "INC", "PAR", "MIS", "POS"]
    columns += ["pred COR", "pred INC", "pred PAR", "SPU", "ACT", *_SCORE_COLUMNS]
    table = _table(f"Partial-match evaluation per type ({scoring})", columns)
    table.caption = "COR..POS count the type's gold entities, pred COR..ACT its predictions"
    rows = [(label, result.per_type[label][scoring]) for label in result.labels]
    for k, (label, c) in enumerate([*rows, ("overall", result.overall[scoring])]):
        counts = (c.correct, c.incorrect, c.partial, c.missed, c.possible)
        counts += (c.pred_correct, c.pred_incorrect, c.pred_partial, c.spurious, c.actual)
        table.add_row(
            label,
            *map(str, counts),
            _pct(c.precision),
            _pct(c.recall),
            _pct(c.f1),
            end_section=k == len(rows) - 1,
            style="bold" if k == len(rows) else None,
        )
    return table


def partial_counts_to_dict(c: PartialCounts) -> dict[str, int | float]:
    return {
        "correct": c.correct,
        "incorrect": c.incorrect,
        "partial": c.partial,
        "missed": c.missed,
        "spurious": c.spurious,
        "pred_correct": c.pred_correct,
        "pred_incorrect": c.pred_incorrect,
        "pred_partial": c.pred_partial,
        "possible": c.possible,
        "actual": c.actual,
        "precision": c.precision,
        "recall": c.recall,
        "f1": c.f1,
    }


def partial_to_dict(result: PartialResult) -> dict[str, Any]:
    """``{"overall": {scoring: counts}, "per_type": {type: {scoring: counts}}, ...}``."""
    return {
        "n_gold": result.n_gold,
        "n_pred": result.n_pred,
        "overall": {s: partial_counts_to_dict(result.overall[s]) for s in SCORING_SCHEMES},
        "per_type": {
            label: {s: partial_counts_to_dict(result.per_type[label][s]) for s in SCORING_SCHEMES}
            for label in result.labels
        },
    }


# ------------------------------------------------------------------ analysis


def confusion_table(confusion: ConfusionMatrix) -> Table:
    """Gold types (rows, then ``spurious``) against predicted types (columns, then
    ``missed``); a cell ``n (b)`` holds n pairs, b of them with different boundaries."""
    table = _table("Entity-type confusion (gold \\ predicted)", ["gold", *confusion.column_labels])
    table.caption = "n (b): n entities, b of them with a boundary error"
    n = len(confusion.labels)
    for i, row_label in enumerate(confusion.row_labels):
        cells = []
        for j in range(n + 1):
            count, boundary = int(confusion.counts[i, j]), int(confusion.boundary[i, j])
            if i == n and j == n:
                cells.append("")
            elif boundary:
                cells.append(f"{count} ({boundary})")
            else:
                cells.append(str(count))
        table.add_row(row_label, *cells, end_section=i == n - 1)
    return table


def confusion_to_dict(confusion: ConfusionMatrix) -> dict[str, Any]:
    return {
        "labels": list(confusion.labels),
        "row_labels": list(confusion.row_labels),
        "column_labels": list(confusion.column_labels),
        "counts": confusion.counts.tolist(),
        "boundary": confusion.boundary.tolist(),
        "correct": confusion.correct,
        "rows": [
            {"gold": g, "predicted": p, "kind": kind, "count": count}
            for g, p, kind, count in confusion.rows()
        ],
    }


def surface_table(errors: tuple[SurfaceCount, ...], title: str) -> Table:
    """Ranked surfaces of false positives or false negatives."""
    table = _table(title, ["#", "surface", "type", "count"], first_left=3)
    for rank, e in enumerate(errors, start=1):
        table.add_row(str(rank), e.surface, e.label, str(e.count))
    return table


def surfaces_to_list(errors: tuple[SurfaceCount, ...]) -> list[dict[str, Any]]:
    return [{"surface": e.surface, "label": e.label, "count": e.count} for e in errors]


def bucket_table(buckets: BucketScores) -> Table:
    """P / R / F1 with gold, predicted and correct counts per bucket."""
    table = _table(
        f"F1 by {buckets.dimension}",
        [buckets.dimension, *_SCORE_COLUMNS, "gold", "predicted", "correct"],
    )
    for label, s in buckets.scores.items():
        table.add_row(
            label,
            _pct(s.precision),
            _pct(s.recall),
            _pct(s.f1),
            str(s.support),
            str(s.predicted),
            str(s.correct),
        )
    return table


def _score_to_dict(s: TypeScore) -> dict[str, int | float]:
    return {
        "precision": s.precision,
        "recall": s.recall,
        "f1": s.f1,
        "support": s.support,
        "predicted": s.predicted,
        "correct": s.correct,
    }


def buckets_to_dict(buckets: BucketScores) -> dict[str, Any]:
    return {
        "dimension": buckets.dimension,
        "buckets": {label: _score_to_dict(s) for label, s in buckets.scores.items()},
    }


def analysis_tables(analysis: ErrorAnalysis) -> list[Table]:
    """Every table of an error analysis, in reading order."""
    tables = [
        confusion_table(analysis.confusion),
        surface_table(analysis.false_positives, "Most frequent false positives"),
        surface_table(analysis.false_negatives, "Most frequent false negatives"),
        bucket_table(analysis.by_entity_length),
        bucket_table(analysis.by_sentence_length),
    ]
    if analysis.by_seen is not None:
        tables.append(bucket_table(analysis.by_seen))
    return tables


def analysis_to_dict(analysis: ErrorAnalysis) -> dict[str, Any]:
    """The whole analysis as plain dicts and lists (``json.dumps`` takes it as is)."""
    return {
        "scheme": analysis.scheme,
        "mode": analysis.mode,
        "n_gold": analysis.n_gold,
        "n_pred": analysis.n_pred,
        "correct": analysis.correct,
        "confusion": confusion_to_dict(analysis.confusion),
        "false_positives": surfaces_to_list(analysis.false_positives),
        "false_negatives": surfaces_to_list(analysis.false_negatives),
        "by_entity_length": buckets_to_dict(analysis.by_entity_length),
        "by_sentence_length": buckets_to_dict(analysis.by_sentence_length),
        "by_seen": buckets_to_dict(analysis.by_seen) if analysis.by_seen is not None else None,
    }
