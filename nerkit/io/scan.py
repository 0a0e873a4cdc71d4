"""A fast path for the tag columns of plain CoNLL files, for ``nerkit eval``.

``nerkit.io.read`` builds a ``Sentence`` per sentence and a string per token: right for
everything else, but about 0.7 s a million tokens. Scoring needs only tag ids and
sentence lengths, which numpy finds in whole-file passes over the bytes.

The scan handles the common case and gives up (returns ``None``) on anything unusual:
a byte-order mark, carriage returns, ``-DOCSTART-``, form feeds and other rare
whitespace, invalid UTF-8, a line short of a column, an empty field, a trailing tab
or space. The caller then uses ``nerkit.io.read``, which reads such files correctly or
reports the file, line and problem; so the fast path never decides what is an error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_TAB, _SPACE, _NL = 9, 32, 10
# bytes that Python's str.isspace() accepts and the scan does not handle
_RARE_SPACE = bytes([11, 12, 13, 28, 29, 30, 31])
_SLOT_BITS = (13, 16, 20)  # slot-table sizes (powers of two) tried in turn
_MAX_TAG_BYTES = 64


@dataclass(frozen=True)
class ScannedColumns:
    """Tag columns of one file as ids over ``vocab``, with the sentence lengths.

    ``token_words`` / ``token_lengths`` hold the token column's bytes as 8-byte words
    (see ``_word_columns``), for checking that two files hold the same tokens without
    making a string per token.
    """

    path: Path
    vocab: tuple[str, ...]
    ids: dict[int, np.ndarray]
    lengths: np.ndarray
    token_words: tuple[np.ndarray, ...]
    token_lengths: np.ndarray

    def same_tokens(self, other: ScannedColumns) -> bool:
        return (
            np.array_equal(self.lengths, other.lengths)
            and np.array_equal(self.token_lengths, other.token_lengths)
            and len(self.token_words) == len(other.token_words)
            and all(
                np.array_equal(a, b)
                for a, b in zip(self.token_words, other.token_words, strict=True)
            )
        )


def scan_columns(
    path: str | Path, tag_cols: Sequence[int], token_col: int = 0
) -> ScannedColumns | None:
    """Tag ids of columns ``tag_cols`` (negative: from the end) of a CoNLL file, or
    ``None`` when the file needs the full reader."""
    path = Path(path)
    tag_cols = list(dict.fromkeys(tag_cols))  # a column named twice is read once
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            # 8 spare bytes: every byte of the file can start an 8-byte word (see _words)
            data = bytearray(size + 8)
            if fh.readinto(memoryview(data)[:size]) != size:
                return None
    except OSError:
        return None
    head = bytes(data[:3])
    if (
        size == 0
        or head == b"\xef\xbb\xbf"
        or data.find(b"-DOCSTART-", 0, size) >= 0
        or any(data.find(b, 0, size) >= 0 for b in _RARE_SPACE)
    ):
        return None
    if not _valid_utf8(np.frombuffer(data, dtype=np.uint8, count=size)):
        return None
    for bits in _SLOT_BITS:
        try:
            return _scan(path, data, size, tag_cols, token_col, bits)
        except _Collision:
            continue
    return None


def _valid_utf8(arr: np.ndarray) -> bool:
    """Whether the bytes ``arr`` are well-formed UTF-8 (the Unicode standard's table
    3-7), checked on the non-ASCII bytes only, without decoding them."""
    high = np.flatnonzero(arr >= 0x80)
    if high.size == 0:
        return True
    b = arr[high]
    cont = (b & 0xC0) == 0x80
    need = np.select(
        [(b >= 0xC2) & (b <= 0xDF), (b & 0xF0) == 0xE0, (b >= 0xF0) & (b <= 0xF4)], [1, 2, 3], 0
    )
    leads = np.flatnonzero(~cont)
    if np.any(need[leads] == 0) or np.count_nonzero(cont) != int(need.sum()):
        return False  # C0, C1, F5..FF, or a continuation byte without its lead
    for k in (1, 2, 3):
        sel = leads[need[leads] >= k]
        follow = sel + k
        if np.any(follow >= high.size):
            return False
        if not (np.all(high[follow] == high[sel] + k) and np.all(cont[follow])):
            return False
    # second-byte limits: no overlong forms, no surrogates, nothing past U+10FFFF
    second = b[np.minimum(leads + 1, b.size - 1)]
    lead = b[leads]
    bad = ((lead == 0xE0) & (second < 0xA0)) | ((lead == 0xED) & (second > 0x9F))
    bad |= ((lead == 0xF0) & (second < 0x90)) | ((lead == 0xF4) & (second > 0x8F))
    return not bool(np.any(bad))


class _Collision(Exception):
    """Two different strings met in one slot: scan again with a bigger table."""


_CHUNK = 1 << 20  # bytes a pass works on: small arrays stay in cache and are reused


def _scan(
    path: Path, data: bytearray, size: int, tag_cols: Sequence[int], token_col: int, bits: int
) -> ScannedColumns | None:
    # Memory touched for the first time costs more than the arithmetic here (about 2 ms
    # a megabyte on a virtual machine), so outputs are allocated once, at their final
    # size, and filled chunk by chunk; per-chunk temporaries stay small and are reused.
    arr = np.frombuffer(data, dtype=np.uint8, count=size)
    words8 = _words(data, size)
    vocabs = {col: _SlotVocab(bits) for col in tag_cols}
    most = size + 1  # lines, at most: np.empty touches no page until it is written
    blank_all = np.empty(most, dtype=bool)
    slots_all = {col: np.empty(most, dtype=np.int32) for col in tag_cols}
    token_len = np.empty(most, dtype=np.int32)
    first_words = np.empty(most, dtype=np.uint64)
    more_words: list[list[np.ndarray]] = []
    sep = None
    n_lines = n_tokens = 0
    begin = 0
    while begin < size:
        stop = min(begin + _CHUNK, size)
        if stop < size:
            cut = data.rfind(b"\n", begin, stop)
            stop = cut + 1 if cut >= begin else data.find(b"\n", stop, size) + 1 or size
        chunk = arr[begin:stop]
        newlines = np.flatnonzero(chunk == _NL)
        start = np.concatenate(([0], newlines + 1))
        end = np.concatenate((newlines, [chunk.size]))
        if start[-1] == end[-1]:  # the chunk ends with a newline
            start, end = start[:-1], end[:-1]
        blank = _blank_lines(data, chunk, begin, start, end)
        if blank is None:
            return None
        blank_all[n_lines : n_lines + blank.size] = blank
        n_lines += blank.size
        s, e = start[~blank], end[~blank]
        if s.size:
            if sep is None:
                sep = _TAB if _TAB in chunk[s[0] : e[0]] else _SPACE
            fields = _fields(chunk, s, e, sep, {token_col, *tag_cols})
            if fields is None:
                return None
            rows = slice(n_tokens, n_tokens + s.size)
            for col in tag_cols:
                left, right = fields[col]
                slots = vocabs[col].add(data, words8, left + begin, right + begin)
                if slots is None:
                    return None
                slots_all[col][rows] = slots
            t_left, t_right = fields[token_col]
            token_len[rows] = t_right - t_left
            words = _word_columns(words8, t_left + begin, t_right - t_left, size)
            first_words[rows] = words[0]
            more_words.append(words[1:])
            n_tokens += s.size
        begin = stop
    if sep is None:
        return None
    blank = blank_all[:n_lines]
    # tokens per sentence: token lines between blank lines
    tokens_before = np.concatenate(([0], np.cumsum(~blank)))
    cuts = np.concatenate(([0], np.flatnonzero(blank), [blank.size]))
    counts = tokens_before[cuts[1:]] - tokens_before[cuts[:-1]]
    index: dict[str, int] = {}
    ids = {}
    for col in tag_cols:
        table = np.zeros(1 << bits, dtype=np.int32)
        for slot, tag in vocabs[col].tags(data).items():
            table[slot] = index.setdefault(tag, len(index))
        ids[col] = np.take(
            table, slots_all[col][:n_tokens], out=slots_all[col][:n_tokens], mode="clip"
        )
    words = [
        first_words[:n_tokens],
        *(np.concatenate(c) for c in zip(*_pad_words(more_words), strict=True)),
    ]
    return ScannedColumns(
        path,
        tuple(index),
        ids,
        counts[counts > 0].astype(np.int64),
        tuple(words),
        token_len[:n_tokens],
    )


def _word_columns(
    words8: np.ndarray, left: np.ndarray, length: np.ndarray, size: int
) -> list[np.ndarray]:
    """The bytes of strings ``[left, left + length)`` as masked 8-byte words: word k of
    every string longer than 8k bytes, in row order. Equal lengths and equal words
    mean equal bytes, with no array the size of the text."""
    out = [words8[left] & _MASKS[np.minimum(length, 8)]]
    rows = np.flatnonzero(length > 8)
    k = 1
    while rows.size:
        at, n = left[rows], length[rows]
        out.append(words8[at + 8 * k] & _MASKS[np.minimum(n - 8 * k, 8)])
        k += 1
        rows = rows[n > 8 * k]
    return out


def _pad_words(parts: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Give every chunk's word list the same number of columns (empty ones)."""
    most = max((len(p) for p in parts), default=0)
    empty = np.zeros(0, dtype=np.uint64)
    return [p + [empty] * (most - len(p)) for p in parts]


def _words(data: bytearray, size: int) -> np.ndarray:
    """The little-endian 8-byte word starting at every byte (an unaligned view; ``data``
    has 8 spare zero bytes after ``size``)."""
    return np.ndarray((size + 1,), dtype="<u8", buffer=data, strides=(1,))


def _blank_lines(
    data: bytearray, chunk: np.ndarray, offset: int, start: np.ndarray, end: np.ndarray
) -> np.ndarray | None:
    """Whitespace-only lines (sentence breaks); ``None`` for a line with leading spaces
    and content, which the full reader must judge."""
    empty = start == end
    first_byte = chunk[np.minimum(start, chunk.size - 1)]
    candidates = np.flatnonzero(~empty & ((first_byte == _TAB) | (first_byte == _SPACE)))
    blank = empty.copy()
    for i in candidates.tolist():  # few: WNUT-17 has 2,394 lines of a lone tab
        if data[offset + start[i] : offset + end[i]].strip(b" \t"):
            return None
        blank[i] = True
    return blank


def _fields(
    chunk: np.ndarray, s: np.ndarray, e: np.ndarray, sep: int, cols: set[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]] | None:
    """[start, end) of each column in ``cols`` on every token line; ``None`` if the lines
    do not all have the same two or more columns, a field is empty, or a line ends with
    a tab or a space (the full reader judges)."""
    last_byte = chunk[e - 1]
    if np.any((last_byte == _TAB) | (last_byte == _SPACE)):
        return None
    seps = np.flatnonzero(chunk == sep)
    if seps.size == s.size and np.all(seps > s) and np.all(seps < e):
        # the usual two-column file: the i-th separator is on the i-th token line
        if cols <= {0, 1, -1, -2}:
            first, second = (s, seps), (seps + 1, e)
            return {col: first if col in (0, -2) else second for col in cols}
        before = np.arange(s.size)
        n_sep = np.ones(s.size, dtype=np.int64)
    else:
        before = np.searchsorted(seps, s)  # index of the line's first separator
        n_sep = np.searchsorted(seps, e) - before
        if n_sep.size and (n_sep[0] < 1 or np.any(n_sep != n_sep[0])):
            return None  # a line short of a column, or ragged columns: the full reader judges
    last = seps.size - 1
    out = {}
    for col in cols:
        c = np.full(s.size, col, dtype=np.int64) if col >= 0 else n_sep + 1 + col
        if np.any(c < 0) or np.any(c > n_sep):
            return None
        left = np.where(c == 0, s, seps[np.clip(before + c - 1, 0, last)] + 1)
        right = np.where(c == n_sep, e, seps[np.clip(before + c, 0, last)])
        if np.any(right <= left):
            return None
        out[col] = (left, right)
    return out


_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class _SlotVocab:
    """Distinct byte strings of one column, in a table of ``2**bits`` slots.

    A string of up to 8 bytes is its own key: its bytes read as one little-endian word
    (tags hold no NUL byte, so the word tells the string). A longer one (``B-creative-
    work``) is rarer; its key mixes all its words, and its words are checked against
    the first string seen in its slot. Every row is checked against its slot, so a
    collision is detected (and a bigger table tried), never miscounted.
    """

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.key = np.zeros(1 << bits, dtype=np.uint64)
        self.length = np.zeros(1 << bits, dtype=np.int64)  # 0: slot unused
        self.where: dict[int, int] = {}  # slot -> byte offset of its first string
        self.long_words: dict[int, np.ndarray] = {}

    def add(
        self, data: bytearray, words8: np.ndarray, left: np.ndarray, right: np.ndarray
    ) -> np.ndarray | None:
        length = right - left
        if int(length.max()) > _MAX_TAG_BYTES:
            return None
        key = words8[left] & _MASKS[np.minimum(length, 8)]
        long_rows = np.flatnonzero(length > 8)
        words = None
        if long_rows.size:
            l_left, l_len = left[long_rows], length[long_rows]
            n_words = (_MAX_TAG_BYTES + 7) // 8
            words = np.zeros((long_rows.size, n_words), dtype=np.uint64)
            words[:, 0] = key[long_rows]
            mixed = key[long_rows] ^ l_len.astype(np.uint64)
            for k in range(1, (int(l_len.max()) + 7) // 8):
                word = (
                    words8[np.minimum(l_left + 8 * k, words8.size - 1)]
                    & _MASKS[np.clip(l_len - 8 * k, 0, 8)]
                )
                words[:, k] = word
                with np.errstate(over="ignore"):
                    mixed = (mixed ^ word) * _GOLDEN
            key[long_rows] = mixed
        with np.errstate(over="ignore"):
            slot = ((key * _GOLDEN) >> np.uint64(64 - self.bits)).astype(np.intp)
        fresh = np.flatnonzero(self.length[slot] == 0)
        if fresh.size:
            # claim each new slot for one of its rows (any will do: all are checked next)
            self.key[slot[fresh]] = key[fresh]
            self.length[slot[fresh]] = length[fresh]
            for row in np.unique(slot[fresh], return_index=True)[1]:
                self.where[int(slot[fresh[row]])] = int(left[fresh[row]])
                if length[fresh[row]] > 8 and words is not None:
                    at = int(np.searchsorted(long_rows, fresh[row]))
                    self.long_words[int(slot[fresh[row]])] = words[at].copy()
        if not (np.array_equal(self.key[slot], key) and np.array_equal(self.length[slot], length)):
            raise _Collision
        if words is not None:
            l_slots = slot[long_rows]
            uniq, inverse = np.unique(l_slots, return_inverse=True)
            stored = np.stack([self.long_words[x] for x in uniq.tolist()])
            if not np.array_equal(words, stored[inverse]):
                raise _Collision
        return slot

    def tags(self, data: bytearray) -> dict[int, str]:
        return {
            slot: data[at : at + int(self.length[slot])].decode("utf-8")
            for slot, at in self.where.items()
        }
