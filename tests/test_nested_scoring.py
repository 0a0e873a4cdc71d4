"""Nested entities in a run: gold spans read from JSON lines, predicted spans kept with
the raw predictions, and metrics rows of mode ``spans`` (``nerkit.metrics.span_scores``)
next to the tag scores. Hand-made data: no shared corpus has nested entities."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from nerkit import schemes, store
from nerkit.interfaces import Tagger
from nerkit.io.common import layers
from nerkit.metrics import entity_spans
from nerkit.pipeline import SPAN_MODE, Run, RunConfig
from nerkit.plugin.host import PluginHost
from nerkit.plugin.spec import hookimpl
from nerkit.types import Prediction, Sentence, Span

# Organisations named after a place hold the place: (text, [(start, end, label), ...])
NESTED = [
    ("The Bank of China raised rates .", [(1, 4, "ORG"), (3, 4, "LOC")]),
    ("Anna joined the Bank of England .", [(0, 1, "PER"), (3, 6, "ORG"), (5, 6, "LOC")]),
    ("Maria lives in Berlin .", [(0, 1, "PER"), (3, 4, "LOC")]),
    ("Nothing happened .", []),
]


def write_nested_dataset(folder: Path) -> Path:
    """NESTED as train / dev / test JSON lines with spans only (the reader puts the
    outermost spans in the tags)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"tokens": text.split(), "spans": [list(s) for s in spans]} for text, spans in NESTED]
    for split in ("train", "dev", "test"):
        lines = "".join(json.dumps(r) + "\n" for r in rows)
        (folder / f"{split}.jsonl").write_text(lines, encoding="utf-8")
    return folder


def inside_another(span: Span, spans: Sequence[Span]) -> bool:
    return any(o != span and o.start <= span.start and span.end <= o.end for o in spans)


class OuterOnly(Tagger):
    """Predicts the outermost entities of each sentence's gold and reports them as spans
    when ``nested`` is set: so exactly the entities inside another one are missed."""

    nested = True

    def fit(self, train, dev=None, *, scheme="IOB2", context=None):  # type: ignore[no-untyped-def]
        self.scheme = scheme

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        out = []
        for s in sentences:
            gold = entity_spans(s, self.scheme)
            outer = [sp for sp in gold if not inside_another(sp, gold)]
            tags = schemes.encode(layers(outer)[0] if outer else [], len(s), self.scheme)
            spans = tuple(outer) if self.nested else ()
            out.append(Prediction(tuple(tags), (1.0,) * len(s), spans=spans))
        return out

    def save(self, directory: Path) -> None:
        (Path(directory) / "scheme").write_text(self.scheme)

    @classmethod
    def load(cls, directory: Path) -> OuterOnly:
        tagger = cls()
        tagger.scheme = (Path(directory) / "scheme").read_text()
        return tagger


class FlatOuterOnly(OuterOnly):
    """The same entities, as tags only (a flat tagger)."""

    nested = False


class NestedTestPlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("outeronly.tagger.v1", OuterOnly)
        register("flatouteronly.tagger.v1", FlatOuterOnly)


def run(tagger: str, dataset: Path, out: Path) -> list[dict[str, object]]:
    host = PluginHost()
    host.add(NestedTestPlugin(), name="test-nested")
    config = RunConfig(tagger=tagger, dataset=str(dataset), cache=False)
    finished = Run.create(out, config, host).execute()
    return store.read_table(finished, "metrics").to_pylist()


def value(rows: list[dict[str, object]], mode: str, metric: str, label: str) -> object:
    (found,) = [
        r["value"]
        for r in rows
        if (r["split"], r["stage"], r["mode"], r["metric"], r["label"])
        == ("test", "base", mode, metric, label)
    ]
    return found


@pytest.mark.parametrize("tagger", ["outeronly", "flatouteronly"])
def test_nested_gold_is_scored_on_spans(tagger: str, tmp_path: Path) -> None:
    rows = run(tagger, write_nested_dataset(tmp_path / "data"), tmp_path / "runs")
    # 7 gold entities in test, 2 of them inside another; the tagger finds the other 5
    assert value(rows, SPAN_MODE, "correct", "micro") == 5.0
    assert value(rows, SPAN_MODE, "predicted", "micro") == 5.0
    assert value(rows, SPAN_MODE, "recall", "micro") == pytest.approx(5 / 7)
    assert value(rows, SPAN_MODE, "precision", "micro") == 1.0
    assert value(rows, SPAN_MODE, "recall", "LOC") == pytest.approx(1 / 3)
    assert value(rows, SPAN_MODE, "recall", "ORG") == 1.0
    # the tag scores see only the outermost gold entities, all of them found
    assert value(rows, "lenient", "f1", "micro") == 1.0
    supports = {r["support"] for r in rows if r["mode"] == SPAN_MODE and r["label"] == "micro"}
    assert supports == {7}
    assert {(r["split"], r["stage"]) for r in rows if r["mode"] == SPAN_MODE} == {
        ("dev", "base"),
        ("test", "base"),
    }


def test_flat_gold_and_flat_predictions_get_no_span_rows(tmp_path: Path) -> None:
    data = tmp_path / "flat"
    data.mkdir()
    rows_in = [{"tokens": ["Anna", "sings"], "tags": ["B-PER", "O"]}]
    for split in ("train", "dev", "test"):
        (data / f"{split}.jsonl").write_text(json.dumps(rows_in[0]) + "\n", encoding="utf-8")
    rows = run("flatouteronly", data, tmp_path / "runs")
    assert {r["mode"] for r in rows} == {"lenient", "strict"}


def test_raw_predictions_keep_their_spans(tmp_path: Path) -> None:
    """A resumed run reads the raw predictions back: nested spans must survive."""
    predictions = [
        Prediction(("B-ORG", "I-ORG", "I-ORG"), spans=(Span(0, 3, "ORG"), Span(2, 3, "LOC"))),
        Prediction(("O",)),
    ]
    path = tmp_path / "raw-test.arrow"
    store.write_raw_predictions(path, predictions)
    assert store.read_raw_predictions(path) == predictions


def test_raw_predictions_written_before_spans_are_still_read(tmp_path: Path) -> None:
    old = pa.schema(
        [
            pa.field("tags", pa.list_(pa.string())),
            pa.field("confidences", pa.list_(pa.float64())),
            pa.field("labels", pa.list_(pa.string())),
            pa.field("probabilities", pa.list_(pa.list_(pa.float64()))),
        ]
    )
    table = pa.table(
        {"tags": [["B-PER"]], "confidences": [[0.5]], "labels": [[]], "probabilities": [None]},
        schema=old,
    )
    path = tmp_path / "raw-dev.arrow"
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, old) as writer:
        writer.write_table(table)
    assert store.read_raw_predictions(path) == [Prediction(("B-PER",), (0.5,))]


def test_sentence_counts_of_nested_spans_sum_to_the_span_scores() -> None:
    from nerkit.evaluation.significance import bootstrap_ci_counts, span_sentence_counts
    from nerkit.metrics import span_scores

    gold = [[Span(s, e, label) for s, e, label in spans] for _, spans in NESTED]
    pred = [[sp for sp in sent if sp.label != "ORG"] + sent[:1] for sent in gold]
    counts = span_sentence_counts(gold, pred)
    micro = span_scores(gold, pred).micro
    assert counts.gold.tolist() == [2, 3, 2, 0]  # every nested span counts
    sums = [int(a.sum()) for a in (counts.correct, counts.predicted, counts.gold)]
    assert sums == [micro.correct, micro.predicted, micro.support]
    assert bootstrap_ci_counts(counts, resamples=50).f1 == pytest.approx(micro.f1)
