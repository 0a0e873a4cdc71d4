"""The fast metric engine: entity-level precision / recall / F1 and token accuracy.

Everything works on whole integer arrays. The string tags of a batch are mapped to
ids in one pass (``encoding``); each distinct tag gets its role, prefix and type
once, and the scheme's rules (``nerkit.schemes``) become one small table over pairs
of tag ids (``extraction``). One look-up per pair of neighbouring tokens then says
where lenient chunks start and end and which tokens break the scheme (strict mode
drops the chunks holding one). ``scoring`` counts and averages; ``reference``
computes the same ``Scores`` through seqeval, slowly, to check against.

The numbers are seqeval 1.2.2's ``classification_report(..., output_dict=True)``:
lenient is its default (conlleval) extraction, strict its ``mode="strict"`` with the
scheme's class, with the differences ``nerkit.schemes`` documents. Zero divisions
give 0 (seqeval's ``zero_division="warn"``); the macro average of no types at all is
NaN, as in seqeval.
"""

from __future__ import annotations

from nerkit.metrics.encoding import MODES, TagSequences
from nerkit.metrics.extraction import (
    EntityArrays,
    batch_spans,
    exact_matches,
    extract_entities,
    extract_entity_pair,
    sentence_spans,
)
from nerkit.metrics.reference import seqeval_scores
from nerkit.metrics.scoring import Scores, TypeScore, scores, scores_from_counts
from nerkit.metrics.spans import SpanScores, entity_spans, span_scores

__all__ = [
    "MODES",
    "EntityArrays",
    "Scores",
    "SpanScores",
    "TagSequences",
    "TypeScore",
    "batch_spans",
    "entity_spans",
    "exact_matches",
    "extract_entities",
    "extract_entity_pair",
    "scores",
    "scores_from_counts",
    "sentence_spans",
    "span_scores",
    "seqeval_scores",
]
