"""The lexicon tagger, a built-in plugin registered through the ``nerkit`` entry point
exactly as a third-party plugin would be.

The class is registered by its import path, so loading this plugin (which every
``nerkit`` command does) imports nothing but this module.
"""

from __future__ import annotations

from nerkit.plugin.spec import Register, hookimpl


@hookimpl
def register_taggers(register: Register) -> None:
    register("lexicon.tagger.v1", "nerkit_lexicon.tagger:LexiconTagger")
