"""The lexicon tagger: the Tagger contract, its matching rules, its plugin registration,
and a sanity check on WNUT-17."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_DATA, has_shared_data

from nerkit import schemes
from nerkit.errors import ConfigError, NerkitError, SchemeError
from nerkit.interfaces import Tagger
from nerkit.io import read
from nerkit.plugin import PluginHost
from nerkit.testing import TaggerContract, entity_score, parse_bracketed
from nerkit.types import Sentence
from nerkit_lexicon.tagger import LexiconTagger, count_occurrences


class TestLexiconContract(TaggerContract):
    min_train_f1 = 0.95

    def make_tagger(self) -> Tagger:
        return LexiconTagger()


class TestLexiconContractBIOES(TestLexiconContract):
    scheme = "BIOES"


class TestLexiconContractCaseInsensitive(TestLexiconContract):
    scheme = "BILOU"

    def make_tagger(self) -> Tagger:
        return LexiconTagger({"case_sensitive": "false", "max_length": "3"})


def fitted(texts: list[str], scheme: str = "IOB2", **options: object) -> LexiconTagger:
    tagger = LexiconTagger(dict(options))
    train = [parse_bracketed(t) for t in texts]
    if scheme != "IOB2":
        train = [Sentence(s.tokens, tuple(schemes.convert(s.tags, "IOB2", scheme))) for s in train]
    tagger.fit(train, scheme=scheme)
    return tagger


def tag(tagger: LexiconTagger, text: str) -> list[str]:
    return list(tagger.predict([Sentence(tuple(text.split()))])[0].tags)


# ------------------------------------------------------------- matching


def test_longest_match_wins() -> None:
    tagger = fitted(["[New York](LOC) is big .", "I read the [New York Times](ORG) ."])
    assert tag(tagger, "the New York Times in New York") == [
        "O", "B-ORG", "I-ORG", "I-ORG", "O", "B-LOC", "I-LOC",
    ]  # fmt: skip


def test_matches_are_greedy_left_to_right_and_do_not_overlap() -> None:
    tagger = fitted(["[a b](X) .", "[b c](Y) ."])
    assert tag(tagger, "a b c") == ["B-X", "I-X", "O"]


def test_most_frequent_type_wins_and_ties_go_to_the_first_name() -> None:
    tagger = fitted(
        [
            "[Washington](LOC) is a city .",
            "[Washington](LOC) is a state .",
            "[Washington](PER) crossed it .",
            "[Jordan](PER) played .",
            "[Jordan](LOC) borders Israel .",
        ]
    )
    assert tag(tagger, "Washington and Jordan") == ["B-LOC", "O", "B-LOC"]


def test_case_sensitive_by_default_and_case_folded_on_request() -> None:
    texts = ["[Apple](ORG) sells phones ."]
    assert tag(fitted(texts), "an apple and an APPLE") == ["O"] * 5
    assert tag(fitted(texts, case_sensitive=False), "an apple and an APPLE") == [
        "O", "B-ORG", "O", "O", "B-ORG",
    ]  # fmt: skip


def test_output_follows_the_training_scheme() -> None:
    tagger = fitted(["[Paris](LOC) and [New York City](LOC) ."], scheme="IOBES")
    assert tagger.scheme == "BIOES"
    assert tag(tagger, "Paris or New York City") == ["S-LOC", "O", "B-LOC", "I-LOC", "E-LOC"]
    io = fitted(["[Paris](LOC) and [New York City](LOC) ."], scheme="IO")
    assert tag(io, "Paris or New York City") == ["I-LOC", "O", "I-LOC", "I-LOC", "I-LOC"]


def test_min_count_forgets_rare_forms() -> None:
    texts = ["[Paris](LOC) .", "[Paris](LOC) .", "[Lyon](LOC) ."]
    assert tag(fitted(texts, min_count=2), "Paris Lyon") == ["B-LOC", "O"]


def test_max_length_forgets_long_forms() -> None:
    texts = ["[Bank of New York](ORG) .", "[New York](LOC) ."]
    assert tag(fitted(texts, max_length=3), "Bank of New York") == ["O", "O", "B-LOC", "I-LOC"]


def test_confidence_is_the_share_of_occurrences_that_were_the_entity() -> None:
    # "Apple" occurs three times, once as an ORG: a match is right one time in three
    tagger = fitted(["[Apple](ORG) rose .", "Apple pie .", "Apple juice ."])
    prediction = tagger.predict([Sentence(("Apple", "rose"))])[0]
    assert prediction.tags == ("B-ORG", "O")
    assert prediction.confidences[0] == pytest.approx(1 / 3)


YORK = ["[York](LOC) is old .", "York Minster is old .", "the end ."]


def test_min_confidence_drops_forms_that_are_often_not_entities() -> None:
    # "York" was a LOC in one of its two occurrences: confidence 0.5
    assert tag(fitted(YORK), "York") == ["B-LOC"]
    assert tag(fitted(YORK, min_confidence=0.6), "York") == ["O"]


def test_o_tokens_are_as_sure_as_the_token_was_o_in_training() -> None:
    prediction = fitted(YORK, min_confidence=0.6).predict([Sentence(("York", "is"))])[0]
    assert prediction.tags == ("O", "O")
    # "York" was O in one of its two occurrences, "is" in both
    assert prediction.confidences == pytest.approx((0.5, 1.0))


def test_unseen_words_get_the_o_share_of_words_seen_once() -> None:
    tagger = fitted(["[Anna](PER) met [Bo](PER) .", "We met ."])
    # words seen once: Anna (entity), Bo (entity), We (O) -> 1/3
    assert tagger.predict([Sentence(("Zed",))])[0].confidences == pytest.approx((1 / 3,))


def test_count_occurrences_counts_overlapping_ngrams_of_known_forms_only() -> None:
    texts = [("a", "a", "a", "b"), ("a", "b")]
    assert count_occurrences(texts, [("a", "a"), ("a", "b"), ("c",)]) == {
        ("a", "a"): 2,
        ("a", "b"): 2,
        ("c",): 0,
    }


# ----------------------------------------------------------------- errors


def test_training_sentences_need_tags() -> None:
    with pytest.raises(NerkitError, match="training sentence raw-1 has no tags"):
        LexiconTagger().fit([Sentence(("Paris",), sentence_id="raw-1")])


def test_training_sentences_need_tokens() -> None:
    with pytest.raises(NerkitError, match="no tokens"):
        LexiconTagger().fit([Sentence(())])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_length": "0"}, "max_length"),
        ({"min_count": 0}, "min_count"),
        ({"min_confidence": "1.5"}, "min_confidence"),
        ({"max_len": 3}, "valid options: case_sensitive, min_count, max_length"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LexiconTagger(options)


def test_loading_a_folder_without_a_lexicon_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="lexicon.json is missing"):
        LexiconTagger.load(tmp_path)


def test_tags_of_another_scheme_are_refused() -> None:
    with pytest.raises(SchemeError, match="'U-LOC' has a prefix not in IOB2"):
        LexiconTagger().fit([Sentence(("Paris",), ("U-LOC",))], scheme="IOB2")


def test_a_damaged_lexicon_file_is_a_clear_error(tmp_path: Path) -> None:
    fitted(["[Paris](LOC) ."]).save(tmp_path)
    path = tmp_path / "lexicon.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    del payload["entities"][0]["occurrences"]
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(NerkitError, match="malformed lexicon"):
        LexiconTagger.load(tmp_path)
    path.write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(NerkitError, match="not a nerkit-lexicon file"):
        LexiconTagger.load(tmp_path)


def test_saved_lexicon_is_readable_json_with_options(tmp_path: Path) -> None:
    tagger = fitted(["[Zürich](LOC) ."], case_sensitive=False)
    tagger.save(tmp_path)
    payload = json.loads((tmp_path / "lexicon.json").read_text(encoding="utf-8"))
    assert payload["entities"] == [{"tokens": ["zürich"], "types": {"LOC": 1}, "occurrences": 1}]
    assert json.loads((tmp_path / "options.json").read_text())["case_sensitive"] is False


# ----------------------------------------------------------------- plugin


def test_registered_through_the_plugin_entry_point() -> None:
    registry = PluginHost().registry("tagger")
    assert registry.resolve("lexicon") == "lexicon.tagger.v1"
    assert registry.get("lexicon") is LexiconTagger
    assert registry.entry("lexicon").plugin == "lexicon"


# ------------------------------------------------------------------- data


def read_iob2(path: Path) -> list[Sentence]:
    return list(read(path, format="conll", scheme="IOB2").sentences)


@pytest.mark.skipif(
    not has_shared_data("wnut17"),
    reason=f"WNUT-17 not found under {SHARED_DATA}; set NERKIT_DATA_DIR",
)
def test_wnut17_scores_like_a_baseline() -> None:
    folder = SHARED_DATA / "wnut17"
    train = read_iob2(folder / "wnut17train.conll")
    test = read_iob2(folder / "emerging.test.annotated")
    assert len(train) == 3394 and len(test) == 1287  # the counts in SOURCE.txt
    gold = [s.tags for s in test]

    exact = LexiconTagger()
    exact.fit(train, scheme="IOB2")
    # WNUT-17 is about emerging entities: its test text holds no training entity's exact
    # surface form, so the case-sensitive baseline finds nothing at all
    assert entity_score(gold, [p.tags for p in exact.predict(test)], "IOB2").predicted == 0

    folded = LexiconTagger({"case_sensitive": False})
    folded.fit(train, scheme="IOB2")
    score = entity_score(gold, [p.tags for p in folded.predict(test)], "IOB2")
    # ... while case-folded forms find a few of them, far from all
    assert 0.0 < score.f1 < 0.5
    assert score.correct >= 10
