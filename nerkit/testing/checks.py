"""Assertions shared by the contracts. Each failure message says which sentence and
token broke the contract, so a plugin author can find the bug without a debugger."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nerkit import schemes
from nerkit.errors import SchemeError
from nerkit.types import Prediction, Sentence


def _where(index: int, sentence: Sentence) -> str:
    name = sentence.sentence_id or f"#{index}"
    return f"sentence {name} {list(sentence.tokens)[:8]}"


def assert_one_tag_per_token(
    sentences: Sequence[Sentence], predictions: Sequence[Prediction]
) -> None:
    assert isinstance(predictions, list), (
        f"expected a list of Predictions, got {type(predictions).__name__}"
    )
    assert len(predictions) == len(sentences), (
        f"{len(sentences)} sentences but {len(predictions)} predictions"
    )
    for i, (sentence, prediction) in enumerate(zip(sentences, predictions, strict=True)):
        assert isinstance(prediction, Prediction), f"{_where(i, sentence)}: got {prediction!r}"
        assert len(prediction.tags) == len(sentence.tokens), (
            f"{_where(i, sentence)}: {len(sentence.tokens)} tokens but {len(prediction.tags)} tags"
        )
        assert all(isinstance(t, str) for t in prediction.tags), (
            f"{_where(i, sentence)}: non-string tag"
        )


def assert_tags_in_scheme(
    sentences: Sequence[Sentence],
    predictions: Sequence[Prediction],
    scheme: str,
    *,
    sequences: bool = True,
) -> None:
    """Every tag has the scheme's form; with ``sequences`` every sequence is valid too."""
    for i, (sentence, prediction) in enumerate(zip(sentences, predictions, strict=True)):
        for tag in prediction.tags:
            try:
                schemes.check_tag(tag, scheme)
            except SchemeError as exc:
                raise AssertionError(f"{_where(i, sentence)}: {exc}") from None
        if sequences:
            problems = schemes.validate(prediction.tags, scheme)
            assert not problems, (
                f"{_where(i, sentence)}: tags {list(prediction.tags)} are not a valid {scheme} "
                f"sequence ({', '.join(map(str, problems))}); set allows_invalid_sequences = True "
                "if the component leaves repair to a decoder"
            )


def assert_types_known(predictions: Sequence[Prediction], known: set[str]) -> None:
    """No entity type the component could not have learnt from its training data."""
    for prediction in predictions:
        for tag in prediction.tags:
            _, label = schemes.split_tag(tag)
            assert tag == schemes.OUTSIDE or label in known, (
                f"predicted type {label!r} never occurs in the training data (types: {sorted(known)})"
            )


def assert_confidences_well_formed(
    sentences: Sequence[Sentence], predictions: Sequence[Prediction]
) -> None:
    """Confidences, when given, one per token in [0, 1]; probability rows sum to 1."""
    for i, (sentence, prediction) in enumerate(zip(sentences, predictions, strict=True)):
        where = _where(i, sentence)
        if prediction.confidences:
            assert len(prediction.confidences) == len(prediction.tags), where
            for value in prediction.confidences:
                assert isinstance(value, float | int) and math.isfinite(value), (
                    f"{where}: confidence {value!r} is not a finite number"
                )
                assert 0.0 <= value <= 1.0, f"{where}: confidence {value} outside [0, 1]"
        if prediction.probabilities is not None:
            probs = np.asarray(prediction.probabilities, dtype=np.float64)
            assert np.all(np.isfinite(probs)), f"{where}: non-finite probabilities"
            assert np.all((probs >= 0) & (probs <= 1)), f"{where}: probabilities outside [0, 1]"
            assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4), f"{where}: rows do not sum to 1"
            missing = set(prediction.tags) - set(prediction.labels)
            assert not missing, (
                f"{where}: predicted tags {sorted(missing)} are not among the labels"
            )


def trained_types(sentences: Sequence[Sentence]) -> set[str]:
    """The entity types the tags of ``sentences`` hold."""
    return {schemes.split_tag(t)[1] for s in sentences for t in s.tags} - {""}


def assert_labels_in_scheme(
    sentences: Sequence[Sentence],
    predictions: Sequence[Prediction],
    scheme: str,
    known: set[str],
) -> None:
    """The columns of a probability matrix are tags of ``scheme`` over types learnt in
    training: the viterbi decoder chooses among them, so a foreign column becomes a
    predicted tag. A column of an unknown type is allowed only if it is all zeros (a
    fixed label set of which training showed part)."""
    for i, (sentence, prediction) in enumerate(zip(sentences, predictions, strict=True)):
        if prediction.probabilities is None:
            continue
        where = _where(i, sentence)
        probs = np.asarray(prediction.probabilities, dtype=np.float64)
        for column, label in enumerate(prediction.labels):
            try:
                schemes.check_tag(label, scheme)
            except SchemeError as exc:
                raise AssertionError(f"{where}: a probability label: {exc}") from None
            _, kind = schemes.split_tag(label)
            assert label == schemes.OUTSIDE or kind in known or not np.any(probs[:, column]), (
                f"{where}: probability label {label!r} has a type never in the training data "
                f"(types: {sorted(known)}) and non-zero probabilities"
            )


def _valid_in(tags: Sequence[str], scheme: str) -> bool:
    try:
        for tag in tags:
            schemes.check_tag(tag, scheme)
    except SchemeError:
        return False
    return not schemes.validate(tags, scheme)


def assert_declared_scheme_reads_best(
    predictions: Sequence[Prediction], declared: str, fitted: str, *, what: str
) -> None:
    """Predictions of a component fit in ``fitted`` that declares another scheme must be
    valid sequences in the declared one at least as often as in ``fitted``. A component
    whose fit never sets ``scheme`` keeps the class default (IOB2): fit in IOB1, its
    ``I-X`` after ``O`` would then be read as broken IOB2 by every decoder."""
    declared, fitted = schemes.get_scheme(declared).name, schemes.get_scheme(fitted).name
    if declared == fitted:
        return
    valid = {s: sum(_valid_in(p.tags, s) for p in predictions) for s in (declared, fitted)}
    assert valid[declared] >= valid[fitted], (
        f"the {what} declares scheme {declared} after fit(scheme={fitted!r}), but "
        f"{valid[fitted]} of its {len(predictions)} predictions are valid {fitted} and only "
        f"{valid[declared]} valid {declared}: does fit (and load) set its scheme?"
    )


def assert_same_predictions(
    first: Sequence[Prediction],
    second: Sequence[Prediction],
    *,
    tolerance: float = 0.0,
    what: str = "",
) -> None:
    """Identical tags; confidences and probabilities equal within ``tolerance``."""
    assert len(first) == len(second), f"{what}: {len(first)} vs {len(second)} predictions"
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        assert a.tags == b.tags, f"{what}: sentence #{i}: tags {list(a.tags)} vs {list(b.tags)}"
        assert len(a.confidences) == len(b.confidences), (
            f"{what}: sentence #{i}: confidences differ"
        )
        assert np.allclose(a.confidences, b.confidences, rtol=0.0, atol=tolerance), (
            f"{what}: sentence #{i}: confidences {a.confidences} vs {b.confidences}"
        )
        assert (a.probabilities is None) == (b.probabilities is None), f"{what}: sentence #{i}"
        if a.probabilities is not None:
            assert a.labels == b.labels, f"{what}: sentence #{i}: labels {a.labels} vs {b.labels}"
            assert np.allclose(a.probabilities, b.probabilities, rtol=0.0, atol=tolerance), (
                f"{what}: sentence #{i}: probabilities differ"
            )


def assert_probabilities_as_declared(
    sentences: Sequence[Sentence], predictions: Sequence[Prediction], declared: bool | None
) -> None:
    """``gives_probabilities`` holds: True, every prediction of a sentence with tokens
    has a probability matrix; False, none has (a run refuses a decoder that needs one on
    the strength of it); None promises nothing."""
    if declared is None:
        return
    for i, (s, p) in enumerate(zip(sentences, predictions, strict=True)):
        if s.tokens and (p.probabilities is not None) != declared:
            has = "has a probability matrix" if p.probabilities is not None else "has none"
            raise AssertionError(
                f"sentence {i}: gives_probabilities is {declared}, yet its prediction {has}"
            )


def assert_well_formed(
    sentences: Sequence[Sentence],
    predictions: Sequence[Prediction],
    component: Any,
    *,
    sequences: bool = True,
) -> None:
    """What every output of a tagger or corrector (``component``) holds: one tag per
    token, tags of its declared scheme (and valid sequences of it, with ``sequences``),
    well-formed confidences, and probability matrices as ``gives_probabilities`` says."""
    assert_one_tag_per_token(sentences, predictions)
    scheme = schemes.get_scheme(component.scheme).name
    assert_tags_in_scheme(sentences, predictions, scheme, sequences=sequences)
    assert_confidences_well_formed(sentences, predictions)
    assert_probabilities_as_declared(sentences, predictions, component.gives_probabilities)


def assert_tagged_to_the_end(
    sentence: Sentence, prediction: Prediction, copies: int, *, what: str
) -> None:
    """``sentence`` is ``copies`` copies of one block (``data.long_sentence``): if the
    component tags an entity in the first block, it tags one in the last too. One that
    truncates long sentences (at 128 or 512 subwords, say) and fills the rest with ``O``
    finds none there."""
    block = len(sentence.tokens) // copies
    first, last = prediction.tags[:block], prediction.tags[-block:]
    found = sum(t != schemes.OUTSIDE for t in first)
    assert not found or any(t != schemes.OUTSIDE for t in last), (
        f"a sentence of {len(sentence.tokens)} tokens made of {copies} copies of one block: "
        f"the {what} tags {found} tokens of the first block as entities but none of the "
        f"last ({len(sentence.tokens) - block} tokens on); does it truncate long sentences "
        "(at 128 or 512 subwords?) and fill the rest with O?"
    )


def moved_folder(directory: Path, target: Path) -> Path:
    """``directory`` moved to ``target`` (a copy, then the original removed)."""
    import shutil

    shutil.copytree(directory, target, symlinks=True)
    shutil.rmtree(directory)
    return target
