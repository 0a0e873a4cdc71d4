"""The crfsuite tagger: nerkit's Tagger contract (from ``nerkit.testing``), the
features, the options, repairs and save / load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nerkit import schemes
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.plugin import PluginHost
from nerkit.testing import TaggerContract, in_scheme, toy_corpus
from nerkit.types import Sentence
from nerkit_crfsuite.features import sentence_features, shape, short_shape, token_features
from nerkit_crfsuite.tagger import CRFsuiteTagger

# Few iterations: the toy corpus is tiny, and the contract trains several taggers.
SMALL = {"max_iterations": 50}


class TestCRFsuiteContract(TaggerContract):
    min_train_f1 = 0.9

    def make_tagger(self) -> Tagger:
        return CRFsuiteTagger(dict(SMALL))


class TestCRFsuiteContractBIOES(TestCRFsuiteContract):
    scheme = "BIOES"


class TestCRFsuiteContractNoContext(TestCRFsuiteContract):
    scheme = "IOE2"

    def make_tagger(self) -> Tagger:
        # the word alone: no neighbours, no affixes
        return CRFsuiteTagger({"max_iterations": "30", "window": "0", "affixes": "0"})


# ------------------------------------------------------------------ features


def test_shapes() -> None:
    assert shape("McDonald's") == "XxXxxxxx'x"
    assert short_shape("McDonald's") == "XxXx'x"
    assert shape("2017-11") == "dddd-dd" and short_shape("2017-11") == "d-d"
    assert short_shape("東京") == "東京"  # characters without case are kept


def test_token_features_cover_the_word_and_its_neighbours() -> None:
    tokens = ["Visit", "NEW", "York", "in", "2017"]
    features = set(token_features(tokens, 1, window=2, affixes=3))
    assert {"bias", "w=new", "shape=XXX", "upper", "p1=n", "p3=new", "s2=ew"} <= features
    assert {"w[-1]=visit", "title[-1]", "w[+1]=york", "w[+2]=in", "w[-2]=<s>"} <= features
    assert "title" not in features and "digit" not in features
    last = set(token_features(tokens, 4, window=2, affixes=3))
    assert {"digit", "has_digit", "w[+1]=</s>", "w[+2]=</s>", "w[-1]=in"} <= last


def test_window_and_affixes_bound_the_features() -> None:
    tokens = ["a", "b", "Central", "d", "e"]
    features = token_features(tokens, 2, window=1, affixes=2)
    assert not any(f.startswith(("w[-2]", "w[+2]", "p3=", "s3=")) for f in features)
    assert "p2=ce" in features and "s2=al" in features
    # a change beyond the window leaves a token's features unchanged
    assert features == token_features(["z", "b", "Central", "d", "y"], 2, window=1, affixes=2)
    assert sentence_features([]) == []


# ------------------------------------------------------------------- options


def test_options_are_typed_and_checked() -> None:
    assert CRFsuiteTagger({"c1": "0.5", "max_iterations": "7"}).options.max_iterations == 7
    with pytest.raises(ConfigError, match="valid options: c1, c2, max_iterations"):
        CRFsuiteTagger({"epochs": "3"})
    with pytest.raises(ConfigError, match="'c2' must be at least 0"):
        CRFsuiteTagger({"c2": -1.0})
    with pytest.raises(ConfigError, match="'max_iterations' must be at least 1"):
        CRFsuiteTagger({"max_iterations": 0})


def fit(options: dict[str, object], train: list[Sentence] | None = None, **context: object):  # type: ignore[no-untyped-def]
    tagger = CRFsuiteTagger(options)
    tagger.fit(train or list(toy_corpus()["train"]), context=RunContext(**context))  # type: ignore[arg-type]
    return tagger


def test_training_reports_a_falling_loss_curve() -> None:
    points: list[tuple[int, int, str, str, float]] = []
    tagger = fit({"max_iterations": 20}, curve=lambda *p: points.append(p))
    assert [p[0] for p in points] == list(range(1, 21))
    assert {(p[2], p[3]) for p in points} == {("train", "loss")}
    assert points[-1][4] < points[0][4] / 2
    assert tagger.stats["iterations"] == 20 and tagger.stats["loss"] == points[-1][4]
    assert tagger.stats["sentences"] == len(toy_corpus()["train"])


def test_strong_l1_regularisation_keeps_fewer_features() -> None:
    weak = fit({"max_iterations": 30, "c1": 0.0})
    strong = fit({"max_iterations": 30, "c1": 5.0})
    assert 0 < strong.stats["active_features"] < weak.stats["active_features"]


# ------------------------------------------------------------------- predict


def test_an_invalid_sequence_the_crf_learnt_is_repaired() -> None:
    # gold data may break its scheme: here every name starts with I- after O
    train = [
        Sentence(tokens=("we", "met", name, "today"), tags=("O", "O", "I-PER", "O"))
        for name in ("Anna", "Bob", "Carla", "Dmitri", "Eve", "Farid")
    ]
    tagger = fit({"max_iterations": 50}, train)
    (prediction,) = tagger.predict([Sentence(tokens=("we", "met", "Anna", "today"))])
    assert prediction.tags == ("O", "O", "B-PER", "O")
    assert not schemes.validate(prediction.tags, "IOB2")
    # the repaired token keeps the confidence CRFsuite gave the entity
    column = prediction.labels.index("I-PER")
    assert prediction.confidences[2] == pytest.approx(prediction.probabilities[2, column])
    assert prediction.confidences[2] > 0.5
    # B-PER was never seen: its column exists, with probability 0
    assert prediction.probabilities[2, prediction.labels.index("B-PER")] == 0.0


def test_probabilities_are_crf_marginals_over_every_tag_of_the_scheme() -> None:
    tagger = fit(dict(SMALL))
    test = in_scheme(toy_corpus()["test"], "IOB2")
    types = {schemes.split_tag(t)[1] for s in toy_corpus()["train"] for t in s.tags} - {""}
    assert set(tagger.labels) == {"O"} | {f"{p}-{t}" for t in types for p in "BI"}
    for sentence, prediction in zip(test, tagger.predict(test), strict=True):
        probabilities = prediction.probabilities
        assert probabilities.shape == (len(sentence), len(prediction.labels))
        assert np.allclose(probabilities.sum(axis=1), 1.0)
        # confidences are the marginals of the tags (no toy sentence needs a repair)
        assert not schemes.validate(prediction.tags, "IOB2")
        chosen = [prediction.labels.index(t) for t in prediction.tags]
        assert np.allclose(prediction.confidences, probabilities[np.arange(len(sentence)), chosen])


# ---------------------------------------------------------------- save / load


def test_a_loaded_model_needs_its_folder_no_more(tmp_path: Path) -> None:
    tagger = fit(dict(SMALL))
    folder = tmp_path / "model"
    folder.mkdir()
    tagger.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "crfsuite.json",
        "model.crfsuite",
        "options.json",
    ]
    loaded = CRFsuiteTagger.load(folder)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    test = list(toy_corpus()["test"])
    assert [p.tags for p in loaded.predict(test)] == [p.tags for p in tagger.predict(test)]
    assert loaded.options == tagger.options and loaded.stats == tagger.stats


def test_loading_something_else_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="holds no saved crfsuite tagger"):
        CRFsuiteTagger.load(tmp_path)
    tagger = fit(dict(SMALL))
    tagger.save(tmp_path)
    (tmp_path / "model.crfsuite").write_bytes(b"not a model")
    with pytest.raises(NerkitError, match="not a CRFsuite model"):
        CRFsuiteTagger.load(tmp_path)
    (tmp_path / "crfsuite.json").write_text('{"format": "other", "version": 1}')
    with pytest.raises(NerkitError, match="not a nerkit-crfsuite model"):
        CRFsuiteTagger.load(tmp_path)


def test_training_sentences_without_tags_are_refused() -> None:
    with pytest.raises(NerkitError, match="training sentence s1 has no tags"):
        fit(dict(SMALL), [Sentence(tokens=("a",), tags=("O",)), Sentence(("b",), sentence_id="s1")])
    with pytest.raises(NerkitError, match="have no tokens"):
        fit(dict(SMALL), [Sentence(tokens=())])


# --------------------------------------------------------------- the plugin


def test_the_entry_point_registers_the_tagger_by_its_import_path() -> None:
    from importlib.metadata import entry_points

    (entry,) = [ep for ep in entry_points(group="nerkit") if ep.name == "crfsuite"]
    assert entry.value == "nerkit_crfsuite"
    registry = PluginHost().registry("tagger")
    assert registry.resolve("crfsuite") == "crfsuite.tagger.v1"
    assert registry.entry("crfsuite").factory == "nerkit_crfsuite.tagger:CRFsuiteTagger"
    assert registry.get("crfsuite") is CRFsuiteTagger
