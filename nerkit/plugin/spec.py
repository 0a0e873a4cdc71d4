"""Hook specifications. A plugin implements any of them with ``@hookimpl``.

Each ``register_*`` hook receives a ``register(name, factory)`` callback. ``name``
carries a version (``lexicon.tagger.v1``); ``factory`` is the component class or a
``"module:Class"`` string, imported only when the component is used, so that a
plugin's module stays light and ``nerkit --help`` stays fast. A component whose module
is heavy (it imports torch) also names its options class, ``options="module:Class"``
in a module that is light: nerkit then reads the component's options and defaults
(``nerkit compare``, ``nerkit sweep``, the checks before a run) without importing the
component; the class must be the component's ``options_class``.
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

PROJECT = "nerkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Register(Protocol):
    def __call__(self, name: str, factory: Any, *, options: Any = None) -> None: ...


class NerkitSpec:
    """The hooks nerkit calls."""

    @hookspec
    def register_taggers(self, register: Register) -> None:
        """Register taggers (``Tagger`` subclasses): ``register("name.tagger.v1", factory)``."""

    @hookspec
    def register_correctors(self, register: Register) -> None:
        """Register correctors (``Corrector`` subclasses): ``register("name.corrector.v1", factory)``."""

    @hookspec
    def register_decoders(self, register: Register) -> None:
        """Register decoders (``Decoder`` subclasses): ``register("name.decoder.v1", factory)``."""

    @hookspec
    def register_metrics(self, register: Register) -> None:
        """Register metrics (``Metric`` subclasses): ``register("name.metric.v1", factory)``."""

    @hookspec
    def register_datasets(self, register: Register) -> None:
        """Register named datasets (``DatasetSpec`` values): ``register("name", spec)``."""

    @hookspec
    def register_commands(self, app: Any) -> None:
        """Add commands to the ``nerkit`` Typer app: ``@app.command()``."""


#: hook name -> registry kind
REGISTER_HOOKS = {
    "register_taggers": "tagger",
    "register_correctors": "corrector",
    "register_decoders": "decoder",
    "register_metrics": "metric",
    "register_datasets": "dataset",
}
