"""What a run stores and what is taken for a run: only finished runs, tables true to
their schemas, settings that did something, a command line that runs again."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from test_runs import cli

from nerkit import pipeline, store
from nerkit.errors import NerkitError
from nerkit.plugin import get_host, hookimpl
from nerkit.plugin.host import PluginHost
from nerkit_lexicon.tagger import LexiconTagger

# ------------------------------------------------- an unfinished run is no run


def test_an_unfinished_run_holding_its_tables_is_not_taken_for_a_run(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed after storing its tables, before its rename, holds ``run.arrow``:
    named by its folder or by that folder's name, it is refused as unfinished."""
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy)))

    def killed(partial_dir: Path) -> Path:
        raise KeyboardInterrupt("killed before the rename")

    with monkeypatch.context() as patch:
        patch.setattr(store, "finish", killed)
        with pytest.raises(KeyboardInterrupt):
            run.execute()
    assert (run.dir / "run.arrow").exists()
    unfinished = f"run {run.run_id} is unfinished"
    resume = f"finish it with nerkit run --resume {run.run_id}"
    for ref, where in [(run.dir, None), (run.dir.name, out), (run.run_id, out)]:
        with pytest.raises(NerkitError, match="is unfinished") as refused:
            store.find_run(ref, where)
        assert unfinished in str(refused.value) and resume in str(refused.value)
    with pytest.raises(NerkitError, match="no run"):
        store.find_run(tmp_path / "nosuch.partial")
    finished = pipeline.Run.resume(out, run.run_id).execute()
    assert store.find_run(run.run_id, out) == finished == store.find_run(finished)


# ------------------------------------------- fold settings need a corrector


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--folds", "3"], "--folds given without --corrector"),
        (["--fold-mode", "entity-disjoint"], "--fold-mode given without --corrector"),
        (["--folds", "3", "--fold-mode", "random"], "--folds/--fold-mode given without"),
    ],
)
def test_fold_flags_without_a_corrector_are_refused(
    toy: Path, tmp_path: Path, flags: list[str], message: str
) -> None:
    """Without a corrector a run makes no folds: a fold flag would only be stored in
    its config, and split ``nerkit compare``'s rows; refused, as ``-C`` is."""
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out), *flags)
    assert code == 2, output
    assert message in output and "Traceback" not in output
    assert not out.exists()


@pytest.mark.parametrize("line", ["folds = 3", 'fold_mode = "entity-disjoint"'])
def test_fold_settings_in_a_config_file_without_a_corrector_are_refused(
    toy: Path, tmp_path: Path, line: str
) -> None:
    config = tmp_path / "run.toml"
    config.write_text(f'dataset = "{toy.as_posix()}"\ntagger = "lexicon"\n{line}\n')
    out = tmp_path / "runs"
    code, output = cli("run", "--config", str(config), "-o", str(out))
    key = line.split()[0]
    assert code == 2, output
    assert f"{config}: {key} set without a corrector" in output.replace("\n", "")
    assert not out.exists()
    # with a corrector they are the run's, and the defaults count as not given
    config.write_text(f'dataset = "{toy.as_posix()}"\ntagger = "lexicon"\n')
    code, output = cli("run", "--config", str(config), "-o", str(out))
    assert code == 0, output
    stored = pipeline.stored_config(next(out.iterdir()))
    assert (stored["folds"], stored["fold_mode"]) == (5, "random")


# ---------------------------------------------- tables true to their schemas


def test_a_null_in_a_column_that_must_not_hold_one_is_never_stored(tmp_path: Path) -> None:
    """``curves``'s step is not nullable: a point without one is refused, naming the
    table and the column, and no table is written (pyarrow alone would store it)."""
    point = {"epoch": [1, 2], "step": [10, None], "split": ["dev"] * 2, "metric": ["f1"] * 2}
    columns: dict[str, Any] = point | {"value": [0.5, 0.6]}
    with pytest.raises(NerkitError, match=r"curves table: column 'step' must not be null"):
        store.write_table(tmp_path, "curves", columns)
    table = pa.table(columns)
    with pytest.raises(NerkitError, match=r"curves table: column 'step' must not be null"):
        store.write_table(tmp_path, "curves", table)
    assert list(tmp_path.iterdir()) == []
    store.write_table(tmp_path, "curves", columns | {"step": [10, 20]})
    assert store.read_table(tmp_path, "curves").column("step").to_pylist() == [10, 20]


class NoStepTagger(LexiconTagger):
    """The lexicon tagger, reporting a training-curve point without a step."""

    def fit(self, train: Any, dev: Any = None, **kwargs: Any) -> None:
        super().fit(train, dev, **kwargs)
        kwargs["context"].curve(1, None, "dev", "f1", 0.5)


class NoStepPlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("nostep.tagger.v1", NoStepTagger)


def test_a_curve_point_without_a_step_fails_the_fit_that_gave_it(toy: Path, tmp_path: Path) -> None:
    """Said when the tagger gives it, naming the stage, rather than when the run is
    stored (where every resume would fail the same way)."""
    host = PluginHost()
    host.add(NoStepPlugin(), name="test-nostep")
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="nostep", dataset=str(toy)), host)
    with pytest.raises(NerkitError, match=r"base stage: a training-curve point .* \[1, None,"):
        run.execute()
    assert not (run.dir / "tagger").exists()


# ----------------------------------------------- a command line that runs again


def test_the_stored_command_line_runs_the_same_run_again(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quoted as a shell reads it: a path with a space stays one argument."""
    data = tmp_path / "my toy data"
    data.mkdir()
    for split in ("train", "dev", "test"):
        (data / f"{split}.conll").write_bytes((toy / f"{split}.conll").read_bytes())
    out = tmp_path / "my runs"
    args = ["run", "-t", "lexicon", "-d", str(data), "-o", str(out), "-T", "max_length=4"]
    monkeypatch.setattr(sys, "argv", ["nerkit", *args])
    code, output = cli(*args)
    assert code == 0, output
    (run,) = list(out.iterdir())
    command = store.read_table(run, "run").to_pylist()[0]["command"]
    assert shlex.split(command) == ["nerkit", *args]
    assert json.loads(store.read_table(run, "run").to_pylist()[0]["config"])["command"] == command


# ------------------------------------------------------- the commit a run records

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as a user who has set nothing up; its output."""
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
        + ["-c", "commit.gpgsign=false", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def nerkit_copy(tmp_path: Path, layout: str) -> tuple[Path, str | None]:
    """Where nerkit's ``pipeline.py`` lies in ``layout``, and the commit a run must
    record for it: ``checkout``, nerkit's own repository (its HEAD); ``venv``,
    installed into a project's ``.venv`` inside the project's repository; ``untracked``,
    a copy at the top of a repository that does not hold it; ``plain``, no
    repository (``None`` for all three)."""
    repo = tmp_path / ("nerkit-src" if layout == "checkout" else "project")
    repo.mkdir()
    package = {
        "checkout": repo / "nerkit",
        "venv": repo / ".venv" / "lib" / "python3.11" / "site-packages" / "nerkit",
        "untracked": repo / "nerkit",
        "plain": tmp_path / "site" / "nerkit",
    }[layout]
    package.mkdir(parents=True)
    (package / "pipeline.py").write_text('"""A run."""\n')
    if layout == "plain":
        return package / "pipeline.py", None
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text(".venv/\n")
    (repo / "notes.txt").write_text("the project's own file\n")
    git(repo, "add", ".gitignore", "notes.txt", *(["nerkit"] if layout == "checkout" else []))
    git(repo, "commit", "-q", "-m", "one")
    return package / "pipeline.py", git(repo, "rev-parse", "HEAD") if layout == "checkout" else None


@needs_git
@pytest.mark.parametrize("layout", ["checkout", "venv", "untracked", "plain"])
def test_the_commit_a_run_records_is_nerkit_s_own(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """Installed into a project's ``.venv`` (or copied into a repository that does not
    track it), nerkit is not the code of that repository's HEAD: a run records no
    commit then (its nerkit version says which code ran), and a commit of the project
    neither changes a run's code record nor the keys of reused folds and base taggers."""
    module, expected = nerkit_copy(tmp_path, layout)
    monkeypatch.setattr(pipeline, "__file__", str(module))
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out))
    assert code == 0, output
    (run,) = list(out.iterdir())
    assert store.read_table(run, "run").to_pylist()[0]["git_hash"] == expected
    config = pipeline.RunConfig(tagger="lexicon", dataset=str(toy))
    provenance = pipeline.training_provenance(get_host(), "lexicon.tagger.v1", config)
    assert provenance["git_hash"] == expected
