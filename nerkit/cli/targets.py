"""Where a command writes a file (``nerkit convert``, ``nerkit predict``): an existing
file is replaced only when asked (``--overwrite``, as Hugging Face run_ner.py's
``--overwrite_output_dir``), and a file the command reads never, asked or not.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def refuse_existing(out: Path, overwrite: bool) -> None:
    """Refuse to replace a file without --overwrite. A FIFO or a device (/dev/stdout)
    is written into, not replaced, and a dangling link gets the file it names."""
    from nerkit.errors import ConfigError
    from nerkit.io.common import output_target

    if overwrite:
        return
    where = output_target(out)
    if where.replace and where.path.exists():
        link = f" (a link to {where.path})" if out.is_symlink() else ""
        raise ConfigError(f"{out}{link} exists: give --overwrite to replace it")


def refuse_input_as_output(out: Path, inputs: Sequence[Path]) -> None:
    """Refuse OUT that is one of the files read, or would be read as one (a file in a
    folder of shards, or one that the pattern of shards names), with --overwrite too:
    the command would replace (or join) its own input."""
    from fnmatch import fnmatch

    from nerkit.errors import ConfigError
    from nerkit.io.table import is_pattern

    where = out.resolve()
    for path in inputs:
        if is_pattern(path) and not path.exists():
            if where.parent == path.parent.resolve() and fnmatch(out.name, path.name):
                raise ConfigError(
                    f"{out} is one of the files {path} names, which are read: write to another file"
                )
        elif path.is_dir():
            if where.is_relative_to(path.resolve()):
                raise ConfigError(
                    f"{out} is in {path}, whose files are read as one table: write to a "
                    "file outside it"
                )
        elif where == path.resolve() or (out.exists() and _same_file(out, path)):
            same = "" if str(out) == str(path) else f" ({path}, by another name)"
            raise ConfigError(
                f"{out} is a file this command reads{same}: write to another file "
                "(--overwrite never replaces a file that is read)"
            )


def _same_file(a: Path, b: Path) -> bool:
    # A hard link, or a name that a case-insensitive file system takes for the other.
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
