"""`nerkit eval`: equal to seqeval on files, fast path equal to the full reader,
clear errors when gold and predictions disagree."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report, f1_score
from seqeval.scheme import IOB2
from typer.testing import CliRunner

from nerkit import schemes
from nerkit.cli.app import app
from nerkit.evaluation.files import load_pair
from nerkit.io.scan import scan_columns

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-creative-work", "I-creative-work"]
TOKENS = ["a", "Zürich", "東京", "\u3000", "x" * 30, "New", "-", "_"]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def write(
    path: Path, sentences: list[list[tuple[str, ...]]], sep: str = "\t", blank: str = ""
) -> Path:
    lines = []
    for sentence in sentences:
        lines += [sep.join(cols) for cols in sentence]
        lines.append(blank)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def random_data(
    rng: random.Random, n: int
) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    tokens, gold, pred = [], [], []
    for _ in range(n):
        length = rng.randint(1, 12)
        tokens.append([rng.choice(TOKENS) for _ in range(length)])
        gold.append([rng.choice(TAGS) for _ in range(length)])
        pred.append([t if rng.random() < 0.7 else rng.choice(TAGS) for t in gold[-1]])
    return tokens, gold, pred


def check_against_seqeval(out: dict, gold: list[list[str]], pred: list[list[str]]) -> None:
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    for label, row in report.items():
        mine = out[label.removesuffix(" avg")] if label.endswith(" avg") else out["per_type"][label]
        assert mine["f1"] == pytest.approx(row["f1-score"], abs=1e-12)
        assert mine["precision"] == pytest.approx(row["precision"], abs=1e-12)
        assert mine["support"] == row["support"]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), blank=st.sampled_from(["", "\t", " ", "\t\t"]))
def test_two_files_score_as_seqeval(
    tmp_path_factory: pytest.TempPathFactory, seed: int, blank: str
) -> None:
    tmp = tmp_path_factory.mktemp("eval")
    tokens, gold, pred = random_data(random.Random(seed), 40)
    g = write(
        tmp / "gold.conll",
        [list(zip(t, g, strict=True)) for t, g in zip(tokens, gold, strict=True)],
        blank=blank,
    )
    p = write(
        tmp / "pred.conll",
        [list(zip(t, p, strict=True)) for t, p in zip(tokens, pred, strict=True)],
    )
    code, output = invoke("eval", str(g), str(p), "--json")
    assert code == 0, output
    out = json.loads(output)
    check_against_seqeval(out, gold, pred)
    assert out["invalid_transitions"] == {
        "gold": sum(len(schemes.validate(s, "IOB2")) for s in gold),
        "pred": sum(len(schemes.validate(s, "IOB2")) for s in pred),
    }
    code, output = invoke("eval", str(g), str(p), "--json", "--mode", "strict")
    assert json.loads(output)["micro"]["f1"] == pytest.approx(
        f1_score(gold, pred, mode="strict", scheme=IOB2), abs=1e-12
    )


def test_fast_path_and_full_reader_agree(tmp_path: Path) -> None:
    tokens, gold, pred = random_data(random.Random(3), 60)
    rows = [list(zip(t, g, p, strict=True)) for t, g, p in zip(tokens, gold, pred, strict=True)]
    plain = write(tmp_path / "both.conll", rows)
    assert scan_columns(plain, [1, 2]) is not None  # the fast path takes it
    docstart = tmp_path / "docstart.conll"
    docstart.write_text(
        "-DOCSTART-\tO\tO\n\n" + plain.read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert scan_columns(docstart, [1, 2]) is None  # the full reader takes this one
    fast = invoke("eval", str(plain), "--gold-col", "1", "--pred-col", "2", "--json")
    full = invoke("eval", str(docstart), "--gold-col", "1", "--pred-col", "2", "--json")
    assert fast[0] == full[0] == 0
    a, b = json.loads(fast[1]), json.loads(full[1])
    a.pop("gold"), a.pop("pred"), b.pop("gold"), b.pop("pred")
    assert a == b
    check_against_seqeval(a, gold, pred)


def test_space_separated_three_columns(tmp_path: Path) -> None:
    tokens, gold, pred = random_data(random.Random(5), 30)
    tokens = [[t.replace("\u3000", "w") for t in s] for s in tokens]
    g = write(
        tmp_path / "g.txt",
        [list(zip(t, ["NN"] * len(t), g, strict=True)) for t, g in zip(tokens, gold, strict=True)],
        sep=" ",
    )
    p = write(
        tmp_path / "p.txt",
        [list(zip(t, p, strict=True)) for t, p in zip(tokens, pred, strict=True)],
        sep=" ",
    )
    code, output = invoke("eval", str(g), str(p), "--json")
    assert code == 0, output
    check_against_seqeval(json.loads(output), gold, pred)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda lines: lines.__setitem__(3, "zzz\tO"),
            r"sentence 2, token 1: 'zzz' where .*gold.conll has 'c'",
        ),
        (lambda lines: lines.__delitem__(4), r"sentence 2 has 1 tokens where .*gold.conll has 2"),
        (lambda lines: lines.__delitem__(slice(2, 5)), r"1 sentences where .*gold.conll has 2"),
    ],
)
def test_misaligned_files_name_file_sentence_and_token(
    tmp_path: Path, change, message: str
) -> None:  # type: ignore[no-untyped-def]
    gold = tmp_path / "gold.conll"
    gold.write_text("a\tB-PER\nb\tO\n\nc\tO\nd\tB-LOC\n", encoding="utf-8")
    lines = gold.read_text(encoding="utf-8").split("\n")
    change(lines)
    pred = tmp_path / "pred.conll"
    pred.write_text("\n".join(lines), encoding="utf-8")
    code, output = invoke("eval", str(gold), str(pred))
    assert code == 2
    assert "pred.conll" in output and "Traceback" not in output
    assert __import__("re").search(message, output), output


def test_bad_tag_in_predictions_names_file_and_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.conll"
    gold.write_text("a\tB-PER\nb\tO\n", encoding="utf-8")
    pred = tmp_path / "pred.conll"
    pred.write_text("a\tB-PER\nb\tX-PER\n", encoding="utf-8")
    code, output = invoke("eval", str(gold), str(pred))
    assert code == 2 and "pred.conll, line 2" in output and "X-PER" in output


def test_repair_changes_strict_scores_and_counts_repairs(tmp_path: Path) -> None:
    gold = tmp_path / "gold.conll"
    gold.write_text("a\tB-PER\nb\tI-PER\nc\tO\n", encoding="utf-8")
    pred = tmp_path / "pred.conll"
    pred.write_text("a\tI-PER\nb\tI-PER\nc\tO\n", encoding="utf-8")
    plain = json.loads(invoke("eval", str(gold), str(pred), "--json", "--mode", "strict")[1])
    repaired = json.loads(
        invoke("eval", str(gold), str(pred), "--json", "--mode", "strict", "--repair", "conlleval")[
            1
        ]
    )
    discarded = json.loads(
        invoke("eval", str(gold), str(pred), "--json", "--mode", "strict", "--repair", "discard")[1]
    )
    assert plain["micro"]["f1"] == 0.0 and plain["invalid_transitions"]["pred"] == 1
    assert repaired["micro"]["f1"] == 1.0 and repaired["repaired_tokens"] == 1
    assert discarded["micro"]["f1"] == 0.0 and discarded["repaired_tokens"] == 2


def test_csv_and_table_output(tmp_path: Path) -> None:
    gold = tmp_path / "gold.conll"
    gold.write_text("a\tB-PER\nb\tO\n", encoding="utf-8")
    code, output = invoke("eval", str(gold), str(gold), "--csv")
    assert code == 0
    assert output.splitlines()[0] == "metric,label,value,support"
    assert "f1,micro,1.0,1" in output
    code, output = invoke("eval", str(gold), str(gold))
    assert code == 0 and "micro" in output and "100.00" in output


def test_extras_partial_ci_and_paired_tests(tmp_path: Path) -> None:
    rng = random.Random(11)
    tokens, gold, pred = random_data(rng, 300)
    worse = [[t if rng.random() < 0.5 else "O" for t in s] for s in pred]
    g = write(
        tmp_path / "g.conll",
        [list(zip(t, x, strict=True)) for t, x in zip(tokens, gold, strict=True)],
    )
    a = write(
        tmp_path / "a.conll",
        [list(zip(t, x, strict=True)) for t, x in zip(tokens, gold, strict=True)],
    )
    b = write(
        tmp_path / "b.conll",
        [list(zip(t, x, strict=True)) for t, x in zip(tokens, worse, strict=True)],
    )
    code, output = invoke(
        "eval", str(g), str(a), "--json", "--partial", "--ci", "--against", str(b), "--errors"
    )
    assert code == 0, output
    out = json.loads(output)
    assert out["ci"]["low"] == out["ci"]["high"] == 1.0  # perfect predictions
    assert all(t["p_value"] < 0.01 for t in out["against"]["tests"])
    strict = out["partial"]["overall"]["strict"]
    assert strict["correct"] == strict["possible"] == strict["actual"] == out["micro"]["support"]
    assert "confusion" in json.dumps(out["errors"])


def test_load_pair_needs_a_prediction(tmp_path: Path) -> None:
    from nerkit.errors import InputError

    gold = tmp_path / "gold.conll"
    gold.write_text("a\tO\n", encoding="utf-8")
    with pytest.raises(InputError, match="--gold-col and --pred-col"):
        load_pair(gold, None)


def test_against_reads_gold_from_the_gold_column_and_repairs_both_systems(
    tmp_path: Path,
) -> None:
    """One file holding token, gold and PRED (gold not the last column), a second
    prediction file B: the paired tests read gold as PRED's score does, and --repair
    repairs B as it repairs PRED (the same file on both sides is no difference)."""
    rows = [
        [("x", "B-PER", "O", "I-PER"), ("y", "I-PER", "O", "I-PER"), ("z", "O", "B-LOC", "O")],
        [("w", "B-LOC", "B-LOC", "B-LOC")],
    ]
    both = write(tmp_path / "both.conll", [[r[:3] for r in s] for s in rows])
    b = write(tmp_path / "b.conll", [[(r[0], r[3]) for r in s] for s in rows])
    code, output = invoke(
        "eval", str(both), "--gold-col", "1", "--pred-col", "2", "--against", str(b), "--json",
        "--mode", "strict", "--repair", "conlleval", "--resamples", "200",
    )  # fmt: skip
    assert code == 0, output
    tests = json.loads(output)["against"]["tests"]
    # PRED finds LOC w only (1 of 2 found, 1 of 2 right); B, repaired, finds both
    assert [(t["f1_a"], t["f1_b"]) for t in tests] == [(0.5, 1.0)] * 2

    pred = write(tmp_path / "pred.conll", [[(r[0], r[2]) for r in s] for s in rows])
    gold = write(tmp_path / "gold.conll", [[(r[0], r[1]) for r in s] for s in rows])
    for repair in ("conlleval", "discard"):
        code, output = invoke(
            "eval", str(gold), str(b), "--against", str(b), "--json", "--mode", "strict",
            "--repair", repair, "--resamples", "200",
        )  # fmt: skip
        assert code == 0, output
        for t in json.loads(output)["against"]["tests"]:
            assert (t["delta"], t["p_value"]) == (0.0, 1.0), t
    code, output = invoke("eval", str(gold), str(pred), "--against", str(b), "--json")
    assert code == 0, output


def test_one_column_named_as_gold_and_prediction_scores_as_itself(tmp_path: Path) -> None:
    sentences = [
        [("x", "B-PER", "O"), ("y", "I-PER", "O"), ("z", "O", "B-LOC")],
        [("w", "B-LOC", "B-LOC")],
    ]
    path = write(tmp_path / "three.txt", sentences, sep=" ")
    for column, support in (("1", {"PER": 1, "LOC": 1}), ("2", {"LOC": 2})):
        code, output = invoke(
            "eval", str(path), "--gold-col", column, "--pred-col", column, "--json"
        )
        assert code == 0, output
        out = json.loads(output)
        assert {k: v["support"] for k, v in out["per_type"].items()} == support
        assert out["micro"]["f1"] == 1.0


def test_json_has_null_where_a_score_is_not_a_number(tmp_path: Path) -> None:
    """All-O gold and predictions: the macro average over no types is NaN (seqeval
    too), written as null, since NaN is not JSON."""
    path = write(tmp_path / "o.conll", [[("a", "O")], [("b", "O")]])
    code, output = invoke("eval", str(path), str(path), "--json")
    assert code == 0, output
    assert "NaN" not in output
    assert json.loads(output)["macro"]["f1"] is None


# ------------------------------------------------------------------ nested entities

NESTED_GOLD = [
    {
        "tokens": ["The", "Bank", "of", "China", "raised", "rates"],
        "spans": [[1, 4, "ORG"], [3, 4, "LOC"]],
    },
    {"tokens": ["Maria", "lives", "in", "Berlin"], "spans": [[0, 1, "PER"], [3, 4, "LOC"]]},
]


def micro_counts(out: dict) -> tuple[int, int, int]:
    """Gold, correct and predicted entities of ``nerkit eval --json`` output."""
    return out["micro"]["support"], out["micro"]["correct"], out["micro"]["predicted"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_nested_gold_spans_are_all_scored_in_every_section(tmp_path: Path) -> None:
    """Gold ORG [1, 4) holds LOC [3, 4); the predictions find the LOC only. All four
    gold entities count: the LOC is correct, the ORG missed (not a type error)."""
    gold = write_jsonl(tmp_path / "gold.jsonl", NESTED_GOLD)
    pred_rows = [dict(r, spans=[s for s in r["spans"] if s[2] != "ORG"]) for r in NESTED_GOLD]
    pred = write_jsonl(tmp_path / "pred.jsonl", pred_rows)
    code, output = invoke(
        "eval", str(gold), str(pred), "--json", "--partial", "--errors", "--ci",
        "--against", str(gold), "--resamples", "200",
    )  # fmt: skip
    assert code == 0, output
    out = json.loads(output)
    assert out["nested_sentences"] == {"gold": 1, "pred": 0}
    assert out["micro"] == {
        "precision": 1.0, "recall": 0.75, "f1": pytest.approx(6 / 7), "support": 4,
        "predicted": 3, "correct": 3,
    }  # fmt: skip
    assert out["per_type"]["LOC"]["support"] == out["per_type"]["LOC"]["correct"] == 2
    assert out["per_type"]["ORG"].items() >= {"support": 1, "predicted": 0, "correct": 0}.items()
    strict = out["partial"]["overall"]["strict"]
    assert (strict["correct"], strict["incorrect"], strict["missed"]) == (3, 0, 1)
    assert strict["possible"] == 4 and strict["actual"] == 3
    errors = out["errors"]
    assert (errors["n_gold"], errors["n_pred"], errors["correct"]) == (4, 3, 3)
    kinds = {
        (r["gold"], r["predicted"], r["kind"]): r["count"] for r in errors["confusion"]["rows"]
    }
    assert kinds == {
        ("LOC", "LOC", "correct"): 2,
        ("PER", "PER", "correct"): 1,
        ("ORG", "", "missed"): 1,
    }
    assert errors["false_negatives"] == [{"surface": "Bank of China", "label": "ORG", "count": 1}]
    assert out["ci"]["f1"] == pytest.approx(6 / 7)
    # against the gold itself: B is perfect on all four entities
    assert [(t["f1_a"], t["f1_b"]) for t in out["against"]["tests"]] == [
        (pytest.approx(6 / 7), 1.0)
    ] * 2

    code, text = invoke("eval", str(gold), str(pred))
    assert code == 0, text
    assert "nested entities" in text and "1 gold and 0 predicted sentences" in text
    assert any(
        line.split()[:1] == ["micro"] and line.split()[-1] == "4" for line in text.splitlines()
    )
    code, rows = invoke("eval", str(gold), str(pred), "--csv")
    assert "precision,micro,1.0,4" in rows and "nested_sentences,gold,1," in rows


def test_nested_conll_columns_are_read_with_the_inner_column_options(tmp_path: Path) -> None:
    """A gold file as `nerkit convert --nested` writes it (token, outer, inner), and
    one file holding gold (outer, inner) and predictions (outer, inner)."""
    rows = [
        [
            ("The", "O", "O"),
            ("Bank", "B-ORG", "O"),
            ("of", "I-ORG", "O"),
            ("China", "I-ORG", "B-LOC"),
        ],
        [("Maria", "B-PER", "O"), ("lives", "O", "O"), ("in", "O", "O"), ("Berlin", "B-LOC", "O")],
    ]
    gold = write(tmp_path / "gold.conll", rows)
    outer = write(tmp_path / "outer.conll", [[r[:2] for r in s] for s in rows])
    code, output = invoke(
        "eval", str(gold), str(outer), "--gold-col", "-2", "--gold-inner-col", "-1", "--json"
    )
    assert code == 0, output
    out = json.loads(output)
    assert micro_counts(out) == (4, 3, 3)
    assert out["per_type"]["LOC"]["recall"] == 0.5 and out["nested_sentences"]["gold"] == 1
    # without the option only the outer layer is scored (as before)
    plain = json.loads(invoke("eval", str(gold), str(outer), "--gold-col", "-2", "--json")[1])
    assert plain["micro"]["support"] == 3

    # token, gold outer, gold inner, predicted outer, predicted inner: LOC found, ORG not
    both = write(
        tmp_path / "both.conll",
        [[(*r, "O" if r[1].endswith("-ORG") else r[1], r[2]) for r in s] for s in rows],
    )
    code, output = invoke(
        "eval", str(both), "--gold-col", "1", "--gold-inner-col", "2", "--pred-col", "3",
        "--pred-inner-col", "4", "--json", "--partial",
    )  # fmt: skip
    assert code == 0, output
    out = json.loads(output)
    assert micro_counts(out) == (4, 3, 3)
    assert out["partial"]["overall"]["strict"]["missed"] == 1
    assert out["nested_sentences"] == {"gold": 1, "pred": 1}

    # --repair cannot re-encode nested predictions; an inner column needs its outer one
    code, output = invoke(
        "eval", str(both), "--gold-col", "1", "--gold-inner-col", "2", "--pred-col", "3",
        "--pred-inner-col", "4", "--repair", "conlleval",
    )  # fmt: skip
    assert code == 2 and "--repair" in output and "nested" in output
    code, output = invoke("eval", str(gold), str(outer), "--gold-inner-col", "-1")
    assert code == 2 and "--gold-inner-col needs --gold-col" in output


NESTED_ROWS = [
    [("The", "O", "O"), ("Bank", "B-ORG", "O"), ("of", "I-ORG", "O"), ("China", "I-ORG", "B-LOC")],
    [("Maria", "B-PER", "O"), ("lives", "O", "O"), ("in", "O", "O"), ("Berlin", "B-LOC", "O")],
]


def test_nested_conll_read_by_its_last_column_is_refused(tmp_path: Path) -> None:
    """`nerkit eval GOLD PRED` read `nerkit convert --nested` output (token, outer
    tags, inner tags) by its last column: only the inner LOC of Bank of China was
    scored, the outer ORG, PER and LOC were lost without a word."""
    gold = write(tmp_path / "gold.conll", NESTED_ROWS)
    outer = write(tmp_path / "outer.conll", [[r[:2] for r in s] for s in NESTED_ROWS])
    result = CliRunner().invoke(app, ["eval", str(gold), str(outer), "--json"])
    assert result.exit_code == 2, result.output
    assert not result.stdout  # no scores
    assert result.stderr.startswith(f"Error: {gold}, line 4: two tag columns, as `nerkit ")
    assert "give --gold-col -2 --gold-inner-col -1 to read both layers" in result.stderr
    assert "or --gold-col -1 to read only the last" in result.stderr
    assert "'China\\tI-ORG\\tB-LOC'" in result.stderr
    # the prediction file too, and an --against file (read as PRED is)
    result = CliRunner().invoke(app, ["eval", str(outer), str(gold)])
    assert result.exit_code == 2 and f"Error: {gold}, line 4:" in result.stderr
    assert "give --pred-col -2 --pred-inner-col -1" in result.stderr
    result = CliRunner().invoke(app, ["eval", str(outer), str(outer), "--against", str(gold)])
    assert result.exit_code == 2 and f"Error: {gold}, line 4:" in result.stderr

    # as the message says: both layers (all four entities), or only the last (one LOC)
    both = ["--gold-col", "-2", "--gold-inner-col", "-1", "--json"]
    code, output = invoke("eval", str(gold), str(outer), *both)
    assert code == 0, output
    assert micro_counts(json.loads(output)) == (4, 3, 3)
    code, output = invoke("eval", str(gold), str(outer), "--gold-col", "-1", "--json")
    assert code == 0, output
    out = json.loads(output)
    assert micro_counts(out) == (1, 0, 3) and out["per_type"]["LOC"]["support"] == 1

    # a last column without entities is read as predictions that found nothing
    flat = write(tmp_path / "flat.conll", [[(r[0], r[1], "O") for r in s] for s in NESTED_ROWS])
    code, output = invoke("eval", str(outer), str(flat), "--json")
    assert code == 0, output
    assert micro_counts(json.loads(output)) == (3, 0, 0)


def test_token_gold_and_predicted_columns_are_not_taken_for_nested(tmp_path: Path) -> None:
    """conlleval's layout (token, gold, predicted) is no nested file: in one-file mode
    its columns are named, and as PRED beside a gold file its last column is scored,
    the predicted entities repeating gold ones."""
    tokens, gold, pred = random_data(random.Random(8), 40)
    both = write(
        tmp_path / "both.conll",
        [list(zip(t, g, p, strict=True)) for t, g, p in zip(tokens, gold, pred, strict=True)],
    )
    code, output = invoke("eval", str(both), "--gold-col", "1", "--pred-col", "2", "--json")
    assert code == 0, output
    check_against_seqeval(json.loads(output), gold, pred)
    g = write(
        tmp_path / "gold.conll",
        [list(zip(t, g, strict=True)) for t, g in zip(tokens, gold, strict=True)],
    )
    code, output = invoke("eval", str(g), str(both), "--json")
    assert code == 0, output
    check_against_seqeval(json.loads(output), gold, pred)
    # a wrong type on a gold entity, the next one right: still not nested
    text = "EU\tB-ORG\tB-LOC\nsaid\tO\tO\n\nPeter\tB-PER\tB-PER\n"
    three = tmp_path / "three.conll"
    three.write_text(text, encoding="utf-8")
    two = tmp_path / "two.conll"
    two.write_text("EU\tB-ORG\nsaid\tO\n\nPeter\tB-PER\n", encoding="utf-8")
    code, output = invoke("eval", str(two), str(three), "--json")
    assert code == 0, output
    assert micro_counts(json.loads(output)) == (2, 1, 2)


def test_json_holds_the_counts_that_csv_and_table_show(tmp_path: Path) -> None:
    tokens, gold, pred = random_data(random.Random(21), 50)
    g = write(
        tmp_path / "g.conll",
        [list(zip(t, x, strict=True)) for t, x in zip(tokens, gold, strict=True)],
    )
    p = write(
        tmp_path / "p.conll",
        [list(zip(t, x, strict=True)) for t, x in zip(tokens, pred, strict=True)],
    )
    out = json.loads(invoke("eval", str(g), str(p), "--json")[1])
    code, csv_text = invoke("eval", str(g), str(p), "--csv")
    assert code == 0
    rows = [line.split(",") for line in csv_text.splitlines()[1:]]
    counted = 0
    for metric, label, value, support in rows:
        if metric in ("predicted", "correct"):
            where = out["micro"] if label == "micro" else out["per_type"][label]
            assert where[metric] == float(value) and where["support"] == int(support)
            counted += 1
        if metric == "accuracy_without_o":
            assert out["tokens_without_o"] == int(support)
    assert counted == 2 * (len(out["per_type"]) + 1)
    assert "predicted" not in out["macro"]


def test_misaligned_tokens_name_the_line_of_the_prediction_file(tmp_path: Path) -> None:
    gold = tmp_path / "gold.conll"
    gold.write_text("-DOCSTART-\tO\n\na\tB-PER\nb\tO\n\n\nc\tO\nd\tB-LOC\ne\tO\n", encoding="utf-8")
    pred = tmp_path / "pred.conll"
    pred.write_text(
        "-DOCSTART-\tO\n\na\tB-PER\nb\tO\n\n\nc\tO\nzz\tB-LOC\ne\tO\n", encoding="utf-8"
    )
    code, output = invoke("eval", str(gold), str(pred))
    assert code == 2 and "pred.conll, line 8: sentence 2, token 2: 'zz'" in output, output
    pred.write_text("-DOCSTART-\tO\n\na\tB-PER\nb\tO\n\nc\tO\nd\tB-LOC\n", encoding="utf-8")
    code, output = invoke("eval", str(gold), str(pred))
    assert code == 2 and "pred.conll, line 7: sentence 2 has 2 tokens" in output, output

    gold_rows = [{"tokens": ["a", "b"], "tags": ["B-PER", "O"]}, {"tokens": ["c"], "tags": ["O"]}]
    g = write_jsonl(tmp_path / "gold.jsonl", gold_rows)
    p = tmp_path / "pred.jsonl"
    p.write_text(
        json.dumps(gold_rows[0]) + "\n\n" + json.dumps({"tokens": ["x"], "tags": ["O"]}) + "\n",
        encoding="utf-8",
    )
    code, output = invoke("eval", str(g), str(p))
    assert code == 2 and "pred.jsonl, line 3: sentence 2, token 1: 'x'" in output, output


def test_tokens_that_print_alike_are_shown_escaped(tmp_path: Path) -> None:
    """NFC "Café" against NFD "Café": the message must show the difference."""
    gold = tmp_path / "gold.conll"
    gold.write_text("Caf\u00e9\tB-ORG\n", encoding="utf-8")
    pred = tmp_path / "pred.conll"
    pred.write_text("Cafe\u0301\tB-ORG\n", encoding="utf-8")
    code, output = invoke("eval", str(gold), str(pred))
    assert code == 2
    assert "'Cafe\\u0301' where" in output and "has 'Caf\\xe9'" in output, output
    assert "normalisation" in output
    pred.write_text("Cafe\tB-ORG\n", encoding="utf-8")  # different text: shown as it is
    assert "'Cafe' where" in invoke("eval", str(gold), str(pred))[1]


def test_nested_conll_columns_refuse_strict_mode_and_an_unnamed_against_file(
    tmp_path: Path,
) -> None:
    """Entities of two CoNLL tag columns are read leniently, so strict mode is refused;
    in one file with --pred-inner-col, an --against file's columns cannot be named (its
    last, inner column would be read as the tags)."""
    both = tmp_path / "both.conll"
    both.write_text(
        "Bank B-ORG O B-ORG O\nof I-ORG O I-ORG O\nChina I-ORG B-LOC I-ORG B-LOC\n\n",
        encoding="utf-8",
    )
    other = tmp_path / "other.conll"
    other.write_text("Bank B-ORG O\nof I-ORG O\nChina I-ORG B-LOC\n\n", encoding="utf-8")
    columns = ["--gold-col", "1", "--gold-inner-col", "2", "--pred-col", "3"]
    columns += ["--pred-inner-col", "4"]
    ok = CliRunner().invoke(app, ["eval", str(both), *columns, "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["micro"]["f1"] == 1.0
    strict = CliRunner().invoke(app, ["eval", str(both), *columns, "--mode", "strict"])
    assert strict.exit_code == 2 and "strict mode with an inner tag column" in strict.output
    against = CliRunner().invoke(app, ["eval", str(both), *columns, "--against", str(other)])
    assert against.exit_code == 2 and "cannot be named" in against.output


def test_a_prediction_file_with_a_sentence_too_many_names_its_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.conll"
    gold.write_text("Anna B-PER\n\n", encoding="utf-8")
    pred = tmp_path / "pred.conll"
    pred.write_text("Anna B-PER\n\nBob B-PER\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(gold), str(pred)])
    assert result.exit_code != 0
    assert "line 3" in result.output and "first one too many" in result.output


# ------------------------------------------------------------------ --partial / --errors pairing


def _one_column_pair(tmp_path: Path, gold: list[str], pred: list[str]) -> tuple[Path, Path]:
    tokens = [f"w{i}" for i in range(1, len(gold) + 1)]
    return (
        write(tmp_path / "gold.conll", [list(zip(tokens, gold, strict=True))]),
        write(tmp_path / "pred.conll", [list(zip(tokens, pred, strict=True))]),
    )


def test_partial_and_errors_pair_as_nervaluate(tmp_path: Path) -> None:
    """The audit's reproductions. Gold PER [0, 2) and PER [2, 6), predictions PER [1, 4)
    and PER [5, 6): nervaluate's partial counts PAR 2 (F1 50) and type COR 2; nerkit
    paired the first prediction with the larger overlap and counted PAR 1, MIS 1, SPU 1
    (F1 25) and type COR 1, MIS 1, SPU 1."""
    gold, pred = _one_column_pair(
        tmp_path,
        ["B-PER", "I-PER", "B-PER", "I-PER", "I-PER", "I-PER"],
        ["O", "B-PER", "I-PER", "I-PER", "O", "B-PER"],
    )
    code, output = invoke("eval", str(gold), str(pred), "--partial", "--errors", "--json")
    assert code == 0, output
    out = json.loads(output)
    overall = out["partial"]["overall"]
    counts = {
        scoring: tuple(c[k] for k in ("correct", "incorrect", "partial", "missed", "spurious"))
        for scoring, c in overall.items()
    }
    assert counts == {
        "strict": (0, 2, 0, 0, 0),
        "exact": (0, 2, 0, 0, 0),
        "partial": (0, 0, 2, 0, 0),
        "type": (2, 0, 0, 0, 0),
    }
    assert (overall["partial"]["f1"], overall["type"]["f1"]) == (0.5, 1.0)
    rows = out["errors"]["confusion"]["rows"]
    assert rows == [{"gold": "PER", "predicted": "PER", "kind": "boundary", "count": 2}]

    # The predicted PER [0, 4) overlaps gold LOC [0, 3) by three tokens, PER [3, 4) by
    # one: the type scheme and the confusion table pair it with the PER (nervaluate:
    # type COR 1, MIS 1), strict with the LOC, the first.
    gold, pred = _one_column_pair(
        tmp_path, ["B-LOC", "I-LOC", "I-LOC", "B-PER"], ["B-PER", "I-PER", "I-PER", "I-PER"]
    )
    code, output = invoke("eval", str(gold), str(pred), "--partial", "--errors", "--json")
    assert code == 0, output
    out = json.loads(output)
    typed, strict = out["partial"]["overall"]["type"], out["partial"]["overall"]["strict"]
    assert (typed["correct"], typed["incorrect"], typed["missed"], typed["spurious"]) == (
        1,
        0,
        1,
        0,
    )
    assert (strict["correct"], strict["incorrect"], strict["missed"]) == (0, 1, 1)
    assert out["errors"]["confusion"]["rows"] == [
        {"gold": "LOC", "predicted": "", "kind": "missed", "count": 1},
        {"gold": "PER", "predicted": "PER", "kind": "boundary", "count": 1},
    ]


# ------------------------------------------------------------------ --train


def _seen(output: str) -> tuple[int, int]:
    """Gold entities seen / unseen in training, of `nerkit eval --errors --json` output."""
    buckets = json.loads(output)["errors"]["by_seen"]["buckets"]
    return buckets["seen"]["support"], buckets["unseen"]["support"]


def test_a_nested_training_file_is_refused_as_gold_and_predictions_are(tmp_path: Path) -> None:
    """`--train` read `nerkit convert --nested` output by its last column: the outer ORG
    "Bank of China", PER and LOC of the training file counted as unseen."""
    train = write(tmp_path / "train.conll", NESTED_ROWS)
    outer = write(tmp_path / "outer.conll", [[r[:2] for r in s] for s in NESTED_ROWS])
    result = CliRunner().invoke(
        app, ["eval", str(outer), str(outer), "--errors", "--train", str(train), "--json"]
    )
    assert result.exit_code == 2, result.output
    assert not result.stdout
    assert result.stderr.startswith(f"Error: {train}, line 4: two tag columns, as `nerkit ")
    assert "'China\\tI-ORG\\tB-LOC'" in result.stderr
    assert "give --train JSON lines, whose spans hold both layers" in result.stderr
    assert "or a file of one tag column" in result.stderr
    # as it says: converted to JSON lines, every gold entity was seen in training
    converted = tmp_path / "train.jsonl"
    made = CliRunner().invoke(app, ["convert", str(train), str(converted), "--inner-col", "-1"])
    assert made.exit_code == 0, made.output
    assert f"nerkit convert {train} train.jsonl --inner-col -1" in result.stderr
    code, output = invoke(
        "eval", str(outer), str(outer), "--errors", "--train", str(converted), "--json"
    )
    assert code == 0, output
    assert _seen(output) == (3, 0)
    # conlleval's layout (token, gold, predicted) is no nested file: its last column is read
    flat = write(tmp_path / "flat.conll", [[(*r[:2], r[1]) for r in s] for s in NESTED_ROWS])
    code, output = invoke(
        "eval", str(outer), str(outer), "--errors", "--train", str(flat), "--json"
    )
    assert code == 0, output
    assert _seen(output) == (3, 0)


def test_an_untagged_training_file_is_an_error_naming_it(tmp_path: Path) -> None:
    """A training file without tags made every entity unseen, without a word."""
    gold = write(tmp_path / "gold.conll", [[("Anna", "B-PER"), ("sang", "O")]])
    train = write_jsonl(tmp_path / "train.jsonl", [{"tokens": ["Anna", "sang"]}])
    result = CliRunner().invoke(
        app, ["eval", str(gold), str(gold), "--errors", "--train", str(train), "--json"]
    )
    assert result.exit_code == 2, result.output
    assert not result.stdout
    assert result.stderr.startswith(f"Error: {train}: no sentence has tags or spans")
    assert "--train needs a tagged file" in result.stderr
    tagged = write_jsonl(tmp_path / "tagged.jsonl", [{"tokens": ["Anna"], "tags": ["B-PER"]}])
    code, output = invoke(
        "eval", str(gold), str(gold), "--errors", "--train", str(tagged), "--json"
    )
    assert code == 0, output
    assert _seen(output) == (1, 0)


# ------------------------------------------------------------------ option values


def test_a_negative_seed_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    gold = write(tmp_path / "gold.conll", [[("Anna", "B-PER"), ("sang", "O")]] * 3)
    for extra in (["--ci"], ["--against", str(gold)]):
        result = CliRunner().invoke(
            app, ["eval", str(gold), str(gold), *extra, "--resamples", "20", "--seed", "-3"]
        )
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--seed': -3 is not in the range x>=0" in result.output
        assert "Traceback" not in result.output
    code, output = invoke("eval", str(gold), str(gold), "--ci", "--resamples", "20", "--seed", "0")
    assert code == 0, output
    assert "(20 resamples, seed 0)" in output


def test_an_unknown_repair_is_refused_before_the_files_are_read(tmp_path: Path) -> None:
    gold = write(tmp_path / "gold.conll", [[("Anna", "B-PER")]])
    for files in ([str(gold), str(gold)], [str(tmp_path / "none.conll"), str(gold)]):
        result = CliRunner().invoke(app, ["eval", *files, "--repair", "bogus"])
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            "Error: --repair must be none, conlleval or discard, not 'bogus'\n"
        )
