"""Typed component options.

Every component declares its options as a frozen dataclass whose fields carry type
hints, defaults and a help text (``option(default, "help")``). Options arrive as a
dict: strings from the command line (``-T lr=3e-5``) or typed values from a TOML
config; :func:`build_options` converts and checks them and names the offending key
and the valid keys on any mistake. :func:`as_dict` turns options back into plain JSON
values that :func:`build_options` reads back to equal options (a trained model's
``options.json``, a run's record).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from nerkit.errors import ConfigError, NerkitError


def option(default: Any, help: str, *, path: bool = False) -> Any:  # noqa: A002 - as Typer
    """A dataclass field with a default and a help text. ``path``: a string option
    whose value may name a local file or folder (a model folder beside hub names):
    what it holds decides what a run reuses (``nerkit.pipeline.option_files``), as for
    options typed ``Path``."""
    metadata = {"help": help, "path": path}
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True)
class NoOptions:
    """For components without options."""


@dataclass(frozen=True, slots=True)
class OptionInfo:
    name: str
    type: str
    default: Any
    help: str


class UnsupportedType(TypeError):
    """An option's annotation names a type :func:`build_options` cannot convert to."""


def type_hints(options_class: type, *, component: str = "") -> dict[str, Any]:
    """The resolved annotations of ``options_class``. One that cannot be resolved (a
    type imported only under ``TYPE_CHECKING``, a misspelled name) is a NerkitError
    naming the component and the class, not a traceback from deep in ``typing``."""
    try:
        return typing.get_type_hints(options_class)
    except Exception as exc:  # NameError mostly; a bad annotation can raise others
        what = f"{component}: " if component else ""
        where = f"{options_class.__module__}.{options_class.__qualname__}"
        raise NerkitError(
            f"{what}the options class {where} has an annotation that cannot be "
            f"resolved ({type(exc).__name__}: {exc}); import the type at run time, "
            "not only under TYPE_CHECKING (a bug of the component's plugin)"
        ) from exc


def describe(options_class: type, *, component: str = "") -> list[OptionInfo]:
    """Name, type, default and help of every option (for ``nerkit info``)."""
    hints = type_hints(options_class, component=component)
    return [
        OptionInfo(f.name, _type_name(hints[f.name]), _default(f), f.metadata.get("help", ""))
        for f in dataclasses.fields(options_class)
    ]


def _default(f: dataclasses.Field[Any]) -> Any:
    """The default of field ``f`` (a fresh one from a factory), or None if it has none."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "|".join(str(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return (
            " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None)) + " (optional)"
        )
    if origin is tuple and _fixed_tuple(tp):
        return "list of " + ", ".join(_type_name(a) for a in get_args(tp))
    if origin in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin in (set, frozenset):
        args = get_args(tp)
        return f"set of {_type_name(args[0])}" if args else "set"
    if origin is dict:
        args = get_args(tp)
        return f"dict of {_type_name(args[0])}: {_type_name(args[1])}" if args else "dict"
    return getattr(tp, "__name__", str(tp))


def _fixed_tuple(tp: Any) -> bool:
    """``tuple[int, int]`` (two items), not ``tuple[int, ...]`` (any number)."""
    args = get_args(tp)
    return bool(args) and Ellipsis not in args and args != ((),)


def build_options(
    options_class: type, raw: Mapping[str, Any] | None, *, component: str = ""
) -> Any:
    """An ``options_class`` instance from ``raw`` (strings or typed values)."""
    raw = dict(raw or {})
    hints = type_hints(options_class, component=component)
    fields = {f.name: f for f in dataclasses.fields(options_class)}
    what = f"{component} " if component else ""
    unknown = [k for k in raw if k.replace("-", "_") not in fields]
    if unknown:
        valid = ", ".join(fields) or "(none)"
        raise ConfigError(f"unknown {what}option {unknown[0]!r}; valid options: {valid}")
    values = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        try:
            values[name] = _convert(value, hints[name])
        except UnsupportedType as exc:
            raise ConfigError(
                f"{what}option {name!r} is typed {exc}, which nerkit cannot convert a "
                f"value to (got {value!r}); supported: bool, int, float, str, Path, "
                "Literal, list, tuple, set, frozenset, dict and optional ones (a bug of the "
                "component's plugin)"
            ) from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{what}option {name!r}: {exc} (expected {_type_name(hints[name])}, got {value!r})"
            ) from None
    # Defaults stay as declared: converted, [1, 2] for list[float] would be stored as
    # [1.0, 2.0], and a sweep would no longer know the runs it stored with them.
    return options_class(**values)


def _convert(value: Any, tp: Any) -> Any:
    # a bare ``list``, ``tuple``, ``set``, ``frozenset`` or ``dict`` takes the branch of
    # its parametrised form: items are strings, a dict's values anything
    origin = get_origin(tp) or (tp if tp in (list, tuple, set, frozenset, dict) else None)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        is_none = value is None or (
            isinstance(value, str) and value.lower() in ("none", "null", "")
        )
        if is_none and type(None) in get_args(tp):
            return None
        # a value of one of the types keeps that type (``float | int`` keeps 2, as JSON
        # gives it back); a string goes through the types in order, since it may be
        # command-line text for any of them
        if not isinstance(value, str) and type(value) in args:
            return _convert(value, type(value))
        errors = []
        for arg in args:
            try:
                return _convert(value, arg)
            except UnsupportedType:
                raise
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValueError("; ".join(errors))
    if origin is Literal:
        choices = get_args(tp)
        for choice in choices:
            # True == 1 in Python: Literal[1, 2] must not take a boolean (nor 1.0)
            if value == choice and type(value) is type(choice):
                return choice
        # command-line text may name a choice of another type ("2" for 2); exact matches
        # come first, so that Literal[1, "1"] reads "1" back as "1"
        if isinstance(value, str):
            for choice in choices:
                if str(choice) == value:
                    return choice
        raise ValueError(f"must be one of {', '.join(map(str, choices))}")
    if origin in (list, tuple, set, frozenset):
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                value = json.loads(text)
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        # a set has no order, so only a set option takes one
        kinds = list | tuple | set | frozenset if origin in (set, frozenset) else list | tuple
        if not isinstance(value, kinds):
            raise TypeError("not a list")
        if origin is tuple and _fixed_tuple(tp):
            items = get_args(tp)
            if len(value) != len(items):
                raise ValueError(f"needs {len(items)} items, got {len(value)}")
            return tuple(_convert(v, item) for v, item in zip(value, items, strict=True))
        args = [a for a in get_args(tp) if a is not Ellipsis]
        item = args[0] if args else str
        # the annotated container: a list for list[str], as its default is, so that
        # ``options.words + ["x"]`` works whether the option was given or not
        return origin(_convert(v, item) for v in value)
    if origin is dict:
        key_type, value_type = get_args(tp) or (str, Any)
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}  # JSONDecodeError: ValueError
        if not isinstance(value, Mapping):
            raise TypeError("not a table (a JSON object on the command line)")
        return {_convert(k, key_type): _convert(v, value_type) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("not a boolean (true/false)")
    if tp is int:
        if isinstance(value, bool):
            raise TypeError("not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            return int(value.replace("_", ""))
        raise TypeError("not an integer")
    if tp is float:
        if isinstance(value, bool):
            raise TypeError("not a number")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            return float(value)
        raise TypeError("not a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise TypeError("not a string")
    if tp is Path:
        if isinstance(value, str | Path):
            return Path(value)
        raise TypeError("not a path")
    if isinstance(tp, type) and origin is None and isinstance(value, tp):
        return value  # a value of the very type, from Python
    raise UnsupportedType(getattr(tp, "__name__", str(tp)) if origin is None else str(tp))


def parse_pairs(pairs: list[str] | None, *, flag: str) -> dict[str, str]:
    """``["lr=3e-5", "epochs=2"]`` -> ``{"lr": "3e-5", "epochs": "2"}``."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def as_dict(options: Any) -> dict[str, Any]:
    """Options as plain JSON values (for a run's record and a saved model's
    ``options.json``), which :func:`build_options` reads back to equal options: paths
    as text, tuples and sets as lists (a set sorted), dict keys as text, at any depth.
    JSON gives back what it was given, so a stored and a fresh config compare equal."""
    return {f.name: _plain(getattr(options, f.name)) for f in dataclasses.fields(options)}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [_plain(v) for v in value]
        try:
            return sorted(items)
        except TypeError:  # items that do not compare (None beside text, say)
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, Mapping):
        return {_plain_key(k): _plain(v) for k, v in value.items()}
    return value


def _plain_key(key: Any) -> str:
    """A dict key as JSON object keys are: text that :func:`_convert` reads back as the
    key type (``1`` as ``"1"``, a path as its text, a tuple as a JSON list)."""
    plain = _plain(key)
    if isinstance(plain, str):
        return plain
    return json.dumps(plain, sort_keys=True, default=str)


def given(
    options_class: type, raw: Mapping[str, Any] | None, *, component: str = ""
) -> dict[str, Any]:
    """The options named in ``raw``, typed as ``options_class`` types them and as plain
    values: ``-C epochs=10`` on the command line and ``epochs=10`` from Python store alike.
    Options not named stay out (a run stores what was asked for, not today's defaults)."""
    named = {key.replace("-", "_") for key in raw or {}}
    built = as_dict(build_options(options_class, raw, component=component))
    return {name: value for name, value in built.items() if name in named}
