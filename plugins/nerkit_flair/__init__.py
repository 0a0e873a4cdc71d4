"""The FLAIR tagger (``flair.models.SequenceTagger`` trained by flair's ``ModelTrainer``),
a built-in plugin registered through the ``nerkit`` entry point.

The class is registered by its import path, so loading this plugin (which every
``nerkit`` command does) imports neither flair nor torch.
"""

from __future__ import annotations

from nerkit.plugin.spec import Register, hookimpl


@hookimpl
def register_taggers(register: Register) -> None:
    register("flair.tagger.v1", "nerkit_flair.tagger:FlairTagger")
