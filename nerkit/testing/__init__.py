"""Contract tests for nerkit components, shipped so that plugin authors can use them.

A plugin's test module subclasses one contract per component and names the subclass
``TestXxx`` so that pytest collects it (the contracts themselves are not collected)::

    from nerkit.testing import TaggerContract

    class TestMyTagger(TaggerContract):
        def make_tagger(self):
            return MyTagger({"epochs": 1})

Needs pytest (``pip install nerkit[test]``). Installing nerkit registers the pytest
plugin ``nerkit.testing.pytest_plugin`` (fixture ``nerkit_toy_corpus``).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

# Plain ``assert`` in the contracts gives pytest's detailed failure messages only if the
# modules are registered for rewriting before their first import.
pytest.register_assert_rewrite(
    "nerkit.testing.checks",
    "nerkit.testing.corrector",
    "nerkit.testing.dataset",
    "nerkit.testing.decoder",
    "nerkit.testing.metric",
    "nerkit.testing.tagger",
)

# What each public name is imported from. Imported on first use (PEP 562) so that the
# pytest plugin, which pytest loads in every run, does not pay for the contracts.
_EXPORTS = {
    "CorrectorContract": "corrector",
    "CorrectorData": "corrector",
    "DatasetContract": "dataset",
    "DecoderContract": "decoder",
    "EntityScore": "data",
    "MetricContract": "metric",
    "TaggerContract": "tagger",
    "TrainedTagger": "tagger",
    "corpus_digest": "dataset",
    "edge_case_sentences": "data",
    "entity_score": "data",
    "in_scheme": "data",
    "long_sentence": "data",
    "noisy_predictions": "data",
    "noisy_tags": "data",
    "parse_bracketed": "data",
    "probabilities_for": "data",
    "toy_corpus": "data",
    "without_tags": "data",
}

__all__ = [  # noqa: F822 - provided by __getattr__
    "CorrectorContract",
    "CorrectorData",
    "DatasetContract",
    "DecoderContract",
    "EntityScore",
    "MetricContract",
    "TaggerContract",
    "TrainedTagger",
    "corpus_digest",
    "edge_case_sentences",
    "entity_score",
    "in_scheme",
    "long_sentence",
    "noisy_predictions",
    "noisy_tags",
    "parse_bracketed",
    "probabilities_for",
    "toy_corpus",
    "without_tags",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nerkit.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nerkit.testing.{_EXPORTS[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
