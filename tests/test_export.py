"""`nerkit export`: results-only copies of runs that list and compare as the runs do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from test_compare import invoke, make_run, write_folder

from nerkit import store
from nerkit.compare import load_run, stored_counts, stored_sentences
from nerkit.errors import NerkitError
from nerkit.export import export_run, is_export
from nerkit.testing import toy_corpus


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of three lexicon runs on the toy corpus (two seeds, one other config)."""
    tmp = tmp_path_factory.mktemp("export")
    toy = write_folder(tmp / "toy")
    out = tmp / "runs"
    make_run(out, toy, "--seed", "1")
    make_run(out, toy, "--seed", "2")
    make_run(out, toy, "-T", "max_length=1")
    return out


@pytest.fixture(scope="module")
def exported(runs: Path) -> Path:
    out = runs.parent / "exported"
    result = invoke("export", str(runs), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 of 3 runs exported" in result.output
    return out


def compared(folder: Path, baseline: str, *options: str) -> dict:
    result = invoke("compare", str(folder), "--baseline", baseline, "--format", "json", *options)
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    # where the runs lie is the only difference allowed
    return json.loads(json.dumps(found).replace(str(folder), "FOLDER"))


@pytest.mark.parametrize("options", [(), ("--mode", "strict", "--test", "ar")])
def test_compare_reads_the_copies_as_the_runs(runs: Path, exported: Path, options) -> None:
    baseline = sorted(p.name for p in runs.iterdir())[-1]
    original = compared(runs, baseline, *options)
    assert compared(exported, baseline, *options) == original
    p_values = [r.get("p_value") for g in original["groups"] for r in g["rows"]]
    assert any(p is not None for p in p_values)  # the paired test ran on the copies


def test_the_counts_of_every_block_equal_those_of_the_predictions(
    runs: Path, exported: Path
) -> None:
    for run in sorted(runs.iterdir()):
        copy = exported / run.name
        assert is_export(copy) and not is_export(run)
        for split in ("dev", "test"):
            for mode in ("lenient", "strict"):
                a = stored_counts(load_run(run), split, "base", mode)
                b = stored_counts(load_run(copy), split, "base", mode)
                for name in ("correct", "predicted", "gold"):
                    assert np.array_equal(getattr(a, name), getattr(b, name))


def test_a_copy_holds_no_model_predictions_or_corpus_text(runs: Path, exported: Path) -> None:
    corpus = toy_corpus()
    words = {t for split in corpus for s in corpus[split] for t in s.tokens if len(t) > 4}
    for copy in exported.iterdir():
        names = {p.name for p in copy.iterdir()}
        assert names <= {
            "run.arrow",
            "metrics.arrow",
            "curves.arrow",
            "counts.arrow",
            "exported.json",
        }
        assert "tagger" in json.loads((copy / "exported.json").read_text())["left_out"]
        data = b"".join(p.read_bytes() for p in copy.iterdir())
        assert not [w for w in words if w.encode() in data]
    # the same check finds the words in a run's own files
    assert [w for w in words if w.encode() in (runs / copy.name / "predictions.arrow").read_bytes()]


def test_runs_lists_the_copies_with_their_scores_and_time(runs: Path, exported: Path) -> None:
    listed = [json.loads(invoke("runs", str(f), "--json").output) for f in (runs, exported)]
    keep = ("run_id", "complete", "tagger", "dataset", "test_f1", "wall_s", "cpu_s")
    assert [{k: r[k] for k in keep} for r in listed[1]] == [
        {k: r[k] for k in keep} for r in listed[0]
    ]
    assert all(r["cpu_s"] is not None for r in listed[1])


def test_exporting_again_adds_only_new_runs_and_changes_nothing(
    runs: Path, exported: Path, tmp_path: Path
) -> None:
    before = {p: p.read_bytes() for p in exported.rglob("*") if p.is_file()}
    result = invoke("export", str(runs), "--out", str(exported))
    assert result.exit_code == 0, result.output
    assert "0 of 3 runs exported" in result.output and "exported already" in result.output
    assert {p: p.read_bytes() for p in exported.rglob("*") if p.is_file()} == before
    # a copy of a copy keeps the counts
    one = next(exported.iterdir())
    again = export_run(one, tmp_path / "again")
    assert again.new and is_export(again.path)
    assert load_run(again.path).metrics == load_run(one).metrics


def test_what_needs_predictions_says_the_run_holds_results_only(exported: Path) -> None:
    copy = next(exported.iterdir())
    with pytest.raises(NerkitError, match="results-only copy"):
        stored_sentences(copy, "test", "base")
    with pytest.raises(NerkitError, match="not a finished run"):
        export_run(copy.parent, copy.parent.parent / "x")


def test_predict_with_a_copy_says_it_holds_results_only(exported: Path, tmp_path: Path) -> None:
    copy = next(exported.iterdir())
    text = tmp_path / "in.txt"
    text.write_text("Angela Merkel visited Paris\n")
    result = invoke("predict", str(text), "--run", str(copy))
    assert result.exit_code == 2, result.output
    assert "results-only copy (nerkit export)" in result.output and str(copy) in result.output
    assert "lexicon.json" not in result.output and "Traceback" not in result.output


def test_an_unreadable_run_is_listed_with_its_reason_and_a_linked_run_once(
    runs: Path, tmp_path: Path
) -> None:
    """One bad run neither hides the others (``runs``, ``compare`` of the folder) nor
    disappears; a run reached twice (a link to its folder, a copy of it) counts once."""
    folder = tmp_path / "runs"
    shutil.copytree(runs, folder)
    damaged, other_version, sound = sorted(p.name for p in folder.iterdir())
    (folder / damaged / "metrics.arrow").write_bytes(b"not arrow")
    table = store.read_table(folder / other_version, "run")
    newer = table.replace_schema_metadata({b"nerkit.schema_version": b"99"})
    # written beside and moved over: the table read maps the file (truncating it
    # under the mapping while its buffers are written out is a bus error)
    rewritten = folder / other_version / "run.arrow.new"
    sink = pa.OSFile(str(rewritten), "wb")
    with sink, ipc.new_file(sink, newer.schema) as writer:
        writer.write_table(newer)
    rewritten.replace(folder / other_version / "run.arrow")
    (folder / "zz-link").symlink_to(folder / sound)
    (folder / "zz-link-to-damaged").symlink_to(folder / damaged)
    shutil.copytree(folder / sound, folder / "a-copy")

    listed = json.loads(invoke("runs", str(folder), "--json").output)
    by_id = {r["run_id"]: r for r in listed}
    assert sorted(by_id) == sorted([damaged, other_version, sound]) and len(listed) == 3
    assert by_id[sound]["path"] == str(folder / sound) and by_id[sound]["problem"] is None
    assert (
        not by_id[damaged]["complete"]
        and "metrics.arrow: not a readable Arrow file" in (by_id[damaged]["problem"])
    )
    assert "run.arrow: schema version 99" in by_id[other_version]["problem"]
    result = invoke("runs", str(folder))
    assert result.exit_code == 0, result.output
    assert "unreadable: " in result.output and "1 timed run:" in result.output
    assert result.output.count(sound) == 1
    # compare of the folder compares the run it can read; named, a bad run is refused
    result = invoke("compare", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    (group,) = json.loads(result.output)["groups"]
    assert [r["runs"] for r in group["rows"]] == [[sound]]
    result = invoke("compare", damaged, "--runs", str(folder))
    assert result.exit_code == 2 and "metrics.arrow: not a readable Arrow file" in result.output


def test_a_run_compared_with_its_export_counts_once(runs: Path, exported: Path) -> None:
    """A run and its export are one run (one id), not a rerun of itself: the rows are
    those of the runs alone, the run's own folder counted, and a note says so."""
    ids = [r.run_id for r in store.list_runs(runs)]
    alone = json.loads(invoke("compare", str(runs), "--baseline", ids[-1], "-f", "json").output)
    result = invoke(
        "compare", str(runs), str(exported), "--baseline", str(exported / ids[-1]), "-f", "json"
    )
    assert result.exit_code == 0, result.output
    both = json.loads(result.output)
    assert both["groups"] == alone["groups"] and both["baseline"] == ids[-1]
    assert both["notes"] == [
        f"{i} is counted once, from {(runs / i).resolve()}: {(exported / i).resolve()} holds "
        "the same run (an export of it)"
        for i in ids
    ]
    table = invoke("compare", str(exported), str(runs), "-f", "markdown")
    assert table.exit_code == 0, table.output
    assert "repeats seed" not in table.output
    rows = "\n".join(line for line in table.output.splitlines() if line.startswith("| "))
    assert [rows.count(i) for i in ids] == [1, 1, 1]


def test_exporting_into_the_folder_of_the_runs_is_refused(runs: Path, tmp_path: Path) -> None:
    """--out the folder of the runs found each run there and called it exported
    already, leaving models and corpus text where an export was expected."""
    folder = tmp_path / "runs"
    shutil.copytree(runs, folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    result = invoke("export", str(folder), "--out", str(folder))
    assert result.exit_code == 2, result.output
    first = store.list_runs(folder)[0].run_id
    assert result.stderr == (
        f"Error: cannot export {first} into {folder}: {folder / first} is the run itself, "
        "with its models and predictions, not a results-only copy; export into another "
        "folder (--out)\n"
    )
    assert "exported already" not in result.output
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before

    # a full copy of the run where its export would go is no export either
    out = tmp_path / "out"
    shutil.copytree(runs / first, out / first)
    with pytest.raises(NerkitError, match=f"{out / first} holds the run, with its models"):
        export_run(runs / first, out)
    assert not is_export(out / first)
