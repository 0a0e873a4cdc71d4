"""Typed registries: one per kind of component.

Names carry a version, and by convention the kind, ``lexicon.tagger.v1``; the part
before the kind is the short name, and a short name (``lexicon``) means its newest
version among the names ``lexicon.KIND.vN`` of the registry's kind, so that a plugin
registering, say, the tagger ``lexicon.other.v7`` cannot take ``-t lexicon`` over (a
name of another form is reached by its full name). A duplicate name is an error; an
unknown one is an error that lists the known names.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerkit.errors import ConfigError, NerkitError

_VERSIONED = re.compile(r"^(?P<base>[a-z0-9][a-z0-9_-]*)(\.[a-z0-9_-]+)*\.v(?P<version>\d+)$")
_PLAIN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass
class Entry:
    name: str
    factory: Any
    plugin: str
    #: the options class, or a "module:Class" string, when registered apart from the
    #: factory (so that reading options imports no heavy module); None: the factory's
    options: Any = None

    @property
    def base(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def version(self) -> int:
        m = _VERSIONED.match(self.name)
        return int(m.group("version")) if m else 0


class Registry:
    """Components of one ``kind`` (tagger, corrector, ...), checked against ``base``.

    ``instances``: entries are values (datasets' ``DatasetSpec``); otherwise they are
    classes, subclasses of ``base``, that a run calls to make a component.
    """

    def __init__(
        self,
        kind: str,
        base: type | None = None,
        *,
        versioned: bool = True,
        instances: bool = False,
    ) -> None:
        self.kind = kind
        self.base = base
        self.versioned = versioned
        self.instances = instances
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, factory: Any, *, plugin: str = "", options: Any = None) -> None:
        pattern = _VERSIONED if self.versioned else _PLAIN
        if not isinstance(name, str) or not pattern.match(name):
            form = (
                f"NAME.KIND.vN, e.g. lexicon.{self.kind}.v1"
                if self.versioned
                else "lower-case letters, digits, . _ -"
            )
            raise NerkitError(
                f"invalid {self.kind} name {name!r} (from {plugin or '?'}): use {form}"
            )
        if name in self._entries:
            other = self._entries[name].plugin
            if other == plugin:  # its first registration goes with the rest of it
                raise NerkitError(
                    f"{self.kind} {name!r} registered twice by {plugin}: it registers nothing"
                )
            raise NerkitError(
                f"{self.kind} {name!r} registered twice (by {other} and {plugin}): "
                f"{other}'s stays, {plugin} registers nothing"
            )
        if options is not None:
            if self.instances:
                raise NerkitError(f"{self.kind} {name!r} (from {plugin or '?'}) takes no options")
            if isinstance(options, str):
                if not _IMPORT_PATH.match(options):
                    raise NerkitError(
                        f"{self.kind} {name!r} (from {plugin or '?'}): options {options!r} "
                        "is not a 'module:Class' path"
                    )
            elif not (isinstance(options, type) and dataclasses.is_dataclass(options)):
                raise NerkitError(
                    f"{self.kind} {name!r} (from {plugin or '?'}): options must be a "
                    f"dataclass or a 'module:Class' path, got {options!r}"
                )
        if not isinstance(factory, str):
            self._check(name, factory)
        entry = Entry(name, factory, plugin, options)
        if not isinstance(factory, str) and options is not None:
            self._check_options(entry, factory)
        self._entries[name] = entry

    def _check(self, name: str, factory: Any) -> None:
        if self.instances:
            if self.base is not None and not isinstance(factory, self.base):
                raise NerkitError(
                    f"{self.kind} {name!r} must be a {self.base.__name__}, got {factory!r}"
                )
            return
        if self.base is None:
            if not callable(factory):
                raise NerkitError(f"{self.kind} {name!r} must be callable, got {factory!r}")
            return
        if isinstance(factory, type) and issubclass(factory, self.base):
            return
        if isinstance(factory, self.base):
            # a run calls the factory with the options: an instance fails only then
            raise NerkitError(
                f"{self.kind} {name!r} must be a {self.base.__name__} subclass, got an "
                f"instance ({type(factory).__name__} object): register the class"
            )
        raise NerkitError(f"{self.kind} {name!r} must be a {self.base.__name__}, got {factory!r}")

    def plugin_of(self, name: str) -> str | None:
        """The plugin that registered the full name ``name``; None when none did."""
        entry = self._entries.get(name)
        return entry.plugin if entry is not None else None

    def unregister(self, names: list[str]) -> None:
        for name in names:
            self._entries.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in self.names()]

    def resolve(self, name: str) -> str:
        """The full registered name for ``name``: ``lexicon`` or ``lexicon.tagger``
        mean the newest ``lexicon.tagger.vN``; another dotted prefix (``lexicon.other``)
        means its newest version. Unversioned registries (datasets) take full names
        only."""
        if name in self._entries:
            return name
        if self.versioned and name:
            prefix = name if "." in name else f"{name}.{self.kind}"
            matches = [e for e in self._entries.values() if e.name.rsplit(".", 1)[0] == prefix]
            if matches:
                return max(matches, key=lambda e: e.version).name
        known = ", ".join(self.names()) or "(none installed)"
        raise ConfigError(f"unknown {self.kind} {name!r}; available: {known}")

    def entry(self, name: str) -> Entry:
        return self._entries[self.resolve(name)]

    def get(self, name: str) -> Any:
        """The factory (class or value) for ``name``, importing it if registered by string."""
        entry = self.entry(name)
        if isinstance(entry.factory, str):
            obj = self._load(entry, entry.factory)
            self._check(entry.name, obj)
            if entry.options is not None:
                self._check_options(entry, obj)
            entry.factory = obj
        return entry.factory

    def options_class(self, name: str) -> type:
        """The options class of component ``name``. Registered apart from the component
        (``options=``), it is read without importing the component's module."""
        entry = self.entry(name)
        if entry.options is None:
            return self.get(entry.name).options_class
        return self._options_of(entry)

    def description(self, name: str) -> str:
        """The docstring of component ``name``. A component registered by a string, with
        its options apart, is not imported for it: its class's docstring is read from
        the module's source (``nerkit info bert`` imports no torch). Where the source
        does not give it (no such file, a docstring made at run time), the component is
        loaded."""
        entry = self.entry(name)
        if isinstance(entry.factory, str) and entry.options is not None:
            doc = _static_docstring(entry.factory)
            if doc:
                return doc
        return inspect.getdoc(self.get(entry.name)) or ""

    def check_options(self, name: str) -> None:
        """Import component ``name`` to check that the options registered apart from it
        are its own (``NerkitError`` otherwise), for a command about to act on what it
        read from them without the component (a sweep skips runs by their options).
        A component that cannot be loaded is left to the command to report."""
        entry = self.entry(name)
        if entry.options is None or not isinstance(entry.factory, str):
            return  # nothing apart, or checked when the factory was given or loaded
        try:
            factory = self._load(entry, entry.factory)
        except NerkitError:
            return
        self._check_options(entry, factory)

    def _options_of(self, entry: Entry) -> type:
        if isinstance(entry.options, str):
            cls = self._load(entry, entry.options)
            if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
                raise NerkitError(
                    f"{self.kind} {entry.name!r} (plugin {entry.plugin}): options "
                    f"{entry.options} is not a dataclass: {cls!r}"
                )
            entry.options = cls
        return entry.options

    def _load(self, entry: Entry, path: str) -> Any:
        module_name, _, attr = path.partition(":")
        try:
            obj = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (KeyboardInterrupt, GeneratorExit):
            raise
        # a plugin's heavy module can fail in many ways, SystemExit included
        except BaseException as exc:
            raise NerkitError(
                f"{self.kind} {entry.name!r} (plugin {entry.plugin}) failed to load "
                f"{path}: {type(exc).__name__}: {exc}"
            ) from exc
        return obj

    def _check_options(self, entry: Entry, factory: Any) -> None:
        """The options registered apart must be those the component builds itself from."""
        registered = self._options_of(entry)
        own = getattr(factory, "options_class", None)
        if own is not registered:
            raise NerkitError(
                f"{self.kind} {entry.name!r} (plugin {entry.plugin}) registered options "
                f"{_qualname(registered)}, but its class builds from {_qualname(own)}: "
                "register the component's own options_class"
            )

    def __contains__(self, name: object) -> bool:
        try:
            self.resolve(str(name))
        except ConfigError:
            return False
        return True


def _qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}" if isinstance(obj, type) else repr(obj)


def _static_docstring(path: str) -> str | None:
    """The docstring of the class ``path`` (``module:Class``) as its module's source
    states it, or None: the module's parent packages are imported to find it, not the
    module itself."""
    module_name, _, attr = path.partition(":")
    try:
        spec = importlib.util.find_spec(module_name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    except (ImportError, ValueError, OSError, SyntaxError, UnicodeDecodeError):
        return None
    node: ast.Module | ast.ClassDef = tree
    for part in attr.split("."):
        found = next((n for n in node.body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if found is None:
            return None
        node = found
    return ast.get_docstring(node)
