"""JSON output that strict parsers read: a score that is not a number is ``null``.

Python's ``json`` writes ``NaN`` for a float NaN (a macro average over no types, as
seqeval computes it), which is not JSON; JavaScript's and Go's parsers, ``jq`` and
pandas' ``read_json`` with ``orient`` checks refuse the whole document."""

from __future__ import annotations

import json
import math
from typing import Any


def json_text(value: Any, *, indent: int | None = 2, **kwargs: Any) -> str:
    """``value`` as JSON text, NaN and infinities written as ``null``."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False, **kwargs)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
