"""The plugin host: loads the ``nerkit`` entry points, one plugin at a time, so that a
broken plugin is reported and skipped instead of taking the CLI down.

nerkit's own plugins (the entry points of the ``nerkit`` distribution) are loaded
first and register first, so that no other plugin can take a built-in component's
exact name or a built-in plugin's entry-point name: such a plugin is reported as failed
instead. (A newer version, ``lexicon.tagger.v2``, is another name, and what
``lexicon`` then means.)

Environment:
* ``NERKIT_DISABLE_PLUGINS=a,b``: do not load these plugins;
* ``NERKIT_LOAD_PLUGINS=a,b``: load only these;
* ``NERKIT_STRICT_PLUGINS=1``: a plugin that fails to load or register is an error;
* ``NERKIT_TRACE_PLUGINS=1``: log every hook call to stderr.
"""

from __future__ import annotations

import os
import re
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
#: the distribution whose entry points are nerkit's built-in plugins
BUILTIN_DISTRIBUTION = "nerkit"
#: not a plugin's failure: the user's Ctrl-C, and a generator being closed. Anything
#: else a plugin raises, SystemExit included, fails that plugin alone.
_PASS_THROUGH = (KeyboardInterrupt, GeneratorExit)


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
    builtin: bool = False  # one of nerkit's own (its distribution's entry points)
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)


def _env_list(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _canonical(distribution: str) -> str:
    """A distribution's name as packaging compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    """The name and version of the distribution that declares ``ep`` ("" when unknown)."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    return dist.metadata["Name"] or "", getattr(dist, "version", "") or ""


def _is_builtin(ep: EntryPoint) -> bool:
    return _canonical(_distribution(ep)[0]) == BUILTIN_DISTRIBUTION


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
        self._order: list[str] = []  # plugin names, as they were added
        self._loaded = False
        self._registries: dict[str, Registry] = {}

    # ------------------------------------------------------------- loading

    def load(self) -> None:
        """Import every entry point of the ``nerkit`` group (once)."""
        if self._loaded:
            return
        self._loaded = True
        if not self.use_entry_points:
            return
        taken: dict[str, EntryPoint] = {}  # entry-point name -> the entry point loaded
        for ep in self._entry_points():
            first = taken.setdefault(ep.name, ep)
            if first is ep:
                self._load_entry_point(ep)
            elif _canonical(_distribution(first)[0]) != _canonical(_distribution(ep)[0]):
                self._clash(ep, first)
            # else one distribution installed twice, which shows up twice: loaded once

    def _entry_points(self) -> Iterable[EntryPoint]:
        """The group's entry points, nerkit's own first, then by name."""
        return sorted(
            entry_points(group=GROUP),
            key=lambda ep: (not _is_builtin(ep), ep.name, _distribution(ep)[0]),
        )

    def _clash(self, ep: EntryPoint, first: EntryPoint) -> None:
        """Report, not load, a plugin whose entry-point name another distribution's
        plugin (a built-in one, say) has: the host and its switches know plugins by
        that name, so one of the two would be hidden."""
        dist, version = _distribution(ep)
        other = " ".join(_distribution(first)).strip() or "?"
        info = PluginInfo(
            name=f"{dist or '?'}:{ep.name}",
            module=ep.value,
            version=version,
            distribution=dist,
        )
        self._infos[info.name] = info
        owner = f"nerkit's built-in plugin {ep.name!r}" if _is_builtin(first) else repr(ep.name)
        self._fail(
            info,
            NerkitError(
                f"entry point {ep.name!r} of {dist or '?'} is taken by {owner} ({other}): "
                f"not loaded; {dist or 'the plugin'} must rename its entry point"
            ),
        )

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist, version = _distribution(ep)
        info = PluginInfo(
            name=ep.name,
            module=ep.value,
            version=version,
            distribution=dist,
            builtin=_is_builtin(ep),
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
        except _PASS_THROUGH:
            raise
        except BaseException as exc:  # any import-time failure of third-party code
            self._fail(info, exc)
            return
        self.add(module, name=ep.name, info=info)

    def add(self, plugin: Any, *, name: str, info: PluginInfo | None = None) -> None:
        """Register a plugin object or module (entry points and tests use this)."""
        info = info or PluginInfo(name=name, module=getattr(plugin, "__name__", repr(plugin)))
        self._infos[name] = info
        if name not in self._order:
            self._order.append(name)
        info.path = getattr(plugin, "__file__", "") or ""
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()  # a misspelled hook name fails here
        except _PASS_THROUGH:
            raise
        except BaseException as exc:
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
            registry = Registry(
                kind,
                _base_class(kind),
                versioned=kind != "dataset",
                instances=kind == "dataset",  # DatasetSpec values; the others are classes
            )
            self._registries[kind] = registry
            self._fill(registry, kind)
        return self._registries[kind]

    def _fill(self, registry: Registry, kind: str, only: str | None = None) -> None:
        hook_name = next(h for h, k in REGISTER_HOOKS.items() if k == kind)
        # built-in plugins register first, whatever order (or tryfirst / trylast) pluggy
        # keeps, so that a built-in name taken by another plugin fails that plugin
        order = {name: i for i, name in enumerate(self._order)}
        impls = sorted(
            getattr(self.pm.hook, hook_name).get_hookimpls(),
            key=lambda impl: (
                not self._is_builtin_plugin(impl.plugin_name),
                order.get(impl.plugin_name, len(order)),
            ),
        )
        for impl in impls:
            if only is not None and impl.plugin_name != only:
                continue
            self._call_register(registry, impl.plugin_name, impl.function, hook_name)

    def _call_register(
        self, registry: Registry, plugin: str, function: Callable[..., Any], hook: str
    ) -> None:
        pending: list[tuple[str, Any, Any]] = []
        added: list[str] = []
        info = self._infos.get(plugin) or PluginInfo(name=plugin, module="")
        self._trace(f"{plugin}.{hook}(register)")
        try:

            def register(name: str, factory: Any, *, options: Any = None) -> None:
                pending.append((name, factory, options))

            function(register=register)
            for name, factory, options in pending:
                owner = registry.plugin_of(name) if isinstance(name, str) else None
                if owner is not None and self._is_builtin_plugin(owner):
                    raise NerkitError(
                        f"{registry.kind} {name!r} is nerkit's own (built-in plugin {owner}): "
                        f"{plugin} may not register that name, so it registers nothing"
                    )
                registry.register(name, factory, plugin=plugin, options=options)
                added.append(name)
        except _PASS_THROUGH:
            registry.unregister(added)
            raise
        except BaseException as exc:
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
            except _PASS_THROUGH:
                raise
            except BaseException as exc:
                self._fail(info, exc)

    def _is_builtin_plugin(self, name: str) -> bool:
        info = self._infos.get(name)
        return info is not None and info.builtin

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
