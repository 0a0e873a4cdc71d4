"""nerkit: train, evaluate, correct and compare named-entity recognisers."""

from __future__ import annotations

__version__ = "0.3.14"
