"""benchmarks/sweep_table.py: the published benchmark table's bookkeeping."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "benchmarks" / "sweep.toml"


@pytest.fixture(scope="module")
def sweep_table():
    spec = importlib.util.spec_from_file_location(
        "sweep_table", ROOT / "benchmarks" / "sweep_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_spec_plans_thirty_runs_a_dataset(sweep_table) -> None:
    counts = sweep_table.planned(SPEC)
    assert list(counts) == ["wnut17", "conll2002-es", "conll2002-nl", "weibo"]
    assert set(counts.values()) == {5 * 2 * 3}  # taggers x (alone, openner) x seeds


def test_grids_multiply_the_runs(sweep_table, tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(
        'datasets = ["a"]\nseeds = [1, 2]\n[[tagger]]\nname = "bert"\n'
        "grid = { learning_rate = [1e-4, 5e-5, 3e-5] }\n"
        '[[corrector]]\nname = "none"\n'
    )
    assert sweep_table.planned(spec) == {"a": 6}


def test_cost_table_without_results_lists_every_dataset_at_zero(sweep_table, tmp_path) -> None:
    text = sweep_table.cost_table(tmp_path / "missing", SPEC)
    assert "| conll2002-nl | 0 of 30 | 0.00 | 0.00 |" in text.splitlines()


def test_write_replaces_only_the_marked_block(sweep_table, tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text(f"intro\n{sweep_table.BEGIN}\nold table\n{sweep_table.END}\noutro\n")
    sweep_table.write(page, "new table")
    assert page.read_text() == (
        f"intro\n{sweep_table.BEGIN}\nnew table\n{sweep_table.END}\noutro\n"
    )
    plain = tmp_path / "plain.md"
    plain.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="plain.md: no"):
        sweep_table.write(plain, "x")
    assert plain.read_text() == "no markers here\n"
