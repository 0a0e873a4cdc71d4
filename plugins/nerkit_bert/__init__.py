"""The BERT token-classification tagger, a built-in plugin.

Registered by import path: loading this plugin imports neither torch nor transformers,
nor does reading its options (``nerkit_bert.options``).
"""

from __future__ import annotations

from nerkit.plugin.spec import Register, hookimpl


@hookimpl
def register_taggers(register: Register) -> None:
    register(
        "bert.tagger.v1", "nerkit_bert.tagger:BertTagger", options="nerkit_bert.options:BertOptions"
    )
