"""`nerkit compare`: runs grouped by test data, seeds as mean ± std, deltas with p-values."""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from conftest import SHARED_DATA, SHARED_DATA_REASON, has_shared_data
from typer.main import get_command
from typer.testing import CliRunner

from nerkit import store
from nerkit.cli.app import app
from nerkit.compare import compare_runs, load_run, stored_counts
from nerkit.datasets import open_dataset
from nerkit.evaluation.significance import (
    approximate_randomization,
    paired_bootstrap,
    sentence_counts,
)
from nerkit.io import write
from nerkit.testing import toy_corpus


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    # A wide terminal, so that rich prints every table row on one line.
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250", **(env or {})})


def write_folder(folder: Path, *, drop_test: int = 0) -> Path:
    corpus = toy_corpus()
    folder.mkdir()
    for split in corpus:
        sentences = corpus[split]
        if split == "test" and drop_test:
            sentences = sentences[:-drop_test]
        write(sentences, folder / f"{split}.conll")
    return folder


def make_run(out: Path, dataset: Path | str, *args: str, env: dict[str, str] | None = None) -> Path:
    before = set(out.iterdir()) if out.exists() else set()
    result = invoke(
        "run", "--tagger", "lexicon", "--dataset", str(dataset), "--out", str(out), *args, env=env
    )
    assert result.exit_code == 0, result.output
    (made,) = set(out.iterdir()) - before
    return made


def stored_f1(run: Path) -> float:
    return load_run(run).value("test", "base", "lenient", "f1")


def tags_by_sentence(run: Path, column: str) -> list[list[str]]:
    """Test tags per sentence, rebuilt row by row (independently of compare's numpy path)."""
    out: dict[int, list[str]] = {}
    for row in store.read_table(run, "predictions").to_pylist():
        if (row["split"], row["stage"]) == ("test", "base"):
            out.setdefault(row["sentence"], []).append(row[column])
    return [out[i] for i in sorted(out)]


def expected_p(baseline: Path, run: Path, test=paired_bootstrap) -> float:
    return test(
        tags_by_sentence(baseline, "gold"),
        tags_by_sentence(baseline, "predicted"),
        tags_by_sentence(run, "predicted"),
    ).p_value


def row_of(output: str, text: str) -> str:
    """The table row (rich draws rows between "│") that holds ``text``."""
    (line,) = [line for line in output.splitlines() if text in line and line.startswith("│")]
    return line


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two seeds of one config and one other config on the toy corpus, and a run on
    the toy corpus without its last two test sentences (other test data)."""
    tmp = tmp_path_factory.mktemp("compare")
    toy = write_folder(tmp / "toy")
    other = write_folder(tmp / "toy-short", drop_test=2)
    out = tmp / "runs"
    made = {
        "seed1": make_run(out, toy, "--seed", "1"),
        "seed2": make_run(out, toy, "--seed", "2"),
        "short": make_run(out, toy, "-T", "max_length=1"),
    }
    made["other"] = make_run(tmp / "other-runs", other, "--seed", "1")
    return made


def test_seeds_share_a_row_and_the_baseline_gives_delta_and_p(runs: dict[str, Path]) -> None:
    out = runs["seed1"].parent
    result = invoke("compare", str(out), "--baseline", runs["short"].name)
    assert result.exit_code == 0, result.output
    seeds_f1 = [stored_f1(runs["seed1"]), stored_f1(runs["seed2"])]
    base_f1 = stored_f1(runs["short"])
    mean, std = statistics.mean(seeds_f1), statistics.stdev(seeds_f1)
    assert base_f1 < mean  # max_length=1 cannot match two-token names

    fingerprint = json.loads(store.read_table(runs["seed1"], "run")["fingerprints"][0].as_py())
    toy = runs["seed1"].parent.parent / "toy"  # a folder dataset is named by its path
    assert f"{toy}: test fingerprint {fingerprint['test'][:12]} (3 runs)" in result.output
    seed_row = row_of(result.output, runs["seed1"].name)
    assert "lexicon.tagger.v1 " in seed_row and "1, 2" in seed_row
    assert f"{100 * mean:.2f} ± {100 * std:.2f} (n=2)" in seed_row
    assert f"{100 * (mean - base_f1):+.2f}" in seed_row
    p = max(expected_p(runs["short"], runs[s]) for s in ("seed1", "seed2"))
    assert f" {p:.3f} " in seed_row
    base_row = row_of(result.output, runs["short"].name)
    assert "max_length=1" in base_row and "baseline" in base_row
    assert f"{100 * base_f1:.2f}" in base_row
    assert "p: paired-bootstrap over sentences, 1000 resamples, seed 13" in result.output


def test_json_holds_every_number(runs: dict[str, Path]) -> None:
    out = runs["seed1"].parent
    result = invoke("compare", str(out), "--baseline", str(runs["short"]), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["metric"], data["mode"], data["test"]) == ("f1", "lenient", "paired-bootstrap")
    (group,) = data["groups"]
    assert group["columns"] == ["dev base", "test base"]
    assert group["datasets"] == [str(runs["seed1"].parent.parent / "toy")]
    base, seeds = group["rows"]
    assert base["baseline"] and base["runs"] == [runs["short"].name] and base["delta"] is None
    assert seeds["runs"] == [runs["seed1"].name, runs["seed2"].name] and seeds["seeds"] == [1, 2]
    values = seeds["values"]["test base"]
    assert values["values"] == [stored_f1(runs["seed1"]), stored_f1(runs["seed2"])]
    assert values["n"] == 2 and values["std"] == statistics.stdev(values["values"])
    assert seeds["delta"] == pytest.approx(values["mean"] - stored_f1(runs["short"]), abs=1e-15)
    member_p = [t["p_value"] for t in seeds["tests"]]
    assert member_p == [expected_p(runs["short"], runs[s]) for s in ("seed1", "seed2")]
    assert seeds["p_value"] == max(member_p)


def test_a_rows_runs_are_in_seed_order_whatever_order_they_are_named_in(
    runs: dict[str, Path],
) -> None:
    named = [str(runs["seed2"]), str(runs["seed1"])]
    result = invoke("compare", *named, "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)["groups"][0]["rows"]
    assert row["seeds"] == [1, 2] and row["runs"] == [runs["seed1"].name, runs["seed2"].name]
    assert row["values"]["test base"]["values"] == [stored_f1(runs[s]) for s in ("seed1", "seed2")]


def test_approximate_randomisation_and_other_metrics(runs: dict[str, Path]) -> None:
    out = runs["seed1"].parent
    args = ["compare", runs["short"].name, runs["seed1"].name, "--runs", str(out)]
    result = invoke(*args, "--baseline", runs["short"].name, "--test", "ar", "-f", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)["groups"][0]["rows"][1]
    assert row["p_value"] == expected_p(runs["short"], runs["seed1"], approximate_randomization)
    assert json.loads(result.output)["test"] == "approximate-randomization"

    result = invoke(*args, "--metric", "precision", "--mode", "strict", "-f", "csv")
    assert result.exit_code == 0, result.output
    records = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["runs"] for r in records] == [runs["short"].name, runs["seed1"].name]
    stored = load_run(runs["seed1"]).value("test", "base", "strict", "precision")
    assert float(records[1]["test base"]) == stored

    result = invoke(
        *args, "--baseline", runs["short"].name, "--metric", "accuracy", "-f", "markdown"
    )
    assert result.exit_code == 0, result.output
    assert "no paired test for accuracy: tests cover f1, precision, recall" in result.output
    assert "| runs | config | seeds | dev base | test base | Δ test |" in result.output


def test_no_run_ids_drops_the_runs_column_only(runs: dict[str, Path]) -> None:
    args = ("compare", str(runs["seed1"].parent), "-f", "markdown")
    with_ids, without = invoke(*args), invoke(*args, "--no-run-ids")
    assert with_ids.exit_code == 0 and without.exit_code == 0, without.output
    assert runs["seed1"].name in with_ids.output
    assert runs["seed1"].name not in without.output
    assert "| config | seeds | dev base | test base |" in without.output
    assert "|---|---|---:|---:|" in without.output
    # Every other cell is the same: strip the first cell of each table row of the other.
    stripped = [
        "|" + line.split("|", 2)[2] if line.startswith("| ") else line
        for line in with_ids.output.splitlines()
    ]
    assert [line for line in stripped if not line.startswith("|-")] == [
        line for line in without.output.splitlines() if not line.startswith("|-")
    ]


def test_two_datasets_are_two_groups(runs: dict[str, Path]) -> None:
    result = invoke("compare", str(runs["seed1"].parent), str(runs["other"]), "-f", "markdown")
    assert result.exit_code == 0, result.output
    fingerprints = [
        json.loads(store.read_table(runs[name], "run")["fingerprints"][0].as_py())["test"][:12]
        for name in ("seed1", "other")
    ]
    assert fingerprints[0] != fingerprints[1]
    data = runs["seed1"].parent.parent
    assert f"**{data / 'toy'}: test fingerprint {fingerprints[0]} (3 runs)**" in result.output
    assert f"**{data / 'toy-short'}: test fingerprint {fingerprints[1]} (1 run)**" in result.output


def test_a_baseline_on_other_data_is_an_error_naming_it(runs: dict[str, Path]) -> None:
    result = invoke(
        "compare", str(runs["seed1"]), str(runs["other"]), "--baseline", str(runs["seed1"])
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: baseline ")
    other = load_run(runs["other"])
    assert f"{other.run_id} (dataset {other.dataset}, test fingerprint " in result.stderr
    assert other.fingerprints["test"][:12] in result.stderr
    assert "is scored on other test data than" in result.stderr


def test_stored_counts_equal_those_of_the_corpus(runs: dict[str, Path]) -> None:
    run = load_run(runs["seed1"])
    counts = stored_counts(run)
    corpus = open_dataset(run.dataset, scheme=None).corpus
    direct = sentence_counts(
        [s.tags for s in corpus["test"]], tags_by_sentence(run.path, "predicted")
    )
    assert counts.correct.tolist() == direct.correct.tolist()
    assert counts.gold.tolist() == direct.gold.tolist()
    assert counts.score() == pytest.approx(run.value("test", "base", "lenient", "f1"), abs=1e-15)


def test_python_api_groups_the_same_way(runs: dict[str, Path]) -> None:
    paths = [runs["seed1"], runs["seed2"], runs["short"]]
    result = compare_runs(paths, baseline=runs["short"], test="none")
    (group,) = result.groups
    assert [len(r.runs) for r in group.rows] == [1, 2]
    assert result.test is None and group.rows[1].p_value is None
    assert group.rows[1].delta == pytest.approx(
        stored_f1(runs["seed1"]) - stored_f1(runs["short"]), abs=1e-15
    )


def test_options_are_stored_typed_and_old_string_options_share_a_row(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """`-T max_length=1` is stored as the number 1, as Python's ``max_length=1`` is;
    a run stored before that with the string "1" is the same config: one row."""
    short = runs["short"]
    stored = json.loads(store.read_table(short, "run")["config"][0].as_py())
    assert stored["tagger_options"] == {"max_length": 1}

    old = tmp_path / short.name.replace(short.name[-4:], "0ld5")
    shutil.copytree(short, old)
    table = store.read_table(old, "run")
    config = stored | {"seed": stored["seed"] + 1, "tagger_options": {"max_length": "1"}}
    table = table.set_column(
        table.schema.get_field_index("config"), "config", [[json.dumps(config)]]
    )
    # nor did such a run record every option it ran with
    table = table.set_column(
        table.schema.get_field_index("extra"), "extra", [[json.dumps(without_record(short))]]
    )
    table = table.set_column(table.schema.get_field_index("seed"), "seed", [[stored["seed"] + 1]])
    # another run: its own id (a folder of the same id is the same run, counted once)
    table = table.set_column(table.schema.get_field_index("run_id"), "run_id", [[old.name]])
    store.write_table(old, "run", table)
    assert load_run(old).config["tagger_options"] == {"max_length": 1}

    (group,) = compare_runs([short, old], test="none").groups
    (row,) = group.rows
    assert sorted(r.seed for r in row.runs) == [stored["seed"], stored["seed"] + 1]

    # an option the installed plugin does not take stays as stored: its own row
    config["tagger_options"] = {"max_length": "1", "gone": "2"}
    table = table.set_column(
        table.schema.get_field_index("config"), "config", [[json.dumps(config)]]
    )
    store.write_table(old, "run", table)
    assert load_run(old).config["tagger_options"] == {"max_length": "1", "gone": "2"}
    assert len(compare_runs([short, old], test="none").groups[0].rows) == 2


def test_errors_are_one_clear_message(runs: dict[str, Path], tmp_path: Path) -> None:
    out = runs["seed1"].parent
    result = invoke("compare", "nosuch", "--runs", str(out))
    assert result.exit_code == 2 and f"no run 'nosuch' in {out}" in result.stderr

    partial = tmp_path / "runs" / "20250101-000000-lexicon-toy-beef.partial"
    shutil.copytree(runs["seed1"], partial)
    result = invoke("compare", "20250101-000000-lexicon-toy-beef", "--runs", str(tmp_path / "runs"))
    assert result.exit_code == 2 and "is unfinished" in result.stderr
    assert "--resume 20250101-000000-lexicon-toy-beef" in result.stderr
    result = invoke("compare", str(tmp_path / "runs"))
    assert result.exit_code == 2
    assert "no finished runs in" in result.stderr and "unfinished: 20250101-" in result.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("compare", "--runs", str(empty))
    assert result.exit_code == 2 and f"no finished runs in {empty}" in result.stderr
    result = invoke("compare", "--runs", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert f"no runs to compare: {tmp_path / 'missing'} is not a folder" in result.stderr

    result = invoke("compare", str(out), "--metric", "bleu")
    assert result.exit_code == 2 and "no metric 'bleu' in these runs (stored: " in result.stderr
    result = invoke("compare", str(out), "--format", "xml")
    assert result.exit_code == 2 and "unknown format 'xml'" in result.stderr
    result = invoke("compare", str(out), "--baseline", "nosuch")
    assert result.exit_code == 2 and "no run 'nosuch' in runs" in result.stderr
    for text in ("Traceback", "Exception"):
        assert text not in result.output


def test_every_option_has_help() -> None:
    command = get_command(app).commands["compare"]
    assert command.help
    for param in command.params:
        assert getattr(param, "help", None), param.name


@pytest.mark.skipif(not has_shared_data("wnut17"), reason=SHARED_DATA_REASON)
def test_wnut17_seeds_and_a_case_folded_baseline(tmp_path: Path) -> None:
    env = {"NERKIT_DATA_DIR": str(SHARED_DATA)}
    out = tmp_path / "runs"
    seeds = [make_run(out, "wnut17", "--seed", s, env=env) for s in ("1", "2")]
    folded = make_run(out, "wnut17", "-T", "case_sensitive=false", env=env)
    result = invoke("compare", str(out), "--baseline", folded.name, env=env)
    assert result.exit_code == 0, result.output
    mean = statistics.mean(stored_f1(s) for s in seeds)
    std = statistics.stdev(stored_f1(s) for s in seeds)
    seed_row = row_of(result.output, seeds[0].name)
    assert f"{100 * mean:.2f} ± {100 * std:.2f} (n=2)" in seed_row
    assert f"{100 * (mean - stored_f1(folded)):+.2f}" in seed_row
    p = max(expected_p(folded, s) for s in seeds)
    assert (f" {p:.3f} " if p >= 0.001 else " <0.001 ") in seed_row
    assert "wnut17: test fingerprint " in result.output and "(3 runs)" in result.output


def test_predictions_stored_out_of_order_are_read_in_order(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    copy = shutil.copytree(runs["seed1"], tmp_path / runs["seed1"].name)
    table = store.read_table(copy, "predictions")
    store.write_table(copy, "predictions", table.take(list(reversed(range(table.num_rows)))))
    shuffled, original = stored_counts(load_run(copy)), stored_counts(load_run(runs["seed1"]))
    assert shuffled.correct.tolist() == original.correct.tolist()
    assert shuffled.predicted.tolist() == original.predicted.tolist()


def stored_copy(run: Path, folder: Path, suffix: str, **changes: object) -> Path:
    """A copy of ``run`` under another id, its run row changed: ``config`` entries to
    merge into the stored config, other keys replace that column's value."""
    copy = folder / (run.name[:-4] + suffix)
    shutil.copytree(run, copy)
    table = store.read_table(copy, "run")
    row = table.to_pylist()[0]
    config = json.loads(row["config"]) | dict(changes.pop("config", {}))  # type: ignore[arg-type]
    row |= {"run_id": copy.name, "config": json.dumps(config), **changes}
    store.write_table(copy, "run", table.from_pylist([row], schema=table.schema))
    return copy


def test_a_rerun_seed_counts_once_and_a_note_names_it(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """Two runs of seed 2 of one config (a rerun) would weigh seed 2 twice: the newer
    is counted, the older named in a note."""
    seed1, seed2 = runs["seed1"], runs["seed2"]
    later = store.read_table(seed2, "run")["created_utc"][0].as_py() + timedelta(days=1)
    rerun = stored_copy(seed2, tmp_path, "r3rn", created_utc=later)
    (group,) = compare_runs([seed1, seed2, rerun], test="none").groups
    (row,) = group.rows
    assert [r.path for r in row.runs] == [seed1.resolve(), rerun.resolve()]
    assert row.cells[("test", "base")].n == 2
    (note,) = group.notes
    assert f"{seed2.name} repeats seed 2 of {rerun.name}" in note

    result = invoke("compare", str(seed1), str(seed2), str(rerun), "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert f"{seed2.name} repeats seed 2 of {rerun.name}" in result.output
    assert "1, 2 |" in result.output and "(n=2)" in result.output


def test_a_setting_stored_as_nothing_equals_one_not_stored(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """A run stored before a config key existed lacks it; a newer run stores it as
    null (or as no options): the same config, one row."""
    seed1 = runs["seed1"]
    newer = stored_copy(
        seed1, tmp_path, "n3wr", seed=3, config={"seed": 3, "added_later": None, "x_options": {}}
    )
    (group,) = compare_runs([seed1, newer], test="none").groups
    (row,) = group.rows
    assert row.seeds == (1, 3)
    other = stored_copy(seed1, tmp_path, "0thr", seed=4, config={"seed": 4, "added_later": 2})
    assert len(compare_runs([seed1, other], test="none").groups[0].rows) == 2


def test_a_run_on_another_device_is_a_row_that_says_so(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    seed1 = runs["seed1"]
    gpu = stored_copy(seed1, tmp_path, "cuda", seed=2, config={"seed": 2, "device": "cuda"})
    rows = compare_runs([seed1, gpu], test="none").groups[0].rows
    assert [r.config for r in rows] == ["lexicon.tagger.v1", "lexicon.tagger.v1 device=cuda"]


def test_a_paired_test_counts_empty_sentences_at_the_end_of_the_split(tmp_path: Path) -> None:
    """An empty sentence stores no prediction rows; one at the end of test was left out
    of the paired tests (11 sentences resampled of 12), in the export too."""
    from nerkit.export import export_run

    corpus = toy_corpus()
    folder = tmp_path / "toy-empty"
    folder.mkdir()
    for split in corpus:
        sentences = list(corpus[split])
        if split == "test":
            sentences.append(type(sentences[0])(tokens=(), tags=()))
        write(sentences, folder / f"{split}.jsonl")
    run = make_run(tmp_path / "runs", folder)
    size = len(corpus["test"]) + 1
    assert len(stored_counts(load_run(run))) == size
    copy = export_run(run, tmp_path / "exported").path
    assert len(stored_counts(load_run(copy))) == size


def with_test_predictions(run: Path, folder: Path, suffix: str, alter, **changes: object) -> Path:
    """A ``stored_copy`` whose test predictions are ``alter(gold, predicted)`` per
    sentence, with its test metrics scored again on them."""
    from nerkit.metrics import scores

    copy = stored_copy(run, folder, suffix, **changes)
    rows = store.read_table(copy, "predictions").to_pylist()
    test_rows: dict[int, list[dict]] = {}
    for row in rows:
        if (row["split"], row["stage"]) == ("test", "base"):
            test_rows.setdefault(row["sentence"], []).append(row)
    gold, predicted = [], []
    for sentence in sorted(test_rows):
        tokens = test_rows[sentence]
        new = alter([t["gold"] for t in tokens], [t["predicted"] for t in tokens])
        for token, tag in zip(tokens, new, strict=True):
            token["predicted"] = tag
        gold.append([t["gold"] for t in tokens])
        predicted.append(list(new))
    table = store.read_table(copy, "predictions")
    store.write_table(copy, "predictions", table.from_pylist(rows, schema=table.schema))
    metrics = store.read_table(copy, "metrics")
    kept = [r for r in metrics.to_pylist() if (r["split"], r["stage"]) != ("test", "base")]
    for mode in ("lenient", "strict"):
        kept += [
            {"split": "test", "stage": "base", "mode": mode, "metric": m, "label": label}
            | {"value": value, "support": support}
            for m, label, value, support in scores(gold, predicted, "IOB2", mode).rows()
        ]
    store.write_table(copy, "metrics", metrics.from_pylist(kept, schema=metrics.schema))
    return copy


def test_a_seed_on_the_other_side_of_the_baseline_does_not_support_the_row(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """One seed perfect, one predicting nothing: each differs from the baseline, in
    opposite directions, so the row's difference is not significant (p = 1), though
    the largest p of the two is small; each run's own test stays in the JSON."""
    short, seed1 = runs["short"], runs["seed1"]
    better = with_test_predictions(
        seed1, tmp_path, "b3tr", lambda g, p: g, seed=5, config={"seed": 5}
    )
    worse = with_test_predictions(
        seed1, tmp_path, "w0rs", lambda g, p: ["O"] * len(p), seed=6, config={"seed": 6}
    )
    result = invoke("compare", str(short), str(better), str(worse), "-b", str(short), "-f", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)["groups"][0]["rows"][1]
    assert row["runs"] == [better.name, worse.name]
    # 0 - F1(short) outweighs 1 - F1(short): the row is worse than the baseline
    assert row["delta"] == pytest.approx(0.5 - stored_f1(short), abs=1e-15)
    assert row["delta"] < 0
    (up, down) = row["tests"]
    assert up["delta"] > 0 > down["delta"]
    assert up["p_value"] == expected_p(short, better)
    assert down["p_value"] == expected_p(short, worse)
    assert max(up["p_value"], down["p_value"]) < 0.5  # what the row showed before
    assert row["p_value"] == 1.0
    table = invoke(
        "compare", str(short), str(better), str(worse), "-b", str(short), "-f", "markdown"
    )
    assert f"| {100 * row['delta']:+.2f} | 1.000 |" in table.output
    assert (
        "seed 13, two-sided; for several seeds the largest p of their runs, a run whose Δ "
        "has the other sign than the row's counted as 1." in table.output
    )

    # both seeds on the row's side: the largest p, as before
    (group,) = compare_runs([short, better, seed1], baseline=short).groups
    assert group.rows[1].p_value == max(t.p_value for t in group.rows[1].tests) < 1.0


def test_a_rerun_without_the_cache_shares_the_row(runs: dict[str, Path], tmp_path: Path) -> None:
    """--no-cache changes whether stored work is reused, not what is computed."""
    seed1 = runs["seed1"]
    assert load_run(seed1).config["cache"] is True
    uncached = stored_copy(seed1, tmp_path, "n0ch", seed=3, config={"seed": 3, "cache": False})
    (group,) = compare_runs([seed1, uncached], test="none").groups
    (row,) = group.rows
    assert row.seeds == (1, 3) and row.config == "lexicon.tagger.v1"


def test_runs_cut_to_other_train_sizes_are_not_labelled_by_their_train_data(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """--max-train-sentences changes the train fingerprint by design: the rows are told
    apart by the setting, without a train= word or a note on other train data; runs
    cut alike on other data still get both."""
    seed1 = runs["seed1"]
    prints = json.loads(store.read_table(seed1, "run")["fingerprints"][0].as_py())
    other = json.dumps(prints | {"train": "f" * 64})
    cut = stored_copy(
        seed1, tmp_path, "tr30", config={"max_train_sentences": 30}, fingerprints=other
    )
    (group,) = compare_runs([seed1, cut], test="none").groups
    assert [r.config for r in group.rows] == [
        "lexicon.tagger.v1",
        "lexicon.tagger.v1 max_train_sentences=30",
    ]
    assert not any("train splits" in note for note in group.notes), group.notes
    changed = stored_copy(seed1, tmp_path, "chgd", fingerprints=other)
    (group,) = compare_runs([seed1, changed], test="none").groups
    assert [r.config for r in group.rows][1] == "lexicon.tagger.v1 train=ffffffffffff"
    assert any("train splits of these runs differ" in note for note in group.notes)


def test_rows_that_differ_in_keys_describe_leaves_out_are_labelled_by_them(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    seed1 = runs["seed1"]
    train = stored_copy(seed1, tmp_path, "tr30", config={"max_train_sentences": 300})
    dev = stored_copy(seed1, tmp_path, "dv10", config={"max_dev_sentences": 10, "threads": 2})
    (group,) = compare_runs([seed1, train, dev], test="none").groups
    assert [r.config for r in group.rows] == [
        "lexicon.tagger.v1",
        "lexicon.tagger.v1 max_train_sentences=300",
        "lexicon.tagger.v1 max_dev_sentences=10 threads=2",
    ]
    result = invoke("compare", str(seed1), str(train), "-f", "markdown", "--no-run-ids")
    assert result.exit_code == 0, result.output
    assert "| lexicon.tagger.v1 | 1 |" in result.output
    assert "| lexicon.tagger.v1 max_train_sentences=300 | 1 |" in result.output

    # keys that describe shows only in part: named when the labels would be equal
    v2 = stored_copy(seed1, tmp_path, "dcv2", config={"decoder": "conlleval.decoder.v2"})
    unset = stored_copy(seed1, tmp_path, "dvnn", config={"device": None})
    rows = compare_runs([seed1, v2, unset], test="none").groups[0].rows
    assert [r.config for r in rows] == [
        "lexicon.tagger.v1 decoder=conlleval.decoder.v1 device=cpu",
        "lexicon.tagger.v1 decoder=conlleval.decoder.v2 device=cpu",
        "lexicon.tagger.v1 decoder=conlleval.decoder.v1",
    ]


def test_a_metric_not_stored_in_the_mode_is_an_error(runs: dict[str, Path]) -> None:
    out = str(runs["seed1"].parent)
    result = invoke("compare", out, "--metric", "repairs", "--mode", "strict")
    assert result.exit_code == 2, result.output
    assert (
        "no metric 'repairs' in mode strict in these runs: it is stored in mode lenient only"
        in result.stderr
    )
    result = invoke("compare", out, "--metric", "repairs", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert {r["test base"] for r in csv.DictReader(io.StringIO(result.output))} == {"0.0"}


def test_a_single_run_has_no_std(runs: dict[str, Path]) -> None:
    """One run has no spread to estimate: its std is null, not 0."""
    args = ("compare", str(runs["seed1"].parent))
    data = json.loads(invoke(*args, "-f", "json").output)
    single, seeds = sorted(data["groups"][0]["rows"], key=lambda r: r["n"])
    assert single["values"]["test base"]["std"] is None
    assert seeds["values"]["test base"]["std"] == statistics.stdev(
        seeds["values"]["test base"]["values"]
    )
    records = list(csv.DictReader(io.StringIO(invoke(*args, "-f", "csv").output)))
    assert [r["test base std"] for r in records if r["n"] == "1"] == [""]
    table = invoke(*args)
    assert table.exit_code == 0, table.output
    shown = row_of(table.output, runs["short"].name)
    assert f"{100 * stored_f1(runs['short']):.2f} │" in shown and "±" not in shown


def recorded_options(run: Path) -> dict:
    """The run table's ``extra``, which records every option the run ran with."""
    return json.loads(store.read_table(run, "run")["extra"][0].as_py())


def without_record(run: Path) -> dict:
    """``extra`` as a run stored before 0.3.7 has it: no options recorded."""
    extra = recorded_options(run)
    del extra["options"]
    return extra


def test_options_asked_at_their_defaults_share_the_row_of_runs_without_them(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """`-T max_length=8 -T min_confidence=0` are lexicon's defaults: that run ran as
    the runs without them did, so it is their third seed, in the mean, the std and the
    paired tests, and the label does not name the options."""
    assert recorded_options(runs["seed1"])["options"]["tagger"]["max_length"] == 8
    toy = runs["seed1"].parent.parent / "toy"
    asked = make_run(
        tmp_path / "runs", toy, "--seed", "3", "-T", "max_length=8", "-T", "min_confidence=0"
    )
    seeds = [runs["seed1"], runs["seed2"], asked]
    named = [str(r) for r in [runs["short"], *seeds]]
    result = invoke("compare", *named, "-b", str(runs["short"]), "-f", "json")
    assert result.exit_code == 0, result.output
    base, row = json.loads(result.output)["groups"][0]["rows"]
    assert base["baseline"] and base["config"] == "lexicon.tagger.v1 max_length=1"
    assert row["config"] == "lexicon.tagger.v1"
    assert row["runs"] == [r.name for r in seeds] and row["seeds"] == [1, 2, 3]
    values = row["values"]["test base"]
    assert row["n"] == values["n"] == 3
    assert values["values"] == [stored_f1(r) for r in seeds]
    assert values["std"] == pytest.approx(statistics.stdev(values["values"]), abs=1e-12)
    assert [t["p_value"] for t in row["tests"]] == [expected_p(runs["short"], r) for r in seeds]

    table = invoke("compare", *named[1:])
    assert table.exit_code == 0, table.output
    shown = row_of(table.output, runs["seed1"].name)
    mean, std = statistics.mean(values["values"]), statistics.stdev(values["values"])
    assert "│ lexicon.tagger.v1 " in shown and "│ 1, 2, 3 " in shown
    assert f"{100 * mean:.2f} ± {100 * std:.2f} (n=3)" in shown
    assert "max_length" not in table.output and "min_confidence" not in table.output


def test_a_run_made_before_a_default_changed_keeps_the_value_it_ran_with(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """A run records every option it ran with: one made when lexicon's max_length
    defaulted to 5 is a run of max_length=5 (a row with the run that asked for 5), not
    one of today's default 8. An option added since, not in a run's record, has its
    default."""
    seed1, seed2 = runs["seed1"], runs["seed2"]
    extra = recorded_options(seed1)
    extra["options"]["tagger"]["max_length"] = 5
    older = stored_copy(
        seed1, tmp_path, "0ld7", seed=7, config={"seed": 7}, extra=json.dumps(extra)
    )
    extra["options"]["tagger"]["max_length"] = 8
    del extra["options"]["tagger"]["min_confidence"]
    added = stored_copy(
        seed1, tmp_path, "0ld9", seed=9, config={"seed": 9}, extra=json.dumps(extra)
    )
    asked = make_run(
        tmp_path / "runs", seed1.parent.parent / "toy", "--seed", "4", "-T", "max_length=5"
    )

    named = [str(r) for r in (seed1, seed2, older, asked, added)]
    result = invoke("compare", *named, "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["groups"][0]["rows"]
    assert [(r["config"], r["seeds"], r["n"]) for r in rows] == [
        ("lexicon.tagger.v1", [1, 2, 9], 3),
        ("lexicon.tagger.v1 max_length=5", [4, 7], 2),
    ]
    assert rows[1]["runs"] == [asked.name, older.name]
    table = invoke("compare", *named, "-f", "markdown", "--no-run-ids")
    assert "| lexicon.tagger.v1 | 1, 2, 9 |" in table.output
    assert "| lexicon.tagger.v1 max_length=5 | 4, 7 |" in table.output


def test_a_run_that_recorded_no_options_counts_its_asked_ones_over_todays_defaults(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """Of a run stored before 0.3.7 only the options asked for are known: the others
    are taken to be today's defaults (as `nerkit sweep` takes them), so asking for the
    default is the run without it."""
    seed1 = runs["seed1"]
    old = stored_copy(
        seed1,
        tmp_path,
        "0ld3",
        seed=3,
        config={"seed": 3, "tagger_options": {"max_length": "8"}},
        extra=json.dumps(without_record(seed1)),
    )
    (row,) = compare_runs([seed1, old], test="none").groups[0].rows
    assert row.seeds == (1, 3) and row.config == "lexicon.tagger.v1"


def test_runs_of_a_plugin_that_is_not_installed_compare_as_stored(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """Without the plugin its defaults are unknown: runs that recorded their options
    are grouped, and labelled, by every option recorded; older ones by those asked."""
    seed1 = runs["seed1"]
    gone = {"tagger": "gone.tagger.v1"}
    recorded = [
        stored_copy(seed1, tmp_path, "g0n1", tagger=gone["tagger"], config=gone),
        stored_copy(
            seed1,
            tmp_path,
            "g0n2",
            seed=2,
            tagger=gone["tagger"],
            config=gone | {"seed": 2, "tagger_options": {"max_length": 8}},
        ),
    ]
    old = json.dumps(without_record(seed1))
    older = [
        stored_copy(seed1, tmp_path, "g0n3", seed=3, config=gone | {"seed": 3}, extra=old),
        stored_copy(
            seed1,
            tmp_path,
            "g0n4",
            seed=4,
            config=gone | {"seed": 4, "tagger_options": {"max_length": 8}},
            extra=old,
        ),
    ]
    result = invoke("compare", *(str(r) for r in recorded + older), "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["groups"][0]["rows"]
    every = "case_sensitive=true max_length=8 min_confidence=0.0 min_count=1"
    assert [(r["config"], r["seeds"]) for r in rows] == [
        (f"gone.tagger.v1 {every}", [1, 2]),
        ("gone.tagger.v1", [3]),
        ("gone.tagger.v1 max_length=8", [4]),
    ]


def test_fold_settings_of_a_run_without_a_corrector_do_not_split_its_row(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """--folds and --fold-mode without a corrector did nothing (refused since 0.3.11):
    a run stored with them is a seed of the run without them. With a corrector they
    are part of the config."""
    seed1 = runs["seed1"]
    folds = {"folds": 10, "fold_mode": "entity-disjoint"}
    tens = stored_copy(seed1, tmp_path, "fd10", seed=3, config={"seed": 3} | folds)
    (row,) = compare_runs([seed1, tens], test="none").groups[0].rows
    assert row.seeds == (1, 3) and row.config == "lexicon.tagger.v1"

    corrected = {"corrector": "gone.corrector.v1"}
    five = stored_copy(seed1, tmp_path, "cr05", config=corrected)
    ten = stored_copy(seed1, tmp_path, "cr10", seed=2, config=corrected | {"seed": 2} | folds)
    rows = compare_runs([five, ten], test="none").groups[0].rows
    assert [r.config for r in rows] == [
        "lexicon.tagger.v1 + gone.corrector.v1 fold_mode=random folds=5",
        "lexicon.tagger.v1 + gone.corrector.v1 fold_mode=entity-disjoint folds=10",
    ]


def test_runs_trained_on_other_data_are_rows_of_their_own_not_seeds_or_reruns(
    tmp_path: Path,
) -> None:
    """The train file of a folder changed between runs (its dev and test as they
    were): the runs before and after are two rows, labelled by their train
    fingerprints, and seed 1 after is no rerun of seed 1 before."""
    folder = write_folder(tmp_path / "toy")
    out = tmp_path / "runs"
    before = [make_run(out, folder, "--seed", seed) for seed in ("1", "2")]
    write(toy_corpus()["train"][:-2], folder / "train.conll")
    after = [make_run(out, folder, "--seed", seed) for seed in ("1", "3")]
    train = [load_run(r).fingerprints["train"][:12] for r in (before[0], after[0])]
    assert train[0] != train[1]

    result = invoke("compare", str(out), "-f", "json")
    assert result.exit_code == 0, result.output
    (group,) = json.loads(result.output)["groups"]
    assert [(r["runs"], r["seeds"], r["n"], r["config"]) for r in group["rows"]] == [
        ([r.name for r in before], [1, 2], 2, f"lexicon.tagger.v1 train={train[0]}"),
        ([r.name for r in after], [1, 3], 2, f"lexicon.tagger.v1 train={train[1]}"),
    ]
    assert group["notes"] == [
        "the train splits of these runs differ: runs trained on other data are rows of "
        "their own, labelled train= and the fingerprint's first 12 characters"
    ]
    table = invoke("compare", str(out), "-f", "markdown", "--no-run-ids")
    assert table.exit_code == 0, table.output
    assert f"| lexicon.tagger.v1 train={train[0]} | 1, 2 |" in table.output
    assert f"| lexicon.tagger.v1 train={train[1]} | 1, 3 |" in table.output
    assert "repeats seed" not in table.output


def test_runs_tuned_on_other_dev_data_are_rows_of_their_own(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    seed1, seed2 = runs["seed1"], runs["seed2"]
    stored = load_run(seed1).fingerprints
    other = json.dumps(dict(stored) | {"dev": "f" * 64})
    later = store.read_table(seed2, "run")["created_utc"][0].as_py() + timedelta(days=1)
    moved = stored_copy(
        seed2, tmp_path, "0dev", created_utc=later, fingerprints=other, config={"seed": 2}
    )
    (group,) = compare_runs([seed1, seed2, moved], test="none").groups
    assert [(r.seeds, r.config) for r in group.rows] == [
        ((1, 2), f"lexicon.tagger.v1 dev={stored['dev'][:12]}"),
        ((2,), "lexicon.tagger.v1 dev=ffffffffffff"),
    ]
    assert group.notes == (
        "the dev splits of these runs differ (rows labelled dev=): their dev columns are "
        "not comparable",
    )


def test_one_folder_named_three_ways_is_one_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-d toy`, `-d ./toy` and `-d /abs/toy/` read the same files: one config, three
    seeds, and the group named as the newest run named the folder."""
    monkeypatch.chdir(tmp_path)
    write_folder(tmp_path / "toy")
    out = tmp_path / "runs"
    spellings = ["toy", "./toy", f"{tmp_path / 'toy'}/"]
    made = [make_run(out, name, "--seed", str(seed)) for seed, name in enumerate(spellings, 1)]
    assert [load_run(r).dataset for r in made] == spellings

    result = invoke("compare", str(out), "-f", "json")
    assert result.exit_code == 0, result.output
    (group,) = json.loads(result.output)["groups"]
    assert group["datasets"] == [spellings[-1]]
    (row,) = group["rows"]
    assert (row["config"], row["seeds"], row["n"]) == ("lexicon.tagger.v1", [1, 2, 3], 3)
    table = invoke("compare", str(out), "-f", "markdown", "--no-run-ids")
    fingerprint = load_run(made[0]).fingerprints["test"][:12]
    assert f"**{spellings[-1]}: test fingerprint {fingerprint} (3 runs)**" in table.output
    assert "| lexicon.tagger.v1 | 1, 2, 3 |" in table.output


def test_markup_in_a_dataset_or_an_option_is_shown_as_it_is(tmp_path: Path) -> None:
    """Rich reads "[bold]" as a style: a folder or an option value holding it lost it."""
    folder = write_folder(tmp_path / "[bold]corpus")
    run = make_run(tmp_path / "runs", folder)
    extra = recorded_options(run)
    extra["options"]["tagger"]["x"] = "[red]y"
    marked = stored_copy(run, tmp_path, "mark", config={"seed": 2}, extra=json.dumps(extra))
    result = invoke("compare", str(run), str(marked))
    assert result.exit_code == 0, result.output
    fingerprint = load_run(run).fingerprints["test"][:12]
    assert f"{folder}: test fingerprint {fingerprint} (2 runs)" in result.output
    assert "lexicon.tagger.v1 x=[red]y" in row_of(result.output, marked.name)
