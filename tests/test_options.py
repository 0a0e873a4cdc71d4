"""Typed component options: conversion from strings and TOML values, clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

from nerkit.errors import ConfigError, NerkitError
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
    labels: set[str] = option(set(), "a type build_options does not convert to")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("weights", "junk", "option 'weights': Expecting value"),
        ("weights", {"PER": "heavy"}, "option 'weights': could not convert string to float"),
        ("weights", ["PER"], "option 'weights': not a table"),
        ("window", "1,2,3", "option 'window': needs 2 items, got 3"),
        ("window", [4], "option 'window': needs 2 items, got 1"),
        ("layers", True, "option 'layers': must be one of 1, 2"),
        ("labels", "PER,LOC", "option 'labels' is typed set[str], which nerkit cannot convert"),
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
