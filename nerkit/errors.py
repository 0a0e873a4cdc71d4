"""Typed errors. Every error a user can cause derives from NerkitError; the CLI
prints its message (no traceback) and exits with code 2."""

from __future__ import annotations

from pathlib import Path


class NerkitError(Exception):
    """Base class of every error nerkit reports to a user."""


class InputError(NerkitError):
    """Bad input data: names the file, the line and the offending text. ``unit`` names
    what ``line`` counts (``"row index"`` in a table, counted from 0)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        text: str | None = None,
        unit: str = "line",
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.text = text
        self.reason = message
        where = self.path or "<input>"
        if line is not None:
            where += f", {unit} {line}"
        full = f"{where}: {message}"
        if text is not None:
            shown = text if len(text) <= 80 else text[:77] + "..."
            full += f": {shown!r}"
        super().__init__(full)


class SchemeError(NerkitError):
    """A tag that does not belong to a tagging scheme, or an unknown scheme."""


class DatasetError(NerkitError):
    """A dataset that cannot be found, fetched or verified."""


class ConfigError(NerkitError):
    """A wrong option name, type or value."""
