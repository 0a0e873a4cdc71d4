"""`nerkit export` writes only a new results-only copy inside --out: never outside it
(a run id from a run table is checked), never into a run (--out a run, or a folder
inside one), and never over or in place of anything that is already there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from test_compare import invoke, make_run, write_folder

from nerkit import store
from nerkit.errors import NerkitError
from nerkit.export import export_run, is_export


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two lexicon runs on the toy corpus, made once; tests work on copies."""
    tmp = tmp_path_factory.mktemp("export-safety")
    toy = write_folder(tmp / "toy")
    out = tmp / "runs"
    make_run(out, toy, "--seed", "1")
    make_run(out, toy, "--seed", "2")
    return out


@pytest.fixture
def runs(made: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    shutil.copytree(made, folder)
    return folder


def files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def every_path(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def first(runs: Path) -> Path:
    return runs / store.list_runs(runs)[0].run_id


def with_run_id(run: Path, run_id: str) -> None:
    """Rewrite the run table of ``run`` so that it gives ``run_id``."""
    rows = store.read_table(run, "run").to_pylist()
    rows[0]["run_id"] = run_id
    store.write_table(run, "run", pa.Table.from_pylist(rows, schema=store.RUN_SCHEMA))


def refused(*args: str) -> str:
    result = invoke("export", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "exported" not in result.stdout
    return " ".join(result.stderr.split())


# ------------------------------------------------------------- the run id


@pytest.mark.parametrize("run_id", ["../../escaped", "../escaped", "a/b", "..", "", "x.partial"])
def test_a_run_id_that_is_no_plain_folder_name_is_refused(
    runs: Path, tmp_path: Path, run_id: str
) -> None:
    """``../../escaped`` in a run table put the copy two folders above --out."""
    run = first(runs)
    with_run_id(run, run_id)
    out = tmp_path / "a" / "b" / "out"
    out.mkdir(parents=True)
    before = every_path(tmp_path)
    message = refused(str(run), "--out", str(out))
    assert message == (
        f"Error: {run}: the run table gives the run id {run_id!r}, which is no plain folder "
        "name (a run id is not empty, '.' or '..', holds no '/', '\\' or NUL and does not "
        "end in .partial); nothing was exported"
    )
    assert every_path(tmp_path) == before


# ------------------------------------------------------ --out inside a run


def test_exporting_a_run_into_itself_is_refused(runs: Path) -> None:
    """It wrote a copy of the run inside the finished run."""
    run = first(runs)
    before = files(runs)
    message = refused(str(run), "--out", str(run))
    assert message == (
        f"Error: cannot export {run} into {run}: {run} is the run being exported; "
        "export into a folder outside it (--out)"
    )
    inside = run / "exports"
    message = refused(str(run), "-o", str(inside))
    assert f"{inside} lies inside the run being exported" in message
    assert files(runs) == before and not inside.exists()


def test_exporting_into_another_run_or_a_folder_inside_one_is_refused(runs: Path) -> None:
    run, other = (runs / r.run_id for r in store.list_runs(runs))
    before = files(runs)
    message = refused(str(run), "-o", str(other))
    assert message == (
        f"Error: cannot export into {other}: {other} is a run folder; export into a folder "
        "that holds runs, not into a run (--out)"
    )
    inside = other / "a" / "b"
    message = refused(str(run), "-o", str(inside))
    assert f"{inside} lies inside {other}, which is a run folder" in message
    assert files(runs) == before and not (other / "a").exists()


def test_a_folder_inside_a_later_run_is_refused_before_any_export(
    runs: Path, tmp_path: Path
) -> None:
    """Named runs are checked before the first is exported: none is, not only the
    ones after the refusal."""
    run, other = (runs / r.run_id for r in store.list_runs(runs))
    before = files(runs)
    message = refused(str(run), str(other), "-o", str(other / "copies"))
    assert f"{other / 'copies'} lies inside the run being exported" in message
    assert files(runs) == before and not (other / "copies").exists()


def test_a_results_only_copy_and_an_unfinished_run_are_runs_too(runs: Path, tmp_path: Path) -> None:
    run, other = (runs / r.run_id for r in store.list_runs(runs))
    copy = export_run(other, tmp_path / "exported").path
    with pytest.raises(NerkitError, match=f"{copy / 'x'} lies inside {copy}, which is a run"):
        export_run(run, copy / "x")
    unfinished = tmp_path / "unfinished" / "20250101-000000-lexicon-toy-abcd.partial"
    unfinished.mkdir(parents=True)
    (unfinished / store.RUN_LOCK).touch()
    with pytest.raises(NerkitError, match=f"{unfinished} is a run folder"):
        export_run(run, unfinished)
    assert [p.name for p in unfinished.iterdir()] == [store.RUN_LOCK]
    # a folder merely named like an unfinished run, holding no run, is no run
    plain = tmp_path / "plain.partial"
    assert export_run(run, plain).new


# ------------------------------------------- what is already where it goes


def test_a_folder_named_like_the_run_is_refused_for_what_it_is(runs: Path, tmp_path: Path) -> None:
    """An empty folder named like the run was said to hold the run, with its models and
    predictions."""
    run = first(runs)
    out = tmp_path / "out"
    (out / run.name).mkdir(parents=True)
    message = refused(str(run), "-o", str(out))
    assert message == (
        f"Error: cannot export {run.name} into {out}: {out / run.name} is a folder but no "
        "run (it holds no run.arrow), and is never overwritten; move it away or export "
        "into another folder (--out)"
    )
    assert every_path(out) == [out / run.name]
    (out / run.name).rmdir()
    (out / run.name).write_text("notes\n")
    with pytest.raises(NerkitError, match=f"{out / run.name} is no folder, and is never"):
        export_run(run, out)
    assert (out / run.name).read_text() == "notes\n" and every_path(out) == [out / run.name]


def test_an_unfinished_run_where_the_export_is_made_is_never_removed(
    runs: Path, tmp_path: Path
) -> None:
    """``ID.partial`` in --out was removed unseen, as if an export had left it."""
    run = first(runs)
    out = tmp_path / "out"
    unfinished = out / f"{run.name}.partial"
    (unfinished / "tagger").mkdir(parents=True)
    (unfinished / "tagger" / "lexicon.json").write_text("{}")
    (unfinished / "config.json").write_text("{}")
    before = files(out)
    with pytest.raises(NerkitError, match=f"{unfinished} is there already and is not an unf"):
        export_run(run, out)
    assert files(out) == before


def test_what_a_killed_export_left_is_replaced(runs: Path, tmp_path: Path) -> None:
    run = first(runs)
    out = tmp_path / "out"
    left = out / f"{run.name}.partial"
    left.mkdir(parents=True)
    (left / "run.arrow").write_bytes(b"cut short")
    (left / ".counts.arrow.123-abcd.tmp").write_bytes(b"cut short")
    done = export_run(run, out)
    assert done.new and is_export(done.path) and every_path(out)[0] == done.path
    assert not left.exists()
