"""The ``openner`` corrector: a transformer that reads the tokens and a base tagger's
predicted tag per token and outputs corrected tags (OpenNER-style).

This module only registers it; the model code (torch, transformers) loads on use.
"""

from __future__ import annotations

from nerkit.plugin import hookimpl
from nerkit.plugin.spec import Register


@hookimpl
def register_correctors(register: Register) -> None:
    register("openner.corrector.v1", "nerkit_openner.corrector:OpenNERCorrector")
