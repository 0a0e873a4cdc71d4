"""Typed component options: conversion from strings and TOML values, clear errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import Component, load_options, save_options
from nerkit.options import as_dict, build_options, describe, option, parse_pairs

if TYPE_CHECKING:
    from decimal import Decimal


@dataclass(frozen=True)
class Opts:
    lr: float = option(5e-5, "learning rate")
    epochs: int = option(3, "training epochs")
    crf: bool = option(True, "use a CRF layer")
    pooling: Literal["first", "mean"] = option("first", "subtoken pooling")
    embeddings: tuple[str, ...] = option(("char",), "embedding stack")
    model: str | None = option(None, "encoder name or folder")
    cache: Path = option(Path("cache"), "cache folder")


def test_strings_from_the_command_line_become_typed_values() -> None:
    got = build_options(
        Opts,
        parse_pairs(
            [
                "lr=3e-5",
                "epochs=10",
                "crf=false",
                "pooling=mean",
                "embeddings=char,onehot",
                "model=none",
                "cache=/x",
            ],
            flag="-T",
        ),
    )
    assert got == Opts(3e-5, 10, False, "mean", ("char", "onehot"), None, Path("/x"))


def test_typed_values_from_toml_are_kept() -> None:
    got = build_options(Opts, {"lr": 1, "crf": True, "embeddings": ["a", "b"], "model": "bert"})
    assert got.lr == 1.0 and isinstance(got.lr, float)
    assert got.embeddings == ("a", "b")
    assert got.model == "bert"


def test_unknown_key_names_it_and_the_valid_keys() -> None:
    with pytest.raises(ConfigError) as err:
        build_options(Opts, {"learning_rate": "1"}, component="flair.tagger.v1")
    message = str(err.value)
    assert "learning_rate" in message and "flair.tagger.v1" in message
    assert "lr, epochs, crf, pooling, embeddings, model, cache" in message


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("epochs", "three", "int"),
        ("crf", "maybe", "bool"),
        ("pooling", "max", "first|mean"),
        ("lr", True, "float"),
    ],
)
def test_wrong_type_names_key_expected_type_and_value(
    key: str, value: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        build_options(Opts, {key: value})
    message = str(err.value)
    assert repr(key) in message and expected in message and repr(value) in message


def test_pairs_need_an_equals_sign() -> None:
    with pytest.raises(ConfigError, match="-T 'epochs': expected KEY=VALUE"):
        parse_pairs(["epochs"], flag="-T")
    assert parse_pairs(["tokens=a=b"], flag="-T") == {"tokens": "a=b"}


def test_describe_and_as_dict() -> None:
    info = {o.name: o for o in describe(Opts)}
    assert (
        info["lr"].type == "float"
        and info["lr"].default == 5e-5
        and info["lr"].help == "learning rate"
    )
    assert info["pooling"].type == "first|mean"
    assert info["model"].type == "str (optional)"
    assert as_dict(Opts())["cache"] == "cache"
    assert as_dict(Opts())["embeddings"] == ["char"]


@dataclass(frozen=True)
class MoreOpts:
    weights: dict[str, float] = option({}, "weight per entity type")
    window: tuple[int, int] = option((1, 2), "tokens before and after")
    layers: Literal[1, 2] = option(1, "layers")
    rate: complex = option(0j, "a type build_options does not convert to")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("weights", "junk", "option 'weights': Expecting value"),
        ("weights", {"PER": "heavy"}, "option 'weights': could not convert string to float"),
        ("weights", ["PER"], "option 'weights': not a table"),
        ("window", "1,2,3", "option 'window': needs 2 items, got 3"),
        ("window", [4], "option 'window': needs 2 items, got 1"),
        ("layers", True, "option 'layers': must be one of 1, 2"),
        ("rate", "1+2j", "option 'rate' is typed complex, which nerkit cannot convert"),
    ],
)
def test_dicts_fixed_tuples_and_number_literals_are_checked(
    key: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_options(MoreOpts, {key: value}, component="more.tagger.v1")


def test_dicts_fixed_tuples_and_number_literals_convert() -> None:
    got = build_options(
        MoreOpts, {"weights": '{"PER": 2, "LOC": "0.5"}', "window": "3,4", "layers": "2"}
    )
    assert (got.weights, got.window, got.layers) == ({"PER": 2.0, "LOC": 0.5}, (3, 4), 2)
    got = build_options(MoreOpts, {"weights": {"PER": 1}, "window": [0, 0], "layers": 1})
    assert (got.weights, got.window, got.layers) == ({"PER": 1.0}, (0, 0), 1)
    assert {o.name: o.type for o in describe(MoreOpts)}["weights"] == "dict of str: float"


@dataclass(frozen=True)
class ForwardOpts:
    rate: Decimal | None = option(None, "imported only under TYPE_CHECKING")


def test_an_annotation_that_cannot_be_resolved_names_the_component() -> None:
    """A plugin's bug, reported as a NerkitError naming the component and the class,
    not a NameError traceback from deep in ``typing``."""
    for call in (
        lambda: build_options(ForwardOpts, {"rate": "1"}, component="fwd.tagger.v1"),
        lambda: describe(ForwardOpts, component="fwd.tagger.v1"),
    ):
        with pytest.raises(NerkitError) as err:
            call()
        message = str(err.value)
        assert message.startswith("fwd.tagger.v1: the options class ")
        assert "ForwardOpts" in message and "name 'Decimal' is not defined" in message


@dataclass(frozen=True)
class Paths:
    files: dict[str, Path] = option({}, "a file per entity type")
    folders: list[Path] = option([], "paths in a list")
    pairs: tuple[tuple[Path, int], ...] = option((), "paths in nested tuples")
    nested: dict[str, list[dict[str, Path | None]]] = option({}, "paths three containers deep")
    by_path: dict[Path, list[int]] = option({}, "paths as keys")


PATHS = Paths(
    files={"PER": Path("/lex/per.txt"), "LOC": Path("loc.txt")},
    folders=[Path("x"), Path("/y/z")],
    pairs=((Path("p"), 1), (Path("q"), 2)),
    nested={"k": [{"f": Path("deep.txt"), "g": None}, {}]},
    by_path={Path("/m/x"): [1, 2]},
)


def test_paths_inside_containers_are_saved_and_load_again(tmp_path: Path) -> None:
    """A ``dict[str, Path]`` option raised "Object of type PosixPath is not JSON
    serializable" when the trained model saved its options."""

    class Saved(Component):
        options_class = Paths

    save_options(Saved(PATHS), tmp_path)
    stored = json.loads((tmp_path / "options.json").read_text())
    assert stored["files"] == {"LOC": "loc.txt", "PER": "/lex/per.txt"}
    assert stored["by_path"] == {"/m/x": [1, 2]}
    assert load_options(Paths, tmp_path) == PATHS


@dataclass(frozen=True)
class Keys:
    by_id: dict[int, str] = option({}, "int keys")
    by_pair: dict[tuple[str, str], float] = option({}, "a weight per pair of types")
    by_flag: dict[bool | None, int] = option({}, "boolean and null keys")


def test_dict_keys_are_stored_as_json_gives_them_back() -> None:
    """A fresh record compares equal to a stored one, and a tuple key (which JSON
    cannot hold) is stored at all."""
    options = Keys({1: "a", 20: "b"}, {("PER", "LOC"): 0.5}, {True: 1, None: 2})
    plain = as_dict(options)
    assert plain["by_id"] == {"1": "a", "20": "b"}
    assert json.loads(json.dumps(plain)) == plain
    assert build_options(Keys, json.loads(json.dumps(plain))) == options


@dataclass(frozen=True)
class Lists:
    words: list[str] = option(["a"], "a list option with a list default")
    stack: tuple[str, ...] = option(("a",), "a tuple option")


@pytest.mark.parametrize(
    "raw",
    [
        parse_pairs(["words=b,c", "stack=b,c"], flag="-T"),
        {"words": ["b", "c"], "stack": ["b", "c"]},
        {"words": '["b", "c"]', "stack": ("b", "c")},
    ],
    ids=["command line", "toml", "json text"],
)
def test_a_list_option_stays_a_list_once_given(raw: dict[str, Any]) -> None:
    """``options.words + ["x"]`` works at the default and once ``-T words=...`` is given."""
    default, given = build_options(Lists, {}), build_options(Lists, raw)
    assert given == Lists(["b", "c"], ("b", "c"))
    assert default.words + ["x"] == ["a", "x"] and given.words + ["x"] == ["b", "c", "x"]
    assert type(default.stack) is type(given.stack) is tuple
    assert build_options(Lists, json.loads(json.dumps(as_dict(given)))) == given


@dataclass(frozen=True)
class Declared:
    words: list[str] = option(("x",), "a list option declared with a tuple default")
    weights: dict[str, float] = option({"PER": 1}, "an int default for float values")


def test_a_default_is_stored_as_declared() -> None:
    """Runs record their options (as_dict) and sweeps find them by that record: a
    default converted to its annotation (1 -> 1.0) would change the record of every
    run made before, and a sweep would make them again."""
    assert as_dict(build_options(Declared, {})) == {"words": ["x"], "weights": {"PER": 1}}
    given = build_options(Declared, {"words": "a,b", "weights": '{"PER": 1}'})
    assert type(given.words) is list and type(given.weights["PER"]) is float


@dataclass(frozen=True)
class Sets:
    labels: set[str] = option(set(), "a set option")
    frozen: frozenset[int] = option(frozenset(), "a frozenset option")
    paths: set[Path] = option(set(), "paths in a set")


def test_set_options_convert_and_are_stored_sorted() -> None:
    """A set default was accepted (``option(set(), ...)``) but could not be given, and
    raised on save; stored sorted, a record does not vary with string hashing."""
    got = build_options(Sets, parse_pairs(["labels=PER,LOC", "frozen=2,1"], flag="-T"))
    assert got == Sets({"LOC", "PER"}, frozenset({1, 2}))
    assert type(got.frozen) is frozenset
    assert build_options(Sets, {"paths": ["b", "a"]}).paths == {Path("a"), Path("b")}
    full = Sets({"b", "a", "c"}, frozenset({3, 1}), {Path("z"), Path("/a")})
    plain = as_dict(full)
    assert plain == {"labels": ["a", "b", "c"], "frozen": [1, 3], "paths": ["/a", "z"]}
    assert build_options(Sets, json.loads(json.dumps(plain))) == full
    assert {o.name: o.type for o in describe(Sets)}["frozen"] == "set of int"


@dataclass(frozen=True)
class Choices:
    mixed: Literal[1, "1", 2.5] = option(1, "choices whose text is alike")
    maybe: Literal["a", "b"] | None = option(None, "an optional literal")
    number: float | int = option(0.5, "a union of two number types")
    anything: Any = option(None, "any JSON value")


@pytest.mark.parametrize(
    "options",
    [
        Choices("1", "b", 2, {"n": [1, "two", None, {"x": True}]}),
        Choices(1, None, 2.0, [1.5]),
        Choices(2.5, "a", 3, None),
    ],
)
def test_literals_and_unions_read_back_with_their_type(options: Choices) -> None:
    """``"1"`` stays text for ``Literal[1, "1"]``; 2 stays an int for ``float | int``."""
    got = build_options(Choices, json.loads(json.dumps(as_dict(options))))
    assert got == options
    assert [type(getattr(got, k)) for k in ("mixed", "number")] == [
        type(options.mixed),
        type(options.number),
    ]
    # command-line text still names a choice of another type, and a union goes in order
    cli = build_options(Choices, parse_pairs(["mixed=2.5", "number=2"], flag="-T"))
    assert (cli.mixed, cli.number) == (2.5, 2.0) and type(cli.number) is float
