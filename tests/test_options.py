"""Typed component options: conversion from strings and TOML values, clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from nerkit.errors import ConfigError
from nerkit.options import as_dict, build_options, describe, option, parse_pairs


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
