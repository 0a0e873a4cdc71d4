"""Decoders: turn a tagger's output into a tag sequence that is valid in a scheme.

Each returns a :class:`Decoded` with the new tags and how many tokens it changed, so a
run can report how much repair its predictions needed.

* ``conlleval``: keep every entity the lenient (conlleval) reading finds and re-encode
  it, e.g. IOB2 ``O I-PER`` becomes ``O B-PER``;
* ``discard``: keep only the entities the strict reading accepts; tokens of broken
  chunks become ``O``;
* ``viterbi``: from a probability matrix, the most probable tag sequence that is valid
  in the scheme (first-order constraints of :func:`nerkit.schemes.is_valid_transition`),
  for a sequence that is not valid; a valid one is kept as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nerkit import schemes
from nerkit.errors import NerkitError
from nerkit.interfaces import Decoder
from nerkit.types import Prediction

# Probabilities of exactly 0 would make a path impossible rather than unlikely; a
# valid sequence must always be reachable when one exists.
_FLOOR = 1e-30


@dataclass(frozen=True, slots=True)
class Decoded:
    tags: tuple[str, ...]
    changed: int


def _count_changes(old: Sequence[str], new: Sequence[str]) -> int:
    return sum(a != b for a, b in zip(old, new, strict=True))


def _check_tags(tags: Sequence[str], scheme: str | schemes.Scheme) -> schemes.Scheme:
    # span extraction reads any string as PREFIX-TYPE ("LOC" as prefix L, type C): a tag
    # outside the scheme would come out as a made-up entity instead of an error
    s = schemes.get_scheme(scheme)
    for tag in dict.fromkeys(tags):  # each distinct tag once, in order
        schemes.check_tag(tag, s)
    return s


def repair_conlleval(tags: Sequence[str], scheme: str | schemes.Scheme) -> Decoded:
    """Re-encode the entities of the lenient reading (what conlleval would score).

    A tag not of the scheme's form is a ``SchemeError``."""
    s = _check_tags(tags, scheme)
    new = schemes.encode(schemes.spans_lenient(tags, s), len(tags), s)
    return Decoded(tuple(new), _count_changes(tags, new))


def repair_discard(tags: Sequence[str], scheme: str | schemes.Scheme) -> Decoded:
    """Drop entities whose chunk breaks the scheme (what strict scoring would count).

    A tag not of the scheme's form is a ``SchemeError``."""
    s = _check_tags(tags, scheme)
    new = schemes.encode(schemes.spans_strict(tags, s), len(tags), s)
    return Decoded(tuple(new), _count_changes(tags, new))


def transition_mask(
    labels: Sequence[str], scheme: str | schemes.Scheme
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allowed (start[j], transition[i, j], end[i]) over ``labels`` in ``scheme``."""
    s = schemes.get_scheme(scheme)
    for label in labels:
        schemes.check_tag(label, s)
    valid = schemes.is_valid_transition
    start = np.array([valid(schemes.OUTSIDE, b, s) for b in labels], dtype=bool)
    end = np.array([valid(a, schemes.OUTSIDE, s) for a in labels], dtype=bool)
    trans = np.array([[valid(a, b, s) for b in labels] for a in labels], dtype=bool)
    return start, trans, end


def viterbi(prediction: Prediction, scheme: str | schemes.Scheme) -> Decoded:
    """Most probable tag sequence valid in ``scheme`` under the per-token probabilities,
    in place of a sequence that is not valid. A valid sequence is kept: decoding repairs,
    and a tagger's own valid path (a CRF's, whose per-token distributions need not peak
    at the tags of its best path) is no error to repair."""
    labels = prediction.labels
    n = len(prediction.tags)
    # an empty sentence has nothing to decode: taggers may give it no matrix at all
    if n == 0:
        return Decoded((), 0)
    if prediction.probabilities is None:
        raise NerkitError(
            "the viterbi decoder needs a probability matrix, and this prediction has none "
            "(use the conlleval or discard decoder)"
        )
    if not labels:
        raise NerkitError(
            f"the viterbi decoder got a probability matrix without labels (columns) for {n} tokens"
        )
    start, trans, end = transition_mask(labels, scheme)
    probabilities = np.asarray(prediction.probabilities, dtype=np.float64)
    # NaN would otherwise make every path "impossible" and be blamed on the scheme
    bad = ~np.isfinite(probabilities)
    if bad.any():
        token, column = (int(i) for i in np.argwhere(bad)[0])
        raise NerkitError(
            f"the viterbi decoder got non-finite probabilities ({int(bad.sum())} of them; "
            f"the first is {probabilities[token, column]} for {labels[column]!r} at token {token})"
        )
    if not schemes.validate(prediction.tags, scheme):
        return Decoded(tuple(prediction.tags), 0)
    logp = np.log(np.clip(probabilities, _FLOOR, None))
    trans_pen = np.where(trans, 0.0, -np.inf)
    score = np.where(start, logp[0], -np.inf)
    back = np.zeros((n, len(labels)), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + trans_pen
        back[t] = np.argmax(cand, axis=0)
        score = cand[back[t], np.arange(len(labels))] + logp[t]
    score = np.where(end, score, -np.inf)
    best = int(np.argmax(score))
    if not np.isfinite(score[best]):
        raise NerkitError(
            f"no tag sequence is valid in {schemes.get_scheme(scheme).name} over labels {list(labels)}"
        )
    path = [best]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    new = tuple(labels[i] for i in reversed(path))
    return Decoded(new, _count_changes(prediction.tags, new))


# ------------------------------------------------------------ as components


class _RepairDecoder(Decoder):
    repair = staticmethod(repair_conlleval)

    def decode(self, prediction: Prediction, scheme: str) -> tuple[tuple[str, ...], int]:
        out = self.repair(prediction.tags, scheme)
        return out.tags, out.changed


class ConllevalDecoder(_RepairDecoder):
    """Repair invalid tag sequences as conlleval reads them (keep lenient entities)."""

    repair = staticmethod(repair_conlleval)


class DiscardDecoder(_RepairDecoder):
    """Repair invalid tag sequences by dropping broken entities (as strict scoring does)."""

    repair = staticmethod(repair_discard)


class ViterbiDecoder(Decoder):
    """The most probable valid sequence under the tagger's probabilities (taggers
    that give no probability matrix are an error: use conlleval or discard)."""

    needs_probabilities = True

    def decode(self, prediction: Prediction, scheme: str) -> tuple[tuple[str, ...], int]:
        out = viterbi(prediction, scheme)
        return out.tags, out.changed


class NoDecoder(Decoder):
    """Keep the tagger's tags as they are."""

    def decode(self, prediction: Prediction, scheme: str) -> tuple[tuple[str, ...], int]:
        return prediction.tags, 0
