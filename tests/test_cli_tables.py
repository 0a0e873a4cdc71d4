"""Tables printed into a pipe or a file (CliRunner captures output, so rich sees no
terminal and would fit them to 80 columns) keep every number, type name and header
whole; in a terminal of any width, numbers and words are never cut either."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from typer.testing import CliRunner

from nerkit import store
from nerkit.cli.app import app
from nerkit.cli.output import fit_width

LONG = "an-entity-type-whose-name-is-long-enough-to-overflow-an-eighty-column-console"


def invoke(*args: str, tmp_path: Path) -> str:
    # COLUMNS=80 is what rich assumes for output that is not a terminal anyway.
    env = {"COLUMNS": "80", "NERKIT_CACHE_DIR": str(tmp_path / "cache")}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def table_rows(output: str) -> list[list[str]]:
    """The cells of every table row in ``output`` (rows drawn with │ borders)."""
    return [
        [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
        for line in output.splitlines()
        if line.lstrip().startswith(("│", "┃"))
    ]


def pct(value: float) -> str:
    return f"{100 * value:.2f}"


def write_conll(path: Path, sentences: list[tuple[str, list[str]]]) -> Path:
    lines = []
    for text, tags in sentences:
        lines += [f"{token}\t{tag}" for token, tag in zip(text.split(), tags, strict=True)]
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_eval_tables_in_a_pipe_hold_every_number_and_type_whole(tmp_path: Path) -> None:
    b, i = f"B-{LONG}", f"I-{LONG}"
    gold = write_conll(
        tmp_path / "gold.conll",
        [
            ("Anna saw New York", ["B-PER", "O", b, i]),
            ("Bob went to Paris and Rome", ["B-PER", "O", "O", b, "O", b]),
            ("Carl and Dora", ["B-PER", "O", "B-PER"]),
        ],
    )
    pred = write_conll(
        tmp_path / "pred.conll",
        [
            ("Anna saw New York", ["B-PER", "O", "B-PER", i]),
            ("Bob went to Paris and Rome", [b, "O", "O", b, "O", "O"]),
            ("Carl and Dora", ["B-PER", b, "B-PER"]),
        ],
    )
    args = ("eval", str(gold), str(pred), "--partial", "--errors")
    output = invoke(*args, tmp_path=tmp_path)
    scores = json.loads(invoke(*args, "--json", tmp_path=tmp_path))
    assert "…" not in output
    rows = table_rows(output)
    assert ["type", "precision", "recall", "F1", "support"] in rows
    for label, s in [*scores["per_type"].items(), ("micro", scores["micro"])]:
        expected = [label, pct(s["precision"]), pct(s["recall"]), pct(s["f1"]), str(s["support"])]
        assert expected in rows, (expected, output)
    header = ["type", "COR", "INC", "PAR", "MIS", "POS"]
    header += ["pred COR", "pred INC", "pred PAR", "SPU", "ACT", "P", "R", "F1"]
    assert header in rows, output
    for label, by_scheme in scores["partial"]["per_type"].items():
        c = by_scheme["strict"]
        counts = ("correct", "incorrect", "partial", "missed", "possible", "pred_correct")
        counts += ("pred_incorrect", "pred_partial", "spurious", "actual")
        expected = [label, *(str(c[k]) for k in counts)]
        expected += [pct(c["precision"]), pct(c["recall"]), pct(c["f1"])]
        assert expected in rows, (expected, output)
    confusion = scores["errors"]["confusion"]
    assert ["gold", *confusion["column_labels"]] in rows
    for label, counts, boundary in zip(
        confusion["row_labels"], confusion["counts"], confusion["boundary"], strict=False
    ):
        cells = [f"{n} ({k})" if k else str(n) for n, k in zip(counts, boundary, strict=True)]
        if label == "spurious":
            cells[-1] = ""
        assert [label, *cells] in rows, (label, output)


def test_run_runs_and_compare_tables_in_a_pipe_hold_every_number_whole(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    b = f"B-{LONG}"
    train = [
        ("Anna lives in Paris", ["B-PER", "O", "O", b]),
        ("Bob met Anna", ["B-PER", "O", "B-PER"]),
    ]
    test = [
        ("Anna saw Bob in Paris", ["B-PER", "O", "B-PER", "O", b]),
        ("Carl likes Rome", ["B-PER", "O", b]),
    ]
    for split, sentences in (("train", train), ("dev", test), ("test", test)):
        write_conll(data / f"{split}.conll", sentences)
    out = tmp_path / "runs"
    output = invoke(
        "run", "--tagger", "lexicon", "--dataset", str(data), "--out", str(out), tmp_path=tmp_path
    )
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    metrics = {
        (r["metric"], r["label"]): r
        for r in store.read_table(run, "metrics").to_pylist()
        if r["split"] == "test" and r["mode"] == "lenient"
    }
    rows = table_rows(output)
    assert "…" not in output
    for label in ("PER", LONG, "micro", "macro", "weighted"):
        values = [pct(metrics[(m, label)]["value"]) for m in ("precision", "recall", "f1")]
        expected = [label, *values, str(metrics[("f1", label)]["support"])]
        assert expected in rows, (expected, output)
    f1 = pct(metrics[("f1", "micro")]["value"])

    listed = invoke("runs", str(out), tmp_path=tmp_path)
    assert "…" not in listed
    row = next(r for r in table_rows(listed) if r[0] == run.name)
    assert row[4] == str(data) and row[6] == f1, listed

    compared = invoke("compare", str(out), tmp_path=tmp_path)
    assert "…" not in compared
    row = next(r for r in table_rows(compared) if r[0] == run.name)
    assert row[-1] == f1, compared


def _wide_tables() -> list[Table]:
    numbers = Table(title="scores")
    numbers.add_column("type")
    for name in ("precision", "recall", "F1", "pred COR", "support"):
        numbers.add_column(name, justify="right")
    for k, label in enumerate(["PER", "creative-work", LONG]):
        numbers.add_row(label, "60.61", "100.00", "7.25", str(10**k), "123456")
    prose = Table(title="prose and numbers")
    prose.add_column("licence / status")
    prose.add_column("run id", overflow="fold")
    prose.add_column("mean ± std", justify="right")
    prose.add_row(
        "CC BY 4.0, missing: put it at /a/rather/long/path/x.conll",
        "2025-x-y-z",
        "45.23 ± 0.12 (n=3)",
    )
    return [numbers, prose]


@pytest.mark.parametrize("terminal", [True, False])
def test_no_width_cuts_a_number_or_a_word(terminal: bool) -> None:
    """At every width the console might have, printing at ``fit_width`` shows every
    cell and header: whole in a pipe, each word whole in a terminal (where text
    columns may wrap at spaces), and never a "…"."""
    for available in range(20, 200, 7):
        for table in _wide_tables():
            console = Console(file=io.StringIO(), width=available, force_terminal=terminal)
            width = fit_width(console, [table], terminal=terminal)
            # no wider than the console where the whole table fits in it
            natural = Measurement.get(console, console.options.update_width(10**4), table)
            if available >= natural.maximum:
                assert width == available, (available, natural)
            shown = Console(file=io.StringIO(), width=width, color_system=None)
            shown.print(table)
            text = shown.file.getvalue()  # type: ignore[attr-defined]
            cells = [str(c) for col in table.columns for c in (col.header, *col.cells)]
            parts = [w for c in cells for w in c.split()] if terminal else cells
            missing = [p for p in parts if p not in text]
            assert not missing and "…" not in text, (available, width, missing, text)


def test_titles_and_paths_print_whole_and_as_they_are(tmp_path: Path) -> None:
    """A title is not wrapped at the table's width in a pipe, and a path with brackets
    is not taken for rich's style markup."""
    folder = tmp_path / ("predictions-of-a-system-with-a-long-name[v2]" * 2)
    folder.mkdir()
    gold = write_conll(tmp_path / "gold.conll", [("Anna saw Paris", ["B-PER", "O", "B-LOC"])])
    pred = write_conll(folder / "pred.conll", [("Anna saw Paris", ["B-PER", "O", "O"])])
    other = write_conll(folder / "other[bold].conll", [("Anna saw Paris", ["O", "O", "B-LOC"])])
    output = invoke("eval", str(gold), str(pred), "--against", str(other), tmp_path=tmp_path)
    flat = output.replace("\n", "")
    assert f"{pred} against {gold} (IOB2, lenient)" in output  # on one line
    assert f"({other})" in flat  # the --against lines keep their brackets


def test_a_wider_console_keeps_the_terminal_s_height(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich ignores a width given without a height where it guesses the terminal's
    size (TERM=dumb), and would print at 80 columns again."""
    import rich.console

    from nerkit.cli.output import whole_console

    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    table = Table()
    for k in range(12):
        table.add_column(f"column {k}", justify="right")
    table.add_row(*(f"{1000 + k}.00 ± 0.00 (n=2)" for k in range(12)))
    console = whole_console([table])
    assert console.size.width > 80
    assert console.size.width == fit_width(console, [table], terminal=True)


def test_a_line_with_brackets_is_measured_as_it_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A plain string is printed without markup, so it is measured without it too: a
    long line holding "[bold]" stays one line in a pipe."""
    from nerkit.cli.output import print_whole

    line = "x" * 90 + "[bold]" + "y" * 3
    print_whole(line)
    assert capsys.readouterr().out == line + "\n"
