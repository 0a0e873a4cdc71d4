"""nerkit-crfsuite: a third-party nerkit plugin that adds the ``crfsuite`` tagger.

nerkit imports this module for every command (it is the entry point), so it only
registers the tagger by its import path: CRFsuite and the feature code load when a
run uses the tagger, and ``nerkit --help`` stays fast.
"""

from __future__ import annotations

from nerkit.plugin import hookimpl
from nerkit.plugin.spec import Register


@hookimpl
def register_taggers(register: Register) -> None:
    register("crfsuite.tagger.v1", "nerkit_crfsuite.tagger:CRFsuiteTagger")
