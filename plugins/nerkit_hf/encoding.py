"""Words to subword windows and back, shared by the transformer plugins.

A sentence's words are tokenised one by one (cached per word), so every word maps to
its own subwords and nothing is ever cut off silently:

* a word the tokenizer turns into nothing (U+FE0F, U+200B, U+3000, control
  characters) is encoded as the tokenizer's unknown token, so it keeps a position and
  gets a tag like any other word. Such words carry no content, so they are counted in
  ``empty_words``, not in the [UNK] rate;
* a sentence longer than ``max_length`` subwords (special tokens included) is split
  into windows that overlap by up to ``stride`` subwords (at most half a window),
  cut between words. Each word belongs to the window where it is most central (ties:
  the earlier window): that window alone labels it in training and predicts it
  afterwards;
* a single word longer than a whole window keeps its first subwords only (its label
  and prediction sit on the first subword, so it is still tagged);
* a word that reads like one of the tokenizer's special tokens ("[SEP]", "<s>") is
  text, split into ordinary subwords: a separator or padding token inside a window
  would change what the encoder reads;
* a ``max_length`` beyond the positions the encoder has is lowered to them, with a
  warning (:func:`window_length`), as the Hugging Face example scripts do with
  ``max_seq_length``: the sentence is only cut into more windows.

Only this module knows about subwords; taggers see words and windows.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nerkit.errors import ConfigError
from nerkit.types import Sentence

IGNORE = -100
"""Label of positions that take no part in the loss (torch's ``ignore_index``)."""


@dataclass(frozen=True, slots=True)
class Window:
    """Up to ``max_length`` subwords of one sentence, special tokens included.

    ``first``/``end`` are the window's word range; ``starts[k]`` and ``stops[k]`` the
    half-open subword positions in ``input_ids`` of word ``first + k``; ``owned[k]``
    whether this window labels and predicts that word.
    """

    sentence: int
    input_ids: tuple[int, ...]
    first: int
    end: int
    starts: tuple[int, ...]
    stops: tuple[int, ...]
    owned: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.input_ids)

    def owned_words(self) -> list[tuple[int, int]]:
        """``(word index, position of its first subword)`` of the words it predicts."""
        return [(self.first + k, self.starts[k]) for k, own in enumerate(self.owned) if own]

    def labels(
        self, tag_ids: Sequence[int], continuation: Sequence[int] | None = None
    ) -> list[int]:
        """Training labels: the word's tag id on its first subword, ``IGNORE`` on the
        rest, or with ``continuation`` (tag id -> id of its I- form) on every subword."""
        out = [IGNORE] * len(self.input_ids)
        for k, own in enumerate(self.owned):
            if not own:
                continue
            tag = tag_ids[self.first + k]
            out[self.starts[k]] = tag
            if continuation is not None:
                for position in range(self.starts[k] + 1, self.stops[k]):
                    out[position] = continuation[tag]
        return out


def window_bounds(lengths: Sequence[int], budget: int, stride: int) -> list[tuple[int, int]]:
    """Word ranges ``[first, end)`` of windows of at most ``budget`` subwords (a word
    longer than ``budget`` counts as ``budget``), consecutive ones overlapping by at
    most ``stride`` subwords and always moving forward."""
    sizes = [min(n, budget) for n in lengths]
    bounds: list[tuple[int, int]] = []
    first = 0
    while first < len(sizes):
        end, used = first, 0
        while end < len(sizes) and used + sizes[end] <= budget:
            used += sizes[end]
            end += 1
        bounds.append((first, end))
        if end == len(sizes):
            break
        # the next window starts as far back as the overlap allows, but after `first`,
        # and leaves room for word `end` so that it reaches further than this one
        limit = min(stride, budget - sizes[end])
        start, overlap = end, 0
        while start - 1 > first and overlap + sizes[start - 1] <= limit:
            start -= 1
            overlap += sizes[start]
        first = start
    return bounds


def owners(bounds: Sequence[tuple[int, int]], n_words: int) -> list[int]:
    """For each word, the index of the window where it is most central."""
    best = [-1] * n_words
    score = [-1] * n_words
    for w, (first, end) in enumerate(bounds):
        for i in range(first, end):
            centrality = min(i - first, end - 1 - i)
            if centrality > score[i]:  # strict: ties stay with the earlier window
                best[i], score[i] = w, centrality
    return best


class SubwordEncoder:
    """Encodes sentences (word lists) for one tokenizer into :class:`Window` values."""

    def __init__(self, tokenizer: Any, max_length: int, stride: int) -> None:
        self.before, self.after = special_ids(tokenizer)
        budget = max_length - len(self.before) - len(self.after)
        if budget < 1:
            raise ConfigError(
                f"max_length {max_length} leaves no room for words next to "
                f"{len(self.before) + len(self.after)} special tokens"
            )
        if stride < 0:
            raise ConfigError(f"stride must be at least 0, got {stride}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        # an overlap above half a window would make windows advance by a few words
        self.stride = min(stride, budget // 2)
        self.budget = budget
        self.unk_id: int = tokenizer.unk_token_id
        self._cache: dict[str, tuple[int, ...]] = {}

    def clear_cache(self) -> None:
        """Forget cached subwords (after the vocabulary changed)."""
        self._cache.clear()

    def pieces(self, words: Iterable[str]) -> list[tuple[int, ...]]:
        """The tokenizer's own subword ids of each word (possibly empty)."""
        words = list(words)
        missing = list(dict.fromkeys(w for w in words if w not in self._cache))
        if missing:
            # text is never a special token: a word "[SEP]" must not end the window
            encoded = self.tokenizer(missing, add_special_tokens=False, split_special_tokens=True)
            self._cache.update(zip(missing, map(tuple, encoded["input_ids"]), strict=True))
        return [self._cache[w] for w in words]

    def encode(self, index: int, words: Sequence[str]) -> list[Window]:
        """The windows of sentence ``index``; none for a sentence without words."""
        if not words:
            return []
        # a word the tokenizer drops still needs a position to be tagged
        pieces = [p or (self.unk_id,) for p in self.pieces(words)]
        pieces = [p[: self.budget] for p in pieces]
        bounds = window_bounds([len(p) for p in pieces], self.budget, self.stride)
        owner = owners(bounds, len(words))
        windows = []
        for w, (first, end) in enumerate(bounds):
            body: list[int] = []
            starts, stops = [], []
            for p in pieces[first:end]:
                starts.append(len(body))
                body.extend(p)
                stops.append(len(body))
            ids = [*self.before, *body, *self.after]
            shift = len(self.before)
            windows.append(
                Window(
                    sentence=index,
                    input_ids=tuple(ids),
                    first=first,
                    end=end,
                    starts=tuple(s + shift for s in starts),
                    stops=tuple(s + shift for s in stops),
                    owned=tuple(owner[i] == w for i in range(first, end)),
                )
            )
        return windows

    def encode_all(self, sentences: Sequence[Sequence[str]]) -> list[Window]:
        return [w for i, words in enumerate(sentences) for w in self.encode(i, words)]


def position_limit(model: Any) -> int | None:
    """The most subwords (special tokens included) ``model`` can read at once: the size
    of its position embeddings, less the ones RoBERTa-style models never use (their
    positions start after the padding index); None when the config names no limit."""
    size = getattr(model.config, "max_position_embeddings", None)
    if not isinstance(size, int) or size <= 0:
        return None
    embeddings = getattr(getattr(model, "base_model", model), "embeddings", None)
    padding = getattr(embeddings, "padding_idx", None)
    if isinstance(padding, int) and hasattr(embeddings, "position_embeddings"):
        size -= padding + 1
    return size


def window_length(max_length: int, model: Any, component: str) -> int:
    """``max_length``, or the model's :func:`position_limit` with a warning naming
    ``component`` where ``max_length`` is larger: a longer window would crash the
    encoder, a shorter one only cuts long sentences into more windows."""
    limit = position_limit(model)
    if limit is None or max_length <= limit:
        return max_length
    warnings.warn(
        f"{component}: max_length {max_length} is more than the {limit} positions the "
        f"model can read; windows of at most {limit} subwords are used",
        UserWarning,
        stacklevel=3,
    )
    return limit


def special_ids(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The special tokens the tokenizer's own call puts before and after a sequence
    (``[CLS]`` and ``[SEP]`` for BERT). Read from a call rather than from
    ``build_inputs_with_special_tokens``: the generic ``PreTrainedTokenizerFast`` (the
    tokenizer of some models) adds its specials in the Rust post-processor, which that
    method does not know, and would give windows without them."""
    text = "a"
    plain = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(text, add_special_tokens=True)["input_ids"])
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return tuple(full[:start]), tuple(full[start + len(plain) :])
    raise ConfigError(
        f"cannot tell the special tokens of tokenizer {type(tokenizer).__name__}: "
        f"{text!r} is {plain} without them and {full} with them"
    )


@dataclass(frozen=True, slots=True)
class Coverage:
    """How well a vocabulary covers some words."""

    words: int
    unknown: int  # words whose subwords include the unknown token
    empty: int  # words the tokenizer turns into nothing (see the module docstring)

    @property
    def unk_rate(self) -> float:
        return self.unknown / self.words if self.words else 0.0


def coverage(encoder: SubwordEncoder, sentences: Iterable[Sequence[str]]) -> Coverage:
    words = [w for s in sentences for w in s]
    pieces = encoder.pieces(words)
    unknown = sum(encoder.unk_id in p for p in pieces)
    return Coverage(len(words), unknown, sum(not p for p in pieces))


#: share of words holding the unknown token above which a tagger warns
UNK_WARNING = 0.05


def record_coverage(
    component: str,
    encoder: SubwordEncoder,
    splits: Mapping[str, Sequence[Sentence]],
    stats: dict[str, Any],
    *,
    warn: bool = True,
    flag: str = "-T",
    extended: bool = False,
) -> None:
    """Per split, the [UNK] rate and the words without subwords into ``stats``
    (``unk_rate``, ``empty_words``); a warning naming ``component`` ("bert tagger")
    and the split where more than ``UNK_WARNING`` of the words hold the unknown token
    (``flag``: how the command line passes the component's options; ``extended``:
    the vocabulary was already extended with the training words)."""
    if extended:
        hint = "words unseen in training stay unknown; a model with a larger vocabulary reads them"
    else:
        hint = f"try {flag} extend_vocab=true or a model with a larger vocabulary"
    for split, sentences in splits.items():
        cover = coverage(encoder, (s.tokens for s in sentences))
        stats["unk_rate"][split] = cover.unk_rate
        stats["empty_words"][split] = cover.empty
        if warn and cover.unk_rate > UNK_WARNING:
            warnings.warn(
                f"{component}: {cover.unk_rate:.1%} of the {split} words contain the "
                f"tokenizer's unknown token {encoder.tokenizer.unk_token}; the model cannot "
                f"read them ({hint})",
                UserWarning,
                stacklevel=3,
            )


def unknown_pieces(tokenizer: Any, words: Iterable[str]) -> list[str]:
    """The pre-tokenized pieces of ``words`` that the vocabulary maps to the unknown
    token (what ``add_tokens`` must add for those words to be covered), in first-seen
    order."""
    backend = tokenizer.backend_tokenizer
    unk = tokenizer.unk_token_id
    found: dict[str, None] = {}
    for word in dict.fromkeys(words):
        text = backend.normalizer.normalize_str(word) if backend.normalizer else word
        pre = backend.pre_tokenizer
        parts = [p for p, _ in pre.pre_tokenize_str(text)] if pre else [text]
        for part in parts:
            if not part:
                continue
            ids = tokenizer(part, add_special_tokens=False, split_special_tokens=True)
            if unk in ids["input_ids"]:
                found.setdefault(part)
    return list(found)
