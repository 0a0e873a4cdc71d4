"""`nerkit info`, `nerkit plugins --hook`, `nerkit runs --json`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nerkit.cli.app import app


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_info_lists_options_with_types_and_defaults() -> None:
    code, output = invoke("info", "lexicon")
    assert code == 0, output
    assert "lexicon.tagger.v1 (tagger, plugin lexicon)" in output
    lines = {
        line.split("│")[1].strip(): line for line in output.splitlines() if line.count("│") >= 4
    }
    assert "bool" in lines["case_sensitive"] and "True" in lines["case_sensitive"]
    assert "int" in lines["max_length"] and "8" in lines["max_length"]


def test_info_on_a_dataset_and_on_an_unknown_name() -> None:
    code, output = invoke("info", "hironsan")
    assert code == 0 and "licence: MIT" in output
    code, output = invoke("info", "nosuch")
    assert code == 2 and "no component named 'nosuch'" in output and "lexicon.tagger.v1" in output


def test_plugins_by_hook() -> None:
    code, output = invoke("plugins", "--json", "--hook", "register_taggers")
    assert code == 0
    names = [p["name"] for p in json.loads(output)]
    assert "lexicon" in names and "nerkit" not in names  # nerkit's own registers no tagger
    code, output = invoke("plugins", "--hook", "register_tagger")
    assert code == 2 and "unknown hook 'register_tagger'" in output


def test_runs_on_an_empty_folder(tmp_path: Path) -> None:
    code, output = invoke("runs", str(tmp_path), "--json")
    assert code == 0 and json.loads(output) == []


def test_runs_in_a_folder_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    code, output = invoke("runs", str(tmp_path / "nosuch"))
    assert code == 2 and "nosuch: no such folder" in output
