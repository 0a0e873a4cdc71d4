"""Printing rich tables whole: no number, type name or header is ever cut off.

Rich fits a table to its console, which is 80 columns wide when the output is not a
terminal (a pipe, a file, a test's captured output), and to fit it narrows columns and
ends their cells with "…" (``60…`` for 60.61). Here every right-aligned (numeric) column
is ``no_wrap`` and never narrowed, every other column folds a word it cannot hold
instead of cutting it, and the console is made wide enough:

* not a terminal: as wide as the widest thing printed, so nothing wraps at all;
* a terminal: its own width, or, where a table needs more, the least width at which
  Rich can fit the table by wrapping its text columns at spaces (the terminal then
  wraps the long lines, which is untidy but loses nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.table import Table

# Wide enough to measure any table at its natural width.
_UNLIMITED = 1_000_000
# Rich narrows columns in rounded steps; this much room keeps a word from folding.
_ROUNDING = 2


def print_whole(*renderables: Any, stderr: bool = False) -> None:
    """Print ``renderables`` (tables, strings, ...) with a console wide enough for them."""
    from rich.text import Text

    # plain strings are data (file names, notes): "[v2]" in a path is no style tag, so
    # they are measured and printed as the same plain text
    items = [Text(item) if isinstance(item, str) else item for item in renderables]
    console = whole_console(items, stderr=stderr)
    for item in items:
        console.print(item)


def whole_console(renderables: Sequence[Any], *, stderr: bool = False) -> Console:
    """A console for printing ``renderables`` without cutting any table cell (and, for
    tables, with the column settings of the module docstring applied)."""
    from rich.console import Console

    probe = Console(stderr=stderr)
    width = fit_width(probe, renderables, terminal=probe.is_terminal)
    if width == probe.width:
        return probe
    # a width without a height is ignored where rich guesses the terminal's size (a
    # terminal with TERM=dumb: it would print at 80 columns and cut cells again)
    return Console(stderr=stderr, width=width, height=probe.height)


def fit_width(console: Console, renderables: Sequence[Any], *, terminal: bool) -> int:
    """The console width for ``renderables``: ``console.width`` or more (see the module
    docstring)."""
    from rich.table import Table

    options = console.options.update_width(_UNLIMITED)
    width = console.width
    for item in renderables:
        if isinstance(item, Table):
            keep_whole(item)
            width = max(width, _table_width(console, options, item, terminal))
        elif not terminal:
            width = max(width, _measure(console, options, item)[1])
    return width


def keep_whole(table: Table) -> None:
    """Numeric (right-aligned) columns never wrap or narrow; other columns fold."""
    for column in table.columns:
        if column.justify == "right":
            column.no_wrap = True
        if column.overflow in ("ellipsis", "crop"):
            column.overflow = "fold"


def _measure(console: Console, options: ConsoleOptions, renderable: Any) -> tuple[int, int]:
    from rich.measure import Measurement

    m = Measurement.get(console, options, renderable)
    return m.minimum, m.maximum


def _table_width(console: Console, options: ConsoleOptions, table: Table, terminal: bool) -> int:
    natural = _measure(console, options, table)[1]
    if not terminal:
        # rich wraps a title to its table's width: make the table as wide as its title
        if table.title:
            title = table.title
            text = console.render_str(title) if isinstance(title, str) else title
            table.min_width = max(table.min_width or 0, text.cell_len)
            natural = max(natural, table.min_width)
        return natural
    # Rich narrows the widest wrappable columns first, all of them to one level; no
    # word is folded as long as that level is at least the longest word of every
    # wrappable column, so the table needs its natural width less what the columns
    # above that level give up.
    spans = []
    for column in table.columns:
        if column.no_wrap or column.width is not None:
            continue
        cells = [column.header, *column.cells]
        measured = [_measure(console, options, cell) for cell in cells]
        spans.append((max(m[0] for m in measured), max(m[1] for m in measured)))
    if not spans:
        return natural
    level = max(longest_word for longest_word, _ in spans) + _ROUNDING
    return natural - sum(max(0, widest - level) for _, widest in spans)
