"""Folds, out-of-fold predictions, and runs with a corrector (base and corrected stages)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from fakes import MajorityCorrector
from typer.testing import CliRunner

from nerkit import store
from nerkit.cli.app import app
from nerkit.errors import ConfigError
from nerkit.folds import make_folds, out_of_fold, surface_forms
from nerkit.interfaces import RunContext
from nerkit.io import read
from nerkit.plugin import get_host, hookimpl
from nerkit.testing import toy_corpus
from nerkit.types import Sentence
from nerkit_lexicon.tagger import LexiconTagger

TRAIN = list(toy_corpus()["train"])


@pytest.mark.parametrize("mode", ["random", "entity-disjoint"])
@pytest.mark.parametrize("k", [2, 5])
def test_folds_hold_out_every_sentence_exactly_once(mode: str, k: int) -> None:
    folds = make_folds(TRAIN, k, seed=3, mode=mode)
    held = sorted(j for f in folds for j in f.held_out)
    assert held == list(range(len(TRAIN)))
    for f in folds:
        assert not set(f.held_out) & set(f.train)
    assert make_folds(TRAIN, k, seed=3, mode=mode) == folds  # seeded


def test_entity_disjoint_folds_share_no_surface_form() -> None:
    folds = make_folds(TRAIN, 3, seed=1, mode="entity-disjoint")
    random_folds = make_folds(TRAIN, 3, seed=1, mode="random")
    for f in folds:
        held = set().union(*(surface_forms(TRAIN[j], "IOB2") for j in f.held_out))
        trained = set().union(*(surface_forms(TRAIN[j], "IOB2") for j in f.train))
        assert not held & trained
    assert sum(len(f.train) for f in folds) < sum(len(f.train) for f in random_folds)


def test_bad_fold_settings() -> None:
    with pytest.raises(ConfigError, match="between 2 and"):
        make_folds(TRAIN, 1)
    with pytest.raises(ConfigError, match="unknown fold mode"):
        make_folds(TRAIN, 2, mode="stratified")


class CountingTagger(LexiconTagger):
    fits = 0

    def fit(
        self, train: Sequence[Sentence], dev: Sequence[Sentence] | None = None, **kwargs
    ) -> None:  # type: ignore[no-untyped-def, override]
        CountingTagger.fits += 1
        super().fit(train, dev, **kwargs)


def test_out_of_fold_predictions_are_stored_per_fold_and_cached(tmp_path: Path) -> None:
    folds = make_folds(TRAIN, 3, seed=2)
    CountingTagger.fits = 0
    first = out_of_fold(
        CountingTagger,
        TRAIN,
        folds,
        scheme="IOB2",
        context=RunContext(seed=2),
        directory=tmp_path / "a",
        cache=tmp_path / "cache",
    )
    assert CountingTagger.fits == 3
    assert [len(p.tags) for p in first] == [len(s) for s in TRAIN]
    # a held-out sentence was predicted by a tagger that never saw it
    for f in folds:
        tagger = LexiconTagger()
        tagger.fit([TRAIN[j] for j in f.train], scheme="IOB2")
        assert [p.tags for p in tagger.predict([TRAIN[j] for j in f.held_out])] == [
            first[j].tags for j in f.held_out
        ]
    # resumed: the stored folds are read, nothing is trained
    assert (
        out_of_fold(
            CountingTagger,
            TRAIN,
            folds,
            scheme="IOB2",
            context=RunContext(seed=2),
            directory=tmp_path / "a",
        )
        == first
    )
    assert CountingTagger.fits == 3
    # another run, same key: the cache serves all folds
    again = out_of_fold(
        CountingTagger,
        TRAIN,
        folds,
        scheme="IOB2",
        context=RunContext(seed=2),
        directory=tmp_path / "b",
        cache=tmp_path / "cache",
    )
    assert again == first and CountingTagger.fits == 3


class MajorityPlugin:
    @hookimpl
    def register_correctors(self, register):  # type: ignore[no-untyped-def]
        register("majority.corrector.v1", MajorityCorrector)


def test_run_with_a_corrector_stores_both_stages_and_reuses_cached_folds(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    host = get_host()
    if "majority" not in host.registry("corrector"):
        host.add(MajorityPlugin(), name="test-majority")
    out = tmp_path / "runs"
    args = [
        "run",
        "-t",
        "lexicon",
        "-c",
        "majority",
        "-d",
        str(toy),
        "--folds",
        "3",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (run,) = [p for p in out.iterdir()]
    assert (run / "tagger").is_dir() and (run / "corrector").is_dir()
    assert sorted(p.name for p in (run / "folds").iterdir()) == [
        "fold-0.arrow",
        "fold-1.arrow",
        "fold-2.arrow",
    ]
    metrics = store.read_table(run, "metrics").to_pylist()
    stages = {(r["split"], r["stage"]) for r in metrics}
    assert stages == {
        ("dev", "base"),
        ("dev", "corrected"),
        ("test", "base"),
        ("test", "corrected"),
    }
    assert any(r["metric"] == "corrected_tags" for r in metrics)
    row = store.read_table(run, "run").to_pylist()[0]
    assert row["corrector"] == "majority.corrector.v1"
    predictions = store.read_table(run, "predictions")
    assert set(predictions.column("stage").to_pylist()) == {"base", "corrected"}
    # predict --run gives the stored corrected test predictions
    target = tmp_path / "predicted.conll"
    done = CliRunner().invoke(
        app, ["predict", "--run", str(run), str(toy / "test.conll"), "-o", str(target)]
    )
    assert done.exit_code == 0, done.output
    rows = [
        r for r in predictions.to_pylist() if r["split"] == "test" and r["stage"] == "corrected"
    ]
    stored: dict[int, list[str]] = {}
    for r in rows:
        stored.setdefault(r["sentence"], []).append(r["predicted"])
    assert [list(s.tags) for s in read(target).sentences] == [stored[i] for i in sorted(stored)]
    assert len(list((tmp_path / "cache").iterdir())) == 1  # the folds, cached once
    assert json.loads(row["extra"])["folds"]["reused"] == 0
    # a second corrector run on the same base retrains no fold
    second = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "runs2")])
    assert second.exit_code == 0, second.output
    (run2,) = [p for p in (tmp_path / "runs2").iterdir()]
    extra = json.loads(store.read_table(run2, "run").to_pylist()[0]["extra"])
    assert extra["folds"]["reused"] == 3
    for i in range(3):
        assert (run2 / "folds" / f"fold-{i}.arrow").read_bytes() == (
            run / "folds" / f"fold-{i}.arrow"
        ).read_bytes()


def test_unknown_corrector_lists_the_known_ones(toy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "-t", "lexicon", "-c", "nosuch", "-d", str(toy), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "unknown corrector 'nosuch'" in result.output


FOLD_KILLER = """
import os
import signal
from pathlib import Path

from fakes import MajorityCorrector
from nerkit.plugin import hookimpl
from nerkit_lexicon.tagger import LexiconTagger


class FoldKiller(LexiconTagger):
    # the lexicon tagger, killed (SIGKILL) when it starts its second fit, if asked

    def fit(self, train, dev=None, **kwargs):
        counter = os.environ.get("FIT_COUNTER")
        if counter:
            path = Path(counter)
            fits = int(path.read_text()) + 1 if path.exists() else 1
            path.write_text(str(fits))
            if fits == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        super().fit(train, dev, **kwargs)


@hookimpl
def register_taggers(register):
    register("foldkiller.tagger.v1", FoldKiller)


@hookimpl
def register_correctors(register):
    register("majority.corrector.v1", MajorityCorrector)
"""


def test_a_run_killed_during_the_folds_resumes_to_the_same_result(
    toy: Path, tmp_path: Path
) -> None:
    from plugin_utils import make_plugin, run_nerkit

    site = make_plugin(tmp_path / "site", "nerkit_foldkiller_demo", FOLD_KILLER)
    path = f"{site}{__import__('os').pathsep}{Path(__file__).parent}"
    env = {"NERKIT_CACHE_DIR": str(tmp_path / "cache")}
    args = ["run", "-t", "foldkiller", "-c", "majority", "-d", str(toy), "--folds", "3"]
    killed = run_nerkit(
        [*args, "-o", str(tmp_path / "runs")],
        path=Path(path),
        env=env | {"FIT_COUNTER": str(tmp_path / "fits")},
    )
    assert killed.returncode != 0
    (partial,) = list((tmp_path / "runs").iterdir())
    assert partial.name.endswith(".partial")
    assert [p.name for p in (partial / "folds").iterdir()] == ["fold-0.arrow"]
    resumed = run_nerkit(
        ["run", "--resume", partial.name.removesuffix(".partial"), "-o", str(tmp_path / "runs")],
        path=Path(path),
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr
    whole = run_nerkit(
        [*args, "-o", str(tmp_path / "whole"), "--no-cache"], path=Path(path), env=env
    )
    assert whole.returncode == 0, whole.stderr
    (finished,) = list((tmp_path / "runs").iterdir())
    (reference,) = list((tmp_path / "whole").iterdir())
    for name in ("predictions", "metrics"):
        assert store.read_table(finished, name).equals(store.read_table(reference, name))
