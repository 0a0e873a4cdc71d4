"""The plugin host: loads the ``nerkit`` entry points, one plugin at a time, so that a
broken plugin is reported and skipped instead of taking the CLI down.

Environment:
* ``NERKIT_DISABLE_PLUGINS=a,b``: do not load these plugins;
* ``NERKIT_LOAD_PLUGINS=a,b``: load only these;
* ``NERKIT_STRICT_PLUGINS=1``: a plugin that fails to load or register is an error;
* ``NERKIT_TRACE_PLUGINS=1``: log every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from nerkit.errors import NerkitError
from nerkit.plugin.registry import Registry
from nerkit.plugin.spec import PROJECT, REGISTER_HOOKS, NerkitSpec

GROUP = "nerkit"


@dataclass
class PluginInfo:
    """What ``nerkit plugins`` shows about one plugin."""

    name: str
    module: str
    version: str = ""
    distribution: str = ""
    path: str = ""
    status: str = "loaded"  # loaded | failed | disabled
    error: str = ""
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)


def _env_list(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _base_class(kind: str) -> type | None:
    # imported here so that loading the host stays light
    if kind == "dataset":
        from nerkit.datasets.spec import DatasetSpec

        return DatasetSpec
    from nerkit import interfaces

    return {
        "tagger": interfaces.Tagger,
        "corrector": interfaces.Corrector,
        "decoder": interfaces.Decoder,
        "metric": interfaces.Metric,
    }[kind]


class PluginHost:
    """A pluggy manager plus the typed registries its hooks fill."""

    def __init__(self, *, use_entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(NerkitSpec)
        self.use_entry_points = use_entry_points
        self.strict = os.environ.get("NERKIT_STRICT_PLUGINS", "") not in ("", "0")
        # The host calls each hook implementation itself (so that one failing plugin
        # fails alone), which pluggy's own tracing never sees: it traces here instead.
        self.tracing = os.environ.get("NERKIT_TRACE_PLUGINS", "") not in ("", "0")
        self._infos: dict[str, PluginInfo] = {}
        self._loaded = False
        self._registries: dict[str, Registry] = {}

    # ------------------------------------------------------------- loading

    def load(self) -> None:
        """Import every entry point of the ``nerkit`` group (once)."""
        if self._loaded:
            return
        self._loaded = True
        if self.use_entry_points:
            for ep in self._entry_points():
                self._load_entry_point(ep)

    def _entry_points(self) -> Iterable[EntryPoint]:
        seen = set()
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            if ep.name not in seen:  # one distribution installed twice shows up twice
                seen.add(ep.name)
                yield ep

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            module=ep.value,
            version=getattr(dist, "version", "") or "",
            distribution=dist.metadata["Name"] if dist is not None else "",
        )
        self._infos[ep.name] = info
        only, disabled = (
            _env_list("NERKIT_LOAD_PLUGINS"),
            _env_list("NERKIT_DISABLE_PLUGINS") or set(),
        )
        if ep.name in disabled or (only is not None and ep.name not in only):
            info.status = "disabled"
            self._trace(f"{ep.name} disabled")
            return
        self._trace(f"import {ep.name} = {ep.value}")
        try:
            module = ep.load()
        except Exception as exc:  # any import-time failure of third-party code
            self._fail(info, exc)
            return
        self.add(module, name=ep.name, info=info)

    def add(self, plugin: Any, *, name: str, info: PluginInfo | None = None) -> None:
        """Register a plugin object or module (entry points and tests use this)."""
        info = info or PluginInfo(name=name, module=getattr(plugin, "__name__", repr(plugin)))
        self._infos[name] = info
        info.path = getattr(plugin, "__file__", "") or ""
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()  # a misspelled hook name fails here
        except Exception as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._fail(info, exc)
            return
        info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        # a registry built before this plugin arrived must see it too
        for kind, registry in self._registries.items():
            self._fill(registry, kind, only=name)

    def _trace(self, message: str) -> None:
        if self.tracing:
            sys.stderr.write(f"[nerkit plugins] {message}\n")

    def _fail(self, info: PluginInfo, exc: BaseException) -> None:
        info.status = "failed"
        info.error = f"{type(exc).__name__}: {exc}"
        self._trace(f"{info.name} failed: {info.error}")
        if self.strict:
            detail = "".join(traceback.format_exception(exc)).rstrip()
            raise NerkitError(
                f"plugin {info.name!r} ({info.module}) failed and NERKIT_STRICT_PLUGINS is set:\n{detail}"
            ) from exc

    # ------------------------------------------------------------ registries

    def registry(self, kind: str) -> Registry:
        """The registry of ``kind`` (tagger, corrector, decoder, metric, dataset)."""
        if kind not in self._registries:
            if kind not in REGISTER_HOOKS.values():
                raise NerkitError(f"unknown component kind {kind!r}")
            self.load()
            registry = Registry(kind, _base_class(kind), versioned=kind != "dataset")
            self._registries[kind] = registry
            self._fill(registry, kind)
        return self._registries[kind]

    def _fill(self, registry: Registry, kind: str, only: str | None = None) -> None:
        hook_name = next(h for h, k in REGISTER_HOOKS.items() if k == kind)
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if only is not None and impl.plugin_name != only:
                continue
            self._call_register(registry, impl.plugin_name, impl.function, hook_name)

    def _call_register(
        self, registry: Registry, plugin: str, function: Callable[..., Any], hook: str
    ) -> None:
        pending: list[tuple[str, Any]] = []
        added: list[str] = []
        info = self._infos.get(plugin) or PluginInfo(name=plugin, module="")
        self._trace(f"{plugin}.{hook}(register)")
        try:
            function(register=lambda name, factory: pending.append((name, factory)))
            for name, factory in pending:
                registry.register(name, factory, plugin=plugin)
                added.append(name)
        except Exception as exc:
            registry.unregister(added)  # all or nothing: no half-registered plugin
            self._fail(info, exc)
            return
        info.registered.setdefault(registry.kind, []).extend(added)
        self._trace(f"{plugin}.{hook} registered {', '.join(added) or 'nothing'}")

    def call_register_commands(self, app: Any) -> None:
        """Let every plugin add its commands; a failing one is reported, not fatal."""
        self.load()
        for impl in self.pm.hook.register_commands.get_hookimpls():
            info = self._infos.get(impl.plugin_name) or PluginInfo(name=impl.plugin_name, module="")
            self._trace(f"{impl.plugin_name}.register_commands(app)")
            try:
                impl.function(app=app)
            except Exception as exc:
                self._fail(info, exc)

    # ----------------------------------------------------------------- info

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen, with what it registered (fills every registry)."""
        self.load()
        for kind in REGISTER_HOOKS.values():
            self.registry(kind)
        return sorted(self._infos.values(), key=lambda i: i.name)


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST


def reset_host(host: PluginHost | None = None) -> PluginHost | None:
    """Replace the process-wide host (tests); returns the previous one."""
    global _HOST
    previous, _HOST = _HOST, host
    return previous
