"""benchmarks/correction.py: processes that share its plan keep out of each other's way."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location(
        "correction_bench", ROOT / "benchmarks" / "correction.py"
    )
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look it up
    spec.loader.exec_module(module)
    cache, results = tmp_path / "cache", tmp_path / "results"
    for name, value in {
        "CACHE": cache,
        "RUNS": cache / "runs",
        "INDEX": cache / "index.json",
        "LOCKS": cache / "locks",
        "RESULTS": results,
        "RESULTS_INDEX": results / "index.json",
    }.items():
        monkeypatch.setattr(module, name, value)
    monkeypatch.setattr(module, "corrector_epochs", lambda: 3)
    return module


def test_a_group_is_held_by_one_claim_at_a_time(bench) -> None:
    onehot = bench.Planned("e3/flair+onehot/s1", "flair", 1, "openner", {"features": "onehot"})
    alone = bench.Planned("e3/flair-alone/s1", "flair", 1)
    other_seed = bench.Planned("e3/flair-alone/s2", "flair", 2)
    held = bench.claim(onehot)
    assert held is not None
    assert bench.claim(alone) is None  # same base tagger and seed: its folds are being made
    beside = bench.claim(other_seed)
    assert beside is not None
    beside.close()
    held.close()  # released, as when the holding process ends
    again = bench.claim(alone)
    assert again is not None
    again.close()


def test_a_process_skips_held_runs_and_waits_when_only_held_ones_remain(
    bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = bench.claim(bench.Planned("e3/flair-alone/s1", "flair", 1))  # "another process"
    ran: list[str] = []
    waits: list[list[str]] = []

    def execute(item, threads) -> None:
        ran.append(item.key)

    def sleep(seconds: float) -> None:
        waits.append(list(ran))
        other.close()  # the other process finishes

    monkeypatch.setattr(bench, "execute", execute)
    monkeypatch.setattr(bench.time, "sleep", sleep)
    monkeypatch.setattr(bench, "report", lambda *args: None)
    only = ["e3/flair-alone/s1", "e3/flair+onehot/s1", "e3/flair-alone/s2"]
    assert bench.main([arg for key in only for arg in ("--only", key)]) == 0
    # seed 1 was held: seed 2 first, then a wait, then seed 1's runs in plan order
    assert ran == ["e3/flair-alone/s2", "e3/flair-alone/s1", "e3/flair+onehot/s1"]
    assert waits == [["e3/flair-alone/s2"]]


def test_the_other_mode_for_later_seeds_is_chosen_on_dev_not_test(
    bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    f1 = {  # add looks better on test, concat is better on dev
        ("run-add", "dev"): 0.58,
        ("run-add", "test"): 0.46,
        ("run-concat", "dev"): 0.59,
        ("run-concat", "test"): 0.44,
    }
    monkeypatch.setattr(bench, "split_f1", lambda run, split, stage: f1[run.name, split])
    results = {"e3/flair+add/s1": "run-add", "e3/flair+concat/s1": "run-concat"}
    assert bench.best_other_mode(results, 3) is None  # neither is exported yet
    (bench.RESULTS / "run-add").mkdir(parents=True)
    assert bench.best_other_mode(results, 3) is None  # concat is not finished
    (bench.RESULTS / "run-concat").mkdir()
    assert bench.best_other_mode(results, 3) == "concat"
    f1["run-concat", "dev"] = 0.58  # a tie goes to add
    assert bench.best_other_mode(results, 3) == "add"


def test_a_plan_is_named_by_its_corrector_epochs_and_states_them(bench) -> None:
    """Runs of a plan with other corrector epochs are another plan's: none is skipped or
    mixed into its table because a default changed."""
    (bench.RESULTS / "run-a").mkdir(parents=True)
    results = {"e3/flair+onehot/s1": "run-a"}
    ten = bench.plan(results, 10)
    assert all(item.key.startswith("e10/") for item in ten)
    assert bench.finished(results.get(ten[1].key)) is None
    by_key = {item.key: item for item in ten}
    assert by_key["e10/flair+onehot/s1"].corrector_options == {"features": "onehot", "epochs": 10}
    assert by_key["e10/bert-alone/s2"].tagger_options == {"epochs": 10}
    assert by_key["e10/flair-alone/s1"].corrector is None
    assert bench.label(by_key["e10/flair+add/s1"].config) == "flair+add"
    assert [item.key for item in bench.plan(results, 3)][1] == "e3/flair+onehot/s1"


def test_a_plan_of_entity_disjoint_folds_shares_the_taggers_alone(bench) -> None:
    """--fold-mode entity-disjoint is a plan of its own for the correctors (their runs
    state the mode) and the random plan's for the taggers alone, which have no folds."""
    results: dict[str, str] = {}
    disjoint = {item.key: item for item in bench.plan(results, 10, "entity-disjoint")}
    assert disjoint["e10-ed/flair+onehot/s2"].fold_mode == "entity-disjoint"
    assert disjoint["e10-ed/bert+onehot/s1"].fold_mode == "entity-disjoint"
    assert disjoint["e10/flair-alone/s1"].fold_mode == "random"
    assert disjoint["e10/bert-alone/s3"].corrector is None
    assert not any(key.startswith("e10/flair+") for key in disjoint)
    assert bench.label(disjoint["e10-ed/flair+add/s1"].config) == "flair+add"
    random_plan = {item.key for item in bench.plan(results, 10)}
    assert "e10/flair+onehot/s1" in random_plan and "e10-ed/flair+onehot/s1" not in random_plan


def test_a_named_plan_runs_everything_anew(bench) -> None:
    """--name reruns the whole plan, the taggers alone included: no run of the plan it
    repeats is skipped or counted in its table, and its other mode is its own choice."""
    for run in ("run-a", "run-b", "run-c"):
        (bench.RESULTS / run).mkdir(parents=True)
    results = {
        "e10/flair-alone/s1": "run-a",
        "e10/flair+add/s1": "run-b",
        "e10/flair+concat/s1": "run-c",
    }
    named = bench.plan(results, 10, name="r2")
    assert all(item.key.startswith("e10@r2/") for item in named)
    assert all(bench.finished(results.get(item.key)) is None for item in named)
    assert bench.best_other_mode(results, 10, name="r2") is None
    keys = {item.key for item in named}
    assert "e10@r2/flair-alone/s1" in keys and "e10@r2/bert-alone/s3" in keys
    assert "e10-ed@r2/flair+onehot/s1" in {
        i.key for i in bench.plan({}, 10, "entity-disjoint", "r2")
    }
    assert bench.label("e10@r2/flair+add") == "flair+add"
    with pytest.raises(SystemExit):
        bench.main(["--report", "--name", "../x"])


def test_an_unfinished_run_of_other_code_is_left_and_its_item_started_anew(
    bench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sitting at a later commit cannot finish a run whose folds older code made
    (the pipeline refuses to mix them): the item starts again as a new run."""
    from nerkit import pipeline

    item = bench.Planned("e3/flair-alone/s1", "flair", 1)
    (bench.RUNS / "old.partial").mkdir(parents=True)
    bench.write_index(bench.INDEX, {item.key: "old"})
    executed: list[str] = []

    class Stale:
        def execute(self) -> None:
            raise pipeline.CodeChangedError("run old: the code changed since the run began")

    class Fresh:
        def execute(self) -> None:
            executed.append("new")

    monkeypatch.setattr(pipeline.Run, "resume", classmethod(lambda cls, out, run_id: Stale()))
    monkeypatch.setattr(bench, "start_new", lambda item, threads: Fresh())
    bench.execute(item, threads=1)
    assert executed == ["new"]
    assert (bench.RUNS / "old.partial").is_dir()  # left where it was
    assert "the code changed since the run began; started anew" in capsys.readouterr().out
