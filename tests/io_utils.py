"""Helpers that the reader tests share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nerkit.errors import InputError


def read_error(reader: Callable[..., Any], path: Path, **options: object) -> str:
    """The message of the ``InputError`` that ``reader(path, **options)`` raises; it
    must name the file."""
    with pytest.raises(InputError) as info:
        reader(path, **options)
    message = str(info.value)
    assert str(path) in message
    return message
