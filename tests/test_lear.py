"""The lear tagger: the Tagger contract, description files, training, nested entities
(hand-made: no shared corpus has any), save / load, and `nerkit run` on the shared
WNUT-17 and Weibo corpora.

All with the bundled offline MiniLM and tiny data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from conftest import SHARED_DATA, SHARED_DATA_REASON, has_shared_data

from nerkit.datasets import get_dataset_spec, load_dataset
from nerkit.errors import ConfigError, InputError, NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.io import read, write
from nerkit.metrics import entity_spans, span_scores
from nerkit.testing import TaggerContract, TrainedTagger, toy_corpus
from nerkit.types import Sentence, Span
from nerkit_lear.descriptions import read_descriptions
from nerkit_lear.model import LearModel
from nerkit_lear.tagger import (
    THRESHOLD_GRID,
    LearTagger,
    WordScores,
    _bce,
    balanced_weight,
    prior_probability,
    target_rate,
)

SMALL = {"batch_size": 8, "max_length": 32}


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def toy(split: str) -> list[Sentence]:
    return list(toy_corpus()[split])


@pytest.fixture(autouse=True, scope="module")
def _keep_torch_threads() -> Iterator[None]:
    """``fit(threads=N)`` sets torch's process-wide thread count: give the tests that
    follow this module the count they had."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


class PinnedThreads(TaggerContract):
    def make_context(self, work_dir: Path) -> RunContext:
        # the thread count changes how torch splits its sums, so the trained weights
        # would depend on the tests that ran before (and on the machine's cores)
        return RunContext(seed=self.seed, threads=2, work_dir=work_dir)


class TestLearContract(PinnedThreads):
    min_train_f1 = 0.8

    def make_tagger(self) -> Tagger:
        return LearTagger(
            {**SMALL, "batch_size": 4, "epochs": 8, "learning_rate": 3e-4, "patience": 0}
        )

    def dev_sentences(self) -> list[Sentence] | None:
        # the toy dev set has 4 sentences: the "best" dev checkpoint is a coin toss
        # among early epochs; without dev the last weights are kept
        return None

    def test_descriptions_come_from_the_label_names_and_are_recorded(
        self, trained_tagger: TrainedTagger
    ) -> None:
        tagger = trained_tagger.tagger
        assert isinstance(tagger, LearTagger)
        assert tagger.labels == ("LOC", "ORG", "PER")
        assert tagger.stats["descriptions"] == {
            "source": "label names",
            "texts": {"LOC": "location", "ORG": "organization", "PER": "person"},
        }

    def test_flat_predictions_carry_no_spans_and_learn_multiword_names(
        self, trained_tagger: TrainedTagger
    ) -> None:
        sentences = ["Angela Merkel visited Paris .", "Barack Obama met Tim Cook in Berlin ."]
        predictions = trained_tagger.tagger.predict([Sentence(words(s)) for s in sentences])
        assert [p.spans for p in predictions] == [(), ()]
        assert [p.probabilities for p in predictions] == [None, None]
        # the names end where they do in the training data: start and end pointers agree
        assert predictions[0].tags == ("B-PER", "I-PER", "O", "B-LOC", "O")
        assert predictions[1].tags == (("B-PER", "I-PER", "O", "B-PER", "I-PER", "O", "B-LOC", "O"))


class TestLearContractBIOES(PinnedThreads):
    scheme = "BIOES"

    def make_tagger(self) -> Tagger:
        return LearTagger({**SMALL, "epochs": 2, "learning_rate": 3e-4})


# ---------------------------------------------------------- descriptions


def test_a_description_file_is_used_and_a_missing_label_names_it(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("PER\tnames of people\nLOC\tnames of places\n", encoding="utf-8")
    tagger = LearTagger({**SMALL, "descriptions": str(path)})
    with pytest.raises(InputError, match=r"no description for label\(s\) ORG") as error:
        tagger.fit(toy("train"), context=RunContext())
    assert error.value.path == str(path)

    marked = tmp_path / "marked.tsv"  # an editor's UTF-8 byte-order mark is not a label
    marked.write_text("\ufeffPER\tpeople\nLOC\tplaces\nORG\tfirms\n", encoding="utf-8")
    assert read_descriptions(marked).for_labels(["LOC", "PER"]) == ["places", "people"]

    bad = tmp_path / "bad.tsv"
    bad.write_text("PER\tpeople\nLOC places\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.tsv, line 2: expected LABEL<TAB>description"):
        LearTagger({"descriptions": str(bad)}).fit(toy("train"), context=RunContext())


def test_without_a_file_the_tagger_says_which_descriptions_it_made() -> None:
    train = [Sentence(("Dune", "rocks"), ("B-creative-work", "O"))] * 4
    tagger = LearTagger({**SMALL, "epochs": 1})
    with pytest.warns(UserWarning, match=r"creative-work -> 'creative work'"):
        tagger.fit(train, context=RunContext(threads=1))
    assert tagger.stats["descriptions"]["texts"] == {"creative-work": "creative work"}
    # the description is what the model encodes next to the sentence
    assert tagger.model is not None
    ids = tagger.model.description_ids[0][tagger.model.description_mask[0].bool()].tolist()
    assert tagger.tokenizer.decode(ids, skip_special_tokens=True) == "creative work"


# -------------------------------------------------------------- training


def test_training_lowers_the_loss_and_the_task_layers_get_their_learning_rate() -> None:
    from nerkit_hf import training

    points: list[tuple[object, ...]] = []
    context = RunContext(seed=3, threads=2, curve=lambda *p: points.append(p))
    tagger = LearTagger(
        {**SMALL, "epochs": 4, "learning_rate": 2e-4, "task_layer_lr": 20.0, "patience": 0}
    )
    tagger.fit(toy("train"), toy("dev"), context=context)
    losses = [p[4] for p in points if p[2:4] == ("train", "loss")]
    assert len(losses) == 4
    assert losses[-1] < 0.5 * losses[0], losses
    dev_loss = [p[4] for p in points if p[2:4] == ("dev", "loss")]
    assert dev_loss[-1] < dev_loss[0]
    assert tagger.model is not None
    groups = training.parameter_groups(
        tagger.model,
        learning_rate=2e-4,
        weight_decay=0.01,
        head=tagger.model.is_head,
        task_layer_lr=20.0,
    )
    lr_of = {n: g["lr"] for g in groups for n in g["names"]}
    assert lr_of["start_weight"] == lr_of["fuse.weight"] == pytest.approx(4e-3)
    assert lr_of["encoder.encoder.layer.5.output.dense.weight"] == pytest.approx(2e-4)
    assert not any(n.startswith("encoder.pooler.") for n in lr_of)  # unused, not trained


def test_the_positive_weight_balances_starts_against_the_other_positions() -> None:
    # 2 labels x 10 words = 20 positions, 2 of them starts: sqrt(18 / 2) = 3
    train = [
        Sentence(words("a b c d e"), ("B-PER", "I-PER", "O", "O", "O")),
        Sentence(words("f g h i j"), ("O", "O", "B-LOC", "O", "O")),
    ]
    gold = [entity_spans(s, "IOB2") for s in train]
    assert balanced_weight(train, gold, 2) == pytest.approx(3.0)
    # dense data (every word an entity) is never down-weighted
    dense = [Sentence(words("a b c"), ("B-PER", "B-PER", "B-PER"))]
    assert balanced_weight(dense, [entity_spans(dense[0], "IOB2")], 1) == 1.0
    tagger = LearTagger({**SMALL, "epochs": 1})
    tagger.fit(toy("train"), context=RunContext(threads=1))
    assert tagger.stats["positive_weight"] == pytest.approx(3.105, abs=1e-3)
    assert tagger.model is not None and tagger.model.positive_weight == tagger.positive_weight
    chosen = LearTagger({**SMALL, "epochs": 1, "positive_weight": 7.0})
    chosen.fit(toy("train"), context=RunContext(threads=1))
    assert chosen.stats["positive_weight"] == 7.0
    with pytest.raises(ConfigError, match="positive_weight"):
        LearTagger({"positive_weight": 0.0})


def test_the_pointers_start_at_the_constant_that_minimises_the_weighted_loss() -> None:
    # 1 target in 50 positions, weighted 5: the best constant is 5 / (5 + 49)
    assert prior_probability(0.02, 5.0) == pytest.approx(5 / 54)
    targets = torch.zeros(50)
    targets[0] = 1.0
    grid = [k / 1000 for k in range(1, 1000)]
    losses = {p: _bce(torch.full((50,), p).numpy(), targets.numpy(), 5.0) for p in grid}
    assert min(losses, key=losses.__getitem__) == pytest.approx(5 / 54, abs=1e-3)
    # the model's biases start there (not at 0, probability 0.5 everywhere) ...
    tiny = LearTagger({**SMALL, "epochs": 1})
    tiny.fit(toy("train"), context=RunContext(threads=1))
    assert tiny.model is not None
    encoder, ids = tiny.model.encoder, tiny.model.description_ids
    mask = tiny.model.description_mask
    fresh = LearModel(encoder, ids, mask, prior=0.05)
    for bias in (fresh.start_bias, fresh.end_bias):
        assert torch.sigmoid(bias).tolist() == pytest.approx([0.05] * len(tiny.labels))
    assert torch.sigmoid(LearModel(encoder, ids, mask).start_bias).tolist()[0] == 0.5
    # ... and fit records the one it used: the toy corpus's rate and weight
    gold = [entity_spans(s, "IOB2") for s in toy("train")]
    rate = target_rate(toy("train"), gold, len(tiny.labels))
    assert tiny.stats["prior"] == pytest.approx(prior_probability(rate, tiny.positive_weight))


def test_the_loss_weighs_start_and_end_targets_by_the_positive_weight() -> None:
    tagger = LearTagger({**SMALL, "epochs": 1, "positive_weight": 1.0})
    tagger.fit(toy("train"), context=RunContext(threads=1))
    model = tagger.model
    assert model is not None
    model.eval()
    start = torch.tensor([[[0.0, 2.0]]])  # one word, two labels: logits
    end = torch.tensor([[[-1.0, 0.0]]])
    batch = {
        "word_mask": torch.tensor([[1]]),
        "start_labels": torch.tensor([[[1.0, 0.0]]]),
        "end_labels": torch.tensor([[[0.0, 1.0]]]),
    }
    plain = model._loss(batch, torch.empty(0), start, end)
    model.positive_weight = 4.0
    weighted = model._loss(batch, torch.empty(0), start, end)
    # the two positive terms are -log(sigmoid(0)) = log 2 each; weighted 4 times
    assert float(weighted - plain) == pytest.approx(3 * 2 * math.log(2) / 2, rel=1e-5)


def test_thresholds_left_open_are_picked_on_dev_and_saved(tmp_path: Path) -> None:
    assert (LearTagger().thresholds.start, LearTagger().thresholds.end) == (0.5, 0.5)
    tagger = LearTagger(
        {**SMALL, "epochs": 2, "learning_rate": 3e-4, "patience": 0}
        | {"start_threshold": None, "end_threshold": None}
    )
    tagger.fit(toy("train"), toy("dev"), context=RunContext(seed=2, threads=1))
    picked = tagger.stats["thresholds"]
    assert set(picked["dev_f1"]) == {f"{v:g}" for v in THRESHOLD_GRID}
    best = max(picked["dev_f1"].values())
    assert picked["dev_f1"][f"{picked['start']:g}"] == best
    assert picked["start"] == picked["end"]
    assert (tagger.thresholds.start, tagger.thresholds.end) == (picked["start"], picked["end"])
    tagger.save(tmp_path)
    assert LearTagger.load(tmp_path).thresholds == tagger.thresholds
    # thresholds given as options are kept; without dev the open ones are 0.5
    fixed = LearTagger({**SMALL, "epochs": 1, "start_threshold": 0.3, "end_threshold": 0.6})
    fixed.fit(toy("train"), toy("dev"), context=RunContext(threads=1))
    assert "thresholds" not in fixed.stats
    assert (fixed.thresholds.start, fixed.thresholds.end) == (0.3, 0.6)
    plain = LearTagger({**SMALL, "epochs": 1, "start_threshold": "none", "end_threshold": "none"})
    assert plain.options.start_threshold is None  # as `-T start_threshold=none` gives it
    plain.fit(toy("train"), context=RunContext(threads=1))
    assert (plain.thresholds.start, plain.thresholds.end) == (0.5, 0.5)


def test_fit_refuses_data_without_entities() -> None:
    with pytest.raises(NerkitError, match="no entities"):
        LearTagger(SMALL).fit([Sentence(("a", "b"), ("O", "O"))], context=RunContext())


def test_max_train_samples_trains_on_the_first_sentences() -> None:
    tagger = LearTagger({**SMALL, "epochs": 1, "max_train_samples": 8})
    tagger.fit(toy("train"), context=RunContext(threads=1))
    assert tagger.stats["training"]["optimizer_steps"] == 1  # 8 sentences, batch size 8


def test_long_sentences_are_windowed_and_spans_cross_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tagger = LearTagger({"batch_size": 8, "max_length": 8, "stride": 4, "epochs": 1})
    tagger.fit(toy("train"), context=RunContext(threads=1))
    assert tagger.stats["windowed_sentences"]["train"] > 5
    long = Sentence(words("Angela Merkel visited the University of Paris .") * 30)
    (prediction,) = tagger.predict([long])
    assert len(prediction.tags) == len(prediction.confidences) == 240
    assert tagger.stats["windowed_sentences"]["predicted"] == 1

    # a model that starts a PER at every "Angela" and ends one at every "Merkel" (a
    # one-epoch model finds too little to test with): each "Angela Merkel" must come
    # out whole, also where the two words are predicted by different windows
    assert tagger.encoder is not None and tagger.model is not None
    windows = tagger.encoder.encode(0, long.tokens)
    owner = {word: w for w, window in enumerate(windows) for word, _ in window.owned_words()}
    crossing = [k for k in range(0, 240, 8) if owner[k] != owner[k + 1]]
    assert crossing, "no 'Angela Merkel' is split between windows: the test needs one"
    angela, merkel = (tagger.encoder.pieces([w])[0][0] for w in ("Angela", "Merkel"))
    per = tagger.labels.index("PER")

    def pointers(
        batch: dict[str, torch.Tensor], keep_states: bool = False
    ) -> dict[str, torch.Tensor]:
        shape = (*batch["input_ids"].shape, len(tagger.labels))
        start, end = torch.full(shape, -20.0), torch.full(shape, -20.0)
        start[..., per] = torch.where(batch["input_ids"] == angela, 20.0, -20.0)
        end[..., per] = torch.where(batch["input_ids"] == merkel, 20.0, -20.0)
        return {"start_logits": start, "end_logits": end}

    monkeypatch.setattr(tagger.model, "forward", pointers)
    (prediction,) = tagger.predict([long])
    assert list(entity_spans(Sentence(long.tokens, prediction.tags), "IOB2")) == [
        Span(k, k + 2, "PER") for k in range(0, 240, 8)
    ]


def test_a_max_length_beyond_the_encoder_s_positions_is_lowered_to_them(tmp_path: Path) -> None:
    tagger = LearTagger({"batch_size": 8, "max_length": 1000, "epochs": 1})
    with pytest.warns(UserWarning, match="lear tagger: max_length 1000 is more than the 512"):
        tagger.fit(toy("train")[:4], context=RunContext(seed=1, threads=1))
    assert tagger.encoder is not None and tagger.encoder.max_length == 512
    long = Sentence(("word",) * 700)  # 700 subwords: one window would crash the encoder
    (prediction,) = tagger.predict([long])
    assert len(prediction.tags) == 700
    tagger.save(tmp_path)
    with pytest.warns(UserWarning, match="max_length 1000"):
        loaded = LearTagger.load(tmp_path)
    assert loaded.predict([long]) == [prediction]


# ------------------------------------------------------------------ nested

# Organisations named after a place: the place is an entity inside the organisation.
NESTED = [
    ("She studied at the University of Tokyo .", [(4, 7, "ORG"), (6, 7, "LOC")]),
    ("The Bank of China raised rates .", [(1, 4, "ORG"), (3, 4, "LOC")]),
    ("He works for the Bank of Japan now .", [(4, 7, "ORG"), (6, 7, "LOC")]),
    ("The University of Paris is old .", [(1, 4, "ORG"), (3, 4, "LOC")]),
    ("We visited the Museum of London today .", [(3, 6, "ORG"), (5, 6, "LOC")]),
    ("Anna joined the Bank of England .", [(0, 1, "PER"), (3, 6, "ORG"), (5, 6, "LOC")]),
    ("The Museum of Berlin opened .", [(1, 4, "ORG"), (3, 4, "LOC")]),
    ("Tom left the University of Oslo .", [(0, 1, "PER"), (3, 6, "ORG"), (5, 6, "LOC")]),
    ("Paris is large .", [(0, 1, "LOC")]),
    ("Tokyo and London are cities .", [(0, 1, "LOC"), (2, 3, "LOC")]),
    ("Maria lives in Berlin .", [(0, 1, "PER"), (3, 4, "LOC")]),
    ("Nothing happened .", []),
]


def nested_corpus(tmp_path: Path) -> list[Sentence]:
    """NESTED written as JSON lines with spans only and read back: the reader keeps
    every span and puts the outermost ones in the tags."""
    path = tmp_path / "nested.jsonl"
    rows = [{"tokens": text.split(), "spans": [list(s) for s in spans]} for text, spans in NESTED]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sentences = list(read(path).sentences)
    assert sentences[1].spans == (Span(1, 4, "ORG"), Span(3, 4, "LOC"))
    assert sentences[1].tags == ("O", "B-ORG", "I-ORG", "I-ORG", "O", "O", "O")
    return sentences


# span matching lets nested decoding pair every start with every end
NESTED_OPTIONS = {
    **SMALL,
    "span_loss_weight": 1.0,
    "epochs": 12,
    "learning_rate": 3e-4,
    "task_layer_lr": 10.0,
    "warmup_ratio": 0.0,
}


@pytest.fixture(scope="module")
def nested_tagger(tmp_path_factory: pytest.TempPathFactory) -> tuple[LearTagger, list[Sentence]]:
    train = nested_corpus(tmp_path_factory.mktemp("nested"))
    tagger = LearTagger({**NESTED_OPTIONS, "nested": True})
    tagger.fit(train, context=RunContext(seed=7, threads=2))
    return tagger, train


def test_a_trained_model_predicts_nested_spans(
    nested_tagger: tuple[LearTagger, list[Sentence]],
) -> None:
    tagger, train = nested_tagger
    predictions = tagger.predict(train)
    gold = [entity_spans(s, "IOB2") for s in train]
    result = span_scores(gold, [p.spans for p in predictions])
    assert result.f1 >= 0.8, result.per_type
    nested_pairs = [
        (outer, inner)
        for p in predictions
        for outer in p.spans
        for inner in p.spans
        if outer != inner and outer.start <= inner.start and inner.end <= outer.end
    ]
    assert len(nested_pairs) >= 4
    # the tags encode the outermost spans, in the tagger's scheme
    (p,) = tagger.predict([train[1]])
    assert Span(1, 4, "ORG") in p.spans and Span(3, 4, "LOC") in p.spans
    assert p.tags == ("O", "B-ORG", "I-ORG", "I-ORG", "O", "O", "O")
    # an unseen organisation of the same form
    (unseen,) = tagger.predict([Sentence(words("The Bank of Paris opened ."))])
    assert Span(3, 4, "LOC") in unseen.spans


def test_save_then_load_gives_identical_spans(
    nested_tagger: tuple[LearTagger, list[Sentence]], tmp_path: Path
) -> None:
    tagger, train = nested_tagger
    tagger.save(tmp_path)
    loaded = LearTagger.load(tmp_path)
    assert loaded.options.nested and loaded.labels == tagger.labels
    before, after = tagger.predict(train), loaded.predict(train)
    assert [p.spans for p in after] == [p.spans for p in before]
    assert [p.tags for p in after] == [p.tags for p in before]
    flat_after = [c for p in after for c in p.confidences]
    assert flat_after == pytest.approx([c for p in before for c in p.confidences], abs=1e-6)


def test_a_model_trained_in_fp16_predicts_after_loading_on_a_cpu(
    nested_tagger: tuple[LearTagger, list[Sentence]], tmp_path: Path
) -> None:
    """fp16, which only a GPU computes, falls back to fp32 for prediction on a CPU."""
    tagger, train = nested_tagger
    tagger.save(tmp_path)
    options = tmp_path / "options.json"
    spans = {}
    for precision in ("fp32", "fp16"):
        options.write_text(json.dumps({**json.loads(options.read_text()), "precision": precision}))
        predictions = LearTagger.load(tmp_path).predict(train)
        spans[precision] = [(p.spans, p.confidences) for p in predictions]
    assert spans["fp16"] == spans["fp32"]


def test_loading_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="holds no saved lear tagger"):
        LearTagger.load(tmp_path)


def test_nested_gold_from_a_two_tag_column_conll_file_trains_too(tmp_path: Path) -> None:
    nested = nested_corpus(tmp_path)
    path = tmp_path / "nested.conll"
    write(nested, path, nested=True)
    again = list(read(path, inner_tag_col=-1, tag_col=-2).sentences)
    assert [entity_spans(s, "IOB2") for s in again] == [entity_spans(s, "IOB2") for s in nested]
    tagger = LearTagger({**SMALL, "nested": True, "epochs": 1})
    tagger.fit(again, context=RunContext(threads=1))
    assert tagger.labels == ("LOC", "ORG", "PER")
    assert tagger.stats["training"]["optimizer_steps"] == 2


def test_flat_decoding_of_a_nested_model_never_overlaps(
    nested_tagger: tuple[LearTagger, list[Sentence]], tmp_path: Path
) -> None:
    tagger, train = nested_tagger
    tagger.save(tmp_path)
    options = json.loads((tmp_path / "options.json").read_text())
    (tmp_path / "options.json").write_text(json.dumps({**options, "nested": False}))
    flat = LearTagger.load(tmp_path)
    for prediction in flat.predict(train):
        spans = entity_spans(Sentence(("x",) * len(prediction.tags), prediction.tags), "IOB2")
        assert prediction.spans == ()
        assert all(not a.overlaps(b) for a in spans for b in spans if a != b)
    assert torch.equal(flat.model.start_weight, tagger.model.start_weight)  # type: ignore[union-attr]


# --------------------------------------------------------------------- CLI

needs_wnut17_weibo = pytest.mark.skipif(
    not has_shared_data("wnut17", "weibo-ner"), reason=SHARED_DATA_REASON
)


def corpus_head(dataset: str, data_dir: Path, sentences: int) -> None:
    """The first ``sentences`` sentences of each file of the shared copy of the named
    ``dataset``, under the same names in ``data_dir``: the dataset as nerkit finds it,
    small enough for a test (files found locally are not checked against a hash)."""
    for data_file in get_dataset_spec(dataset).files.values():
        kept: list[str] = []
        count = 0
        with (SHARED_DATA / data_file.path).open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    count += bool(kept and kept[-1].strip())
                    if count == sentences:
                        break
                kept.append(line)
        target = data_dir / data_file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(kept).rstrip("\n") + "\n\n", encoding="utf-8")


def invoke(args: list[str]) -> Path:
    """``nerkit ARGS``; the one run it stored."""
    from typer.testing import CliRunner

    from nerkit.cli.app import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = Path(args[args.index("-o") + 1])
    (run,) = list(out.iterdir())
    assert not run.name.endswith(".partial")
    return run


@needs_wnut17_weibo
@pytest.mark.parametrize(
    ("dataset", "extra", "stages"),
    [
        ("weibo", ["-T", "extend_vocab=true"], {"base"}),
        ("wnut17", ["-c", "openner", "--folds", "2", "-C", "epochs=1", "-C", "max_length=48"],
         {"base", "corrected"}),
    ],
)  # fmt: skip
def test_nerkit_run_stores_a_run(
    dataset: str,
    extra: list[str],
    stages: set[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nerkit import store

    # the named dataset, its first 40 sentences per split: the full one takes minutes
    corpus_head(dataset, tmp_path / "data", 40)
    monkeypatch.setenv("NERKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    args = ["run", "--tagger", "lear", "--dataset", dataset, "--threads", "2"]
    args += ["-T", "epochs=1", "-T", "max_length=64", "-o", str(tmp_path / "runs"), *extra]
    run = invoke(args)
    metrics = store.read_table(run, "metrics").to_pylist()
    f1 = {
        (r["split"], r["stage"]): r["value"]
        for r in metrics
        if (r["metric"], r["label"], r["mode"]) == ("f1", "micro", "lenient")
    }
    assert set(f1) == {(split, stage) for split in ("dev", "test") for stage in stages}
    assert not [r for r in metrics if r["mode"] == "spans"]  # flat data, flat output
    predictions = store.read_table(run, "predictions").to_pylist()
    assert {r["split"] for r in predictions} == {"dev", "test"}
    assert len({(r["split"], r["sentence"]) for r in predictions if r["stage"] == "base"}) == 80
    extra_info = json.loads(store.read_table(run, "run").to_pylist()[0]["extra"])
    assert extra_info["tagger"]["descriptions"]["source"] == "label names"
    loaded = LearTagger.load(run / "tagger")
    train = load_dataset(dataset, data_dir=tmp_path / "data", download=False)["train"]
    assert len(train) == 40
    assert loaded.scheme == "IOB2"
    assert set(loaded.labels) == {sp.label for s in train for sp in entity_spans(s, "IOB2")}
    if dataset == "weibo":
        assert loaded.stats["added_tokens"] > 0  # extend_vocab: CJK characters MiniLM lacks


def test_nerkit_run_scores_nested_output_on_spans(tmp_path: Path) -> None:
    """``-T nested=true`` on JSON lines with nested gold: the run's metrics hold rows of
    mode ``spans`` that score every predicted span, nested ones included."""
    from nerkit import store

    data = tmp_path / "nested"
    data.mkdir()
    sentences = nested_corpus(tmp_path)
    for split in ("train", "dev", "test"):
        write(sentences, data / f"{split}.jsonl")
    args = ["run", "--tagger", "lear", "--dataset", str(data), "--threads", "2", "--seed", "7"]
    for key, value in {**NESTED_OPTIONS, "nested": "true"}.items():
        args += ["-T", f"{key}={value}"]
    run = invoke([*args, "-o", str(tmp_path / "runs")])
    stored = {
        (r["metric"], r["label"]): r["value"]
        for r in store.read_table(run, "metrics").to_pylist()
        if (r["split"], r["stage"], r["mode"]) == ("test", "base", "spans")
    }
    # the same numbers from the stored tagger's spans, scored here
    tagger = LearTagger.load(run / "tagger")
    predictions = tagger.predict(sentences)
    expected = span_scores(
        [entity_spans(s, "IOB2") for s in sentences], [p.spans for p in predictions]
    )
    assert stored[("f1", "micro")] == pytest.approx(expected.f1)
    assert stored[("correct", "micro")] == expected.micro.correct
    assert stored[("predicted", "micro")] == expected.micro.predicted
    assert stored[("recall", "LOC")] == pytest.approx(expected.per_type["LOC"].recall)
    # scored on spans, not on the tags: the nested (inner) spans count
    assert expected.micro.support == sum(len(spans) for _, spans in NESTED) == 23
    inner = [
        sp
        for p in predictions
        for sp in p.spans
        if any(o != sp and o.start <= sp.start and sp.end <= o.end for o in p.spans)
    ]
    assert inner and expected.f1 >= 0.8


def test_in_io_the_dev_score_counts_adjacent_entities_as_the_run_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IO tags cannot separate two adjacent entities of one type: predict's tags hold
    two one-word PER spans as one, which matches the gold entity. The dev F1 that picks
    the epoch and the thresholds must read them so too (it counted two wrong spans)."""
    import numpy as np

    tagger = LearTagger({})
    tagger.scheme, tagger.labels, tagger.model = "IO", ("PER",), object()
    both = np.array([[0.9], [0.9], [0.0]])
    monkeypatch.setattr(tagger, "_word_scores", lambda s: ([WordScores(both, both, None)], 0))
    (prediction,) = tagger.predict([Sentence(("a", "b", "c"))])
    assert prediction.tags == ("I-PER", "I-PER", "O")
    gold = [Sentence(("a", "b", "c"), ("I-PER", "I-PER", "O"))]
    assert tagger._evaluate(gold)["f1"] == 1.0
