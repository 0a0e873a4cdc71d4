"""`nerkit run`: stored Arrow tables, scores equal to seqeval, predict, resume, no overwrite."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fakes import MajorityCorrector, majority
from plugin_utils import KILLER_PLUGIN, make_plugin, run_nerkit
from seqeval.metrics import classification_report, f1_score
from typer.testing import CliRunner

from nerkit import schemes, store
from nerkit.cli.app import app
from nerkit.decoders import repair_conlleval
from nerkit.errors import NerkitError, SchemeError
from nerkit.interfaces import RunContext, Tagger
from nerkit.plugin import hookimpl
from nerkit.plugin.host import PluginHost
from nerkit.report import duration
from nerkit.testing import toy_corpus
from nerkit.types import Prediction, Sentence

DATA = Path(
    os.environ.get("NERKIT_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_duration_reads_as_hours_minutes_or_seconds() -> None:
    assert [duration(s) for s in (None, 0.4, 59.6, 61, 3599, 3600, 7322)] == [
        "",
        "0 s",
        "1 min 00 s",
        "1 min 01 s",
        "59 min 59 s",
        "1 h 00 min",
        "2 h 02 min",
    ]


def sentences_of(table: pa.Table, split: str, column: str) -> list[list[str]]:
    rows = [r for r in table.to_pylist() if r["split"] == split and r["stage"] == "base"]
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(r["sentence"], []).append(r[column])
    return [out[i] for i in sorted(out)]


def check_metrics_equal_seqeval(run: Path, split: str = "test") -> dict[str, float]:
    predictions = store.read_table(run, "predictions")
    gold = sentences_of(predictions, split, "gold")
    predicted = sentences_of(predictions, split, "predicted")
    metrics = [
        r
        for r in store.read_table(run, "metrics").to_pylist()
        if (r["split"], r["stage"], r["mode"]) == (split, "base", "lenient")
    ]
    f1 = {r["label"]: r["value"] for r in metrics if r["metric"] == "f1"}
    support = {r["label"]: r["support"] for r in metrics if r["metric"] == "f1"}
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    assert f1["micro"] == pytest.approx(f1_score(gold, predicted), abs=1e-12)
    types = {k for k in report if not k.endswith(" avg")}
    assert types == set(f1) - {"micro", "macro", "weighted"}  # a row per type
    for label in types:
        assert f1[label] == pytest.approx(report[label]["f1-score"], abs=1e-12)
        assert support[label] == report[label]["support"]
    return f1


def test_run_stores_tables_with_provenance_and_seqeval_equal_scores(
    toy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    code, output = cli(
        "run", "--tagger", "lexicon", "--dataset", str(toy), "--out", str(out), "--seed", "7"
    )
    assert code == 0, output
    run = only_run(out)
    assert not run.name.endswith(".partial")
    assert {p.name for p in run.iterdir()} >= {
        "run.arrow",
        "predictions.arrow",
        "metrics.arrow",
        "tagger",
    }
    table = store.read_table(run, "run")
    assert table.schema.metadata[b"nerkit.schema_version"] == store.SCHEMA_VERSION.encode()
    row = table.to_pylist()[0]
    assert row["run_id"] == run.name and row["tagger"] == "lexicon.tagger.v1" and row["seed"] == 7
    config = json.loads(row["config"])
    assert config["tagger"] == "lexicon.tagger.v1" and config["decoder"] == "conlleval.decoder.v1"
    versions = json.loads(row["versions"])
    assert versions["nerkit"] and "pyarrow" in versions
    assert set(json.loads(row["fingerprints"])) == {"train", "dev", "test"}
    assert row["created_utc"].tzinfo is not None
    spent = json.loads(row["extra"])["time"]  # shown under the scores
    assert f"took {duration(spent['wall_s'])} wall-clock, {duration(spent['cpu_s'])} CPU" in output
    f1 = check_metrics_equal_seqeval(run)
    assert 0 < f1["micro"] <= 1
    # every test token is stored, in order
    predictions = store.read_table(run, "predictions")
    tokens = sentences_of(predictions, "test", "text")
    assert [tuple(t) for t in tokens] == [s.tokens for s in toy_corpus()["test"]]


def test_predict_reproduces_the_stored_test_predictions(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out))[0] == 0
    run = only_run(out)
    target = tmp_path / "predicted.conll"
    code, output = cli(
        "predict", "--run", run.name, "--runs", str(out), str(toy / "test.conll"), "-o", str(target)
    )
    assert code == 0, output
    from nerkit.io import read

    again = [list(s.tags) for s in read(target).sentences]
    assert again == sentences_of(store.read_table(run, "predictions"), "test", "predicted")


def test_predict_tags_plain_text(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out))[0] == 0
    text = tmp_path / "input.txt"
    text.write_text("Angela Merkel visited Paris\n\nnothing here\n")
    code, output = cli("predict", "--run", str(only_run(out)), str(text))
    assert code == 0, output
    blocks = [b.splitlines() for b in output.strip().split("\n\n")]
    assert [line.split("\t")[0] for line in blocks[0]] == ["Angela", "Merkel", "visited", "Paris"]
    assert len(blocks) == 2 and all(len(line.split("\t")) == 2 for b in blocks for line in b)


@pytest.mark.parametrize(
    ("tokenizer", "tokens"),
    [
        ("whitespace", ["Merkel", "visited", "Paris."]),
        ("words", ["Merkel", "visited", "Paris", "."]),
        (
            "chars",
            ["M", "e", "r", "k", "e", "l", "v", "i", "s", "i", "t", "e", "d"] + list("Paris."),
        ),
    ],
)
def test_predict_splits_plain_text_with_the_tokenizer_asked_for(
    toy: Path, tmp_path: Path, tokenizer: str, tokens: list[str]
) -> None:
    out = tmp_path / "runs"
    assert cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out))[0] == 0
    text = tmp_path / "input.txt"
    text.write_text("Merkel visited Paris.\n")
    code, output = cli("predict", "--run", str(only_run(out)), str(text), "--tokenizer", tokenizer)
    assert code == 0, output
    lines = output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == tokens
    if tokenizer == "words":  # split off its full stop, Paris is found
        assert lines[2] == "Paris\tB-LOC"
    code, output = cli("predict", "--run", str(only_run(out)), str(text), "--tokenizer", "spacy")
    assert code == 2 and "one of whitespace, words, chars" in output
    code, output = cli(
        "predict", "--run", str(only_run(out)), str(toy / "test.conll"), "--tokenizer", tokenizer
    )
    assert code == 2 and "--tokenizer is for plain text" in output


def test_wrong_option_is_an_error_naming_the_valid_keys(toy: Path, tmp_path: Path) -> None:
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "-o", str(tmp_path / "r"), "-T", "max_len=3"
    )
    assert code == 2
    assert "unknown lexicon.tagger.v1 option 'max_len'" in output and "max_length" in output
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "-o", str(tmp_path / "r"), "-T", "max_length=long"
    )
    assert code == 2 and "'max_length'" in output and "int" in output
    code, output = cli("run", "-t", "nosuch", "-d", str(toy), "-o", str(tmp_path / "r"))
    assert (
        code == 2
        and "unknown tagger 'nosuch'; available:" in output
        and "lexicon.tagger.v1" in output
    )


def test_toml_config_gives_the_same_settings(toy: Path, tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text(
        f'dataset = "{toy.as_posix()}"\nseed = 5\n[tagger]\nname = "lexicon"\n[tagger.options]\ncase_sensitive = false\n'
    )
    out = tmp_path / "runs"
    code, output = cli("run", "--config", str(config), "-o", str(out), "-T", "max_length=4")
    assert code == 0, output
    row = store.read_table(only_run(out), "run").to_pylist()[0]
    config_used = json.loads(row["config"])
    assert row["seed"] == 5
    # TOML and -T options merged, stored typed (the command line's "4" as the number 4)
    assert config_used["tagger_options"] == {"case_sensitive": False, "max_length": 4}
    config.write_text('dataset = "x"\nepochs = 3\n[tagger]\nname = "lexicon"\n')
    code, output = cli("run", "--config", str(config), "-o", str(out))
    assert code == 2 and "unknown setting 'epochs'" in output


def test_dataset_options_say_how_a_folder_is_read(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nerkit.datasets.load import dataset_options

    # integer tags without names, as some Hub data sets keep them
    folder = tmp_path / "ids"
    folder.mkdir()
    table = pa.table({"tokens": [["John", "lives", "in", "Paris"]], "tags": [[1, 0, 0, 2]]})
    for split in ("train", "test"):
        pq.write_table(table, folder / f"{split}.parquet")
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(folder), "-o", str(out))
    assert code == 2 and "-D tag_names=O,B-PER,I-PER" in output
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(folder), "-o", str(out), "-D", "tag_names=O, B-PER,B-LOC"
    )
    assert code == 0, output
    run = only_run(out)
    config = json.loads(store.read_table(run, "run").to_pylist()[0]["config"])
    assert config["dataset_options"] == {"tag_names": ["O", "B-PER", "B-LOC"]}  # typed
    assert sentences_of(store.read_table(run, "predictions"), "test", "gold") == [
        ["B-PER", "O", "O", "B-LOC"]
    ]
    # the same from a TOML config
    toml = tmp_path / "run.toml"
    toml.write_text(
        f'dataset = "{folder.as_posix()}"\ndataset_options = {{ tag_names = ["O", "B-PER", '
        '"B-LOC"] }\n[tagger]\nname = "lexicon"\n'
    )
    assert cli("run", "--config", str(toml), "-o", str(out))[0] == 0
    # refused before a run folder is made: a named dataset, an unknown key, a resume
    before = sorted(p.name for p in out.iterdir())
    code, output = cli("run", "-t", "lexicon", "-d", "wnut17", "-o", str(out), "-D", "tag_col=1")
    assert code == 2 and "'wnut17' is read as it is registered" in output
    code, output = cli("run", "-t", "lexicon", "-d", str(folder), "-o", str(out), "-D", "tags=O")
    assert code == 2 and "unknown dataset option 'tags'" in output
    code, output = cli("run", "--resume", run.name, "-o", str(out), "-D", "tag_col=1")
    assert code == 2 and "leave out --dataset-opt" in output
    assert sorted(p.name for p in out.iterdir()) == before
    assert dataset_options({"tag_col": "-2", "token_col": 0, "format": "CSV"}) == {
        "tag_col": -2,
        "token_col": 0,
        "format": "csv",
    }
    assert dataset_options({"tag_col": "ner_tags", "from_scheme": "bioes"}) == {
        "tag_col": "ner_tags",
        "from_scheme": "BIOES",
    }
    assert dataset_options({"from_scheme": "AUTO"}) == {"from_scheme": "auto"}
    # a column name for CoNLL files names what is wrong
    conll = tmp_path / "conll"
    conll.mkdir()
    for split in ("train", "test"):
        (conll / f"{split}.conll").write_text("John B-PER\n", encoding="utf-8")
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(conll), "-o", str(out), "-D", "tag_col=ner"
    )
    assert code == 2 and "a column name is for Parquet and Arrow tables" in output
    # runs that read one folder two ways are two rows of compare
    for extra in ([], ["-D", "from_scheme=IOB2"]):
        assert cli("run", "-t", "lexicon", "-d", str(conll), "-o", str(out / "c"), *extra)[0] == 0
    code, output = cli("compare", str(out / "c"), "--format", "csv")
    assert code == 0 and "data:from_scheme=IOB2" in output


def test_max_train_sentences_trains_on_the_first_sentences(toy: Path, tmp_path: Path) -> None:
    from nerkit.datasets import fingerprint

    out = tmp_path / "runs"
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "-o", str(out), "--max-train-sentences", "2"
    )
    assert code == 0, output
    row = store.read_table(only_run(out), "run").to_pylist()[0]
    assert json.loads(row["config"])["max_train_sentences"] == 2
    train = toy_corpus()["train"]
    assert len(train) > 2
    assert json.loads(row["fingerprints"])["train"] == fingerprint(train[:2])
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "-o", str(out / "x"), "--max-train-sentences", "0"
    )
    assert code == 2 and "max_train_sentences must be at least 1" in output


@pytest.mark.parametrize(("cut", "kept", "n"), [("dev", "test", 1), ("test", "dev", 2)])
def test_max_split_sentences_cut_that_split_only(
    toy: Path, tmp_path: Path, cut: str, kept: str, n: int
) -> None:
    """--max-dev-sentences / --max-test-sentences: the first N sentences of the split
    are tagged and scored, its stored fingerprint is theirs; the other split is whole."""
    from nerkit.datasets import fingerprint
    from nerkit.metrics import entity_spans

    out = tmp_path / "runs"
    option, key = f"--max-{cut}-sentences", f"max_{cut}_sentences"
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out), option, str(n))
    assert code == 0, output
    run = only_run(out)
    row = store.read_table(run, "run").to_pylist()[0]
    assert json.loads(row["config"])[key] == n
    corpus = toy_corpus()
    assert len(corpus[cut]) > n
    fingerprints = json.loads(row["fingerprints"])
    assert fingerprints[cut] == fingerprint(corpus[cut][:n])
    assert fingerprints[kept] == fingerprint(corpus[kept])
    predictions = store.read_table(run, "predictions")
    assert len(sentences_of(predictions, cut, "text")) == n
    assert len(sentences_of(predictions, kept, "text")) == len(corpus[kept])
    support = {
        r["split"]: r["support"]
        for r in store.read_table(run, "metrics").to_pylist()
        if (r["stage"], r["mode"], r["metric"], r["label"]) == ("base", "lenient", "f1", "micro")
    }
    entities = {
        split: sum(len(entity_spans(s, corpus.scheme)) for s in corpus[split][:limit])
        for split, limit in ((cut, n), (kept, None))
    }
    assert support == entities
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out / "x"), option, "0")
    assert code == 2 and f"{key} must be at least 1" in output


def test_an_existing_run_is_never_overwritten(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out))[0] == 0
    run = only_run(out)
    clash = out / (run.name + store.PARTIAL)
    clash.mkdir()
    with pytest.raises(NerkitError, match="never overwritten"):
        store.finish(clash)
    code, output = cli("run", "--resume", run.name, "-o", str(out))
    assert code == 2 and "finished already" in output


def test_a_run_whose_id_is_taken_draws_another(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs begun in the same second may draw the same id: the second draws again,
    whether the first is unfinished or finished."""
    from nerkit import pipeline

    drawn = iter(["same", "same", "same", "other", "same", "third"])
    monkeypatch.setattr(pipeline, "new_run_id", lambda config: next(drawn))
    out = tmp_path / "runs"
    config = pipeline.RunConfig(tagger="lexicon", dataset=str(toy), cache=False)
    first = pipeline.Run.create(out, config)
    second = pipeline.Run.create(out, config)
    assert (first.run_id, second.run_id) == ("same", "other")
    second.execute()
    first.execute()  # finished: "same" names a finished run now
    third = pipeline.Run.create(out, config)
    assert third.run_id == "third"
    assert sorted(p.name for p in out.iterdir()) == ["other", "same", "third.partial"]


def test_a_killed_run_leaves_only_partial_and_resume_finishes_it(toy: Path, tmp_path: Path) -> None:
    site = make_plugin(tmp_path / "site", "nerkit_killer_demo", KILLER_PLUGIN)
    out = tmp_path / "runs"
    killed = run_nerkit(
        ["run", "-t", "killer", "-d", str(toy), "-o", str(out)],
        path=site,
        env={"KILL_ON_TEST": "1"},
    )
    assert killed.returncode != 0
    (partial,) = list(out.iterdir())
    assert partial.name.endswith(".partial")
    assert (partial / "tagger").is_dir() and (partial / "raw-dev.arrow").exists()  # done steps kept
    assert not (partial / "run.arrow").exists()
    first = json.loads((partial / "timing.json").read_text())  # the steps it finished
    assert first["sittings"] == 1 and {"load", "tagger"} <= set(first["steps"])
    listed = run_nerkit(["runs", str(out)], path=site, env={"COLUMNS": "200"})
    assert "unfinished" in listed.stdout

    run_id = partial.name.removesuffix(".partial")
    resumed = run_nerkit(["run", "--resume", run_id, "-o", str(out)], path=site)
    assert resumed.returncode == 0, resumed.stderr
    assert "tagger trained already" in resumed.stderr
    finished = out / run_id
    assert [p.name for p in out.iterdir()] == [run_id]
    # the time of both sittings: the first one's training is kept, not lost
    spent = json.loads(store.read_table(finished, "run").to_pylist()[0]["extra"])["time"]
    assert spent["sittings"] == 2 and not (finished / "timing.json").exists()
    assert spent["steps"]["tagger"]["wall_s"] >= first["steps"]["tagger"]["wall_s"] > 0
    assert spent["wall_s"] == pytest.approx(
        sum(step["wall_s"] for step in spent["steps"].values()), abs=0.01
    )
    (listed,) = json.loads(run_nerkit(["runs", str(out), "--json"], path=site).stdout)
    assert listed["wall_s"] == spent["wall_s"] and listed["cpu_s"] == spent["cpu_s"]
    table = run_nerkit(["runs", str(out), "-d", str(toy)], path=site, env={"COLUMNS": "200"})
    assert "1 timed run:" in table.stdout and "CPU" in table.stdout
    other = run_nerkit(["runs", str(out), "-d", "wnut17", "--json"], path=site)
    assert json.loads(other.stdout) == []

    whole = run_nerkit(
        ["run", "-t", "killer", "-d", str(toy), "-o", str(tmp_path / "whole")], path=site
    )
    assert whole.returncode == 0, whole.stderr
    reference = only_run(tmp_path / "whole")
    for name in ("predictions", "metrics"):
        assert store.read_table(finished, name).equals(store.read_table(reference, name))


def test_broken_plugin_does_not_stop_a_lexicon_run(toy: Path, tmp_path: Path) -> None:
    site = make_plugin(
        tmp_path / "site", "nerkit_broken_demo", "raise RuntimeError('broken on purpose')\n"
    )
    done = run_nerkit(
        ["run", "--tagger", "lexicon", "--dataset", str(toy), "--out", str(tmp_path / "runs")],
        path=site,
    )
    assert done.returncode == 0, done.stderr
    assert (only_run(tmp_path / "runs") / "metrics.arrow").exists()


@pytest.mark.skipif(
    not (DATA / "wnut17").is_dir(),
    reason=f"shared corpora not found at {DATA}; set NERKIT_DATA_DIR",
)
def test_lexicon_on_wnut17_stores_test_f1_equal_to_seqeval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NERKIT_DATA_DIR", str(DATA))
    # the command as users type it: WNUT-17 test holds no surface form seen in train, so
    # the case-sensitive lexicon finds nothing there, and the scores say so exactly
    plain = tmp_path / "plain"
    code, output = cli("run", "--tagger", "lexicon", "--dataset", "wnut17", "--out", str(plain))
    assert code == 0, output
    assert check_metrics_equal_seqeval(only_run(plain))["micro"] == 0.0
    out = tmp_path / "runs"
    code, output = cli(
        "run",
        "--tagger",
        "lexicon",
        "--dataset",
        "wnut17",
        "--out",
        str(out),
        "-T",
        "case_sensitive=false",
    )
    assert code == 0, output
    run = only_run(out)
    f1 = check_metrics_equal_seqeval(run)
    assert f1["micro"] > 0
    assert {"corporation", "creative-work", "group", "location", "person", "product"} <= set(f1)
    row = store.read_table(run, "run").to_pylist()[0]
    assert row["dataset_license"] == "CC BY 4.0" and "WNUT2017" in row["dataset_citation"]
    # predict on the test file gives the stored predictions
    target = tmp_path / "test.pred.conll"
    code, output = cli(
        "predict",
        "--run",
        str(run),
        str(DATA / "wnut17" / "emerging.test.annotated"),
        "-o",
        str(target),
    )
    assert code == 0, output
    from nerkit.io import read

    assert [list(s.tags) for s in read(target).sentences] == sentences_of(
        store.read_table(run, "predictions"), "test", "predicted"
    )


# ------------------------------------------- mistakes caught before a run is made


def _folder(tmp_path: Path, toy: Path, drop: str | None = None, train: str | None = None) -> Path:
    """A copy of the toy dataset without split ``drop``, or with ``train`` as train file."""
    folder = tmp_path / "data"
    folder.mkdir()
    for split in ("train", "dev", "test"):
        if split != drop:
            (folder / f"{split}.conll").write_bytes((toy / f"{split}.conll").read_bytes())
    if train is not None:
        (folder / "train.conll").write_text(train)
    return folder


@pytest.mark.parametrize(
    ("dataset", "args", "message"),
    [
        ("nosuch", [], "unknown dataset"),
        ("no-train", [], "has no train split (its folder holds: dev.conll, test.conll)"),
        ("bad-tag", [], "train.conll, line 1: tag 'X-LOC'"),
        ("empty", [], "no split files"),
        ("toy", ["--seed", str(2**64)], f"seed: {2**64} is out of range"),
        ("toy", ["--seed", str(-(2**63) - 1)], "is out of range"),
        ("toy", ["--folds", "1"], "folds must be at least 2, not 1"),  # no corrector
        ("toy", ["--fold-mode", "bad"], "unknown fold mode 'bad'"),
        ("toy", ["--threads", "0"], "threads must be at least 1, not 0"),
    ],
)
def test_a_mistake_in_the_data_or_a_setting_leaves_no_unfinished_run(
    toy: Path, tmp_path: Path, dataset: str, args: list[str], message: str
) -> None:
    """Checked before the run's folder is made: no ``.partial`` that every ``--resume``
    would fail on."""
    if dataset == "toy":
        folder = toy
    elif dataset in ("nosuch", "empty"):
        folder = tmp_path / dataset
        if dataset == "empty":
            folder.mkdir()
    elif dataset == "no-train":
        folder = _folder(tmp_path, toy, drop="train")
    else:
        folder = _folder(tmp_path, toy, train="EU\tX-LOC\n")
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["run", "-t", "lexicon", "-d", str(folder), "-o", str(out), *args]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists() or not list(out.iterdir())
    assert store.list_runs(out) == []


def test_data_broken_after_a_run_began_fails_its_resume_until_mended(
    toy: Path, tmp_path: Path
) -> None:
    """A data error a run meets later (its files changed under it) leaves the run
    unfinished and resumable: mended data finishes it."""
    from nerkit import pipeline
    from nerkit.errors import InputError

    folder = _folder(tmp_path, toy)
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(folder)))
    train = (folder / "train.conll").read_text()
    (folder / "train.conll").write_text("EU\tX-LOC\n")
    with pytest.raises(InputError, match="X-LOC"):
        pipeline.Run.resume(out, run.run_id).execute()
    (folder / "train.conll").write_text(train)
    finished = pipeline.Run.resume(out, run.run_id).execute()
    assert finished == out / run.run_id and (finished / "metrics.arrow").exists()


def test_a_resume_on_changed_data_is_refused_naming_the_split(toy: Path, tmp_path: Path) -> None:
    """The steps an unfinished run stored came from the data it began on: resumed on
    other data, it stops (nothing of it changed) rather than mixing the two and
    recording only the new fingerprints. Mended, it finishes."""
    from nerkit import pipeline

    folder = _folder(tmp_path, toy)
    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(folder)))
    dev = (folder / "dev.conll").read_text()
    (folder / "dev.conll").write_text(dev.replace("\n\n", "\n\nEU\tB-ORG\n\n", 1))
    before = {p: p.read_bytes() for p in run.dir.rglob("*") if p.is_file()}
    with pytest.raises(NerkitError, match="the dev split of .* changed since the run began"):
        pipeline.Run.resume(out, run.run_id).execute()
    code, output = cli("run", "--resume", run.run_id, "-o", str(out))
    assert code == 2 and "the dev split of" in output and "start a new run" in output
    assert {p: p.read_bytes() for p in run.dir.rglob("*") if p.is_file()} == before
    (folder / "dev.conll").write_text(dev)
    finished = pipeline.Run.resume(out, run.run_id).execute()
    assert not (finished / pipeline.DATA_RECORD).exists()  # in the run table now
    # a run begun before runs recorded their data goes on as it did
    old = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(folder)))
    (old.dir / pipeline.DATA_RECORD).unlink()
    (folder / "dev.conll").write_text(dev.replace("\n\n", "\n\nEU\tB-ORG\n\n", 1))
    assert (pipeline.Run.resume(out, old.run_id).execute() / "run.arrow").exists()


TOML_MISTAKES = [
    ('seed = "abc"', "seed: expected an integer, got 'abc'"),
    ("seed = 99999999999999999999", "seed: 99999999999999999999 is out of range"),
    ('threads = "two"', "threads: expected an integer, got 'two'"),
    ('folds = "x"', "folds: expected an integer, got 'x'"),
    ("folds = 1", "folds must be at least 2, not 1"),
    ('fold_mode = "bad"', "unknown fold mode 'bad'"),
    ('max_train_sentences = "5"', "max_train_sentences: expected an integer, got '5'"),
    ("max_train_sentences = true", "max_train_sentences: expected an integer, got True"),
    ("max_dev_sentences = 0", "max_dev_sentences must be at least 1, not 0"),
    ('cache = "no"', "cache: expected true or false, got 'no'"),
    ("device = 5", "device: expected a string, got 5"),
    ('device = "gpu"', "device must be cpu, cuda or auto, not 'gpu'"),
    ("data_dir = 5", "data_dir: expected a string, got 5"),
    ("dataset = 5", "dataset: expected a string, got 5"),
    ("tagger = 5", "tagger: expected a name or a [tagger] table, got 5"),
    ('tagger = "nosuch"', "tagger: unknown tagger 'nosuch'"),
    ('[tagger]\nname = "lexicon"\noptions = 5', "[tagger] options: expected a table"),
    ("[tagger]\nname = 5", "[tagger] name: expected a string, got 5"),
    (
        '[tagger]\nname = "lexicon"\n[tagger.options]\nmax_length = "abc"',
        "[tagger.options] lexicon.tagger.v1 option 'max_length'",
    ),
]


@pytest.mark.parametrize(("line", "message"), TOML_MISTAKES)
def test_a_wrong_setting_in_a_config_file_names_the_file_and_the_key(
    toy: Path, tmp_path: Path, line: str, message: str
) -> None:
    config = tmp_path / "run.toml"
    key = line.split()[0]
    head = [f'dataset = "{toy.as_posix()}"'] if key != "dataset" else []
    if key not in ("tagger", "[tagger]"):
        head.append('tagger = "lexicon"')
    config.write_text("\n".join([*head, line]) + "\n")
    out = tmp_path / "runs"
    code, output = cli("run", "--config", str(config), "-o", str(out))
    assert code == 2, output
    assert f"Error: {config}: {message}" in output and "Traceback" not in output
    assert not out.exists()


def test_an_option_given_as_a_flag_is_not_blamed_on_the_config_file(
    toy: Path, tmp_path: Path
) -> None:
    config = tmp_path / "run.toml"
    config.write_text(f'dataset = "{toy.as_posix()}"\ntagger = "lexicon"\n')
    code, output = cli("run", "--config", str(config), "-T", "max_length=abc", "-o", str(tmp_path))
    assert code == 2 and "'max_length'" in output and str(config) not in output


def test_run_settings_of_the_wrong_type_are_config_errors(toy: Path) -> None:
    import numpy as np

    from nerkit.errors import ConfigError
    from nerkit.pipeline import RunConfig

    def make(**settings: object) -> RunConfig:
        return RunConfig(**({"tagger": "lexicon", "dataset": "x"} | settings))  # type: ignore[arg-type]

    for settings, message in [
        ({"seed": "abc"}, "seed: expected an integer, got 'abc'"),
        ({"seed": True}, "seed: expected an integer, got True"),
        ({"seed": 2**63}, "seed: 9223372036854775808 is out of range"),
        ({"cache": "no"}, "cache: expected true or false, got 'no'"),
        ({"max_train_sentences": 1.5}, "max_train_sentences: expected an integer"),
        ({"tagger_options": 5}, "tagger_options: expected a table of options, got 5"),
        ({"dataset": 5}, "dataset: expected a string, got 5"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            make(**settings)
    with pytest.raises(ConfigError, match="threads: expected an integer"):
        RunConfig.from_dict({"tagger": "lexicon", "dataset": "x", "threads": "2"})
    # what Python code naturally passes: a path, numpy's integers
    config = make(dataset=toy, data_dir=toy.parent, seed=np.int64(7), threads=None)
    assert (config.dataset, config.data_dir) == (str(toy), str(toy.parent))
    assert type(config.seed) is int and config.seed == 7


def test_resume_refuses_settings_and_goes_on_with_the_stored_ones(
    toy: Path, tmp_path: Path
) -> None:
    """A resumed run goes on with the settings it started with: a flag that would
    have been ignored is refused, and nothing of the run is touched."""
    from nerkit import pipeline

    out = tmp_path / "runs"
    run = pipeline.Run.create(out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy), seed=5))
    before = {p: p.read_bytes() for p in run.dir.rglob("*") if p.is_file()}
    code, output = cli(
        "run", "--resume", run.run_id, "-o", str(out),
        "--seed", "99", "-t", "lexicon", "-T", "bogus=1", "-d", "wnut17",
    )  # fmt: skip
    assert code == 2 and "settings it was started with" in output
    assert "--tagger, --tagger-opt, --dataset, --seed" in output
    for flags in (["--seed", "0"], ["--threads", "2"], ["--no-cache"], ["--config", "x.toml"]):
        code, output = cli("run", "--resume", run.run_id, "-o", str(out), *flags)
        assert code == 2 and f"leave out {flags[0]} " in output
    assert {p: p.read_bytes() for p in run.dir.rglob("*") if p.is_file()} == before
    code, output = cli("run", "--resume", run.run_id, "-o", str(out))
    assert code == 0, output
    assert store.read_table(out / run.run_id, "run").to_pylist()[0]["seed"] == 5


# ------------------------------------ a tagger's scheme and the corpus's scheme


class BIOESUnigram(Tagger):
    """Each known token's most frequent training tag, in BIOES whatever scheme it is
    fit in: ``scheme`` (the scheme predict returns) says BIOES."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.table: dict[str, str] | None = None

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        votes: dict[str, Counter[str]] = {}
        for s in train:
            for token, tag in zip(s.tokens, schemes.convert(s.tags, scheme, "BIOES"), strict=True):
                votes.setdefault(token, Counter())[tag] += 1
        self.table = {token: majority(v) for token, v in votes.items()}
        self.scheme = "BIOES"

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        assert self.table is not None
        return [Prediction(tuple(self.table.get(t, "O") for t in s.tokens)) for s in sentences]

    def save(self, directory: Path) -> None:
        (directory / "table.json").write_text(json.dumps(self.table))

    @classmethod
    def load(cls, directory: Path) -> BIOESUnigram:
        tagger = cls()
        tagger.table, tagger.scheme = json.loads((directory / "table.json").read_text()), "BIOES"
        return tagger


class BareTypes(BIOESUnigram):
    """Emits ``PER`` where it means ``B-PER``: tags of no scheme."""

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        return [
            Prediction(tuple(schemes.split_tag(t)[1] or t for t in p.tags))
            for p in super().predict(sentences)
        ]


class AsItIs(Tagger):
    """A trained model used as it is: its fit reads no data (trains = False)."""

    trains = False
    table = {"Paris": "B-LOC", "Merkel": "B-PER"}
    seen: list[int] = []

    def fit(self, train, dev=None, *, scheme="IOB2", context=None):  # type: ignore[no-untyped-def]
        AsItIs.seen.append(len(train))
        self.scheme = schemes.get_scheme(scheme).name

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        return [Prediction(tuple(self.table.get(t, "O") for t in s.tokens)) for s in sentences]

    def save(self, directory: Path) -> None:
        (directory / "scheme").write_text(self.scheme)

    @classmethod
    def load(cls, directory: Path) -> AsItIs:
        tagger = cls()
        tagger.scheme = (directory / "scheme").read_text()
        return tagger


class SchemeTestPlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("bioesunigram.tagger.v1", BIOESUnigram)
        register("baretypes.tagger.v1", BareTypes)
        register("asitis.tagger.v1", AsItIs)

    @hookimpl
    def register_correctors(self, register):  # type: ignore[no-untyped-def]
        register("majority.corrector.v1", MajorityCorrector)


def scheme_test_host() -> PluginHost:
    host = PluginHost()
    host.add(SchemeTestPlugin(), name="test-schemes")
    return host


def stored_predicted(run: Path, stage: str) -> list[tuple[str, ...]]:
    rows = store.read_table(run, "predictions").to_pylist()
    out: dict[int, list[str]] = {}
    for r in rows:
        if (r["split"], r["stage"]) == ("test", stage):
            out.setdefault(r["sentence"], []).append(r["predicted"])
    return [tuple(out[i]) for i in sorted(out)]


@pytest.mark.parametrize("corrector", [None, "majority"])
def test_a_tagger_predicting_in_another_scheme_is_scored_and_predicts_in_the_corpus_scheme(
    corrector: str | None, toy: Path, tmp_path: Path
) -> None:
    """The tagger's BIOES is decoded in BIOES, then stored, scored and predicted in the
    corpus's IOB2; a corrector fit in IOB2 reads the base predictions in IOB2."""
    from nerkit.pipeline import Run, RunConfig, load_run_models

    host = scheme_test_host()
    config = RunConfig(
        tagger="bioesunigram", dataset=str(toy), corrector=corrector, folds=2, cache=False
    )
    run = Run.create(tmp_path / "runs", config, host).execute()
    test = toy_corpus()["test"]
    tagger = BIOESUnigram.load(run / "tagger")
    expected = [
        tuple(schemes.convert(repair_conlleval(p.tags, "BIOES").tags, "BIOES", "IOB2"))
        for p in tagger.predict(test)
    ]
    assert stored_predicted(run, "base") == expected
    check_metrics_equal_seqeval(run)  # the stored tags read as IOB2
    stage = "corrected" if corrector else "base"
    final = stored_predicted(run, stage)
    assert all(not schemes.validate(tags, "IOB2") for tags in final)
    assert {t[:2] for tags in final for t in tags} <= {"O", "B-", "I-"}
    # nerkit predict gives what the run stored
    assert load_run_models(run, host).predict(test) == final


def test_tags_of_no_scheme_stop_the_run_naming_the_tagger_and_the_tag(
    toy: Path, tmp_path: Path
) -> None:
    from nerkit.pipeline import Run, RunConfig

    config = RunConfig(tagger="baretypes", dataset=str(toy), cache=False)
    run = Run.create(tmp_path / "runs", config, scheme_test_host())
    with pytest.raises(SchemeError, match=r"tagger 'baretypes.tagger.v1'.*tag '(PER|LOC|ORG)'"):
        run.execute()
    # no finished run with made-up types in its scores
    assert all(p.name.endswith(".partial") for p in (tmp_path / "runs").iterdir())


def test_a_decoder_that_needs_probabilities_is_refused_up_front_or_at_the_first_predictions(
    toy: Path, tmp_path: Path
) -> None:
    """The viterbi decoder reads probabilities. The lexicon says it gives none: the run
    is refused before anything is written. A tagger that does not say (here one that
    gives none) is found out by its first predictions: dev's, or, with a corrector, the
    first fold's, before the other folds, the base tagger and the corrector train."""
    from nerkit.pipeline import Run, RunConfig

    out = tmp_path / "declared"
    code, output = cli(
        "run", "-t", "lexicon", "-d", str(toy), "--decoder", "viterbi", "-o", str(out)
    )
    assert code == 2, output
    assert "reads probabilities, which tagger 'lexicon.tagger.v1' does not give" in output
    assert not out.exists()

    undeclared = "which tagger 'bioesunigram.tagger.v1' does not give (its prediction of"
    config = RunConfig(tagger="bioesunigram", dataset=str(toy), decoder="viterbi", cache=False)
    run = Run.create(tmp_path / "undeclared", config, scheme_test_host())
    with pytest.raises(NerkitError) as error:
        run.execute()
    message = str(error.value)
    assert message.startswith("dev, base stage: decoder 'viterbi.decoder.v1' reads probabilities")
    assert undeclared in message and "use --decoder conlleval or discard" in message
    assert not (run.dir / "raw-test.arrow").exists()  # stopped at dev

    config = RunConfig(
        tagger="bioesunigram",
        dataset=str(toy),
        decoder="viterbi",
        corrector="majority",
        folds=3,
        cache=False,
    )
    run = Run.create(tmp_path / "folds", config, scheme_test_host())
    with pytest.raises(NerkitError, match="out-of-fold predictions, fold 0: decoder") as error:
        run.execute()
    assert undeclared in str(error.value)
    assert sorted(p.name for p in (run.dir / "folds").iterdir()) == ["fold-0.arrow"]
    assert not (run.dir / "tagger").exists()


def test_a_tagger_used_as_it_is_is_scored_on_data_without_train(toy: Path, tmp_path: Path) -> None:
    """Evaluating a trained model on a test set: no train split is needed (and fit is
    given none), unless a corrector needs folds of it."""
    from nerkit.pipeline import Run, RunConfig

    folder = _folder(tmp_path, toy, drop="train")
    AsItIs.seen = []
    config = RunConfig(tagger="asitis", dataset=str(folder), cache=False)
    run = Run.create(tmp_path / "runs", config, scheme_test_host()).execute()
    assert AsItIs.seen == [0]
    metrics = store.read_table(run, "metrics").to_pylist()
    assert {m["split"] for m in metrics} == {"dev", "test"}
    with pytest.raises(NerkitError, match="has no train split"):
        Run.create(
            tmp_path / "runs",
            RunConfig(tagger="asitis", dataset=str(folder), corrector="majority", folds=2),
            scheme_test_host(),
        )


def test_a_run_notes_gold_tags_that_break_the_scheme(tmp_path: Path) -> None:
    """Files in IOB1 read as IOB2 hold O -> I-PER: the run says so, naming the file
    and line of the first, and how to name the files' scheme."""
    folder = tmp_path / "iob1"
    folder.mkdir()
    valid = "Bob\tO\nsang\tO\n\n"
    for split in ("train", "dev", "test"):
        invalid = "Anna\tI-PER\nsaw\tO\nParis\tI-LOC\n\n" if split != "dev" else ""
        (folder / f"{split}.conll").write_text(invalid + valid)
    code, output = cli("run", "-t", "lexicon", "-d", str(folder), "-o", str(tmp_path / "runs"))
    assert code == 0, output
    flat = " ".join(output.split())
    for split in ("train", "test"):
        assert (
            f"note: {split}: 2 invalid IOB2 transition(s) in the gold tags, whose entities "
            f"are read as conlleval reads them (first: {folder / f'{split}.conll'}, line 1: "
            "O -> I-PER; files in another scheme: -D from_scheme=NAME)"
        ) in flat
    assert "note: dev" not in flat
