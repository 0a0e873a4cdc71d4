"""Decoders: conlleval / discard repair and constrained Viterbi."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerkit import schemes
from nerkit.decoders import (
    ConllevalDecoder,
    Decoded,
    DiscardDecoder,
    repair_conlleval,
    repair_discard,
    transition_mask,
    viterbi,
)
from nerkit.errors import NerkitError
from nerkit.types import Prediction, Span


def test_conlleval_repair_keeps_lenient_entities() -> None:
    out = repair_conlleval(["O", "I-PER", "I-PER", "B-LOC", "I-ORG"], "IOB2")
    assert out.tags == ("O", "B-PER", "I-PER", "B-LOC", "B-ORG")
    assert out.changed == 2


def test_discard_repair_drops_broken_chunks() -> None:
    out = repair_discard(["O", "I-PER", "I-PER", "B-LOC", "I-ORG"], "IOB2")
    assert out.tags == ("O", "O", "O", "B-LOC", "O")
    assert out.changed == 3


def test_repair_of_valid_sequence_changes_nothing() -> None:
    tags = ["B-PER", "E-PER", "S-LOC", "O"]
    assert repair_conlleval(tags, "BIOES").changed == 0
    assert repair_discard(tags, "BIOES").changed == 0


@pytest.mark.parametrize("scheme", list(schemes.SCHEMES))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_repairs_give_valid_sequences(scheme: str, data: st.DataObject) -> None:
    prefixes = schemes.get_scheme(scheme).prefixes
    tags = data.draw(
        st.lists(st.sampled_from(["O"] + [f"{p}-{t}" for p in prefixes for t in "AB"]), max_size=10)
    )
    for repair, mode in ((repair_conlleval, "lenient"), (repair_discard, "strict")):
        out = repair(tags, scheme)
        assert schemes.validate(out.tags, scheme) == []
        assert schemes.spans_lenient(out.tags, scheme) == schemes.spans(tags, scheme, mode)
        assert out.changed == sum(a != b for a, b in zip(tags, out.tags, strict=True))


def brute_force(probs: np.ndarray, labels: list[str], scheme: str) -> tuple[str, ...] | None:
    best, best_score = None, -np.inf
    for path in itertools.product(range(len(labels)), repeat=probs.shape[0]):
        tags = [labels[i] for i in path]
        if schemes.validate(tags, scheme):
            continue
        score = float(np.sum(np.log(probs[np.arange(len(path)), path])))
        if score > best_score:
            best, best_score = tuple(tags), score
    return best


@pytest.mark.parametrize("scheme", ["IOB2", "BIOES", "IOE1", "BILOU"])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4))
def test_viterbi_equals_exhaustive_search(scheme: str, seed: int, n: int) -> None:
    prefixes = schemes.get_scheme(scheme).prefixes
    labels = ["O"] + [f"{p}-{t}" for p in prefixes for t in "AB"]
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(len(labels)) * 0.5, size=n) + 1e-9
    probs /= probs.sum(axis=1, keepdims=True)
    argmax = tuple(labels[i] for i in probs.argmax(axis=1))
    pred = Prediction(tags=argmax, probabilities=probs, labels=tuple(labels))
    out = viterbi(pred, scheme)
    assert out.tags == brute_force(probs, labels, scheme)
    assert out.changed == sum(a != b for a, b in zip(argmax, out.tags, strict=True))


def test_viterbi_fixes_an_i_after_o() -> None:
    labels = ("O", "B-PER", "I-PER")
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.3, 0.6], [0.2, 0.1, 0.7]])
    pred = Prediction(tags=("O", "I-PER", "I-PER"), probabilities=probs, labels=labels)
    out = viterbi(pred, "IOB2")
    assert out.tags == ("O", "B-PER", "I-PER")
    assert out.changed == 1
    assert schemes.spans_lenient(out.tags, "IOB2") == [Span(1, 3, "PER")]


def test_viterbi_keeps_a_valid_sequence_whose_tokens_peak_elsewhere() -> None:
    """A CRF's best path is valid though a token's distribution may peak at another
    tag: there is nothing to repair, and no repair is counted."""
    labels = ("O", "B-PER", "I-PER", "B-LOC")
    probs = np.array([[0.1, 0.8, 0.05, 0.05], [0.1, 0.1, 0.3, 0.5]])
    pred = Prediction(tags=("B-PER", "I-PER"), probabilities=probs, labels=labels)
    assert viterbi(pred, "IOB2") == Decoded(("B-PER", "I-PER"), 0)


def test_viterbi_needs_probabilities_and_a_valid_path() -> None:
    with pytest.raises(NerkitError, match="probability matrix"):
        viterbi(Prediction(tags=("O",)), "IOB2")
    only_inside = Prediction(tags=("I-PER",), probabilities=np.array([[1.0]]), labels=("I-PER",))
    with pytest.raises(NerkitError, match="no tag sequence is valid"):
        viterbi(only_inside, "IOB2")


def test_transition_mask_rejects_labels_outside_the_scheme() -> None:
    with pytest.raises(schemes.SchemeError):
        transition_mask(["O", "S-PER"], "IOB2")


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (("LOC", "O"), "tag 'LOC' is not of the form O or PREFIX-TYPE"),
        (("O", "S-PER"), "tag 'S-PER' has a prefix not in IOB2"),
    ],
)
def test_repairs_refuse_tags_outside_the_scheme(tags: tuple[str, ...], message: str) -> None:
    # read leniently, "LOC" would be prefix L of type C: a made-up entity
    for decoder in (ConllevalDecoder(), DiscardDecoder()):
        with pytest.raises(schemes.SchemeError, match=message):
            decoder.decode(Prediction(tags=tags), "IOB2")


def test_viterbi_decodes_an_empty_sentence_without_a_matrix() -> None:
    assert viterbi(Prediction(tags=(), confidences=()), "IOB2") == Decoded((), 0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_viterbi_names_non_finite_probabilities(bad: float) -> None:
    labels = ("O", "B-PER", "I-PER")
    probs = np.array([[0.8, 0.1, 0.1], [0.1, bad, 0.1]])
    pred = Prediction(tags=("O", "B-PER"), probabilities=probs, labels=labels)
    with pytest.raises(NerkitError, match=r"non-finite probabilities .* for 'B-PER' at token 1"):
        viterbi(pred, "IOB2")


def test_viterbi_without_labels_is_a_clear_error() -> None:
    pred = Prediction(tags=("O", "O"), probabilities=np.zeros((2, 0)), labels=())
    with pytest.raises(NerkitError, match="without labels"):
        viterbi(pred, "IOB2")
