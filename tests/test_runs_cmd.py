"""`nerkit runs`: on unfinished runs, one a live process is running is told apart from
one that was interrupted (only that one is offered a --resume), and asking which it is
never takes or disturbs the running process's lock; ``--dataset`` finds a folder
however it was named; names are shown as they are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_compare import make_run, write_folder
from typer.testing import CliRunner

from nerkit import pipeline, store
from nerkit.cli.app import app
from nerkit.errors import NerkitError

fcntl = pytest.importorskip("fcntl", reason="runs are locked where fcntl is")

#: another process that takes a run's lock as ``Run.execute`` does, says so, and holds
#: it until its stdin closes
HOLDER = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("locked", flush=True)
    sys.stdin.read()
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def listed(out: Path) -> dict[str, dict]:
    code, output = invoke("runs", str(out), "--json")
    assert code == 0, output
    return {r["run_id"]: r for r in json.loads(output)}


def row_of(output: str, run_id: str) -> str:
    (row,) = [line for line in output.splitlines() if run_id in line]
    return row


def nobody_holds(lock: Path) -> bool:
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def test_a_running_run_is_listed_as_running_and_an_interrupted_one_as_resumable(
    toy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    config = pipeline.RunConfig(tagger="lexicon", dataset=str(toy))
    run = pipeline.Run.create(out, config)
    interrupted = pipeline.Run.create(out, config)
    lock = run.dir / pipeline.RUN_LOCK
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        code, output = invoke("runs", str(out))
        assert code == 0, output
        assert "(running)" in row_of(output, run.run_id)
        assert "--resume" not in row_of(output, run.run_id)
        assert "(unfinished: --resume)" in row_of(output, interrupted.run_id)
        runs = listed(out)
        assert runs[run.run_id]["running"] is True and runs[run.run_id]["complete"] is False
        assert runs[interrupted.run_id]["running"] is False
        # asked twice, and the running process still holds its lock: a resume is refused
        assert listed(out)[run.run_id]["running"] is True
        with pytest.raises(NerkitError, match=f"run {run.run_id} is being run by another"):
            pipeline.Run.resume(out, run.run_id).execute()
        assert listed(out)[run.run_id]["running"] is True
    finally:
        holder.communicate("")  # its process ends: the lock goes with it
    assert holder.returncode == 0
    # the listing let go of what it took to ask: the run is free, and resumes
    assert nobody_holds(lock)
    code, output = invoke("runs", str(out))
    assert "(unfinished: --resume)" in row_of(output, run.run_id)
    assert "(running)" not in output
    assert listed(out)[run.run_id]["running"] is False
    finished = pipeline.Run.resume(out, run.run_id).execute()
    assert (finished / "metrics.arrow").exists()
    runs = listed(out)
    assert runs[run.run_id]["complete"] is True and runs[run.run_id]["running"] is False


def test_a_run_without_a_lock_file_is_not_running(toy: Path, tmp_path: Path) -> None:
    """A run left by a nerkit that made no lock file is interrupted, and asking does
    not make one."""
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy)))
    (run.dir / pipeline.RUN_LOCK).unlink()
    assert listed(out)[run.run_id]["running"] is False
    assert not store.is_running(run.dir)
    assert not (run.dir / pipeline.RUN_LOCK).exists()


def test_dataset_finds_a_folder_however_it_was_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_folder(tmp_path / "toy")
    write_folder(tmp_path / "other")
    out = tmp_path / "runs"
    spellings = ["toy", "./toy", f"{tmp_path / 'toy'}/"]
    made = [make_run(out, name) for name in spellings]
    make_run(out, "other")
    toy = sorted(r.name for r in made)
    for asked in [*spellings, str(tmp_path / "toy"), "toy/"]:
        code, output = invoke("runs", str(out), "--dataset", asked, "--json")
        assert code == 0, output
        assert sorted(r["run_id"] for r in json.loads(output)) == toy, asked
    code, output = invoke("runs", str(out), "--dataset", "toy")
    assert code == 0 and "3 timed runs" in output, output
    assert [
        r["dataset"] for r in json.loads(invoke("runs", str(out), "-d", "other", "--json")[1])
    ] == ["other"]
    # a named dataset by its name only: no folder of that name here
    assert json.loads(invoke("runs", str(out), "-d", "wnut17", "--json")[1]) == []


def test_markup_in_a_dataset_name_is_shown_as_it_is(tmp_path: Path) -> None:
    """Rich reads "[bold]" as a style: the dataset column showed "corpus"."""
    folder = write_folder(tmp_path / "[bold]corpus")
    run = make_run(tmp_path / "[red]runs", folder)
    code, output = invoke("runs", str(run.parent))
    assert code == 0, output
    assert f"runs in {run.parent}" in output
    assert f"│ {folder} " in row_of(output, run.name)
