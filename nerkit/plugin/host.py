"""The plugin host: loads the ``nerkit`` entry points, one plugin at a time, so that a
broken plugin is reported and skipped instead of taking the CLI down.

nerkit's own plugins (the entry points of the ``nerkit`` distribution) are loaded
first and register first, so that no other plugin can take a built-in component's
exact name or a built-in plugin's entry-point name: such a plugin is reported as failed
instead. (A newer version, ``lexicon.tagger.v2``, is another name, and what
``lexicon`` then means.)

A plugin is all or nothing: one that fails in any of its hooks (a component's or a
command's name taken, a hook that raises) provides nothing, neither components nor
commands. So the first registry needed fills them all, and calls each plugin's
register_commands too (on a scratch app when nerkit's own app is not built, as when a
built-in command runs alone). A command with a built-in command's name fails its plugin.

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
        self._registries: dict[str, Registry] = {}  # every kind, filled at once
        self._app: Any = None  # nerkit's app, once call_register_commands has it
        self._scratch: Any = None  # see _scratch_app
        #: plugin -> the commands its register_commands added, once called
        self._commands: dict[str, list[tuple[Any, Any]]] = {}
        self._command_owner: dict[str, str] = {}  # command name -> its plugin

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
        if self._registries:  # registries filled before this plugin arrived see it too
            self._register(name)

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
        """The registry of ``kind`` (tagger, corrector, decoder, metric, dataset).

        The first call fills every registry: a plugin is all or nothing, and whether it
        fails is known only once every one of its hooks has run."""
        if kind not in REGISTER_HOOKS.values():
            raise NerkitError(f"unknown component kind {kind!r}")
        self._fill()
        return self._registries[kind]

    def _fill(self) -> None:
        """Make every registry and call every plugin's hooks (once)."""
        if self._registries:
            return
        self.load()
        self._registries = {
            kind: Registry(
                kind,
                _base_class(kind),
                versioned=kind != "dataset",
                instances=kind == "dataset",  # DatasetSpec values; the others are classes
            )
            for kind in REGISTER_HOOKS.values()
        }
        for plugin in self._in_order(self._order):
            self._register(plugin)

    def _in_order(self, plugins: Iterable[str]) -> list[str]:
        """``plugins`` (those registered with pluggy), built-in ones first, then in the
        order they were added, whatever order (or tryfirst / trylast) pluggy keeps: a
        built-in name taken by another plugin then fails that plugin."""
        order = {name: i for i, name in enumerate(self._order)}
        return sorted(
            (name for name in plugins if self.pm.has_plugin(name)),
            key=lambda name: (not self._is_builtin_plugin(name), order.get(name, len(order))),
        )

    def _hooks_of(self, plugin: str) -> list[tuple[str, Callable[..., Any]]]:
        """The hooks ``plugin`` implements and its functions, by hook name."""
        found = [
            (caller.name, impl.function)
            for caller in self.pm.get_hookcallers(self.pm.get_plugin(plugin)) or []
            for impl in caller.get_hookimpls()
            if impl.plugin_name == plugin
        ]
        return sorted(found, key=lambda hook: hook[0])

    def _info(self, plugin: str) -> PluginInfo:
        return self._infos.get(plugin) or PluginInfo(name=plugin, module="")

    def _register(self, plugin: str) -> None:
        """Call every hook of ``plugin``, in the order of their names. When one fails,
        the plugin is failed and what the others added, components and commands, is
        taken back."""
        info = self._info(plugin)
        if info.status != "loaded":
            return
        added = _Added()
        try:
            for hook, function in self._hooks_of(plugin):
                if hook != "register_commands":
                    registry = self._registries[REGISTER_HOOKS[hook]]
                    self._call_register(registry, plugin, function, hook, added)
                elif plugin not in self._commands:  # not yet called on nerkit's app
                    app = self._app if self._app is not None else self._scratch_app()
                    self._call_commands(app, plugin, function, added)
        except _PASS_THROUGH:
            self._take_back(plugin, added)
            raise
        except BaseException as exc:
            self._take_back(plugin, added)
            self._fail(info, exc)
            return
        self._keep(plugin, added)

    def _call_register(
        self,
        registry: Registry,
        plugin: str,
        function: Callable[..., Any],
        hook: str,
        added: _Added,
    ) -> None:
        pending: list[tuple[str, Any, Any]] = []
        self._trace(f"{plugin}.{hook}(register)")

        def register(name: str, factory: Any, *, options: Any = None) -> None:
            pending.append((name, factory, options))

        function(register=register)
        names: list[str] = []
        for name, factory, options in pending:
            owner = registry.plugin_of(name) if isinstance(name, str) else None
            if owner is not None and self._is_builtin_plugin(owner):
                raise NerkitError(
                    f"{registry.kind} {name!r} is nerkit's own (built-in plugin {owner}): "
                    f"{plugin} may not register that name, so it registers nothing"
                )
            registry.register(name, factory, plugin=plugin, options=options)
            added.components.append((registry, name))
            names.append(name)
        self._trace(f"{plugin}.{hook} registered {', '.join(names) or 'nothing'}")

    def _call_commands(
        self, app: Any, plugin: str, function: Callable[..., Any], added: _Added
    ) -> None:
        commands, groups = app.registered_commands, app.registered_groups
        before = len(commands), len(groups)
        added.commands = []
        self._trace(f"{plugin}.register_commands(app)")
        try:
            function(app=app)
        finally:
            # what a failing hook added before it failed is taken back too
            added.commands += [(app, item) for item in commands[before[0] :]]
            added.commands += [(app, item) for item in groups[before[1] :]]
        names = _command_names([item for _, item in added.commands])
        builtin = _builtin_command_names()
        for name in names:
            if name in builtin:
                raise NerkitError(
                    f"command {name!r} is nerkit's own: "
                    f"{plugin} may not register that name, so it registers nothing"
                )
            other = self._command_owner.get(name)
            if other is not None:
                raise NerkitError(
                    f"command {name!r} registered twice (by {other} and {plugin}): "
                    f"{other}'s stays, {plugin} registers nothing"
                )
        added.command_names = names
        self._trace(f"{plugin}.register_commands registered {', '.join(names) or 'nothing'}")

    def _keep(self, plugin: str, added: _Added) -> None:
        info = self._info(plugin)
        for registry, name in added.components:
            info.registered.setdefault(registry.kind, []).append(name)
        if added.commands is not None:
            self._commands[plugin] = added.commands
            for name in added.command_names:
                self._command_owner[name] = plugin
            if added.command_names:
                info.registered["command"] = added.command_names

    def _take_back(self, plugin: str, added: _Added) -> None:
        """Remove everything ``plugin`` added: a failed plugin provides nothing."""
        for registry, name in added.components:
            registry.unregister([name])
        for app, item in [*(added.commands or []), *self._commands.pop(plugin, [])]:
            for items in (app.registered_commands, app.registered_groups):
                items[:] = [other for other in items if other is not item]
        for name in [n for n, owner in self._command_owner.items() if owner == plugin]:
            del self._command_owner[name]
        self._info(plugin).registered.clear()

    def _scratch_app(self) -> Any:
        """A Typer app for the register_commands hooks when nerkit's own app is not
        built (a built-in command runs alone): calling them finds a failing hook, or a
        command with a built-in name, which fails the plugin in every command."""
        if self._scratch is None:
            import typer

            self._scratch = typer.Typer()
        return self._scratch

    def call_register_commands(self, app: Any) -> None:
        """Let every plugin add its commands to ``app``; a failing one is reported, not
        fatal. A hook already called (the registries were filled first) is not called
        again: its commands move to ``app``."""
        self.load()
        self._app = app
        functions = {
            impl.plugin_name: impl.function
            for impl in self.pm.hook.register_commands.get_hookimpls()
        }
        for plugin in self._in_order(functions):
            info = self._info(plugin)
            if info.status != "loaded":
                continue
            if plugin in self._commands:
                self._commands[plugin] = [
                    (app, item if where is app else _attach(app, item))
                    for where, item in self._commands[plugin]
                ]
                continue
            added = _Added()
            try:
                self._call_commands(app, plugin, functions[plugin], added)
            except _PASS_THROUGH:
                self._take_back(plugin, added)
                raise
            except BaseException as exc:
                self._take_back(plugin, added)
                self._fail(info, exc)
                continue
            self._keep(plugin, added)

    def check_command(self, name: str) -> None:
        """Refuse plugin command ``name`` when its plugin fails in another hook (which
        filling the registries finds): a failed plugin provides nothing."""
        plugin = self._command_owner.get(name)
        if plugin is None:
            return
        self._fill()
        info = self._info(plugin)
        if info.status == "failed":
            raise NerkitError(
                f"command {name!r} comes from plugin {plugin!r}, which failed: {info.error}"
            )

    def _is_builtin_plugin(self, name: str) -> bool:
        info = self._infos.get(name)
        return info is not None and info.builtin

    # ----------------------------------------------------------------- info

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen, with what it registered (calls every hook)."""
        self._fill()
        return sorted(self._infos.values(), key=lambda i: i.name)


@dataclass
class _Added:
    """What one plugin's hooks have added, for taking it back if the plugin fails."""

    components: list[tuple[Registry, str]] = field(default_factory=list)
    #: (app, Typer's CommandInfo or TyperInfo); None: register_commands was not called
    commands: list[tuple[Any, Any]] | None = None
    command_names: list[str] = field(default_factory=list)


def _command_names(items: list[Any]) -> list[str]:
    """The command names Typer makes of these registered commands and groups (a
    command without a name is named after its function; a group without a name adds
    its own commands). A definition Typer cannot build raises here."""
    import typer
    from typer.models import TyperInfo

    probe = typer.Typer()
    probe.registered_commands = [item for item in items if not isinstance(item, TyperInfo)]
    probe.registered_groups = [item for item in items if isinstance(item, TyperInfo)]
    return sorted(typer.main.get_group(probe).commands)


def _attach(app: Any, item: Any) -> Any:
    """Add a command or group made on another app to ``app``."""
    from typer.models import TyperInfo

    (app.registered_groups if isinstance(item, TyperInfo) else app.registered_commands).append(item)
    return item


def _builtin_command_names() -> set[str]:
    # imported here: the host serves library code too, which needs no command line
    from nerkit.cli.app import builtin_command_names

    return builtin_command_names()


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
