"""Folds, out-of-fold predictions, and runs with a corrector (base and corrected stages)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
from nerkit.options import option
from nerkit.plugin import get_host, hookimpl
from nerkit.testing import toy_corpus
from nerkit.types import Prediction, Sentence
from nerkit_lexicon.tagger import LexiconOptions, LexiconTagger

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


@pytest.fixture
def majority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``majority`` test corrector registered; the fold cache in ``tmp_path``."""
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    host = get_host()
    if "majority" not in host.registry("corrector"):
        host.add(MajorityPlugin(), name="test-majority")


def test_run_with_a_corrector_stores_both_stages_and_reuses_cached_folds(
    toy: Path, tmp_path: Path, majority: None
) -> None:
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
    assert len(list((tmp_path / "cache" / "folds").iterdir())) == 1  # the folds, cached once
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
    # another dev set (the fold taggers may stop early on it): not the cached folds
    third = CliRunner().invoke(
        app, [*args[:-1], str(tmp_path / "runs3"), "--max-dev-sentences", "1"]
    )
    assert third.exit_code == 0, third.output
    (run3,) = [p for p in (tmp_path / "runs3").iterdir()]
    assert json.loads(store.read_table(run3, "run").to_pylist()[0]["extra"])["folds"]["reused"] == 0
    assert len(list((tmp_path / "cache" / "folds").iterdir())) == 2


class ReportingTagger(CountingTagger):
    """Counts its trainings, notes what it tags and, like the neural taggers, reports
    stats and a curve."""

    tagged: list[tuple[tuple[str, ...], ...]] = []

    def predict(self, sentences, **kwargs):  # type: ignore[no-untyped-def, override]
        ReportingTagger.tagged.append(tuple(tuple(s.tokens) for s in sentences))
        return super().predict(sentences, **kwargs)

    def fit(self, train, dev=None, *, context=None, **kwargs):  # type: ignore[no-untyped-def, override]
        super().fit(train, dev, context=context, **kwargs)
        self.stats = {"sentences": len(train)}
        if context is not None and context.curve is not None:
            context.curve(1, 7, "dev", "f1", 0.25)


class ReportingPlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("reporting.tagger.v1", ReportingTagger)


def test_a_correction_run_reuses_the_base_tagger_a_finished_run_trained(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, majority: None
) -> None:
    host = get_host()
    if "reporting" not in host.registry("tagger"):
        host.add(ReportingPlugin(), name="test-reporting")
    out = tmp_path / "runs"
    base = ["run", "-t", "reporting", "-d", str(toy), "--seed", "5", "-o", str(out)]
    corrected = [*base, "-c", "majority", "--folds", "3"]

    def invoke(args: list[str]) -> tuple[Path, dict]:  # type: ignore[type-arg]
        before = {p.name for p in out.iterdir()} if out.is_dir() else set()
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        (run,) = [p for p in out.iterdir() if p.name not in before]
        return run, store.read_table(run, "run").to_pylist()[0]

    def base_stage(run: Path) -> list[tuple[str, str]]:
        rows = store.read_table(run, "predictions").to_pylist()
        return [(r["split"], r["predicted"]) for r in rows if r["stage"] == "base"]

    corpus = toy_corpus()
    evaluated = {tuple(tuple(s.tokens) for s in corpus[split]) for split in ("dev", "test")}
    CountingTagger.fits = 0
    alone, alone_row = invoke(base)
    assert CountingTagger.fits == 1
    assert (alone / "raw-dev.arrow").is_file() and (alone / "raw-test.arrow").is_file()
    # a correction run beside it trains the folds only: the base is the finished run's,
    # and so are its dev and test predictions (it tags only the held-out folds)
    ReportingTagger.tagged = []
    run, row = invoke(corrected)
    assert CountingTagger.fits == 1 + 3
    assert len(ReportingTagger.tagged) == 3 and not evaluated & set(ReportingTagger.tagged)
    assert not list(run.glob("raw-*.arrow"))  # a correction run keeps none
    extra, alone_extra = json.loads(row["extra"]), json.loads(alone_row["extra"])
    assert extra["base_from"] == alone.name and extra["base_predictions"] == ["dev", "test"]
    assert extra["tagger"] == alone_extra["tagger"] == {"sentences": len(TRAIN)}
    assert base_stage(run) == base_stage(alone)
    for path in (alone / "tagger").rglob("*"):
        if path.is_file():
            copy = run / "tagger" / path.relative_to(alone / "tagger")
            assert copy.read_bytes() == path.read_bytes()
    assert (
        store.read_table(run, "curves").to_pylist() == store.read_table(alone, "curves").to_pylist()
    )
    assert not (run / "base.json").exists()
    # killed after the copy (here: the corrector fails), the resumed run still has the
    # copied base, its stats and where it came from
    fits = CountingTagger.fits

    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(MajorityCorrector, "fit", fail)
        assert CliRunner().invoke(app, corrected).exit_code != 0
    (partial,) = [p for p in out.iterdir() if p.name.endswith(".partial")]
    assert (partial / "base.json").is_file() and (partial / "tagger").is_dir()
    resumed = CliRunner().invoke(app, ["run", "--resume", partial.name[:-8], "-o", str(out)])
    assert resumed.exit_code == 0, resumed.output
    done = out / partial.name[:-8]
    extra = json.loads(store.read_table(done, "run").to_pylist()[0]["extra"])
    assert extra["base_from"] == alone.name and extra["tagger"] == alone_extra["tagger"]
    assert base_stage(done) == base_stage(alone) and CountingTagger.fits == fits
    # what would train differently is trained: another seed, other options, --no-cache
    for args in (
        [*corrected[:6], "6", *corrected[7:]],
        [*corrected, "-T", "case_sensitive=false"],
        [*corrected, "--no-cache"],
    ):
        fits = CountingTagger.fits
        ReportingTagger.tagged = []
        _, other = invoke(args)
        assert "base_from" not in json.loads(other["extra"]), args
        assert "base_predictions" not in json.loads(other["extra"]), args
        assert CountingTagger.fits == fits + 3 + 1, args  # its folds and its base
        assert evaluated <= set(ReportingTagger.tagged), args  # and it tags dev and test


@dataclass(frozen=True, slots=True)
class NotesOptions(LexiconOptions):
    notes: Path | None = option(None, "a file the tagger reads (a label map, a model)")


class NotesTagger(CountingTagger):
    """A tagger one of whose options names a file (as a label map or a model used as
    it is does): the file's contents decide what it predicts, its name does not."""

    options_class = NotesOptions


class NotesPlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("notes.tagger.v1", NotesTagger)


@pytest.fixture
def notes_tagger(majority: None) -> None:
    """The ``notes`` test tagger registered (and the ``majority`` corrector)."""
    host = get_host()
    if "notes" not in host.registry("tagger"):
        host.add(NotesPlugin(), name="test-notes")


def test_a_changed_file_an_option_names_is_never_taken_for_the_same(
    toy: Path, tmp_path: Path, notes_tagger: None
) -> None:
    notes = tmp_path / "notes.tsv"
    notes.write_text("PER\tperson\n", encoding="utf-8")
    out = tmp_path / "runs"
    base = ["run", "-t", "notes", "-d", str(toy), "-o", str(out), "-T", f"notes={notes}"]
    corrected = [*base, "-c", "majority", "--folds", "2"]

    def invoke(args: list[str]) -> dict:  # type: ignore[type-arg]
        before = {p.name for p in out.iterdir()} if out.is_dir() else set()
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        (run,) = [p for p in out.iterdir() if p.name not in before]
        return json.loads(store.read_table(run, "run").to_pylist()[0]["extra"])

    alone = invoke(base)
    assert set(alone["option_files"]) == {"notes"}
    first = invoke(corrected)
    assert "base_from" in first and first["folds"]["reused"] == 0
    again = invoke(corrected)
    assert "base_from" in again and again["folds"]["reused"] == 2
    # the same name, other contents: neither the trained base nor the folds are reused
    notes.write_text("PER\tpeople\n", encoding="utf-8")
    changed = invoke(corrected)
    assert "base_from" not in changed and changed["folds"]["reused"] == 0
    assert changed["option_files"] != alone["option_files"]


def test_option_files_finds_paths_in_lists_and_after_a_kind(tmp_path: Path) -> None:
    from nerkit.pipeline import option_files

    vectors = tmp_path / "vectors.txt"
    vectors.write_text("1 1\na 0.5\n", encoding="utf-8")
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "sub" / "w.bin").write_bytes(b"1")
    found = option_files(
        {
            "embeddings": f"word:{vectors},char",
            "model": str(model),
            "stack": [f"word:{vectors}", "onehot"],
            "lr": "0.1",
            "name": "",
        }
    )
    assert set(found) == {f"embeddings[word:{vectors}]", "model", f"stack[word:{vectors}]"}
    (model / "sub" / "w.bin").write_bytes(b"2")
    assert option_files({"model": str(model)})["model"] != found["model"]
    # gensim keeps a file's vectors beside it: they count with it
    kv = tmp_path / "v.kv"
    kv.write_bytes(b"header")
    (tmp_path / "v.kv.vectors.npy").write_bytes(b"1")
    before = option_files({"embeddings": f"word:{kv}"})
    (tmp_path / "v.kv.vectors.npy").write_bytes(b"2")
    assert option_files({"embeddings": f"word:{kv}"}) != before
    # a plain word or "." that names something in the current folder is no path
    monkey = tmp_path / "cwd"
    (monkey / "transformer").mkdir(parents=True)
    os.chdir(monkey)
    try:
        assert option_files({"embeddings": "transformer,char", "x": ".", "lr": "0.1"}) == {}
        # unless the option is declared a path: typed Path, or option(..., path=True)
        assert set(option_files({"label_map": "transformer"}, {"label_map"})) == {"label_map"}
        from nerkit.pipeline import RunConfig, tagger_option_files

        config = RunConfig(tagger="bert", dataset="x", tagger_options={"model": "transformer"})
        assert set(tagger_option_files(get_host(), config)) == {"model"}
    finally:
        os.chdir(tmp_path)


def test_a_resume_after_an_option_s_file_changed_is_refused(
    toy: Path, tmp_path: Path, notes_tagger: None
) -> None:
    from nerkit.errors import NerkitError
    from nerkit.pipeline import Run, RunConfig

    notes = tmp_path / "notes.tsv"
    notes.write_text("a\n", encoding="utf-8")
    config = RunConfig(tagger="notes", dataset=str(toy), tagger_options={"notes": str(notes)})
    run = Run.create(tmp_path / "runs", config)
    notes.write_text("b\n", encoding="utf-8")
    with pytest.raises(NerkitError, match="what tagger option notes names changed"):
        Run.resume(tmp_path / "runs", run.run_id).execute()
    notes.write_text("a\n", encoding="utf-8")  # restored: it finishes
    done = Run.resume(tmp_path / "runs", run.run_id).execute()
    extra = json.loads(store.read_table(done, "run").to_pylist()[0]["extra"])
    assert set(extra["option_files"]) == {"notes"}


def test_a_correction_run_on_other_test_data_tags_test_itself(
    toy: Path, tmp_path: Path, majority: None
) -> None:
    """The base tagger is reused (same train and dev), its test predictions are not: the
    finished run scored another test set."""
    host = get_host()
    if "reporting" not in host.registry("tagger"):
        host.add(ReportingPlugin(), name="test-reporting")
    other = tmp_path / "other"
    shutil.copytree(toy, other)
    test_file = next(p for p in other.iterdir() if "test" in p.name)
    lines = test_file.read_text().splitlines()
    test_file.write_text("\n".join(lines[: lines.index("") + 1]) + "\n")  # one sentence
    out = tmp_path / "runs"
    for folder, corrector in ((toy, []), (other, ["-c", "majority", "--folds", "2"])):
        args = ["run", "-t", "reporting", "-d", str(folder), "--seed", "5", "-o", str(out)]
        result = CliRunner().invoke(app, [*args, *corrector])
        assert result.exit_code == 0, result.output
    (run,) = [r for r in store.list_runs(out) if r.corrector]
    extra = json.loads(store.read_table(run.path, "run")["extra"][0].as_py())
    assert "base_from" in extra and extra["base_predictions"] == ["dev"]
    rows = store.read_table(run.path, "predictions").to_pylist()
    assert {r["split"] for r in rows if r["stage"] == "base"} == {"dev", "test"}


def test_unknown_corrector_lists_the_known_ones(toy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "-t", "lexicon", "-c", "nosuch", "-d", str(toy), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "unknown corrector 'nosuch'" in result.output


FOLD_KILLER = """
import os
import signal
from dataclasses import replace
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
    # the fold it trained before it was killed is its own, not one taken from a cache
    extra = json.loads(store.read_table(finished, "run").to_pylist()[0]["extra"])
    assert extra["folds"]["reused"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--folds", "1"], "folds must be at least 2, not 1"),
        (["--folds", "1000"], "at most the number of training sentences (27 in"),
        (["--max-train-sentences", "1"], "(1 in"),
        (["--fold-mode", "bad"], "unknown fold mode 'bad'"),
    ],
)
def test_folds_the_training_data_cannot_fill_leave_no_unfinished_run(
    toy: Path, tmp_path: Path, majority: None, args: list[str], message: str
) -> None:
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["run", "-t", "lexicon", "-c", "majority", "-d", str(toy), "-o", str(out), *args]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


class CurveTagger(LexiconTagger):
    """The lexicon tagger; as the run's tagger (not a fold's) it draws a curve of two
    points, then stops as at Ctrl-C when ``interrupt`` is set (once)."""

    interrupt = False

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        if context is not None and context.work_dir is not None:
            for epoch in (1, 2):
                context.curve(epoch, epoch, "dev", "f1", epoch / 10)
            if type(self).interrupt:
                type(self).interrupt = False
                raise KeyboardInterrupt
        super().fit(train, dev, scheme=scheme, context=context)


class CurveCorrector(MajorityCorrector):
    """The majority corrector, drawing a curve of three points first; then it stops as
    at Ctrl-C when ``interrupt`` is set (once)."""

    interrupt = False

    def fit(
        self,
        train: Sequence[Sentence],
        train_predictions: Sequence[Prediction],
        dev: Sequence[Sentence] | None = None,
        dev_predictions: Sequence[Prediction] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        assert context is not None
        for epoch in (1, 2, 3):
            context.curve(epoch, 10 * epoch, "dev", "loss", 1 / epoch)
        if type(self).interrupt:
            type(self).interrupt = False
            raise KeyboardInterrupt
        super().fit(train, train_predictions, dev, dev_predictions, scheme=scheme, context=context)


class CurvePlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("curvetagger.tagger.v1", CurveTagger)

    @hookimpl
    def register_correctors(self, register):  # type: ignore[no-untyped-def]
        register("curvy.corrector.v1", CurveCorrector)


@pytest.mark.parametrize("stage", ["tagger", "corrector"])
def test_a_stage_trained_again_on_resume_stores_its_curve_once(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """The points a killed fit drew are dropped when its stage trains again: the resumed
    run's curves are those of a run never stopped."""
    from nerkit.pipeline import Run, RunConfig

    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    host = get_host()
    if "curvy" not in host.registry("corrector"):
        host.add(CurvePlugin(), name="test-curves")
    monkeypatch.setattr(
        {"tagger": CurveTagger, "corrector": CurveCorrector}[stage], "interrupt", True
    )
    config = RunConfig(
        tagger="curvetagger", corrector="curvy", dataset=str(toy), folds=2, cache=False
    )
    run = Run.create(tmp_path / "runs", config)
    with pytest.raises(KeyboardInterrupt):
        run.execute()
    assert (run.dir / "tagger").is_dir() == (stage == "corrector")  # stopped in that stage
    finished = Run.resume(tmp_path / "runs", run.run_id).execute()
    points = [(p["epoch"], p["metric"]) for p in store.read_table(finished, "curves").to_pylist()]
    assert points == [(1, "f1"), (2, "f1"), (1, "loss"), (2, "loss"), (3, "loss")]
    assert not list(finished.glob("*.jsonl"))


# ------------------------------------- folds that cannot train, the cache's files


def _one_entity_dataset(tmp_path: Path, toy: Path) -> Path:
    """The toy dataset with a train split whose every sentence names the same entity:
    an entity-disjoint fold leaves its tagger nothing to train on."""
    folder = tmp_path / "one-entity"
    folder.mkdir()
    for split in ("dev", "test"):
        shutil.copyfile(toy / f"{split}.conll", folder / f"{split}.conll")
    sentences = [f"EU\tB-ORG\nsays\tO\n{word}\tO\n" for word in ("yes", "no", "maybe", "so")]
    (folder / "train.conll").write_text("\n".join(sentences))
    return folder


def test_folds_that_leave_a_tagger_nothing_to_train_on_are_refused_before_the_run(
    toy: Path, tmp_path: Path, majority: None
) -> None:
    """Refused by ``nerkit run`` (no unfinished run that every resume would fail on,
    blaming the tagger), naming the fold mode, the fold and what to do."""
    folder = _one_entity_dataset(tmp_path, toy)
    out = tmp_path / "runs"
    args = ["run", "-t", "lexicon", "-c", "majority", "-d", str(folder), "-o", str(out)]
    result = CliRunner().invoke(app, [*args, "--fold-mode", "entity-disjoint", "--folds", "2"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "entity-disjoint folds: fold 0 of 2 leaves its tagger no training sentences" in message
    assert "use fewer folds, or random folds" in message and "Traceback" not in message
    assert not out.exists()
    # random folds of the same data train
    result = CliRunner().invoke(app, [*args, "--folds", "2", "--no-cache"])
    assert result.exit_code == 0, result.output


def test_a_run_records_how_many_sentences_each_fold_trained_on(
    toy: Path, tmp_path: Path, majority: None
) -> None:
    from nerkit.pipeline import Run, RunConfig

    sizes = {}
    for mode in ("random", "entity-disjoint"):
        config = RunConfig(
            tagger="lexicon", corrector="majority", dataset=str(toy), folds=3, fold_mode=mode
        )
        finished = Run.create(tmp_path / mode, config).execute()
        extra = json.loads(store.read_table(finished, "run").to_pylist()[0]["extra"])
        sizes[mode] = extra["folds"]["sizes"]
        folds = make_folds(TRAIN, 3, seed=config.seed, mode=mode)
        assert sizes[mode] == [{"train": len(f.train), "held_out": len(f.held_out)} for f in folds]
    # entity-disjoint folds hold out the same sentences, and train on fewer
    assert [s["held_out"] for s in sizes["random"]] == [
        s["held_out"] for s in sizes["entity-disjoint"]
    ]
    assert sum(s["train"] for s in sizes["entity-disjoint"]) < sum(
        s["train"] for s in sizes["random"]
    )


def test_cached_folds_are_reused_only_with_the_provenance_a_base_tagger_needs(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, majority: None
) -> None:
    """Folds predicted by other code (another commit, another plugin version) or with
    other threads are not served from the cache: the rule of a reused base tagger."""
    from nerkit import pipeline
    from nerkit.pipeline import Run, RunConfig, training_provenance

    config = RunConfig(tagger="lexicon", corrector="majority", dataset=str(toy), folds=2)

    def reused(name: str, **settings: object) -> int:
        run = Run.create(tmp_path / name, replace(config, **settings))  # type: ignore[arg-type]
        extra = json.loads(store.read_table(run.execute(), "run").to_pylist()[0]["extra"])
        return extra["folds"]["reused"]

    assert reused("first") == 0
    assert reused("same") == 2
    assert reused("threads", threads=1) == 0
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "_git_hash", lambda: "0" * 40)
        assert reused("commit") == 0
    with monkeypatch.context() as patch:
        versions = pipeline._versions
        patch.setattr(
            pipeline,
            "_versions",
            lambda host: versions(host) | {"plugin:lexicon": "nerkit-lexicon 0.0.1"},
        )
        assert reused("plugin") == 0
    provenance = training_provenance(get_host(), "lexicon.tagger.v1", config)
    assert set(provenance) == {"threads", "device", "versions", "git_hash"}


def _oof(directory: Path, cache: Path | None, folds: list) -> list[Prediction]:  # type: ignore[type-arg]
    return out_of_fold(
        CountingTagger,
        TRAIN,
        folds,
        scheme="IOB2",
        context=RunContext(seed=2),
        directory=directory,
        cache=cache,
    )


def test_a_copy_from_the_cache_killed_half_way_leaves_no_cut_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nerkit.store import read_raw_predictions

    folds = make_folds(TRAIN, 3, seed=2)
    cache = tmp_path / "cache"
    first = _oof(tmp_path / "a", cache, folds)
    copy = shutil.copyfile
    calls = []

    def killed_on_the_second(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 2:  # half the file written, then the process stops
            Path(target).write_bytes(Path(source).read_bytes()[:100])
            raise KeyboardInterrupt
        copy(source, target)

    monkeypatch.setattr(shutil, "copyfile", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        _oof(tmp_path / "b", cache, folds)
    monkeypatch.setattr(shutil, "copyfile", copy)

    # the fold copied whole, and nothing of the cut copy (a mark says what came from
    # the cache)
    def files() -> list[str]:
        return sorted(p.name for p in (tmp_path / "b").iterdir() if p.suffix != ".from-cache")

    assert files() == ["fold-0.arrow"]
    assert read_raw_predictions(tmp_path / "b" / "fold-0.arrow")
    CountingTagger.fits = 0
    assert _oof(tmp_path / "b", cache, folds) == first and CountingTagger.fits == 0
    assert files() == [f"fold-{i}.arrow" for i in range(3)]


def test_a_damaged_fold_file_is_trained_again_and_mended_in_the_cache(tmp_path: Path) -> None:
    """A fold file cut short (by an older nerkit) is trained again, in the run and in
    the cache, instead of failing every resume with an Arrow traceback; reading one
    directly names the file."""
    from nerkit.errors import NerkitError
    from nerkit.folds import fold_path
    from nerkit.store import read_raw_predictions

    folds = make_folds(TRAIN, 3, seed=2)
    cache = tmp_path / "cache"
    first = _oof(tmp_path / "a", cache, folds)
    cut = fold_path(cache, 1).read_bytes()[:100]
    for folder in (tmp_path / "a", cache):
        fold_path(folder, 1).write_bytes(cut)
    with pytest.raises(NerkitError, match=r"fold-1\.arrow: not a readable Arrow file"):
        read_raw_predictions(fold_path(cache, 1))
    CountingTagger.fits = 0
    assert _oof(tmp_path / "a", cache, folds) == first and CountingTagger.fits == 1
    assert _oof(tmp_path / "b", cache, folds) == first and CountingTagger.fits == 1
    assert fold_path(cache, 1).read_bytes() == fold_path(tmp_path / "a", 1).read_bytes()


def test_two_runs_filling_one_cache_entry_at_once_both_succeed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each writer copies under a name of its own: the second writer, filling the entry
    while the first is between its copy and its rename, takes nothing from under it."""
    from nerkit.folds import fill_cache, fold_path
    from nerkit.store import read_raw_predictions

    folds = make_folds(TRAIN, 3, seed=2)
    first = _oof(tmp_path / "a", None, folds)
    _oof(tmp_path / "b", None, folds)
    cache = tmp_path / "cache"
    copy = shutil.copyfile
    interleaved = []

    def copy_then_let_the_other_writer_in(source: Path, target: Path) -> None:
        copy(source, target)
        if not interleaved:
            interleaved.append(target)
            fill_cache(folds, tmp_path / "b", cache)  # the other run, all at once

    monkeypatch.setattr(shutil, "copyfile", copy_then_let_the_other_writer_in)
    fill_cache(folds, tmp_path / "a", cache)
    assert interleaved
    monkeypatch.setattr(shutil, "copyfile", copy)
    assert sorted(p.name for p in cache.iterdir()) == [f"fold-{i}.arrow" for i in range(3)]
    for f in folds:
        assert read_raw_predictions(fold_path(cache, f)) == [first[j] for j in f.held_out]
