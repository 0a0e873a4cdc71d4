"""Evaluation beyond exact-match F1: reading gold and prediction files, partial-match
scoring (SemEval-2013 9.1), error analysis, confidence intervals and paired tests.

Names load on first use (PEP 562), so `nerkit eval` pays only for what it prints."""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "analysis_tables": "render",
    "analysis_to_dict": "render",
    "analyze_errors": "analysis",
    "analyze_span_errors": "analysis",
    "approximate_randomization": "significance",
    "approximate_randomization_counts": "significance",
    "bootstrap_ci": "significance",
    "bootstrap_ci_counts": "significance",
    "bucket_table": "render",
    "buckets_to_dict": "render",
    "BucketScores": "analysis",
    "ConfidenceInterval": "significance",
    "confusion_matrix": "analysis",
    "confusion_table": "render",
    "confusion_to_dict": "render",
    "ConfusionMatrix": "analysis",
    "Entities": "partial",
    "ErrorAnalysis": "analysis",
    "EvalPair": "files",
    "EvalResult": "files",
    "evaluate": "files",
    "frequent_errors": "analysis",
    "load_pair": "files",
    "Match": "partial",
    "match_spans": "partial",
    "OUTCOMES": "partial",
    "pair_entities": "partial",
    "paired_bootstrap": "significance",
    "paired_bootstrap_counts": "significance",
    "PairedTest": "significance",
    "Pairing": "partial",
    "partial_counts_to_dict": "render",
    "partial_scores": "partial",
    "partial_scores_from_tags": "partial",
    "partial_table": "render",
    "partial_to_dict": "render",
    "partial_type_table": "render",
    "PartialCounts": "partial",
    "PartialResult": "partial",
    "score_entities": "partial",
    "scores_by_entity_length": "analysis",
    "scores_by_seen": "analysis",
    "scores_by_sentence_length": "analysis",
    "SCORING_SCHEMES": "partial",
    "sentence_counts": "significance",
    "SentenceCounts": "significance",
    "span_sentence_counts": "significance",
    "surface_table": "render",
    "SurfaceCount": "analysis",
    "surfaces_to_list": "render",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
