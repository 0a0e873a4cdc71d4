"""Checks on a user's split files read as they look, without a scheme or columns
given: a scheme guessed from the tags' prefixes must be one the tags support, and a
CoNLL file read by its last column must not hide a column of outer entities."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit import schemes

if TYPE_CHECKING:
    from nerkit.io import ReadResult


def has_entities(result: ReadResult) -> bool:
    return any(tag != schemes.OUTSIDE for s in result.sentences for tag in s.tags)


def unsupported_guess(result: ReadResult) -> str | None:
    """Why the tags of ``result``, read in the scheme their prefixes show (BIOES for an
    ``E-`` among ``B-`` and ``I-`` tags), do not support that scheme; None where they do.

    They support it when they break fewer of its transitions than they hold tags of the
    prefixes IOB2 lacks (``E-`` and ``S-`` in BIOES, ``L-`` and ``U-`` in BILOU, ``E-``
    in IOE1 and IOE2). A BIOES file has about one ``E-`` or ``S-`` per entity and breaks
    few transitions, if any; an IOB2 file with one stray ``E-PER``, read as BIOES,
    breaks one at nearly every entity (a ``B-`` that no ``E-`` ends).
    """
    scheme = schemes.get_scheme(result.scheme)
    own = [p for p in scheme.prefixes if p not in "BI"]
    if not own:
        return None
    held = sum(1 for s in result.sentences for tag in s.tags if tag[0] in own and tag[1:2] == "-")
    broken = [r for r in result.invalid if not r.inner]
    if not broken or len(broken) < held:
        return None
    first = broken[0]
    where = f"{result.unit} {first.line}, " if first.line is not None else ""
    return (
        f"read as {scheme.name}, the file's tags break {len(broken)} transition(s) (first: "
        f"{where}{first.transition.previous} -> {first.transition.current}) against only "
        f"{held} {'/'.join(f'{p}-' for p in own)} tag(s), so it is not taken for {scheme.name}"
    )


def refuse_hidden_outer_column(
    path: Path, result: ReadResult, reader_options: Mapping[str, Any]
) -> None:
    """Raise where a CoNLL file read by its last column (no ``tag_col`` or
    ``inner_tag_col`` given) looks like `nerkit convert --nested` output (token, outer
    tags, inner tags; ``nerkit.io.conll.find_hidden_outer_column``): read so, it would
    lose its outer entities. The error names the file and the line that shows it, and
    the dataset options that read both layers or only the last."""
    from nerkit.io import detect_format
    from nerkit.io.conll import refuse_hidden_outer_column

    if "tag_col" in reader_options or "inner_tag_col" in reader_options:
        return
    given = reader_options.get("format")
    if (given.lower() if isinstance(given, str) else detect_format(path)) != "conll":
        return
    refuse_hidden_outer_column(
        path,
        result,
        "give the dataset option inner_tag_col=-1 to read both layers (nerkit run -D "
        "inner_tag_col=-1), or tag_col=-1 to read only the last",
        comment_prefix=reader_options.get("comment_prefix"),
        token_transform=reader_options.get("token_transform"),
    )
