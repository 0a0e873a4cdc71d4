"""Entity extraction over whole batches: tag-pair tables, chunk starts and ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nerkit.errors import InputError
from nerkit.metrics.encoding import (
    TagSequences,
    Vocabulary,
    check_same_shape,
    lengths_of,
    resolve,
    tag_ids,
)
from nerkit.schemes import OUTSIDE, Scheme, check_tag, split_tag
from nerkit.types import Span

# Role codes of the conlleval roles; ``O`` is 0 so that "no tag" reads as outside.
_O, _B, _I, _E, _S = range(5)
_ROLE_CODES = {OUTSIDE: _O, "B": _B, "I": _I, "E": _E, "S": _S}

# Bits of the transition table, indexed by (earlier tag, later tag) of two neighbours.
_ENDS = np.uint8(1)  # a chunk ends at the earlier token
_STARTS = np.uint8(2)  # a chunk starts at the later token
_BREAKS_EARLIER = np.uint8(4)  # the earlier token lacks the successor it needs
_BREAKS_LATER = np.uint8(8)  # the later token lacks the predecessor it needs
_EARLIER_BITS = _ENDS | _BREAKS_EARLIER
_LATER_BITS = _STARTS | _BREAKS_LATER


@dataclass(frozen=True, slots=True)
class EntityArrays:
    """The entities of a batch as parallel arrays, ordered by sentence then start.

    ``start`` / ``end`` are token offsets inside the sentence (``end`` exclusive);
    ``label`` indexes ``labels``; ``flat_start`` is the start counted over the whole
    batch (unique, increasing), which makes matching two batches a sorted search.
    """

    sentence: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    flat_start: np.ndarray
    labels: tuple[str, ...]
    n_sentences: int

    def __len__(self) -> int:
        return int(self.sentence.size)

    def to_spans(self) -> list[list[Span]]:
        """One list of ``Span`` per sentence (empty sentences included)."""
        out: list[list[Span]] = [[] for _ in range(self.n_sentences)]
        names = self.labels
        for sent, start, end, label in zip(
            self.sentence.tolist(),
            self.start.tolist(),
            self.end.tolist(),
            self.label.tolist(),
            strict=True,
        ):
            out[sent].append(Span(start, end, names[label]))
        return out


# ------------------------------------------------------------------ tables


@dataclass(frozen=True, slots=True)
class _Tables:
    """What the engine needs to know about each distinct tag of a batch."""

    labels: tuple[str, ...]  # entity types, sorted by name (seqeval's report order)
    type_of: np.ndarray  # tag id -> index into labels, -1 for O
    transitions: np.ndarray  # bits of (earlier tag, later tag), flattened: id * size + id
    size: int  # number of distinct tags


def _tables(vocab: Sequence[str], scheme: Scheme) -> _Tables:
    """The transition table of ``scheme`` over the tags of ``vocab`` (index = tag id)."""
    for tag in vocab:
        # Unknown prefixes have no role, and lenient chunks would stop alternating
        # start / end; refuse them up front (one check per distinct tag).
        check_tag(tag, scheme)
    prefixes, types = zip(*map(split_tag, vocab), strict=True)
    labels = tuple(sorted(set(types) - {""}))
    index = {label: i for i, label in enumerate(labels)}
    type_of = np.array([index.get(t, -1) for t in types], dtype=np.int32)
    role = np.array(
        [_ROLE_CODES[p if p == OUTSIDE else scheme.roles[p]] for p in prefixes], dtype=np.int8
    )

    # Prefix-level tables (prefix code 0 is O), broadcast to tag pairs below.
    prefix_codes = {p: i for i, p in enumerate(OUTSIDE + scheme.prefixes)}
    pcode = np.array([prefix_codes[p] for p in prefixes], dtype=np.intp)
    n_prefix = len(prefix_codes)
    allowed_before = np.zeros((n_prefix, n_prefix), dtype=bool)  # [previous, current]
    allowed_after = np.zeros((n_prefix, n_prefix), dtype=bool)  # [current, next]
    needs_before = np.zeros(n_prefix, dtype=bool)
    needs_after = np.zeros(n_prefix, dtype=bool)
    for cur, allowed in scheme.must_follow.items():
        needs_before[prefix_codes[cur]] = True
        for p in allowed:
            allowed_before[prefix_codes[p], prefix_codes[cur]] = True
    for cur, allowed in scheme.must_precede.items():
        needs_after[prefix_codes[cur]] = True
        for p in allowed:
            allowed_after[prefix_codes[cur], prefix_codes[p]] = True

    # Axis 0 is the earlier token of the pair, axis 1 the later one.
    r0, r1 = role[:, None], role[None, :]
    t0, t1 = type_of[:, None], type_of[None, :]
    p0, p1 = pcode[:, None], pcode[None, :]
    type_changes = t0 != t1
    same_type_entity = ~type_changes & (t0 >= 0)  # both non-O of one type

    # schemes.spans_lenient, read as a function of (earlier, later) tags.
    starts = (r1 != _O) & (
        (r1 == _B)
        | (r1 == _S)
        | (((r0 == _E) | (r0 == _S) | (r0 == _O)) & ((r1 == _I) | (r1 == _E)))
        | type_changes
    )
    ends = (r0 != _O) & (
        (r0 == _E) | (r0 == _S) | (r1 == _B) | (r1 == _S) | (r1 == _O) | type_changes
    )
    # schemes.broken_tokens: the later token lacks its required predecessor, or the
    # earlier token lacks its required successor.
    broken_later = needs_before[p1] & ~(same_type_entity & allowed_before[p0, p1])
    broken_earlier = needs_after[p0] & ~(same_type_entity & allowed_after[p0, p1])

    transitions = (
        ends * _ENDS
        | starts * _STARTS
        | broken_earlier * _BREAKS_EARLIER
        | broken_later * _BREAKS_LATER
    ).astype(np.uint8)
    return _Tables(labels, type_of, transitions.ravel(), len(vocab))


# -------------------------------------------------------------- extraction


def _chunks(
    ids: np.ndarray, lengths: np.ndarray, tables: _Tables, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    """Flat start and exclusive end of every chunk, sentence edges read as ``O``."""
    n = ids.size
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    k = tables.size
    # Transition t lies between tokens t - 1 and t; transitions 0 and n face the batch
    # edges, (O, first tag) and (last tag, O), with O's id 0. One ``take`` reads the
    # table for the whole batch (and two more for the sentence edges).
    pair = np.empty(n + 1, dtype=np.int32)
    np.multiply(ids[:-1], np.int32(k), out=pair[1:n])
    np.add(pair[1:n], ids[1:], out=pair[1:n])
    pair[0], pair[n] = ids[0], int(ids[-1]) * k
    bits = tables.transitions.take(pair)
    # Inside the batch a sentence edge is two transitions in one: (last tag, O) for
    # the earlier token and (O, first tag) for the later one.
    ends_at = np.cumsum(lengths)
    edges = ends_at[(ends_at > 0) & (ends_at < n)]
    if edges.size:
        bits[edges] = tables.transitions.take(ids[edges - 1].astype(np.int32) * k) & _EARLIER_BITS
        bits[edges] |= tables.transitions.take(ids[edges]) & _LATER_BITS

    # Every token that is not O is in exactly one chunk, so starts and ends alternate.
    start = np.flatnonzero(bits & _STARTS)
    end = np.flatnonzero(bits & _ENDS)
    if mode == "strict" and (bits & (_BREAKS_EARLIER | _BREAKS_LATER)).any():
        broken = ((bits[:-1] & _BREAKS_LATER) | (bits[1:] & _BREAKS_EARLIER)).astype(bool)
        # A chunk is kept when no broken token lies in [start, end).
        seen = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(broken, out=seen[1:])
        keep = seen[end] == seen[start]
        start, end = start[keep], end[keep]
    return start, end


def _entity_arrays(
    start: np.ndarray, end: np.ndarray, ids: np.ndarray, lengths: np.ndarray, tables: _Tables
) -> EntityArrays:
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    # side="right" skips empty sentences that share the offset of the next one.
    sentence = np.searchsorted(offsets, start, side="right") - 1
    local = start - offsets[sentence]
    arrays = [sentence, local, local + (end - start), tables.type_of[ids[start]], start]
    for a in arrays:
        a.flags.writeable = False
    return EntityArrays(*arrays, labels=tables.labels, n_sentences=int(lengths.size))


def extract_entities(
    sequences: TagSequences, scheme: str | Scheme = "IOB2", mode: str = "lenient"
) -> EntityArrays:
    """The entities of a batch of tag sequences as arrays (see ``EntityArrays``)."""
    s = resolve(scheme, mode, sequences)
    lengths = lengths_of(sequences, "tags")
    vocab = Vocabulary({OUTSIDE: 0})
    ids = tag_ids(sequences, vocab, int(lengths.sum()))
    tables = _tables(list(vocab), s)
    return _entity_arrays(*_chunks(ids, lengths, tables, mode), ids, lengths, tables)


def extract_entity_pair(
    gold: TagSequences, pred: TagSequences, scheme: str | Scheme = "IOB2", mode: str = "lenient"
) -> tuple[EntityArrays, EntityArrays]:
    """Gold and predicted entities of one batch, sharing ``labels`` (same label ids)."""
    s = resolve(scheme, mode, gold)
    prepared = prepare_pair(gold, pred, s)
    return prepared.entities(mode)


def exact_matches(gold: EntityArrays, pred: EntityArrays) -> np.ndarray:
    """For each predicted entity, whether a gold entity has its sentence, start, end and
    type. Both must come from ``extract_entity_pair`` (shared labels and offsets)."""
    # Starts are unique within a batch (chunks are disjoint), so the only candidate is
    # the gold entity with the same flat start; no composite key that could overflow.
    if len(gold) == 0:
        return np.zeros(len(pred), dtype=bool)
    at = np.minimum(np.searchsorted(gold.flat_start, pred.flat_start), len(gold) - 1)
    return (
        (gold.flat_start[at] == pred.flat_start)
        & (gold.end[at] == pred.end)
        & (gold.label[at] == pred.label)
    )


def batch_spans(
    sequences: TagSequences, scheme: str | Scheme = "IOB2", mode: str = "lenient"
) -> list[list[Span]]:
    """``schemes.spans(tags, scheme, mode)`` for every sentence of a batch."""
    return extract_entities(sequences, scheme, mode).to_spans()


def sentence_spans(
    tags: Sequence[str], scheme: str | Scheme = "IOB2", mode: str = "lenient"
) -> list[Span]:
    """The engine's spans of one sentence; equal to ``schemes.spans(tags, scheme, mode)``."""
    return batch_spans([tags], scheme, mode)[0]


@dataclass(frozen=True, slots=True)
class PreparedPair:
    """Gold and predicted tag ids of one batch over one vocabulary, and its tables."""

    gold_ids: np.ndarray
    pred_ids: np.ndarray
    lengths: np.ndarray
    tables: _Tables

    def entities(self, mode: str) -> tuple[EntityArrays, EntityArrays]:
        gold, pred = (
            _entity_arrays(
                *_chunks(ids, self.lengths, self.tables, mode), ids, self.lengths, self.tables
            )
            for ids in (self.gold_ids, self.pred_ids)
        )
        return gold, pred


def prepare_pair(gold: TagSequences, pred: TagSequences, scheme: Scheme) -> PreparedPair:
    """Check that gold and predictions have the same shape, and encode both."""
    lengths = lengths_of(gold, "gold")
    check_same_shape(lengths, lengths_of(pred, "predicted"))
    n = int(lengths.sum())
    vocab = Vocabulary({OUTSIDE: 0})  # one vocabulary, so equal tags have equal ids
    gold_ids = tag_ids(gold, vocab, n)
    pred_ids = tag_ids(pred, vocab, n)
    return PreparedPair(gold_ids, pred_ids, lengths, _tables(list(vocab), scheme))


def prepare_ids(
    gold_ids: np.ndarray,
    pred_ids: np.ndarray,
    lengths: np.ndarray,
    vocab: Sequence[str],
    scheme: Scheme,
) -> PreparedPair:
    """A PreparedPair from tag ids over ``vocab`` (``vocab[0]`` must be ``O``), for
    readers that map tags to ids themselves (``nerkit.io.scan``)."""
    if not vocab or vocab[0] != OUTSIDE:
        raise ValueError("vocab[0] must be 'O'")
    if gold_ids.size != pred_ids.size or gold_ids.size != int(np.sum(lengths)):
        raise InputError(
            f"{gold_ids.size} gold and {pred_ids.size} predicted tags for {int(np.sum(lengths))} tokens"
        )
    return PreparedPair(
        gold_ids, pred_ids, np.asarray(lengths, dtype=np.int64), _tables(list(vocab), scheme)
    )


def invalid_transitions(ids: np.ndarray, lengths: np.ndarray, tables: _Tables) -> int:
    """How many transitions (sentence edges count as ``O``) break the scheme, as
    ``schemes.validate`` counts them, for a batch of tag ids."""
    n = ids.size
    if n == 0:
        return 0
    k = tables.size
    broken = _BREAKS_EARLIER | _BREAKS_LATER
    ends_at = np.cumsum(lengths)
    starts_at = ends_at - lengths
    nonempty = lengths > 0
    inside = np.ones(n, dtype=bool)  # transition t (t >= 1) joins tokens t-1 and t of one sentence
    inside[0] = False
    inside[starts_at[nonempty & (starts_at > 0)]] = False
    pos = np.flatnonzero(inside)
    count = int(
        np.count_nonzero(
            tables.transitions.take(ids[pos - 1].astype(np.int32) * k + ids[pos]) & broken
        )
    )
    first, last = ids[starts_at[nonempty]], ids[ends_at[nonempty] - 1]
    count += int(np.count_nonzero(tables.transitions.take(first.astype(np.int32)) & broken))
    count += int(np.count_nonzero(tables.transitions.take(last.astype(np.int32) * k) & broken))
    return count
