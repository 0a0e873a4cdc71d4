"""Typed component options.

Every component declares its options as a frozen dataclass whose fields carry type
hints, defaults and a help text (``option(default, "help")``). Options arrive as a
dict: strings from the command line (``-T lr=3e-5``) or typed values from a TOML
config; :func:`build_options` converts and checks them and names the offending key
and the valid keys on any mistake.
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
    out = []
    for f in dataclasses.fields(options_class):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        out.append(
            OptionInfo(f.name, _type_name(hints[f.name]), default, f.metadata.get("help", ""))
        )
    return out


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
                "Literal, list, tuple, dict and optional ones (a bug of the component's plugin)"
            ) from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{what}option {name!r}: {exc} (expected {_type_name(hints[name])}, got {value!r})"
            ) from None
    return options_class(**values)


def _convert(value: Any, tp: Any) -> Any:
    # a bare ``list``, ``tuple`` or ``dict`` is one of anything
    origin = get_origin(tp) or (tp if tp in (list, tuple, dict) else None)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        is_none = value is None or (
            isinstance(value, str) and value.lower() in ("none", "null", "")
        )
        if is_none and type(None) in get_args(tp):
            return None
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
            if (value == choice and type(value) is type(choice)) or (
                isinstance(value, str) and str(choice) == value
            ):
                return choice
        raise ValueError(f"must be one of {', '.join(map(str, choices))}")
    if origin in (list, tuple):
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                value = json.loads(text)
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            raise TypeError("not a list")
        if origin is tuple and _fixed_tuple(tp):
            items = get_args(tp)
            if len(value) != len(items):
                raise ValueError(f"needs {len(items)} items, got {len(value)}")
            return tuple(_convert(v, item) for v, item in zip(value, items, strict=True))
        args = [a for a in get_args(tp) if a is not Ellipsis]
        item = args[0] if args else str
        return tuple(_convert(v, item) for v in value)
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
    """Options as plain JSON-friendly values (for storing a run's config)."""

    def plain(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        return v

    return {f.name: plain(getattr(options, f.name)) for f in dataclasses.fields(options)}


def given(
    options_class: type, raw: Mapping[str, Any] | None, *, component: str = ""
) -> dict[str, Any]:
    """The options named in ``raw``, typed as ``options_class`` types them and as plain
    values: ``-C epochs=10`` on the command line and ``epochs=10`` from Python store alike.
    Options not named stay out (a run stores what was asked for, not today's defaults)."""
    named = {key.replace("-", "_") for key in raw or {}}
    built = as_dict(build_options(options_class, raw, component=component))
    return {name: value for name, value in built.items() if name in named}
