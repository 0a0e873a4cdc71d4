"""From lists of string tags to flat arrays of tag ids, and input checks."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from nerkit.errors import InputError, SchemeError
from nerkit.schemes import Scheme, get_scheme, infer_scheme

TagSequences = Sequence[Sequence[str]]
MODES = ("lenient", "strict")


class Vocabulary(dict[str, int]):
    """Tag -> id, giving each unseen tag the next id: one pass over the tokens, in C.

    (Measured on 1M tokens: 33 ms, against 47 ms for ``dict.fromkeys`` then a look-up
    pass and 350-400 ms for ``np.unique(..., return_inverse=True)``, which sorts strings.)
    """

    def __missing__(self, tag: str) -> int:
        index = self[tag] = len(self)
        return index


def lengths_of(sequences: TagSequences, what: str) -> np.ndarray:
    """Tags per sentence; refuses a flat list of tags (a common slip)."""
    if isinstance(sequences, str) or (len(sequences) and isinstance(sequences[0], str)):
        raise InputError(f"{what} must be a list of sentences, each a list of tags")
    return np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))


def tag_ids(sequences: TagSequences, vocab: Vocabulary, n_tokens: int) -> np.ndarray:
    """The flat batch as tag ids, extending ``vocab`` with unseen tags.

    ``uint8`` while there are at most 256 distinct tags: ``bytearray`` fills from an
    iterator of small ints about 30% faster than ``np.fromiter`` (20 vs 29 ms a
    million tokens), and this pass is most of the engine's time.
    """
    ids = map(vocab.__getitem__, chain.from_iterable(sequences))
    try:
        return np.frombuffer(bytearray(ids), dtype=np.uint8)
    except ValueError:  # an id past 255: start again with wider ids
        ids = map(vocab.__getitem__, chain.from_iterable(sequences))
        return np.fromiter(ids, dtype=np.int32, count=n_tokens)


def check_same_shape(gold_lengths: np.ndarray, pred_lengths: np.ndarray) -> None:
    """Raise InputError at the first sentence where gold and predictions differ."""
    n_gold, n_pred = gold_lengths.size, pred_lengths.size
    common = min(n_gold, n_pred)
    differ = np.flatnonzero(gold_lengths[:common] != pred_lengths[:common])
    counts = f"gold has {n_gold} sentences but predicted has {n_pred}"
    if differ.size:
        i = int(differ[0])
        raise InputError(
            f"gold and predicted tags differ in length at sentence {i}: "
            f"{gold_lengths[i]} gold tags, {pred_lengths[i]} predicted tags"
            + (f" ({counts})" if n_gold != n_pred else "")
        )
    if n_gold != n_pred:
        raise InputError(f"{counts} (sentence {common} is the first one missing)")


def resolve(scheme: str | Scheme, mode: str, gold: TagSequences) -> Scheme:
    """Check ``mode`` and look the scheme up (``"auto"``: inferred from gold)."""
    if mode not in MODES:
        raise SchemeError(f"unknown span mode {mode!r} (known: {', '.join(MODES)})")
    if isinstance(scheme, str) and scheme.lower() == "auto":
        return infer_scheme(gold)
    return get_scheme(scheme)
