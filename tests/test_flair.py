"""The flair tagger: the Tagger contract, lossless token conversion, save / load, the
offline transformer, loading an existing flair model with a label map, and a CLI run.

Every model here is tiny (hidden size 8, one or two epochs on the toy corpus)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from nerkit import schemes, store
from nerkit.cli.app import app
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.io import write
from nerkit.metrics import scores
from nerkit.plugin import PluginHost
from nerkit.testing import TaggerContract, in_scheme, toy_corpus
from nerkit.types import Sentence, Span
from nerkit_flair import convert
from nerkit_flair.tagger import FlairOptions, FlairTagger, predict_tags

TINY = {
    "embeddings": "char,onehot",
    "hidden_size": "8",
    "char_embedding_dim": "8",
    "char_hidden_size": "8",
    "onehot_dim": "8",
    "onehot_min_freq": "1",
    "mini_batch_size": "8",
    "max_epochs": "1",
}
ODD_TOKENS = ("", " ", "\u3000", "a b", "\u200b", "😀", "\t", "x")


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads, and on a shared machine torch's spinning
    threads make the tests many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(**options: Any) -> FlairTagger:
    return FlairTagger(TINY | {k: str(v) for k, v in options.items()})


# Big enough to learn the toy corpus (with one epoch and 8 hidden units it predicted
# O everywhere, and save / load or seeding was checked on all-O predictions).
LEARNS = {"max_epochs": 30, "hidden_size": 32, "onehot_dim": 32}


class TestFlairContract(TaggerContract):
    min_train_f1 = 0.5

    def make_tagger(self) -> Tagger:
        return tiny(**LEARNS)


class TestFlairContractBIOESWithoutCRF(TaggerContract):
    scheme = "BIOES"
    min_train_f1 = 0.5

    def make_tagger(self) -> Tagger:
        return tiny(use_crf="false", tag_format="BIO", **LEARNS)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails, as on a machine without a network."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network access is disabled in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(scope="module")
def trained() -> FlairTagger:
    tagger = tiny(max_epochs=2)
    corpus = toy_corpus()
    tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2", context=RunContext(seed=3))
    return tagger


# ------------------------------------------------------------ conversion


def test_conversion_keeps_every_token_in_place() -> None:
    sentence = Sentence(ODD_TOKENS, ("O", "O", "O", "B-LOC", "I-LOC", "O", "O", "B-PER"))
    flair_sentence = convert.to_flair(sentence, "IOB2")
    assert len(flair_sentence) == len(ODD_TOKENS)
    texts = [t.text for t in flair_sentence.tokens]
    assert texts[0] == texts[1] == texts[2] == texts[4] == texts[6] == convert.PLACEHOLDER
    assert texts[3] == "a_b" and texts[5] == "😀" and texts[7] == "x"
    spans = {(s[0].idx - 1, s[-1].idx, s.tag) for s in flair_sentence.get_spans("ner")}
    assert spans == {(3, 5, "LOC"), (7, 8, "PER")}


def test_odd_and_very_long_sentences_get_one_tag_per_token(trained: FlairTagger) -> None:
    long = Sentence(tuple(f"w{i}" for i in range(3000)))
    odd = Sentence(ODD_TOKENS)
    predictions = trained.predict([odd, Sentence(()), long, Sentence(("",))])
    assert [len(p.tags) for p in predictions] == [len(ODD_TOKENS), 0, 3000, 1]
    assert all(len(p.confidences) == len(p.tags) for p in predictions)


# ------------------------------------------------------------ predictions


def test_probabilities_are_in_the_dataset_scheme(trained: FlairTagger) -> None:
    prediction = trained.predict(toy_corpus()["test"][:1])[0]
    assert prediction.probabilities is not None
    assert prediction.labels[0] == "O"
    for label in prediction.labels:
        schemes.check_tag(label, "IOB2")  # BIOES columns were merged into IOB2 ones
    np.testing.assert_allclose(prediction.probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert trained.scheme == "IOB2"


def test_probabilities_are_left_out_where_the_scheme_needs_context() -> None:
    tagger = tiny()
    tagger.fit(in_scheme(toy_corpus()["train"], "IOB1"), scheme="IOB1")
    prediction = tagger.predict(toy_corpus()["test"][:1])[0]
    assert prediction.probabilities is None and prediction.labels == ()
    assert len(prediction.confidences) == len(prediction.tags)


def flair_entities(model: Any, sentences: list[Sentence], batch_size: int = 32) -> list[Any]:
    """The entities flair's own predict makes (its span labels), as IOB2 tags."""
    flair_sentences = [convert.to_flair(s) for s in sentences]
    model.predict(flair_sentences, mini_batch_size=batch_size)
    return [
        tuple(
            schemes.encode(
                [Span(sp[0].idx - 1, sp[-1].idx, sp.tag) for sp in f.get_spans("ner")],
                len(f),
                "IOB2",
            )
        )
        for f in flair_sentences
    ]


def flair_reference(model: Any, sentences: list[Sentence], batch_size: int) -> list[Any]:
    """What flair's own predict gives (batched as nerkit's), read from its Label objects:
    tags in IOB2 (the entities of flair's span labels), the decoded tag's share of the
    real tags' probability, and the per-token distribution with the BIOES columns merged
    into IOB2 ones."""
    from nerkit_flair.predict import is_tag

    merged = {"B": "B", "I": "I", "E": "I", "S": "B"}
    entities = flair_entities(model, sentences, batch_size)
    flair_sentences = [convert.to_flair(s) for s in sentences]
    model.predict(
        flair_sentences,
        mini_batch_size=batch_size,
        force_token_predictions=True,
        return_probabilities_for_all_classes=True,
    )
    out = []
    for flair_sentence in flair_sentences:
        tags, confidences, rows = [], [], []
        for token in flair_sentence.tokens:
            labels = token.get_labels("ner")
            tag = labels[0].value if labels else "O"
            tags.append(tag if is_tag(tag) else "O")
            dist = {
                label.value: float(label.score)
                for label in token.get_tags_proba_dist("ner")
                if is_tag(label.value)
            }
            total = sum(dist.values())
            confidences.append(dist.get(tags[-1], 0.0) / total)
            row: dict[str, float] = {}
            for value, p in dist.items():
                prefix, kind = schemes.split_tag(value)
                column = f"{merged[prefix]}-{kind}" if kind else "O"
                row[column] = row.get(column, 0.0) + p / total
            rows.append(row)
        out.append((entities[len(out)], confidences, rows))
    return out


@pytest.mark.parametrize("use_crf", [True, False])
def test_predictions_are_flair_s_own(trained: FlairTagger, use_crf: bool) -> None:
    """nerkit decodes flair's score tensors itself: the same entities as flair's
    predict, and the confidences and probabilities flair's Label objects hold. Random
    weights make most tokens entities and many tag paths invalid (read as flair reads
    them)."""
    import copy

    import torch

    if use_crf:
        tagger = copy.deepcopy(trained)
    else:
        tagger = tiny(use_crf="false", tag_format="BIOES")
        tagger.fit(toy_corpus()["train"], scheme="IOB2", context=RunContext(seed=3))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, weights in tagger.model.named_parameters():
            if name.startswith(("linear", "crf")):
                weights.add_(5 * torch.randn(weights.shape, generator=generator))
    test = [*toy_corpus()["test"], Sentence(ODD_TOKENS), Sentence(tuple("abcdefghij" * 5))]
    predictions = tagger.predict(test)
    reference = flair_reference(tagger.model, test, tagger.options.eval_batch_size)
    assert sum(t != "O" for p in predictions for t in p.tags) > 20  # the random weights
    for prediction, (tags, confidences, rows) in zip(predictions, reference, strict=True):
        assert prediction.tags == tags
        np.testing.assert_allclose(prediction.confidences, confidences, rtol=1e-9, atol=1e-12)
        expected = [[row[label] for label in prediction.labels] for row in rows]
        np.testing.assert_allclose(prediction.probabilities, expected, rtol=1e-9, atol=1e-12)


def bioes_model(types: tuple[str, ...] = ("X", "Y"), use_crf: bool = False) -> Any:
    """An untrained flair model over BIOES tags of ``types`` (nothing is trained: the
    tests below decide its tags themselves)."""
    from flair.data import Dictionary
    from flair.embeddings import OneHotEmbeddings
    from flair.models import SequenceTagger

    words = Dictionary()
    words.add_item("w")
    tags = Dictionary(add_unk=False)
    for kind in types:
        tags.add_item(kind)
    tags.span_labels = True  # as a corpus's label dictionary of spans says
    return SequenceTagger(
        embeddings=OneHotEmbeddings(words, embedding_length=4),
        tag_dictionary=tags,
        tag_type="ner",
        tag_format="BIOES",
        hidden_size=4,
        use_crf=use_crf,
    )


#: invalid BIOES paths and the entities flair's get_spans_from_bio makes of them
INVALID_PATHS = [
    (["B-X", "E-X", "E-X"], [(0, 3, "X")]),
    (["S-X", "I-X"], [(0, 2, "X")]),
    (["B-X", "E-Y"], [(0, 2, "X")]),  # a vote: the first tag of a span weighs 1.1
    (["I-X", "E-Y", "E-Y"], [(0, 3, "Y")]),
    (["S-X", "E-X", "O", "E-Y"], [(0, 2, "X"), (3, 4, "Y")]),
    (["B-X", "I-X", "S-X"], [(0, 2, "X"), (2, 3, "X")]),
    (["I-X", "I-Y", "B-Y", "O"], [(0, 1, "X"), (1, 2, "Y"), (2, 3, "Y")]),
    (["<START>", "I-X", "<STOP>", "E-X"], [(1, 2, "X"), (3, 4, "X")]),
]


@pytest.mark.parametrize(("path", "expected"), INVALID_PATHS)
def test_flair_s_entities_are_read_from_invalid_tag_paths(
    path: list[str], expected: list[tuple[int, int, str]]
) -> None:
    """nerkit reads flair's decoded tags into the entities flair's predict makes of
    them (flair.data.get_spans_from_bio), not the conlleval way, in every scheme."""
    from flair.data import get_spans_from_bio

    from nerkit_flair.predict import TagColumns

    model = bioes_model(use_crf=True)  # a CRF's dictionary holds <START> and <STOP>
    ids = [model.label_dictionary.get_idx_for_item(t) for t in path]
    real = ["O" if t.startswith("<") else t for t in path]
    flair_spans = [(ix[0], ix[-1] + 1, kind) for ix, _, kind in get_spans_from_bio(real)]
    assert flair_spans == expected
    spans = [Span(*s) for s in expected]
    for scheme in ("IOB2", "BIOES", "IOE2", "BILOU", "IOB1"):
        tags = TagColumns.of(model, scheme).scheme_tags(ids)
        assert list(tags) == schemes.encode(spans, len(path), scheme), scheme
    # a type the tagger does not keep drops flair's whole entity, and a label map
    # renames it after flair's vote
    kept = TagColumns.of(model, "IOB2", known_types={"Y"}).scheme_tags(ids)
    assert list(kept) == schemes.encode([s for s in spans if s.label == "Y"], len(path), "IOB2")
    renamed = TagColumns.of(model, "IOB2", {"X": "Y"}, {"Y"}).scheme_tags(ids)
    assert list(renamed) == schemes.encode(
        [Span(s.start, s.end, "Y") for s in spans], len(path), "IOB2"
    )


def test_a_dropped_type_s_tokens_have_the_probability_of_o_as_confidence(
    trained: FlairTagger,
) -> None:
    """A token whose entity is of a type the tagger does not keep is tagged O: its
    confidence is then O's probability as the probability matrix sums it (O and the
    dropped type's tags), not the dropped tag's."""
    import copy

    import torch

    from nerkit_flair.predict import predict_with

    tagger = copy.deepcopy(trained)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, weights in tagger.model.named_parameters():
            if name.startswith(("linear", "crf")):
                weights.add_(5 * torch.randn(weights.shape, generator=generator))
    test = toy_corpus()["test"]
    full = tagger.predict(test)
    dropped = "LOC"
    kept = set(tagger.known_types) - {dropped}
    part = predict_with(tagger.model, test, scheme="IOB2", known_types=kept)
    changed = 0
    for before, after in zip(full, part, strict=True):
        assert after.probabilities is not None
        outside = after.labels.index("O")
        for k, (old, new) in enumerate(zip(before.tags, after.tags, strict=True)):
            if new == "O":
                assert after.confidences[k] == pytest.approx(after.probabilities[k, outside])
            else:
                assert after.confidences[k] == before.confidences[k]
            changed += old.endswith(dropped) and new == "O"
    assert changed > 3


def test_a_model_with_token_level_labels_is_read_as_io_tags(tmp_path: Path) -> None:
    """A flair model trained on token labels (PER, LOC without prefixes: flair's
    predict_spans is false) predicts them per token; nerkit reads them as IO tags."""
    import torch
    from flair.data import Dictionary
    from flair.embeddings import OneHotEmbeddings
    from flair.models import SequenceTagger

    torch.manual_seed(1)
    words = Dictionary()
    for word in ["John", "lives", "in", "Paris", "and", "Anna", "in", "Berlin"]:
        words.add_item(word)
    labels = Dictionary(add_unk=False)
    for label in ("O", "PER", "LOC"):
        labels.add_item(label)
    model = SequenceTagger(
        embeddings=OneHotEmbeddings(words, embedding_length=8),
        tag_dictionary=labels,
        tag_type="ner",
        hidden_size=8,
    )
    assert not model.predict_spans
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, weights in model.named_parameters():
            if name.startswith(("linear", "crf")):
                weights.add_(5 * torch.randn(weights.shape, generator=generator))
    model.save(tmp_path / "tokens.pt")
    train = [
        Sentence(("John", "lives", "in", "Paris"), ("B-PER", "O", "O", "B-LOC")),
        Sentence(("Anna", "and", "John"), ("B-PER", "O", "B-PER")),
    ]
    test = [
        *train,
        Sentence(tuple(["John", "in", "Berlin", "and", "Anna", "lives", "in", "Paris"])),
    ]
    flair_test = [convert.to_flair(s) for s in test]
    model.eval()
    model.predict(flair_test)
    io = [
        [(t.get_labels("ner")[0].value if t.get_labels("ner") else "O") for t in f.tokens]
        for f in flair_test
    ]
    io = [[t if t == "O" else f"I-{t}" for t in tags] for tags in io]
    assert sum(t != "O" for tags in io for t in tags) >= 5
    assert {t for tags in io for t in tags} == {"O", "I-PER", "I-LOC"}
    for scheme in ("IOB2", "IO"):
        tagger = FlairTagger({"model": str(tmp_path / "tokens.pt"), "train": "false"})
        tagger.fit(in_scheme(train, scheme), scheme=scheme)
        assert tagger.unmapped_labels == []  # both types are known to the model
        predictions = tagger.predict(test)
        assert [list(p.tags) for p in predictions] == [
            schemes.convert(tags, "IO", scheme) for tags in io
        ]
        if scheme == "IO":  # token by token: the probability matrix is given
            assert predictions[0].labels == ("O", "I-LOC", "I-PER")
            assert predictions[0].probabilities is not None


def test_the_fast_path_of_flair_text_agrees_with_the_categories() -> None:
    """flair_text skips the category look-up when str.isprintable says every character
    is visible: that must hold for every code point."""
    import unicodedata

    visible = {
        c: unicodedata.category(c) not in convert._INVISIBLE
        for c in map(chr, range(sys.maxunicode + 1))
    }
    assert all((c.isprintable() and c != " ") == v for c, v in visible.items())
    assert convert.flair_text("") == convert.PLACEHOLDER
    assert convert.flair_text("a b") == "a_b" and convert.flair_text("ab") == "ab"


def test_save_then_load_predicts_exactly_the_same(trained: FlairTagger, tmp_path: Path) -> None:
    trained.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"model.pt", "flair.json", "options.json"}
    loaded = FlairTagger.load(tmp_path)
    test = [*toy_corpus()["test"], Sentence(ODD_TOKENS)]
    assert loaded.predict(test) == trained.predict(test)  # tags, confidences, probabilities
    assert loaded.options == trained.options and loaded.scheme == "IOB2"


# ------------------------------------------------------------ training


def test_training_reports_nerkit_dev_scores_per_epoch(tmp_path: Path) -> None:
    points: list[tuple[int, int, str, str, float]] = []
    progress: list[tuple[str, int, int]] = []
    context = RunContext(
        seed=5,
        work_dir=tmp_path,
        curve=lambda *p: points.append(p),
        progress=lambda *p: progress.append(p),
    )
    corpus = toy_corpus()
    tiny(max_epochs=2).fit(corpus["train"], corpus["dev"], scheme="IOB2", context=context)
    dev_f1 = [p for p in points if p[2:4] == ("dev", "f1")]
    assert [p[0] for p in dev_f1] == [1, 2] and all(0 <= p[4] <= 1 for p in dev_f1)
    assert [p[0] for p in points if p[2:4] == ("train", "loss")] == [1, 2]
    assert progress[-1] == ("training flair", 2, 2)
    logs = tmp_path / "flair"
    assert (logs / "loss.tsv").is_file() and not list(logs.glob("*.pt"))


def test_dev_may_hold_a_type_that_train_lacks() -> None:
    """As in a small out-of-fold split: flair's dev evaluation must not fail on it."""
    import torch

    corpus = toy_corpus()
    train_types = {t.split("-", 1)[1] for s in corpus["train"] for t in s.tags if t != "O"}
    extra = next(iter(train_types))
    train = [
        Sentence(s.tokens, tuple("O" if t.endswith(extra) else t for t in s.tags))
        for s in corpus["train"]
    ]
    assert any(t.endswith(extra) for s in corpus["dev"] for t in s.tags)
    tagger = tiny(max_epochs=1)
    tagger.fit(train, corpus["dev"], scheme="IOB2", context=RunContext(seed=3))
    assert len(tagger.predict(corpus["dev"])) == len(corpus["dev"])
    # flair's tag dictionary holds the dev-only type, but it was never taught: like any
    # other tagger, this one predicts only the types of its training data
    assert tagger.known_types == sorted(train_types - {extra})
    assert tagger.model is not None
    tags = tagger.model.label_dictionary
    assert f"S-{extra}" in tags.get_items()
    # make the model prefer the dev-only type everywhere
    with torch.no_grad():
        tagger.model.linear.bias[tags.get_idx_for_item(f"S-{extra}")] += 1000.0
    flair_dev = [convert.to_flair(s) for s in corpus["dev"]]
    unfiltered = predict_tags(tagger.model, flair_dev, scheme="IOB2")
    assert any(t.endswith(extra) for tags_ in unfiltered for t in tags_)
    kept = set(tagger.known_types)
    for predicted in (
        [p.tags for p in tagger.predict(corpus["dev"])],
        predict_tags(tagger.model, flair_dev, scheme="IOB2", known_types=kept),  # dev curve
    ):
        assert predicted == [("O",) * len(s) for s in corpus["dev"]]


def test_fit_keeps_the_epoch_with_the_best_dev_f1() -> None:
    points: list[tuple[int, int, str, str, float]] = []
    corpus = toy_corpus()
    # a high learning rate makes the dev F1 jump around between epochs
    tagger = tiny(max_epochs=4, learning_rate=0.5, patience=10)
    tagger.fit(
        corpus["train"],
        corpus["dev"],
        scheme="IOB2",
        context=RunContext(seed=2, curve=lambda *p: points.append(p)),
    )
    dev_f1 = [p[4] for p in points if p[2:4] == ("dev", "f1")]
    assert len(dev_f1) == 4
    predicted = [p.tags for p in tagger.predict(corpus["dev"])]
    kept = scores([s.tags for s in corpus["dev"]], predicted, "IOB2", "lenient").f1
    assert kept == max(dev_f1)


def test_a_frozen_stack_scores_dev_on_the_embeddings_flair_stored(
    no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flair stores a frozen transformer's dev embeddings at its first evaluation: the
    training curve's dev pass reuses them instead of running the transformer over dev
    every epoch, scores what a fresh prediction gives, and leaves the labels alone."""
    from flair.embeddings import TransformerWordEmbeddings

    embedded: list[int] = []
    original = TransformerWordEmbeddings._add_embeddings_internal

    def counting(self: Any, sentences: list[Any]) -> Any:
        embedded.append(len(sentences))
        return original(self, sentences)

    monkeypatch.setattr(TransformerWordEmbeddings, "_add_embeddings_internal", counting)
    points: list[tuple[int, int, str, str, float]] = []
    corpus = toy_corpus()
    tagger = tiny(embeddings="transformer", max_epochs=3)
    context = RunContext(seed=4, curve=lambda *p: points.append(p))
    tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2", context=context)
    # every train and dev sentence went through the transformer once in three epochs
    assert sum(embedded) == sum(1 for s in (*corpus["train"], *corpus["dev"]) if s.tokens)
    dev_f1 = [p[4] for p in points if p[2:4] == ("dev", "f1")]
    fresh = [p.tags for p in tagger.predict(corpus["dev"])]
    assert len(dev_f1) == 3
    assert max(dev_f1) == scores([s.tags for s in corpus["dev"]], fresh, "IOB2").f1

    flair_dev = [convert.to_flair(s, "IOB2") for s in corpus["dev"]]
    gold = [[(sp.tag, sp.start_position) for sp in f.get_spans("ner")] for f in flair_dev]
    first = predict_tags(tagger.model, flair_dev, scheme="IOB2", storage="cpu")
    embedded.clear()
    again = predict_tags(tagger.model, flair_dev, scheme="IOB2", storage="cpu")
    assert embedded == [] and first == again == fresh
    assert [[(sp.tag, sp.start_position) for sp in f.get_spans("ner")] for f in flair_dev] == gold
    assert all(set(f.annotation_layers) <= {"ner"} for f in flair_dev)


def test_each_epoch_predicts_dev_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """nerkit scores the tags of flair's own dev evaluation (a fresh prediction with
    trainable embeddings that are not stored) instead of predicting dev a second time."""
    from flair.models import SequenceTagger

    embedded: list[int] = []
    original = SequenceTagger._prepare_tensors

    def counting(self: Any, sentences: Any) -> Any:
        embedded.append(len(sentences))
        return original(self, sentences)

    monkeypatch.setattr(SequenceTagger, "_prepare_tensors", counting)
    corpus = toy_corpus()
    points: list[tuple[int, int, str, str, float]] = []
    tagger = tiny(max_epochs=2)
    context = RunContext(seed=6, curve=lambda *p: points.append(p))
    tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2", context=context)
    train, dev = (sum(1 for s in corpus[split] if s.tokens) for split in ("train", "dev"))
    assert sum(embedded) == 2 * (train + dev)
    dev_f1 = [p[4] for p in points if p[2:4] == ("dev", "f1")]
    assert len(dev_f1) == 2


def build_flair_model(seed: int, **options: Any) -> tuple[Any, Any, list[Sentence]]:
    """A flair model and corpus as the tagger's fit builds them (toy corpus)."""
    import flair
    from flair.data import Corpus
    from flair.datasets import FlairDatapointDataset
    from flair.models import SequenceTagger

    from nerkit_flair import embeddings

    opts = tiny(**options).options
    corpus = toy_corpus()
    dev = [s for s in corpus["dev"] if s.tokens]
    flair.set_seed(seed)
    train = [convert.to_flair(s, "IOB2") for s in corpus["train"] if s.tokens]
    flair_corpus = Corpus(
        train=FlairDatapointDataset(train),
        dev=FlairDatapointDataset([convert.to_flair(s, "IOB2") for s in dev]),
        test=None,
        sample_missing_splits=False,
    )
    model = SequenceTagger(
        embeddings=embeddings.build(opts, train, []),
        tag_dictionary=flair_corpus.make_label_dictionary("ner", add_unk=False),
        tag_type="ner",
        tag_format=opts.tag_format,
        hidden_size=opts.hidden_size,
        use_crf=opts.use_crf,
    )
    return model, flair_corpus, dev


@pytest.mark.filterwarnings("ignore:.*GradScaler:FutureWarning")
@pytest.mark.parametrize("use_crf", [True, False])
def test_flair_s_dev_evaluation_is_a_fresh_prediction_and_training_is_flair_s(
    tmp_path: Path, use_crf: bool
) -> None:
    """With trainable embeddings that are not stored, the tags flair's dev evaluation
    decodes each epoch are what predicting dev afresh with the current weights gives;
    and tapping them leaves flair's training exactly as it is without nerkit."""
    import torch
    from flair.models.sequence_tagger_utils.viterbi import ViterbiDecoder
    from flair.trainers import ModelTrainer
    from flair.trainers.plugins.base import TrainerPlugin

    from nerkit_flair.curves import curve_plugin

    arguments = {
        "learning_rate": 0.5,
        "mini_batch_size": 4,
        "max_epochs": 3,
        "embeddings_storage_mode": "none",
        "save_final_model": False,
        "use_final_model_for_eval": True,
    }
    model, corpus, dev = build_flair_model(8, use_crf=str(use_crf).lower())
    curves = curve_plugin(
        model,
        "IOB2",
        32,
        dev,
        RunContext(),
        3,
        False,
        flair_dev=corpus.dev.datapoints,
        reuse_evaluation=True,
    )
    compared: list[bool] = []

    class FreshPass(TrainerPlugin):
        @TrainerPlugin.hook
        def after_evaluation(self, **kw: Any) -> None:
            fresh = predict_tags(model, [convert.to_flair(s) for s in dev], scheme="IOB2")
            compared.append(curves.last_dev_tags == fresh)

    ModelTrainer(model, corpus).train(tmp_path / "a", plugins=[curves, FreshPass()], **arguments)
    assert compared == [True, True, True]
    # the tap is gone
    if use_crf:
        assert type(model.viterbi_decoder) is ViterbiDecoder
    else:
        assert "_standard_inference" not in vars(model)

    plain, plain_corpus, _ = build_flair_model(8, use_crf=str(use_crf).lower())
    ModelTrainer(plain, plain_corpus).train(tmp_path / "b", **arguments)
    for (name, a), (_, b) in zip(
        model.state_dict().items(), plain.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_the_dev_pass_leaves_the_random_state_of_training_alone(trained: FlairTagger) -> None:
    """flair's predict draws from torch's generator (a DataLoader per call): the dev
    pass between epochs must not, or the same seed no longer gives flair's training."""
    import torch

    flair_dev = [convert.to_flair(s) for s in toy_corpus()["dev"]]
    before = torch.get_rng_state()
    predict_tags(trained.model, flair_dev, scheme="IOB2", batch_size=2)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("word_dropout", 1.5, r"in \[0, 1\)"),
        ("locked_dropout", -0.5, r"in \[0, 1\)"),
        ("learning_rate", -1, r"above 0 \(or empty\)"),
        ("learning_rate", 0, r"above 0 \(or empty\)"),  # 0 would silently become the default 0.1
        ("anneal_factor", 0, r"in \(0, 1\)"),
        ("anneal_factor", 1, r"in \(0, 1\)"),
        ("patience", -1, "at least 0"),
        ("char_embedding_dim", 0, "at least 1"),
        ("char_hidden_size", 0, "at least 1"),
        ("onehot_dim", 0, "at least 1"),
        ("onehot_min_freq", -1, "at least 0"),
        ("min_learning_rate", -0.1, "at least 0"),
    ],
)
def test_numeric_options_out_of_range_are_clear_errors(
    option: str, value: float, allowed: str
) -> None:
    with pytest.raises(ConfigError, match=f"flair option '{option}' must be {allowed}, got"):
        tiny(**{option: value})


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="unknown embedding 'glove'"):
        FlairTagger({"embeddings": "char,glove"})
    with pytest.raises(ConfigError, match="train=false"):
        FlairTagger({"train": "false"})
    with pytest.raises(ConfigError, match="tag_format"):
        FlairTagger({"tag_format": "IOB1"})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"label_map": "labels.tsv"}, r"label_map is for a model used as it is"),
        (
            {"fine_tune": "true", "patience": "3", "min_learning_rate": "0.01"},
            r"fine_tune=true .* ignores patience, min_learning_rate: leave them out",
        ),
        ({"fine_tune": "true", "anneal_factor": "0.9"}, r"ignores anneal_factor: leave it"),
        (
            {"fine_tune": "true", "embeddings": "char,onehot"},
            r"fine_tune=true fine-tunes a transformer, but 'embeddings' \(char,onehot\)",
        ),
        ({"transformer_layers": "foo"}, r"'transformer_layers' must be all or comma-sep"),
        ({"transformer_layers": "-1,"}, r"'transformer_layers' must be all or comma-sep"),
    ],
)
def test_options_that_would_be_ignored_or_fail_late_are_clear_errors(
    options: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        FlairTagger(options)


def test_options_are_checked_as_given_and_as_built() -> None:
    """fine_tune's conflicts are the options set: named in a dict, or (options built
    already, as a run passes them) away from their default."""
    from nerkit.options import build_options

    assert FlairTagger({"fine_tune": "true"}).options.fine_tune is True
    assert FlairTagger({"transformer_layers": "-1, -2"}).options.transformer_layers == "-1, -2"
    built = build_options(FlairOptions, {"fine_tune": "true", "patience": "5"})
    with pytest.raises(ConfigError, match="ignores patience"):
        FlairTagger(built)
    assert FlairTagger(build_options(FlairOptions, {"fine_tune": "true"})).options.fine_tune is True


def test_transformer_layers_beyond_the_model_are_a_clear_error(no_network: None) -> None:
    # all-MiniLM-L6-v2: 6 layers and its embedding layer, -7 to 6
    tagger = tiny(embeddings="transformer", transformer_layers="-1,7")
    with pytest.raises(ConfigError, match=r"'transformer_layers': 7 out of range.* 6 layers"):
        tagger.fit(toy_corpus()["train"][:3], scheme="IOB2")


def test_training_data_without_entities_is_a_clear_error() -> None:
    with pytest.raises(NerkitError, match="no entities"):
        tiny().fit([Sentence(("a", "b"), ("O", "O"))], scheme="IOB2")


def test_flair_embeddings_offline_are_a_clear_error(no_network: None) -> None:
    tagger = FlairTagger(TINY | {"embeddings": "flair:news-forward-fast-doesnotexist"})
    with pytest.raises(NerkitError, match="network"):
        tagger.fit(toy_corpus()["train"][:3], scheme="IOB2")


def word_vectors(path: Path, header: bool = True) -> Path:
    """A word2vec text file over some words of the toy corpus (without its count line,
    as GloVe's files are)."""
    words = ["Angela", "Merkel", "Paris", "Berlin", "visited", "in", "the", "John"]
    lines = [f"{len(words)} 4"] if header else []
    for i, word in enumerate(words):
        lines.append(" ".join([word, *(f"{((i * 7 + j) % 5) / 5:.2f}" for j in range(4))]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_word_vectors_from_a_local_file_train_and_the_model_keeps_them(
    no_network: None, tmp_path: Path
) -> None:
    corpus = toy_corpus()
    vectors = word_vectors(tmp_path / "vectors.txt")
    tagger = tiny(embeddings=f"word:{vectors},char", max_epochs=2)
    tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2", context=RunContext(seed=1))
    predictions = tagger.predict(corpus["test"])
    (tmp_path / "model").mkdir()
    tagger.save(tmp_path / "model")
    vectors.unlink()  # the saved model holds the vectors, not the file's name
    assert FlairTagger.load(tmp_path / "model").predict(corpus["test"]) == predictions


def test_a_stack_that_partly_learns_keeps_its_frozen_vectors_and_trains_as_without(
    no_network: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frozen part (word vectors) is stored between epochs (auto storage: cpu) while
    the character vectors are computed afresh: the same curve and model as storing
    nothing. flair's storage alone would evaluate dev on the first evaluation's
    character vectors ever after (they need no gradient there)."""
    from flair.trainers import ModelTrainer

    corpus = toy_corpus()
    vectors = word_vectors(tmp_path / "vectors.txt")
    modes: list[str] = []
    left_on_dev: list[set[str]] = []
    train = ModelTrainer.train

    def recording(trainer: Any, *args: Any, **kwargs: Any) -> Any:
        modes.append(kwargs["embeddings_storage_mode"])
        dev = trainer.corpus.dev.datapoints

        class Watch(TrainerPlugin):
            @TrainerPlugin.hook
            def after_evaluation(self, **kw: Any) -> None:  # runs after nerkit's
                left_on_dev.append({n for s in dev for t in s for n in t._embeddings})

        kwargs["plugins"] = [*kwargs["plugins"], Watch()]
        return train(trainer, *args, **kwargs)

    from flair.trainers.plugins.base import TrainerPlugin

    monkeypatch.setattr(ModelTrainer, "train", recording)
    results, results_model = [], []
    for storage in ("auto", "none"):
        points: list[tuple[Any, ...]] = []
        tagger = tiny(embeddings=f"word:{vectors},char", max_epochs=3, embeddings_storage=storage)
        context = RunContext(seed=4, curve=lambda *p, points=points: points.append(p))
        tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2", context=context)
        results.append((points, tagger.predict(corpus["test"])))
        results_model.append(tagger.model)
    assert modes == ["cpu", "none"]
    assert results[0] == results[1]
    stored, fresh = left_on_dev[:3], left_on_dev[3:]
    from nerkit_flair.embeddings import parts

    kept = parts(results_model[0].embeddings)
    assert [type(e).__name__ for e in kept] == ["WordEmbeddings", "CharacterEmbeddings"]
    assert stored == [{kept[0].name}] * 3  # the word vectors only, never the characters'
    assert fresh == [set()] * 3


@pytest.mark.parametrize(
    ("options", "storage", "stored_dev", "learning"),
    [
        ({}, "cpu", True, 1),  # word vectors kept, char vectors dropped after each pass
        ({"train_with_dev": "true"}, "cpu", False, 1),
        ({"embeddings_storage": "none"}, "none", False, 0),
        ({"embeddings": "char,onehot"}, "none", False, 0),  # nothing worth keeping
    ],
)
def test_what_the_dev_pass_may_reuse(
    no_network: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, str],
    storage: str,
    stored_dev: bool,
    learning: int,
) -> None:
    """The curve's own dev pass reuses dev's stored vectors only when an evaluation
    stored them: with train_with_dev dev is trained on, and flair runs even a frozen
    transformer with dropout in training, so a training step's vectors would be kept."""
    from flair.trainers import ModelTrainer

    from nerkit_flair import tagger as tagger_module

    seen: dict[str, Any] = {}
    plugin = tagger_module.curve_plugin

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return plugin(*args, **kwargs)

    def training(trainer: Any, *args: Any, **kwargs: Any) -> None:
        seen["storage"] = kwargs["embeddings_storage_mode"]
        raise RuntimeError("stop here")

    monkeypatch.setattr(tagger_module, "curve_plugin", recording)
    monkeypatch.setattr(ModelTrainer, "train", training)
    vectors = word_vectors(tmp_path / "vectors.txt")
    tagger = tiny(**({"embeddings": f"word:{vectors},char"} | options))
    corpus = toy_corpus()
    with pytest.raises(RuntimeError, match="stop here"):
        tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2")
    assert seen["storage"] == storage
    assert seen["stored_dev"] is stored_dev
    assert seen["reuse_evaluation"] is ("train_with_dev" not in options)
    assert len(seen["learning"]) == learning


def test_word_vectors_need_gensim_and_a_readable_source(
    no_network: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train = toy_corpus()["train"][:3]
    with pytest.raises(NerkitError, match="from flair's downloads"):
        tiny(embeddings="word:xx-no-such-vectors").fit(train, scheme="IOB2")
    monkeypatch.setitem(sys.modules, "gensim", None)  # as if not installed
    with pytest.raises(NerkitError, match=r"read with gensim, which is not installed"):
        tiny(embeddings="word:glove").fit(train, scheme="IOB2")
    with pytest.raises(ConfigError, match="unknown embedding 'word:'"):
        tiny(embeddings="word:")
    # a saved model holds its vectors and loads without the file: checked when it trains
    with pytest.raises(NerkitError, match="'missing/vectors.txt': no such file"):
        tiny(embeddings="word:missing/vectors.txt").fit(train, scheme="IOB2")


@pytest.mark.parametrize("name", ["glove.6B.4d.txt", "cc.xx.4.vec"])
def test_glove_and_fasttext_text_files_are_read(
    no_network: None, tmp_path: Path, name: str
) -> None:
    vectors = word_vectors(tmp_path / name, header=name.endswith(".vec"))
    tagger = tiny(embeddings=f"word:{vectors}", max_epochs=1)
    tagger.fit(toy_corpus()["train"][:5], scheme="IOB2")
    assert len(tagger.predict(toy_corpus()["test"][:2])) == 2
    # every word of the file, the first one too (a count line read as a word, or a
    # first word read as the count line, would lose or add one), four numbers each
    embeddings = tagger.model.embeddings  # type: ignore[union-attr]
    assert embeddings.embedding_length == 4
    assert set(embeddings.vocab) >= {"Angela", "Merkel", "John"}
    assert len(embeddings.vocab) <= 9  # the eight words, and at most flair's unknown


def test_char_and_transformer_train_and_reload_without_a_network(
    no_network: None, tmp_path: Path
) -> None:
    corpus = toy_corpus()
    tagger = tiny(embeddings="char,transformer", subtoken_pooling="first_last")
    tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2", context=RunContext(seed=1))
    # a sentence longer than the transformer's 512 sub-tokens is windowed, not truncated
    test = [*corpus["test"], Sentence(ODD_TOKENS), Sentence(("Berlin",) * 700)]
    predictions = tagger.predict(test)
    assert [len(p.tags) for p in predictions] == [len(s) for s in test]
    tagger.save(tmp_path)
    assert FlairTagger.load(tmp_path).predict(test) == predictions


# ------------------------------------------------------------ existing models


def test_an_existing_model_is_used_without_training_and_its_types_mapped(
    trained: FlairTagger, tmp_path: Path
) -> None:
    model = tmp_path / "ner.pt"
    trained.model.save(model)
    label_map = tmp_path / "labels.tsv"
    # saved by an editor that starts UTF-8 with a byte-order mark: PER is still PER
    label_map.write_text("\ufeffPER\tperson\nLOC\tplace\n", encoding="utf-8")
    # the dataset calls PER and LOC differently and has no ORG
    dataset = [Sentence(s.tokens, tuple(rename(t) for t in s.tags)) for s in toy_corpus()["train"]]
    tagger = FlairTagger({"model": str(model), "train": "false", "label_map": str(label_map)})
    with pytest.warns(UserWarning, match="ORG"):
        tagger.fit(dataset, scheme="IOB2")
    assert tagger.unmapped_labels == ["ORG"]
    test = toy_corpus()["test"]
    mapped = tagger.predict(test)
    original = trained.predict(test)
    assert [p.tags for p in mapped] == [tuple(rename(t) for t in p.tags) for p in original]
    assert any("ORG" in t for p in original for t in p.tags)  # so the ORG -> O part is tested


def rename(tag: str) -> str:
    return "O" if "ORG" in tag else tag.replace("PER", "person").replace("LOC", "place")


def test_a_malformed_label_map_is_a_clear_error(tmp_path: Path) -> None:
    label_map = tmp_path / "labels.tsv"
    label_map.write_text("# flair -> dataset\nPER\tperson\nLOC place\n")
    tagger = FlairTagger({"model": "x.pt", "train": "false", "label_map": str(label_map)})
    with pytest.raises(NerkitError, match=r"labels.tsv, line 3: expected flair_label<TAB>"):
        tagger.fit([], scheme="IOB2")


def test_a_missing_model_is_a_clear_error(no_network: None, tmp_path: Path) -> None:
    tagger = FlairTagger({"model": str(tmp_path / "nope.pt"), "train": "false"})
    with pytest.raises(NerkitError, match="cannot load the model"):
        tagger.fit([], scheme="IOB2")


# ------------------------------------------------------------ plugin and CLI


def test_the_plugin_registers_the_tagger_without_importing_flair() -> None:
    host = PluginHost()
    registry = host.registry("tagger")
    assert registry.resolve("flair") == "flair.tagger.v1"
    assert registry.get("flair.tagger.v1") is FlairTagger
    # building the tagger and reading its options must stay light (nerkit info, --help)
    code = (
        "import sys, nerkit_flair, nerkit_flair.tagger as t; t.FlairTagger(); "
        "assert not {'torch', 'flair'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def toy_folder(tmp_path: Path) -> Path:
    corpus = toy_corpus()
    folder = tmp_path / "toy"
    folder.mkdir()
    for split in corpus:
        write(corpus[split], folder / f"{split}.conll")
    return folder


def test_nerkit_run_stores_a_run_with_training_curves(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["run", "--tagger", "flair", "--dataset", str(toy_folder(tmp_path)), "--out", str(out)]
    for key, value in (TINY | {"max_epochs": "2"}).items():
        args += ["-T", f"{key}={value}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    curves = store.read_table(run, "curves").to_pylist()
    dev_f1 = [r for r in curves if (r["split"], r["metric"]) == ("dev", "f1")]
    assert [r["epoch"] for r in dev_f1] == [1, 2]
    assert (run / "tagger" / "model.pt").is_file()
    metrics = store.read_table(run, "metrics").to_pylist()
    assert any(r["split"] == "test" and r["metric"] == "f1" for r in metrics)


def test_nerkit_run_with_an_existing_model_does_not_train(
    trained: FlairTagger, tmp_path: Path
) -> None:
    model = tmp_path / "ner.pt"
    trained.model.save(model)
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app,
        ["run", "--tagger", "flair", "--dataset", str(toy_folder(tmp_path)), "--out", str(out)]
        + ["-T", f"model={model}", "-T", "train=false"],
    )
    assert result.exit_code == 0, result.output
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    assert not (run / "curves.arrow").exists()  # nothing was trained
    predictions = store.read_table(run, "predictions").to_pylist()
    test = [r["predicted"] for r in predictions if r["split"] == "test" and r["stage"] == "base"]
    assert test == [t for p in trained.predict(toy_corpus()["test"]) for t in p.tags]


def test_ctrl_c_during_training_stops_the_fit() -> None:
    """flair's trainer catches KeyboardInterrupt and returns as if training had ended;
    the tagger raises it again, so that a run stops unfinished (and resumes) instead of
    storing a half-trained model as finished."""
    seen: list[int] = []

    def progress(what: str, epoch: int, total: int | None) -> None:
        seen.append(epoch)
        if epoch == 2:
            raise KeyboardInterrupt  # as Ctrl-C would, during the second epoch's hooks

    corpus = toy_corpus()
    tagger = tiny(max_epochs=4)
    with pytest.raises(KeyboardInterrupt):
        tagger.fit(
            corpus["train"], corpus["dev"], scheme="IOB2", context=RunContext(progress=progress)
        )
    assert seen == [1, 2]


def test_training_that_stops_at_the_minimum_learning_rate_ends_normally(tmp_path: Path) -> None:
    """flair's annealing ends training by raising its TrainingInterrupt once the
    learning rate falls below min_learning_rate; its trainer reports that with the same
    event as Ctrl-C. It is a normal end: fit returns, every epoch trained has its curve
    points, and the epoch with the best dev F1 is kept."""
    points: list[tuple[int, int, str, str, float]] = []
    corpus = toy_corpus()
    # the first epoch without a better dev score halves 0.1, below 0.09: training stops
    tagger = tiny(max_epochs=20, patience=0, anneal_factor=0.5, min_learning_rate=0.09)
    context = RunContext(seed=3, work_dir=tmp_path, curve=lambda *p: points.append(p))
    try:
        tagger.fit(corpus["train"], corpus["dev"], scheme="IOB2", context=context)
    except KeyboardInterrupt:  # caught here: it would end the whole test session
        pytest.fail("the end of training at min_learning_rate was taken for Ctrl-C")
    dev_f1 = [p[4] for p in points if p[2:4] == ("dev", "f1")]
    epochs = len(dev_f1)
    assert 1 < epochs < 20  # stopped early
    for split, metric in (("dev", "precision"), ("dev", "recall"), ("train", "loss")):
        assert [p[0] for p in points if p[2:4] == (split, metric)] == list(range(1, epochs + 1))
    predicted = [p.tags for p in tagger.predict(corpus["dev"])]
    kept = scores([s.tags for s in corpus["dev"]], predicted, "IOB2", "lenient").f1
    assert kept == max(dev_f1) > dev_f1[-1]  # the best epoch, not the last one
