"""``nerkit eval``'s work: read gold and predictions, check they line up, score.

Plain CoNLL files take the numpy fast path (``nerkit.io.scan``) straight to tag ids;
everything else, and every file the fast path is unsure about, goes through
``nerkit.io.read``, which also produces the error messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nerkit import schemes
from nerkit.errors import InputError, SchemeError
from nerkit.metrics.encoding import Vocabulary, lengths_of, tag_ids
from nerkit.metrics.extraction import PreparedPair, invalid_transitions, prepare_ids, prepare_pair
from nerkit.metrics.scoring import Scores, score_prepared

if TYPE_CHECKING:
    from nerkit.decoders import Decoded

REPAIRS = ("none", "conlleval", "discard")


@dataclass
class EvalPair:
    """Gold and predicted tags of one evaluation, as ids (always) and strings (on demand)."""

    prepared: PreparedPair
    vocab: tuple[str, ...]
    scheme: schemes.Scheme
    gold_path: str
    pred_path: str
    tokens: list[tuple[str, ...]] | None = None
    _strings: dict[str, list[list[str]]] = field(default_factory=dict)

    def tags(self, which: str) -> list[list[str]]:
        """``"gold"`` or ``"pred"`` tags as lists of strings per sentence."""
        if which not in self._strings:
            ids = self.prepared.gold_ids if which == "gold" else self.prepared.pred_ids
            names = np.array(self.vocab, dtype=object)[ids]
            cuts = np.cumsum(self.prepared.lengths)[:-1]
            self._strings[which] = (
                [part.tolist() for part in np.split(names, cuts)]
                if ids.size
                else [[] for _ in self.prepared.lengths]
            )
        return self._strings[which]

    def invalid(self, which: str) -> int:
        ids = self.prepared.gold_ids if which == "gold" else self.prepared.pred_ids
        return invalid_transitions(ids, self.prepared.lengths, self.prepared.tables)


@dataclass(frozen=True)
class EvalResult:
    scores: Scores
    invalid_gold: int
    invalid_pred: int
    repair: str
    repaired_tokens: int
    repaired_tags: list[list[str]] | None = None


def load_pair(
    gold: str | Path,
    pred: str | Path | None,
    *,
    scheme: str = "IOB2",
    gold_col: int | None = None,
    pred_col: int | None = None,
    need_tokens: bool = False,
) -> EvalPair:
    """Gold and predictions from two files (same tokens) or two columns of one file."""
    gold = Path(gold)
    if pred is None and (gold_col is None or pred_col is None):
        raise InputError("give GOLD and PRED files, or one file with --gold-col and --pred-col")
    one_file = pred is None
    pred = gold if pred is None else Path(pred)
    if scheme.lower() != "auto" and not need_tokens:
        pair = _fast_pair(gold, pred, one_file, schemes.get_scheme(scheme), gold_col, pred_col)
        if pair is not None:
            return pair
    return _full_pair(gold, pred, one_file, scheme, gold_col, pred_col)


def _fast_pair(
    gold: Path,
    pred: Path,
    one_file: bool,
    scheme: schemes.Scheme,
    gold_col: int | None,
    pred_col: int | None,
) -> EvalPair | None:
    from nerkit.io import detect_format
    from nerkit.io.scan import scan_columns

    if detect_format(gold) != "conll" or detect_format(pred) != "conll":
        return None
    g_col = -1 if gold_col is None else gold_col
    p_col = -1 if pred_col is None else pred_col
    if one_file:
        scanned = scan_columns(gold, [g_col, p_col])
        if scanned is None:
            return None
        g_ids, p_ids, g_vocab, p_vocab = (
            scanned.ids[g_col],
            scanned.ids[p_col],
            scanned.vocab,
            scanned.vocab,
        )
        if p_ids is g_ids:  # one column named twice: the ids are remapped in place below
            p_ids = g_ids.copy()
        lengths = scanned.lengths
    else:
        g_scan, p_scan = _scan_both(gold, g_col, pred, p_col)
        if g_scan is None or p_scan is None or not g_scan.same_tokens(p_scan):
            return None  # the full reader says what differs, with file and position
        g_ids, p_ids, g_vocab, p_vocab = (
            g_scan.ids[g_col],
            p_scan.ids[p_col],
            g_scan.vocab,
            p_scan.vocab,
        )
        lengths = g_scan.lengths
    # one vocabulary with O as id 0, as the metric engine wants
    order = {schemes.OUTSIDE: 0}
    for tag in (*g_vocab, *p_vocab):
        order.setdefault(tag, len(order))
    try:
        for tag in order:
            schemes.check_tag(tag, scheme)
    except SchemeError:
        return None  # the full reader names the file and line
    for ids, vocab in ((g_ids, g_vocab), (p_ids, p_vocab)):
        np.take(np.array([order[t] for t in vocab], dtype=np.int32), ids, out=ids, mode="clip")
    prepared = prepare_ids(g_ids, p_ids, lengths, list(order), scheme)
    return EvalPair(prepared, tuple(order), scheme, str(gold), str(pred))


def _scan_both(gold: Path, g_col: int, pred: Path, p_col: int) -> tuple[Any, Any]:
    """Scan the two files at once: numpy leaves the interpreter lock while it works
    through the bytes, so the second core takes the second file."""
    import threading

    from nerkit.io.scan import scan_columns

    found: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: found.update(pred=scan_columns(pred, [p_col])))
    worker.start()
    g_scan = scan_columns(gold, [g_col])
    worker.join()
    return g_scan, found.get("pred")


def _full_pair(
    gold: Path, pred: Path, one_file: bool, scheme: str, gold_col: int | None, pred_col: int | None
) -> EvalPair:
    from nerkit.io import read

    def options(col: int | None) -> dict[str, int]:
        return {} if col is None else {"tag_col": col}

    g = read(gold, scheme=scheme, **options(gold_col))
    resolved = g.scheme
    p = read(pred, scheme=resolved, **options(pred_col))
    if not one_file:
        _check_aligned(g.sentences, p.sentences, str(gold), str(pred))
    gold_tags = [s.tags for s in g.sentences]
    pred_tags = [s.tags for s in p.sentences]
    s = schemes.get_scheme(resolved)
    lengths = lengths_of(gold_tags, "gold")
    vocab = Vocabulary({schemes.OUTSIDE: 0})
    n = int(lengths.sum())
    prepared = prepare_ids(
        tag_ids(gold_tags, vocab, n), tag_ids(pred_tags, vocab, n), lengths, list(vocab), s
    )
    pair = EvalPair(prepared, tuple(vocab), s, str(gold), str(pred))
    pair.tokens = [sent.tokens for sent in g.sentences]
    pair._strings = {"gold": [list(t) for t in gold_tags], "pred": [list(t) for t in pred_tags]}
    return pair


def _check_aligned(gold: Sequence, pred: Sequence, gold_path: str, pred_path: str) -> None:
    """Error at the first sentence / token where the prediction file leaves the gold one."""
    for i, (g, p) in enumerate(zip(gold, pred, strict=False), 1):
        if g.tokens == p.tokens:
            continue
        for j, (a, b) in enumerate(zip(g.tokens, p.tokens, strict=False), 1):
            if a != b:
                raise InputError(
                    f"sentence {i}, token {j}: {b!r} where {gold_path} has {a!r}", path=pred_path
                )
        raise InputError(
            f"sentence {i} has {len(p.tokens)} tokens where {gold_path} has {len(g.tokens)}",
            path=pred_path,
        )
    if len(gold) != len(pred):
        raise InputError(
            f"{len(pred)} sentences where {gold_path} has {len(gold)}"
            f" (sentence {min(len(gold), len(pred)) + 1} is the first one missing)",
            path=pred_path,
        )


def evaluate(pair: EvalPair, *, mode: str = "lenient", repair: str = "none") -> EvalResult:
    """Scores of ``pair``; ``repair`` first re-encodes invalid predicted sequences."""
    if repair not in REPAIRS:
        raise InputError(f"unknown repair {repair!r} (known: {', '.join(REPAIRS)})")
    invalid_gold, invalid_pred = pair.invalid("gold"), pair.invalid("pred")
    if repair == "none":
        return EvalResult(
            score_prepared(pair.prepared, pair.scheme, mode), invalid_gold, invalid_pred, repair, 0
        )
    fixed = repaired(pair.tags("pred"), pair.scheme, repair)
    prepared = prepare_pair(pair.tags("gold"), [f.tags for f in fixed], pair.scheme)
    return EvalResult(
        score_prepared(prepared, pair.scheme, mode),
        invalid_gold,
        invalid_pred,
        repair,
        sum(f.changed for f in fixed),
        [list(f.tags) for f in fixed],
    )


def repaired(tags: Sequence[Sequence[str]], scheme: schemes.Scheme, repair: str) -> list[Decoded]:
    """Each sentence's ``tags`` repaired by ``repair`` (``conlleval`` or ``discard``):
    the decoders' results, with the new ``tags`` and the number ``changed``."""
    from nerkit.decoders import repair_conlleval, repair_discard

    fix = repair_conlleval if repair == "conlleval" else repair_discard
    return [fix(list(t), scheme) for t in tags]
