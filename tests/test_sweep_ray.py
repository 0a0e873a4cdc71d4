"""`nerkit sweep --executor ray` on a local Ray instance stores the runs the local
executor stores: same configs, same predictions, same scores."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_utils import make_plugin
from test_sweep import MajorityPlugin, SweepTestPlugin

from nerkit import store
from nerkit.plugin import get_host
from nerkit.sweep import load_spec, run_sweep

ray = pytest.importorskip("ray", reason="the ray executor needs ray: pip install 'nerkit[ray]'")

# Ray's workers are other processes: they find the test components through an entry point.
PLUGIN = """
from fakes import MajorityCorrector
from nerkit.plugin import hookimpl
from test_sweep import BoomTagger


@hookimpl
def register_taggers(register):
    register("boom.tagger.v1", BoomTagger)


@hookimpl
def register_correctors(register):
    register("majority.corrector.v1", MajorityCorrector)
"""


@pytest.fixture
def local_ray(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = make_plugin(tmp_path / "site", "nerkit_sweep_test_demo", PLUGIN)
    inherited = os.environ.get("PYTHONPATH", "")
    path = os.pathsep.join([str(site), str(Path(__file__).parent), inherited]).rstrip(os.pathsep)
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    host = get_host()
    if "boom" not in host.registry("tagger"):
        host.add(SweepTestPlugin(), name="test-sweep")
    if "majority" not in host.registry("corrector"):
        host.add(MajorityPlugin(), name="test-majority")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    try:
        yield
    finally:
        ray.shutdown()


def by_config(out: Path) -> dict[str, Path]:
    runs = {}
    for summary in store.list_runs(out):
        if not summary.complete:
            continue
        row = store.read_table(summary.path, "run").to_pylist()[0]
        runs[row["config"]] = summary.path
    return runs


def without(row: dict, *keys: str) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def test_ray_sweep_stores_the_runs_the_local_executor_stores(
    local_ray: None, toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(
        f'name = "ray-equality"\ndatasets = ["{toy.as_posix()}"]\nseeds = [1, 2]\nfolds = 3\n'
        '[[tagger]]\nname = "lexicon"\noptions = { case_sensitive = false }\n'
        '[[tagger]]\nname = "boom"\n'
        '[[corrector]]\nname = "none"\n[[corrector]]\nname = "majority"\n'
    )
    spec = load_spec(spec_path)
    on_ray = run_sweep(spec, tmp_path / "ray", executor="ray")
    assert ray.is_initialized()  # the sweep used the instance it found, and left it running
    # the ray sweep's driver filled the fold cache; the local sweep starts from nothing too
    assert len(list((tmp_path / "cache" / "folds").iterdir())) == 2  # one per seed
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "local-cache"))
    local = run_sweep(spec, tmp_path / "local", executor="local")
    assert len(on_ray.finished) == len(local.finished) == 4
    # the boom tagger's runs failed, in the run's task or in a fold's; recorded, not stored
    for outcome in (on_ray, local):
        assert sorted(r.config.tagger for r in outcome.failed) == ["boom"] * 4
        for run in outcome.failed:
            assert run.error.endswith("RuntimeError: boom on purpose")
            partial = store.run_dir(outcome.plan.out, run.run_id, partial=True)
            (attempt,) = store.read_failures(partial)
            assert attempt["error"] == run.error and "boom on purpose" in attempt["traceback"]
    assert sum(r.error.startswith("fold ") for r in on_ray.failed) == 2

    # again on Ray: the stored runs are skipped and left alone; the failed ones, asked to,
    # are resumed in their own folders and fail again, both attempts recorded
    stored = {p: p.stat().st_mtime_ns for p in (tmp_path / "ray").rglob("*") if p.is_file()}
    again = run_sweep(spec, tmp_path / "ray", executor="ray", retry_failed=True)
    assert not again.finished
    assert sorted(r.run_id for r in again.failed) == sorted(r.run_id for r in on_ray.failed)
    for run in again.failed:
        partial = store.run_dir(again.plan.out, run.run_id, partial=True)
        attempts = store.read_failures(partial)
        assert attempts[-1]["error"] == run.error and len(attempts) == 2
        # which fold fails first is up to Ray's scheduling
        assert all(a["error"].endswith("RuntimeError: boom on purpose") for a in attempts)
    assert {p: t for p, t in stored.items() if ".partial" not in str(p.relative_to(tmp_path))} == {
        p: p.stat().st_mtime_ns for p in stored if ".partial" not in str(p.relative_to(tmp_path))
    }

    ray_runs, local_runs = by_config(tmp_path / "ray"), by_config(tmp_path / "local")
    assert set(ray_runs) == set(local_runs) and len(ray_runs) == 4
    for config, ray_run in ray_runs.items():
        local_run = local_runs[config]
        for name in ("predictions", "metrics"):
            assert store.read_table(ray_run, name).equals(store.read_table(local_run, name))
        ray_row = store.read_table(ray_run, "run").to_pylist()[0]
        local_row = store.read_table(local_run, "run").to_pylist()[0]
        assert without(ray_row, "run_id", "created_utc", "extra", "versions") == without(
            local_row, "run_id", "created_utc", "extra", "versions"
        )
        # the versions where the run ran: the same, but for how the test plugin is found
        ray_versions, local_versions = (
            {k: v for k, v in json.loads(row["versions"]).items() if "sweep" not in k}
            for row in (ray_row, local_row)
        )
        assert ray_versions == local_versions and "plugin:lexicon" in ray_versions
        ray_extra, local_extra = json.loads(ray_row["extra"]), json.loads(local_row["extra"])
        assert (
            ray_extra["sweep"]["executor"] == "ray" and local_extra["sweep"]["executor"] == "local"
        )
        assert ray_extra["sweep"]["threads"] == json.loads(config)["threads"] == 1
        assert without(ray_extra, "sweep", "base_from", "time") == without(
            local_extra, "sweep", "base_from", "time"
        )
        # the time the run took, its folds' tasks on Ray included
        for extra in (ray_extra, local_extra):
            spent = extra["time"]
            assert spent["sittings"] == 1 and spent["wall_s"] > 0
            assert spent["cpu_s"] == pytest.approx(
                sum(step["cpu_s"] for step in spent["steps"].values()), abs=0.01
            )
            steps = {"load", "tagger", "predict", "score"}
            if json.loads(config)["corrector"]:
                steps |= {"folds", "corrector", "correct"}
            assert set(spent["steps"]) == steps
        if json.loads(config)["corrector"]:
            # the base tagger is the one the sweep's run without a corrector trained
            for out, extra in (("ray", ray_extra), ("local", local_extra)):
                base = tmp_path / out / extra["base_from"]
                base_config = json.loads(store.read_table(base, "run").to_pylist()[0]["config"])
                expected = json.loads(config) | {"corrector": None, "corrector_options": {}}
                unrelated = ("command", "folds", "fold_mode", "cache")
                assert without(base_config, *unrelated) == without(expected, *unrelated)
        else:
            assert "base_from" not in ray_extra and "base_from" not in local_extra
        assert without(ray_extra["sweep"], "executor", "host") == without(
            local_extra["sweep"], "executor", "host"
        )
        if json.loads(config)["corrector"]:
            # each fold came back from its own task and was stored by the driver
            assert ray_extra["folds"]["reused"] == local_extra["folds"]["reused"] == 0
            folds = sorted(p.name for p in (ray_run / "folds").iterdir())
            assert folds == ["fold-0.arrow", "fold-1.arrow", "fold-2.arrow"]
            for fold in folds:
                assert (ray_run / "folds" / fold).read_bytes() == (
                    local_run / "folds" / fold
                ).read_bytes()
        # the model is stored as the local executor stores it
        assert sorted(p.name for p in ray_run.rglob("*")) == sorted(
            p.name for p in local_run.rglob("*")
        )
