"""`nerkit sweep` with the local executor: spec errors, expansion, skipping stored runs,
failures recorded, killed sweeps resumed, nothing stored overwritten."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from fakes import MajorityCorrector
from plugin_utils import KILLER_PLUGIN, make_plugin, run_nerkit
from typer.testing import CliRunner

from nerkit import store
from nerkit.cli.app import app
from nerkit.datasets import fingerprint
from nerkit.errors import ConfigError, NerkitError
from nerkit.plugin import get_host, hookimpl
from nerkit.sweep import load_spec, plan_sweep, run_sweep
from nerkit.sweep.driver import LOCK
from nerkit.sweep.spec import parse_spec
from nerkit.testing import toy_corpus
from nerkit.types import Sentence
from nerkit_lexicon.tagger import LexiconTagger


class BoomTagger(LexiconTagger):
    """The lexicon tagger, except that training always fails."""

    def fit(self, train: Sequence[Sentence], dev=None, **kwargs) -> None:  # type: ignore[no-untyped-def, override]
        raise RuntimeError("boom on purpose")


class SweepTestPlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("boom.tagger.v1", BoomTagger)


class MajorityPlugin:
    @hookimpl
    def register_correctors(self, register):  # type: ignore[no-untyped-def]
        register("majority.corrector.v1", MajorityCorrector)


@pytest.fixture(autouse=True)
def _plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # two plugins: another test module may have added the majority corrector, and a
    # plugin with a name taken registers nothing at all
    host = get_host()
    if "boom" not in host.registry("tagger"):
        host.add(SweepTestPlugin(), name="test-sweep")
    if "majority" not in host.registry("corrector"):
        host.add(MajorityPlugin(), name="test-majority")
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))


def write_spec(path: Path, dataset: Path, body: str) -> Path:
    path.write_text(f'name = "test"\ndatasets = ["{dataset.as_posix()}"]\n' + body)
    return path


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def finished(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.name.endswith(".partial"))


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in out.rglob("*")
        if p.is_file() and p.name != LOCK
    }


# ------------------------------------------------------------------ spec


def test_spec_errors_name_the_file_the_key_and_the_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('datasets = ["toy"]\n[[tagger]]\nname = "lexicon"\noptions = {a = 1\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML: .*line 4"):
        load_spec(spec)
    spec.write_text(
        'datasets = ["toy"]\nseeds = [1]\n\n[[tagger]]\nname = "lexicon"\n\n'
        '[[tagger]]\nname = "lexicon"\ngrid = { max_length = 3 }\n'
    )
    with pytest.raises(ConfigError) as err:
        load_spec(spec)
    assert str(err.value).startswith(f"{spec}: tagger[2].grid.max_length (line 9): ")
    assert "non-empty list" in str(err.value)
    spec.write_text('datasets = ["toy"]\nseed = 3\n[[tagger]]\nname = "lexicon"\n')
    with pytest.raises(ConfigError, match=r"seed \(line 2\): unknown key 'seed' \(valid: .*seeds"):
        load_spec(spec)
    spec.write_text('datasets = ["toy"]\n[[tagger]]\noptions = {}\n')
    with pytest.raises(ConfigError, match=r"tagger\[1\] \(line 2\): needs a name"):
        load_spec(spec)
    spec.write_text('datasets = ["toy"]\n[[tagger]]\nname = "lexicon"\ndatasets = ["tyo"]\n')
    with pytest.raises(ConfigError, match=r"datasets\[1\] \(line 4\): 'tyo' is not one of"):
        load_spec(spec)
    # an element of an array: the array's line, not a [[table]] of that name
    spec.write_text('datasets = ["toy"]\nseeds = [1, "x"]\n[[tagger]]\nname = "lexicon"\n')
    with pytest.raises(ConfigError, match=r"seeds\[2\] \(line 2\): expected an integer"):
        load_spec(spec)
    spec.write_text(
        'datasets = [\n  "toy",\n  { name = "b", max_train_sentences = "5" },\n]\n'
        f'seeds = [\n  1,\n  {2**64},\n]\n[[tagger]]\nname = "lexicon"\n'
    )
    with pytest.raises(ConfigError, match=r"datasets\[2\]\.max_train_sentences \(line 1\): "):
        load_spec(spec)
    spec.write_text(spec.read_text().replace('"5"', "5"))
    with pytest.raises(ConfigError, match=rf"seeds\[2\] \(line 5\): {2**64} is out of range"):
        load_spec(spec)
    spec.write_text('datasets = ["toy"]\n')
    with pytest.raises(ConfigError, match="'tagger' is missing"):
        load_spec(spec)
    code, output = cli("sweep", str(tmp_path / "nosuch.toml"))
    assert code == 2 and "nosuch.toml: sweep spec not found" in output


def test_expansion_covers_grids_correctors_seeds_and_resources(toy: Path, tmp_path: Path) -> None:
    spec = parse_spec(
        {
            "datasets": [
                str(toy),
                {
                    "name": "other",
                    "max_train_sentences": 5,
                    "max_dev_sentences": 7,
                    "max_test_sentences": 9,
                },
            ],
            "max_dev_sentences": 3,  # a dataset's own wins
            "max_test_sentences": 4,
            "seeds": [1, 2],
            "folds": 3,
            "cpus": 2,
            "tagger": [
                {
                    "name": "lexicon",
                    "grid": {"max_length": [2, 4], "case_sensitive": [True, False]},
                },
                {"name": "boom", "datasets": ["other"], "cpus": 1, "gpus": 0.5},
            ],
            "corrector": [{"name": "none"}, {"name": "majority", "cpus": 3}],
        },
        tmp_path / "spec.toml",
    )
    from nerkit.sweep.plan import expand

    runs = expand(spec)
    # toy: 2 seeds x 4 lexicon variants x 2; other: 2 seeds x (4 + 1) x 2
    assert len(runs) == 2 * 4 * 2 + 2 * 5 * 2
    assert [r.number for r in runs] == list(range(1, len(runs) + 1))
    first = runs[0].config
    assert (first.dataset, first.seed, first.corrector) == (str(toy), 1, None)
    assert first.tagger_options == {"max_length": 2, "case_sensitive": True}
    assert first.threads == 2 and first.folds == 5  # no corrector: `nerkit run`'s folds
    corrected = runs[1]
    assert corrected.config.corrector == "majority" and corrected.config.folds == 3
    assert corrected.cpus == corrected.config.threads == 3  # the larger request
    boom = [r for r in runs if r.config.tagger == "boom"]
    assert {r.config.dataset for r in boom} == {"other"}
    assert {(r.cpus, r.gpus, r.config.device) for r in boom} == {(1, 0.5, "cuda"), (3, 0.5, "cuda")}
    assert {r.config.max_train_sentences for r in runs if r.config.dataset == "other"} == {5}
    limits = {
        (
            r.config.dataset,
            r.config.max_train_sentences,
            r.config.max_dev_sentences,
            r.config.max_test_sentences,
        )
        for r in runs
    }
    assert limits == {(str(toy), None, 3, 4), ("other", 5, 7, 9)}


# ------------------------------------------------------------- the sweep


def test_sweep_stores_normal_runs_and_a_second_sweep_skips_them(toy: Path, tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path / "spec.toml",
        toy,
        'seeds = [1, 2]\nfolds = 2\n[[tagger]]\nname = "lexicon"\n'
        "grid = { case_sensitive = [true, false] }\n"
        '[[corrector]]\nname = "none"\n[[corrector]]\nname = "majority"\n',
    )
    out = tmp_path / "runs"
    code, output = cli("sweep", str(spec), "--out", str(out))
    assert code == 0, output
    runs = finished(out)
    assert len(runs) == 8 and not [p for p in out.iterdir() if p.name.endswith(".partial")]
    rows = [store.read_table(r, "run").to_pylist()[0] for r in runs]
    assert {r["seed"] for r in rows} == {1, 2}
    configs = [json.loads(r["config"]) for r in rows]
    assert {c["corrector"] for c in configs} == {None, "majority.corrector.v1"}
    assert all(c["threads"] == 1 and c["command"] == f"nerkit sweep {spec}" for c in configs)
    extra = [json.loads(r["extra"])["sweep"] for r in rows]
    assert {(e["executor"], e["threads"], e["spec"]) for e in extra} == {("local", 1, "test")}
    corrected = [r for r, c in zip(runs, configs, strict=True) if c["corrector"]]
    assert all(len(list((r / "folds").iterdir())) == 2 for r in corrected)
    # compare reads them all: one row per config, two seeds each
    code, table = cli("compare", str(out), "--format", "markdown")
    assert code == 0, table
    assert table.count("| 1, 2 |") == 4

    before = snapshot(out)
    code, output = cli("sweep", str(spec), "--out", str(out))
    assert code == 0, output
    assert "0 finished, 0 failed, 8 stored already" in output
    assert snapshot(out) == before  # nothing written, nothing overwritten
    code, listing = cli("sweep", str(spec), "--out", str(out), "--dry-run")
    assert code == 0 and "8 planned: 8 stored already (skipped)" in listing
    assert all(r.name in listing for r in runs)


def test_dataset_options_say_how_a_sweep_reads_a_dataset(toy: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "ids"
    folder.mkdir()
    table = pa.table({"tokens": [["John", "in", "Paris"]], "tags": [[1, 0, 2]]})
    for split in ("train", "test"):
        pq.write_table(table, folder / f"{split}.parquet")
    spec = tmp_path / "spec.toml"
    entry = f'{{ name = "{folder.as_posix()}", dataset_options = {{ tag_names = '
    spec.write_text(
        f'name = "ids"\ndatasets = [{entry}["O", "B-PER", "B-LOC"] }} }},\n'
        f'  {entry}"O,B-LOC,B-PER" }} }}]\n[[tagger]]\nname = "lexicon"\n'
    )
    out = tmp_path / "runs"
    code, output = cli("sweep", str(spec), "--out", str(out))
    assert code == 0, output
    runs = finished(out)
    gold = {
        tuple(
            json.loads(store.read_table(r, "run").to_pylist()[0]["config"])["dataset_options"][
                "tag_names"
            ]
        )
        for r in runs
    }
    assert gold == {("O", "B-PER", "B-LOC"), ("O", "B-LOC", "B-PER")}  # two readings, two runs
    code, output = cli("sweep", str(spec), "--out", str(out))
    assert code == 0 and "2 stored already" in output
    # two entries that read the folder the same way are one run
    spec.write_text(spec.read_text().replace('"O,B-LOC,B-PER"', '"O,B-PER,B-LOC"'))
    code, listing = cli("sweep", str(spec), "--out", str(out), "--dry-run")
    assert code == 0 and "1 planned: 1 stored already" in listing
    spec.write_text(spec.read_text().replace("tag_names", "tagnames"))
    code, output = cli("sweep", str(spec), "--out", str(out), "--dry-run")
    assert code == 2 and "datasets[1].dataset_options" in output


def test_a_run_made_by_nerkit_run_with_the_same_config_is_skipped(
    toy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    # the default max_length given as a string, as on the command line: the same config
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "-o", str(out), "--seed", "4", "--threads", "1",
        "-T", "max_length=8",
    )  # fmt: skip
    assert code == 0, output
    spec = write_spec(
        tmp_path / "spec.toml",
        toy,
        'seeds = [4, 5]\n[[tagger]]\nname = "lexicon"\n',
    )
    plan = plan_sweep(load_spec(spec), out)
    assert [r.status for r in plan.runs] == ["done", "new"]
    assert plan.runs[0].run_id == finished(out)[0].name
    # another train set is other data: not the same run
    spec.write_text(
        spec.read_text()
        .replace('"]', '", max_train_sentences = 20 }]', 1)
        .replace('datasets = ["', 'datasets = [{ name = "')
    )
    assert [r.status for r in plan_sweep(load_spec(spec), out).runs] == ["new", "new"]


def test_a_run_made_before_a_default_changed_is_not_done(toy: Path, tmp_path: Path) -> None:
    """A run records every option it ran with; the sweep matches on those, not on the
    defaults of today's plugin, for the options the run's config does not name."""
    out = tmp_path / "runs"
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "-o", str(out), "--seed", "4", "--threads", "1"
    )  # fmt: skip
    assert code == 0, output
    (run,) = finished(out)
    table = store.read_table(run, "run")
    extra = json.loads(table["extra"][0].as_py())
    defaults = LexiconTagger.options_class()
    assert extra["options"]["tagger"] == {
        name: getattr(defaults, name) for name in extra["options"]["tagger"]
    }
    assert set(extra["options"]["tagger"]) == {f.name for f in dataclasses.fields(defaults)}
    spec = write_spec(tmp_path / "spec.toml", toy, 'seeds = [4]\n[[tagger]]\nname = "lexicon"\n')
    assert [r.status for r in plan_sweep(load_spec(spec), out).runs] == ["done"]

    # as if lexicon's max_length had defaulted to something else when the run was made
    extra["options"]["tagger"]["max_length"] = defaults.max_length + 1
    column = table.schema.get_field_index("extra")
    store.write_table(run, "run", table.set_column(column, "extra", [[json.dumps(extra)]]))
    assert [r.status for r in plan_sweep(load_spec(spec), out).runs] == ["new"]
    # an option the run did not know of (added since) keeps today's default: still done
    del extra["options"]["tagger"]["max_length"]
    store.write_table(run, "run", table.set_column(column, "extra", [[json.dumps(extra)]]))
    assert [r.status for r in plan_sweep(load_spec(spec), out).runs] == ["done"]


def test_runs_exported_elsewhere_count_as_done_on_another_machine(
    toy: Path, tmp_path: Path
) -> None:
    """A sweep split over sittings on machines that keep nothing but the exported copies
    (e.g. committed): each finished run is exported at once, and a fresh folder of runs
    with the copies beside it plans only what is left."""
    spec = write_spec(
        tmp_path / "spec.toml",
        toy,
        f'seeds = [1, 2]\nfolds = 2\nexport = "{(tmp_path / "results").as_posix()}"\n'
        '[[tagger]]\nname = "lexicon"\n'
        '[[corrector]]\nname = "none"\n[[corrector]]\nname = "majority"\n',
    )
    first, results = tmp_path / "machine-1", tmp_path / "results"
    # a run made before the sweep knew of the folder is exported by the next sitting
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "-o", str(first), "--seed", "1", "--threads", "1",
    )  # fmt: skip
    assert code == 0, output
    code, output = cli(
        "sweep", str(spec), "--out", str(first), "--export", str(results), "-d", str(toy)
    )
    assert code == 0, output
    assert "3 finished, 0 failed, 1 stored already" in output
    assert sorted(p.name for p in finished(results)) == [p.name for p in finished(first)]
    assert all(
        (p / "counts.arrow").exists() and not (p / "tagger").exists() for p in finished(results)
    )

    second = tmp_path / "machine-2"
    spec.write_text(spec.read_text().replace("seeds = [1, 2]", "seeds = [1, 2, 3]"))
    # the spec's export folder, as the command line's
    code, listing = cli("sweep", str(spec), "--out", str(second), "--dry-run")
    assert code == 0, listing
    assert "6 planned: 2 to run, 4 stored already (skipped)" in listing
    code, output = cli("sweep", str(spec), "--out", str(second))
    assert code == 0, output
    assert "2 finished, 0 failed, 4 stored already" in output
    assert len(finished(second)) == 2 and len(finished(results)) == 6
    # the copies alone make the table: three seeds a row
    code, table = cli("compare", str(results), "--format", "markdown")
    assert code == 0, table
    assert table.count("| 1, 2, 3 |") == 2


def test_an_export_folder_that_is_the_runs_folder_is_refused_before_any_run(
    toy: Path, tmp_path: Path
) -> None:
    """Results-only copies cannot go where the runs are (nerkit export refuses it): the
    sweep said so after its first run, and again at every restart, before running any."""
    out = tmp_path / "runs"
    spec = write_spec(tmp_path / "spec.toml", toy, '[[tagger]]\nname = "lexicon"\n')
    code, output = cli("sweep", str(spec), "--out", str(out), "--export", str(tmp_path / "runs/"))
    assert code == 2, output
    assert f"Error: --export names the folder of the runs themselves ({out})" in output
    assert not finished(out)
    spec = write_spec(
        tmp_path / "spec.toml", toy, f'export = "{out.as_posix()}"\n[[tagger]]\nname = "lexicon"\n'
    )
    code, output = cli("sweep", str(spec), "--out", str(out), "--dry-run")
    assert code == 2, output
    assert f"Error: {spec}: export names the folder of the runs themselves" in output


def test_max_train_sentences_trains_on_the_first_sentences(toy: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.toml", toy, '[[tagger]]\nname = "lexicon"\n')
    spec.write_text(
        spec.read_text().replace(
            "datasets = [", "max_train_sentences = 6\nmax_dev_sentences = 2\ndatasets = ["
        )
    )
    out = tmp_path / "runs"
    assert cli("sweep", str(spec), "-o", str(out))[0] == 0
    (run,) = finished(out)
    row = store.read_table(run, "run").to_pylist()[0]
    train = toy_corpus()["train"]
    assert json.loads(row["fingerprints"])["train"] == fingerprint(train[:6])
    assert json.loads(row["fingerprints"])["dev"] == fingerprint(toy_corpus()["dev"][:2])
    assert json.loads(row["config"])["max_train_sentences"] == 6
    assert json.loads(row["config"])["max_dev_sentences"] == 2


def test_a_failed_run_is_recorded_and_the_others_complete(toy: Path, tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path / "spec.toml",
        toy,
        'seeds = [1, 2]\n[[tagger]]\nname = "lexicon"\n[[tagger]]\nname = "boom"\n',
    )
    out = tmp_path / "runs"
    code, output = cli("sweep", str(spec), "-o", str(out))
    assert code == 1, output
    assert "2 finished, 2 failed" in output and "RuntimeError: boom on purpose" in output
    assert len(finished(out)) == 2
    partials = sorted(p for p in out.iterdir() if p.name.endswith(".partial"))
    assert len(partials) == 2
    (attempt,) = store.read_failures(partials[0])
    assert attempt["error"] == "RuntimeError: boom on purpose"
    assert "Traceback" in attempt["traceback"] and attempt["executor"] == "local"
    summaries = {s.run_id: s for s in store.list_runs(out)}
    assert summaries[partials[0].name.removesuffix(".partial")].error == attempt["error"]

    # a second sweep skips the failed runs, says so and fails while they are not done;
    # --retry-failed tries them again, keeping the record
    code, output = cli("sweep", str(spec), "-o", str(out))
    assert code == 1, output
    assert (
        "0 finished, 0 failed, 2 stored already, 2 failed before (skipped; --retry-failed "
        "runs them)"
    ) in output
    assert output.count("RuntimeError: boom on purpose") == 2
    assert len(store.read_failures(partials[0])) == 1  # not tried again
    code, listing = cli("sweep", str(spec), "-o", str(out), "--dry-run")
    assert "2 stored already (skipped), 2 failed before" in listing
    assert "RuntimeError: boom on purpose" in listing
    code, output = cli("sweep", str(spec), "-o", str(out), "--retry-failed")
    assert code == 1 and "0 finished, 2 failed" in output
    assert len(store.read_failures(partials[0])) == 2
    assert sorted(p for p in out.iterdir() if p.name.endswith(".partial")) == partials


def test_unknown_components_are_listed_by_a_dry_run_and_stop_a_real_one(
    toy: Path, tmp_path: Path
) -> None:
    spec = write_spec(
        tmp_path / "spec.toml",
        toy,
        '[[tagger]]\nname = "lexicon"\n[[tagger]]\nname = "nosuchtagger"\n'
        '[[tagger]]\nname = "lexicon"\noptions = { max_len = 3 }\n',
    )
    out = tmp_path / "runs"
    code, listing = cli("sweep", str(spec), "-o", str(out), "--dry-run")
    assert code == 0, listing
    assert "3 planned: 1 to run, 2 unavailable here" in listing
    assert "warning: 1 run cannot run here: unknown tagger 'nosuchtagger'; available:" in listing
    assert "unknown lexicon.tagger.v1 option 'max_len'" in listing
    code, output = cli("sweep", str(spec), "-o", str(out))
    assert code == 2 and "2 planned runs cannot run here" in output and "nosuchtagger" in output
    assert not finished(out)
    code, output = cli("sweep", str(spec), "-o", str(out), "--skip-unavailable")
    assert code == 0 and len(finished(out)) == 1
    assert "1 finished, 0 failed, 0 stored already, 2 unavailable here (skipped)" in output


def test_one_sweep_at_a_time_writes_to_a_folder(toy: Path, tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path / "spec.toml", toy, '[[tagger]]\nname = "lexicon"\n'))
    out = tmp_path / "runs"
    out.mkdir()
    lock = out / LOCK
    # a process that is running holds the lock
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"pid": live.pid, "host": socket.gethostname(), "spec": "x"}))
        with pytest.raises(NerkitError, match=f"another sweep \\(x, pid {live.pid} on"):
            run_sweep(spec, out)
    finally:
        live.kill()
        live.wait()
    outcome = run_sweep(spec, out)  # a lock left by a process that is gone is taken over
    assert len(outcome.finished) == 1 and not lock.exists()
    assert [p.name for p in out.iterdir()] == [outcome.finished[0].run_id]  # nothing left


def test_a_lock_is_judged_by_what_it_says_and_how_old_it_is(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nerkit.sweep.driver import sweep_lock

    spec = load_spec(write_spec(tmp_path / "spec.toml", toy, '[[tagger]]\nname = "lexicon"\n'))
    out = tmp_path / "runs"
    out.mkdir()
    lock = out / LOCK
    # an empty lock: another sweep has created it and is writing it (an older nerkit
    # wrote the file after creating it); live, until it is older than the grace period
    lock.write_text("")
    with pytest.raises(NerkitError, match="another sweep, whose lock is not written yet,"):
        run_sweep(spec, out)
    old = time.time() - 60
    os.utime(lock, (old, old))
    with sweep_lock(out, spec):
        holder = json.loads(lock.read_text())
        assert holder["pid"] == os.getpid() and holder["token"]
        # held by this process: a second sweep here is refused, and leaves it in place
        with pytest.raises(NerkitError, match="another sweep"), sweep_lock(out, spec):
            pass
        assert json.loads(lock.read_text()) == holder
    assert not lock.exists()
    # a lock naming this process that it did not take: left by an earlier process that
    # had this pid (a container restarted with the same host name and pid)
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "spec": "x"}))
    assert len(run_sweep(spec, out).finished) == 1 and not lock.exists()


def test_a_stale_lock_replaced_meanwhile_by_a_live_one_is_put_back(tmp_path: Path) -> None:
    """Two sweeps may judge the same lock stale: the one that comes second must not
    remove the lock the first took meanwhile."""
    from nerkit.sweep.driver import _remove_stale

    lock = tmp_path / LOCK
    lock.write_text(json.dumps({"pid": 1, "host": "gone"}))
    judged = os.stat(lock)
    taken = tmp_path / "taken"  # another sweep removed the stale lock and took its own
    taken.write_text(json.dumps({"pid": 2, "host": "live", "token": "t"}))
    lock.unlink()
    os.link(taken, lock)
    taken.unlink()
    _remove_stale(lock, judged)
    assert json.loads(lock.read_text())["host"] == "live"
    assert [p.name for p in tmp_path.iterdir()] == [LOCK]
    _remove_stale(lock, os.stat(lock))  # the lock judged stale itself: removed
    assert not list(tmp_path.iterdir())


def test_a_killed_sweep_resumes_where_it_stopped(toy: Path, tmp_path: Path) -> None:
    site = make_plugin(tmp_path / "site", "nerkit_sweepkiller_demo", KILLER_PLUGIN)
    spec = write_spec(tmp_path / "spec.toml", toy, 'seeds = [1, 2]\n[[tagger]]\nname = "killer"\n')
    out = tmp_path / "runs"
    killed = run_nerkit(["sweep", str(spec), "-o", str(out)], path=site, env={"KILL_ON_TEST": "1"})
    assert killed.returncode != 0
    (partial,) = list(p for p in out.iterdir() if p.is_dir())
    assert partial.name.endswith(".partial") and (partial / "tagger").is_dir()
    assert not store.read_failures(partial)  # killed, not failed: resumed without asking

    listing = run_nerkit(["sweep", str(spec), "-o", str(out), "-n"], path=site)
    assert "1 to run, 1 to resume" in listing.stdout, listing.stderr
    resumed = run_nerkit(["sweep", str(spec), "-o", str(out)], path=site)
    assert resumed.returncode == 0, resumed.stderr
    runs = finished(out)
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []
    assert partial.name.removesuffix(".partial") in [r.name for r in runs] and len(runs) == 2

    whole = run_nerkit(["sweep", str(spec), "-o", str(tmp_path / "whole")], path=site)
    assert whole.returncode == 0, whole.stderr
    by_seed = {store.read_table(r, "run").to_pylist()[0]["seed"]: r for r in runs}
    for reference in finished(tmp_path / "whole"):
        seed = store.read_table(reference, "run").to_pylist()[0]["seed"]
        for name in ("predictions", "metrics"):
            assert store.read_table(by_seed[seed], name).equals(store.read_table(reference, name))


def test_a_stored_run_that_cannot_be_read_is_reported_not_run_again(
    toy: Path, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "spec.toml", toy, 'seeds = [1, 2]\n[[tagger]]\nname = "lexicon"\n')
    out = tmp_path / "runs"
    code, output = cli("sweep", str(spec), "-o", str(out))
    assert code == 0, output
    damaged, _ = finished(out)
    sound = (damaged / "run.arrow").read_bytes()
    (damaged / "run.arrow").write_bytes(b"cut short")
    code, listing = cli("sweep", str(spec), "-o", str(out), "--dry-run")
    assert code == 0 and "1 stored already (skipped), 1 unavailable here" in listing
    assert f"stored run {damaged.name} cannot be read (" in listing
    before = snapshot(out)
    code, output = cli("sweep", str(spec), "-o", str(out))
    assert code == 2 and f"stored run {damaged.name} cannot be read" in output
    code, output = cli("sweep", str(spec), "-o", str(out), "--skip-unavailable")
    assert code == 0 and "0 finished, 0 failed, 1 stored already" in output
    assert snapshot(out) == before  # nothing run again, nothing written
    # without the key its sweep kept in it, the sweep cannot tell which run it holds
    (damaged / "sweep.json").unlink()
    before = snapshot(out)
    plan = plan_sweep(load_spec(spec), out)
    assert list(plan.unreadable) == [damaged.name]
    code, output = cli("sweep", str(spec), "-o", str(out))
    assert code == 2 and "1 stored run in" in output and f"{damaged.name}: " in output
    assert snapshot(out) == before
    # a run whose metrics alone are damaged is matched by its run table
    (damaged / "run.arrow").write_bytes(sound)
    (damaged / "metrics.arrow").write_bytes(b"cut short")
    plan = plan_sweep(load_spec(spec), out)
    assert not plan.unreadable and plan.count("unavailable") == 1


def test_folds_that_cannot_train_make_a_sweeps_run_unavailable(toy: Path, tmp_path: Path) -> None:
    """Found when the sweep is planned (a dry run shows it), not by a run that fails at
    every sitting."""
    data = tmp_path / "one-entity"
    data.mkdir()
    for split in ("dev", "test"):
        shutil.copyfile(toy / f"{split}.conll", data / f"{split}.conll")
    train = [f"EU\tB-ORG\nsays\tO\n{word}\tO\n" for word in ("yes", "no", "maybe")]
    (data / "train.conll").write_text("\n".join(train))
    spec = write_spec(
        tmp_path / "spec.toml",
        data,
        'folds = 2\nfold_mode = "entity-disjoint"\n[[tagger]]\nname = "lexicon"\n'
        '[[corrector]]\nname = "none"\n[[corrector]]\nname = "majority"\n',
    )
    out = tmp_path / "runs"
    code, listing = cli("sweep", str(spec), "-o", str(out), "--dry-run")
    assert code == 0 and "1 to run, 1 unavailable here" in listing
    assert "entity-disjoint folds: fold 0 of 2 leaves its tagger no training sentences" in listing
    code, output = cli("sweep", str(spec), "-o", str(out), "--skip-unavailable")
    assert code == 0 and "1 finished, 0 failed" in output
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []


def test_a_run_that_fails_before_it_starts_is_reported_without_a_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A run refused before its start event (a damaged record, a lock another process
    holds) printed "(-0 s)"; one that started says how long it took."""
    from nerkit.cli.sweep_cmd import _Reporter
    from nerkit.pipeline import RunConfig
    from nerkit.sweep.driver import SweepEvent
    from nerkit.sweep.plan import PlannedRun

    run = PlannedRun(1, RunConfig(tagger="lexicon", dataset="toy", seed=2), 1, 0, "lexicon", "-")
    report = _Reporter()
    report(SweepEvent("failed", run, error="NerkitError: refused"))
    assert capsys.readouterr().err == "FAILED #1 toy seed 2 lexicon: NerkitError: refused\n"
    report(SweepEvent("started", run, path=Path("runs/x.partial")))
    report(SweepEvent("failed", run, error="NerkitError: refused"))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "start  #1 toy seed 2 lexicon  (x.partial)"
    assert lines[1] == "FAILED #1 toy seed 2 lexicon  (0 s): NerkitError: refused"
