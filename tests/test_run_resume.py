"""Resuming an unfinished run safely: one process at a time, with every record it needs
kept until the final rename, on the code it began with, by its id or its folder's name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakes import MajorityCorrector
from plugin_utils import make_plugin
from test_run_storage import git, needs_git, nerkit_copy
from test_runs import cli

from nerkit import folds, pipeline, store
from nerkit.errors import NerkitError
from nerkit.plugin import get_host, hookimpl
from nerkit.plugin.host import PluginHost, PluginInfo


def files_of(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


#: the lexicon tagger, which says "fitting" on stdout when it starts to train and then
#: waits for a line on stdin: a run that is running, for as long as the test wants
WAITING_PLUGIN = """
import sys

from nerkit.plugin import get_host, hookimpl
from nerkit_lexicon.tagger import LexiconTagger


class WaitingTagger(LexiconTagger):
    def fit(self, train, dev=None, **kwargs):
        print("fitting", flush=True)
        sys.stdin.readline()
        super().fit(train, dev, **kwargs)


@hookimpl
def register_taggers(register):
    register("waiting.tagger.v1", WaitingTagger)
"""


def test_a_run_another_process_is_running_is_not_resumed_beside_it(
    toy: Path, tmp_path: Path
) -> None:
    """While one process runs a run, a ``--resume`` of it is refused, naming the run,
    and touches nothing; the first process finishes the run undisturbed."""
    import os

    site = make_plugin(tmp_path / "site", "nerkit_waiting_demo", WAITING_PLUGIN)
    out = tmp_path / "runs"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    )
    env.pop("NERKIT_STRICT_PLUGINS", None)
    first = subprocess.Popen(
        [sys.executable, "-m", "nerkit", "run", "-t", "waiting", "-d", str(toy), "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert first.stdout is not None
        assert first.stdout.readline() == "fitting\n"  # the run is under way
        (partial,) = list(out.iterdir())
        run_id = partial.name.removesuffix(store.PARTIAL)
        before = files_of(partial)
        code, output = cli("run", "--resume", run_id, "-o", str(out))
        assert code == 2, output
        assert f"run {run_id} is being run by another process" in output
        with pytest.raises(NerkitError, match="being run by another process"):
            pipeline.Run.resume(out, run_id).execute()
        assert files_of(partial) == before
    finally:
        _, stderr = first.communicate("go on\n")
    assert first.returncode == 0, stderr
    assert [p.name for p in out.iterdir()] == [run_id]
    assert not (out / run_id / pipeline.RUN_LOCK).exists()
    code, output = cli("run", "--resume", run_id, "-o", str(out))
    assert code == 2 and "finished already" in output


def test_a_lock_that_is_let_go_lets_the_run_resume(toy: Path, tmp_path: Path) -> None:
    """The lock is the process's, not a file's: held, the run is refused (a second
    open of the lock file counts as another process); let go, the run resumes."""
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy)))
    with (run.dir / pipeline.RUN_LOCK).open("a") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(NerkitError, match=f"run {run.run_id} is being run by another"):
            run.execute()
    finished = pipeline.Run.resume(out, run.run_id).execute()
    assert (finished / "metrics.arrow").exists()


@pytest.mark.parametrize("table", ["metrics", "json", "raw"])
def test_a_file_is_written_under_a_temporary_name_no_other_writer_uses(
    tmp_path: Path, table: str
) -> None:
    """Another process writing the same file meanwhile keeps its own temporary file:
    the names of the two never meet (the names before were ``NAME.tmp`` for all)."""
    from nerkit.types import Prediction

    if table == "metrics":
        target = tmp_path / "metrics.arrow"
        others = [tmp_path / "metrics.arrow.tmp"]

        def write() -> None:
            store.write_table(tmp_path, "metrics", store.METRICS_SCHEMA.empty_table())
    elif table == "json":
        target = tmp_path / "data.json"
        others = [tmp_path / "data.json.tmp"]

        def write() -> None:
            store.write_json(target, {"a": 1})
    else:
        target = tmp_path / "raw-dev.arrow"
        others = [tmp_path / "raw-dev.tmp"]

        def write() -> None:
            store.write_raw_predictions(target, [Prediction(tags=("O",))])

    for other in others:
        other.write_text("another writer's half-written file")
    write()
    write()
    assert target.exists()
    for other in others:
        assert other.read_text() == "another writer's half-written file"
    # nothing of this writer is left behind under a temporary name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, *(o.name for o in others)]
    )


def _killed_before_the_rename(out: Path, dataset: Path) -> pipeline.Run:
    """A lexicon run on ``dataset`` stopped (as if killed) just before ``ID.partial``
    becomes ``ID``: every step and table is stored."""

    def killed(partial_dir: Path) -> Path:
        raise KeyboardInterrupt("killed before the rename")

    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(dataset)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "finish", killed)
        with pytest.raises(KeyboardInterrupt):
            run.execute()
    return run


def test_a_run_killed_before_its_rename_still_refuses_changed_data(
    toy: Path, tmp_path: Path
) -> None:
    """Its tables are written, but the record of its data (and of its time) is kept
    until the rename: a resume on changed data is refused, not finished with the old
    predictions and the new data's fingerprints."""
    folder = tmp_path / "data"
    folder.mkdir()
    for split in ("train", "dev", "test"):
        (folder / f"{split}.conll").write_bytes((toy / f"{split}.conll").read_bytes())
    out = tmp_path / "runs"
    run = _killed_before_the_rename(out, folder)
    assert (run.dir / "run.arrow").exists()  # killed after storing its tables
    assert (run.dir / pipeline.DATA_RECORD).exists() and (run.dir / pipeline.TIMING_RECORD).exists()
    test = (folder / "test.conll").read_text()
    (folder / "test.conll").write_text(test.replace("\n\n", "\n\nEU\tB-ORG\n\n", 1))
    with pytest.raises(NerkitError, match="the test split of .* changed since the run began"):
        pipeline.Run.resume(out, run.run_id).execute()
    (folder / "test.conll").write_text(test)
    finished = pipeline.Run.resume(out, run.run_id).execute()
    left = {p.name for p in finished.iterdir()}
    assert {"run.arrow", "predictions.arrow", "metrics.arrow", "tagger"} <= left
    assert not left & {*pipeline.BOOKKEEPING, pipeline.RUN_LOCK}
    spent = store.time_spent(store.read_table(finished, "run").to_pylist()[0])
    assert spent["sittings"] == 2


# ------------------------------------------------------- the code a run began with


class CorrectorPlugin:
    @hookimpl
    def register_correctors(self, register):  # type: ignore[no-untyped-def]
        register("majority.corrector.v1", MajorityCorrector)


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    """The CLI's host, with the ``majority`` test corrector; the fold cache in
    ``tmp_path``."""
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    plugins = get_host()
    if "majority" not in plugins.registry("corrector"):
        plugins.add(CorrectorPlugin(), name="test-majority")
    return plugins


def _killed_in_fold(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fold ``index``'s tagger is stopped (as if killed) when it starts to train."""
    real = folds.fit_fold

    def fit_fold(make_tagger: Any, sentences: Any, fold: folds.Fold, **kwargs: Any) -> Any:
        if fold.index == index:
            raise KeyboardInterrupt(f"killed in fold {index}")
        return real(make_tagger, sentences, fold, **kwargs)

    monkeypatch.setattr(folds, "fit_fold", fit_fold)


def _run_killed_in_fold(
    out: Path,
    toy: Path,
    host: PluginHost,
    monkeypatch: pytest.MonkeyPatch,
    tagger: str = "lexicon",
) -> pipeline.Run:
    """A correction run of ``toy`` in ``out`` with 3 folds, killed in its second fold."""
    config = pipeline.RunConfig(tagger=tagger, dataset=str(toy), corrector="majority", folds=3)
    run = pipeline.Run.create(out, config, host)
    with monkeypatch.context() as patch:
        _killed_in_fold(1, patch)
        with pytest.raises(KeyboardInterrupt):
            run.execute()
    return run


@pytest.mark.parametrize("change", ["commit", "nerkit"])
def test_a_run_resumed_by_other_code_is_refused_and_caches_no_folds(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: PluginHost, change: str
) -> None:
    """Killed during its folds, a run resumed after a commit (or an upgrade) would mix
    the folds of two versions of the code, and store the mixture in the fold cache
    under the new code's key for later runs to take: it is refused, saying what
    changed; back on its code, it finishes."""
    out = tmp_path / "runs"
    run = _run_killed_in_fold(out, toy, host, monkeypatch)
    assert [p.name for p in (run.dir / "folds").iterdir()] == ["fold-0.arrow"]
    before = files_of(run.dir)
    with monkeypatch.context() as patch:
        if change == "commit":
            then = pipeline._git_hash()
            patch.setattr(pipeline, "_git_hash", lambda: "0123456789abcdef0123")
            expected = f"git commit {(then or 'none')[:12]} -> 0123456789ab"
        else:
            expected = f"nerkit {pipeline.__version__} -> 99.0.0"
            patch.setattr(pipeline, "__version__", "99.0.0")
        with pytest.raises(NerkitError) as refused:
            pipeline.Run.resume(out, run.run_id, host).execute()
        code, output = cli("run", "--resume", run.run_id, "-o", str(out))
    message = str(refused.value)
    assert f"run {run.run_id}: the code changed since the run began ({expected})" in message
    assert "out-of-fold predictions" in message and "start a new run" in message
    assert code == 2 and "the code changed since the run began" in output
    assert files_of(run.dir) == before
    assert not (tmp_path / "cache").exists()  # no fold of either code was cached
    finished = pipeline.Run.resume(out, run.run_id, host).execute()
    assert (finished / "run.arrow").exists() and any((tmp_path / "cache").rglob("fold-*.arrow"))


def test_a_run_resumed_with_another_version_of_its_corrector_s_plugin_is_refused(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The corrector's plugin is code the run's steps are made with too: upgraded
    between the sittings, its folds and trained corrector would mix two versions. A
    plugin added in-process has no version to compare (a sweep's driver adds what
    Ray's workers install), so the test gives it one."""
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    host = PluginHost()
    plugin = PluginInfo(
        name="majority-demo", module="fakes", version="1.0", distribution="majority_demo"
    )
    host.add(CorrectorPlugin(), name="majority-demo", info=plugin)
    out = tmp_path / "runs"
    run = _run_killed_in_fold(out, toy, host, monkeypatch)
    before = files_of(run.dir)
    plugin.version = "2.0"
    with pytest.raises(NerkitError) as refused:
        pipeline.Run.resume(out, run.run_id, host).execute()
    assert (
        f"run {run.run_id}: the code changed since the run began (corrector plugin "
        "majority_demo 1.0 -> majority_demo 2.0)"
    ) in str(refused.value)
    assert files_of(run.dir) == before
    plugin.version = "1.0"
    finished = pipeline.Run.resume(out, run.run_id, host).execute()
    assert (finished / "run.arrow").exists()


class AuditTaggers:
    """A plugin's taggers: ``audit.tagger.v1``, and ``v2`` once it is ``newer``."""

    def __init__(self, newer: bool = False) -> None:
        self.newer = newer

    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        from nerkit_lexicon.tagger import LexiconTagger

        register("audit.tagger.v1", LexiconTagger)
        if self.newer:
            register("audit.tagger.v2", type("AuditV2", (LexiconTagger,), {}))


def _audit_host(newer: bool) -> PluginHost:
    host = PluginHost()
    host.add(CorrectorPlugin(), name="test-majority")
    info = PluginInfo(name="audit", module="fakes", version="1.0", distribution="audit")
    host.add(AuditTaggers(newer), name="audit", info=info)
    return host


def test_a_run_resumed_when_its_tagger_s_name_means_a_newer_version_is_refused(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-t audit`` means the newest audit.tagger.vN: a plugin that adds a v2 between
    the sittings (an editable install, its version unchanged) would finish with v2 a
    run whose folds v1 made, and store it as a v2 run."""
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    host, out = _audit_host(newer=False), tmp_path / "runs"
    run = _run_killed_in_fold(out, toy, host, monkeypatch, tagger="audit")
    before = files_of(run.dir)
    newer = _audit_host(newer=True)
    assert newer.registry("tagger").resolve("audit") == "audit.tagger.v2"
    with pytest.raises(NerkitError) as refused:
        pipeline.Run.resume(out, run.run_id, newer).execute()
    assert (
        "the code changed since the run began (tagger audit.tagger.v1 -> audit.tagger.v2)"
    ) in str(refused.value)
    assert files_of(run.dir) == before
    finished = pipeline.Run.resume(out, run.run_id, host).execute()
    assert (finished / "run.arrow").exists()


def test_a_run_with_no_step_stored_goes_on_with_the_new_code(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to mix: a run created, not started, is resumed by the new code, which
    it records."""
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy)))
    monkeypatch.setattr(pipeline, "_git_hash", lambda: "fedcba9876543210")
    finished = pipeline.Run.resume(out, run.run_id).execute()
    assert store.read_table(finished, "run").to_pylist()[0]["git_hash"] == "fedcba9876543210"


# ------------------------------------------------------------- naming the run


def test_resume_takes_the_unfinished_folder_s_name(toy: Path, tmp_path: Path) -> None:
    """``--resume ID.partial`` (the name ``ls`` shows) finishes the run ``ID``; a run
    is finished only when ``ID`` is there."""
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy)))
    code, output = cli("run", "--resume", run.dir.name, "-o", str(out))
    assert code == 0, output
    assert [p.name for p in out.iterdir()] == [run.run_id]
    for name in (run.run_id, run.dir.name):
        code, output = cli("run", "--resume", name, "-o", str(out))
        assert code == 2 and f"run {run.run_id} in {out} is finished already" in output


# ------------------------------------------------------------- a damaged record


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "the file is empty"),
        ('{"tagger": "lexicon", "data', "Unterminated string"),
        ("[]", "expected the run's settings, got list"),
        ('{"dataset": "toy"}', "missing 1 required positional argument: 'tagger'"),
        ('{"tagger": "lexicon", "dataset": "toy", "seeds": 1}', "unknown run setting 'seeds'"),
        ('{"tagger": "lexicon", "dataset": "toy", "seed": "x"}', "seed: expected an integer"),
    ],
)
def test_a_damaged_config_of_an_unfinished_run_is_an_error_naming_it(
    toy: Path, tmp_path: Path, text: str, why: str
) -> None:
    """A crash can leave ``config.json`` empty or cut short: a ``--resume`` says which
    file is damaged and what to do, without a traceback, and touches nothing."""
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy)))
    path = run.dir / "config.json"
    path.write_text(text)
    before = files_of(run.dir)
    code, output = cli("run", "--resume", run.run_id, "-o", str(out))
    assert code == 2, output
    shown = output.replace("\n", " ")
    assert f"Error: {path}: unreadable settings of the unfinished run {run.run_id} (" in shown
    assert why in shown and "restore the file to finish the run, or start a new run" in shown
    assert "Traceback" not in output
    assert files_of(run.dir) == before


# ----------------------------------------------- a commit of the project around nerkit


@needs_git
def test_a_commit_of_the_project_nerkit_is_installed_in_does_not_stop_a_resume(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nerkit installed into a project's ``.venv``: the project's commits are not
    nerkit's code, and an unrelated one made between two sittings of a run lets the
    run finish (it was refused: "the code changed since the run began")."""
    module, _ = nerkit_copy(tmp_path, "venv")
    project = module.parents[5]
    monkeypatch.setattr(pipeline, "__file__", str(module))
    out = tmp_path / "runs"
    run = _killed_before_the_rename(out, toy)
    assert (run.dir / "tagger").is_dir()  # a stored step: a code change would refuse it
    (project / "notes.txt").write_text("edited\n")
    git(project, "commit", "-q", "-am", "an unrelated commit")
    code, output = cli("run", "--resume", run.run_id, "-o", str(out))
    assert code == 0, output
    assert "the code changed" not in output
    assert store.read_table(out / run.run_id, "run").to_pylist()[0]["git_hash"] is None


@needs_git
def test_a_commit_made_while_a_run_goes_on_is_not_the_run_s(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nerkit's own checkout, committed to while a run goes on: the process runs the
    code it imported, so every record of the run names the commit it began on, not one
    record the old commit and another the new; a new process (a resume) sees the new."""
    module, began_on = nerkit_copy(tmp_path, "checkout")
    monkeypatch.setattr(pipeline, "__file__", str(module))
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy)))
    source = module.parents[1]
    (source / "nerkit" / "pipeline.py").write_text('"""A run, changed."""\n')
    git(source, "commit", "-q", "-am", "a commit during the run")
    finished = run.execute()
    assert store.read_table(finished, "run").to_pylist()[0]["git_hash"] == began_on
    pipeline._checkout_commit.cache_clear()  # as a new process finds it
    assert pipeline._git_hash() == git(source, "rev-parse", "HEAD") != began_on


def test_a_killed_base_copy_is_not_the_origin_of_a_tagger_trained_after_it(
    toy: Path, tmp_path: Path
) -> None:
    """A base copy killed after its record and before its tagger: the resumed run that
    trains its own tagger (nothing to copy any more) must not say it reused another
    run's; and a damaged record of a finished copy is an error naming it."""
    import json
    import shutil

    out = tmp_path / "runs"
    config = pipeline.RunConfig(tagger="lexicon", dataset=str(toy))
    run = pipeline.Run.create(out, config)
    record = {"run_id": "20250101-000000-lexicon-toy-dead", "stats": {"n": 1}, "predictions": []}
    store.write_json(run.dir / pipeline.BASE_RECORD, record)
    final = run.execute()
    extra = json.loads(store.read_table(final, "run").to_pylist()[0]["extra"])
    assert "base_from" not in extra and extra.get("tagger") != {"n": 1}, extra

    run = pipeline.Run.create(out, config)
    shutil.copytree(final / "tagger", run.dir / "tagger")  # a copy that finished
    (run.dir / pipeline.BASE_RECORD).write_text('{"run_id": "x"')  # its record cut short
    with pytest.raises(NerkitError, match=r"base\.json: unreadable record of the reused base"):
        run.execute()
