"""The LEAR tagger, a built-in plugin: span extraction with label knowledge
("Enhanced Language Representation with Label Knowledge for Span Extraction",
EMNLP 2021) on a transformers encoder.

Registered by import path: loading this plugin imports neither torch nor transformers,
nor does reading its options (``nerkit_lear.options``).
"""

from __future__ import annotations

from nerkit.plugin.spec import Register, hookimpl


@hookimpl
def register_taggers(register: Register) -> None:
    register(
        "lear.tagger.v1", "nerkit_lear.tagger:LearTagger", options="nerkit_lear.options:LearOptions"
    )
