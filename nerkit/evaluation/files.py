"""``nerkit eval``'s work: read gold and predictions, check they line up, score.

Plain CoNLL files take the numpy fast path (``nerkit.io.scan``) straight to tag ids;
everything else, and every file the fast path is unsure about, goes through
``nerkit.io.read``, which also produces the error messages.

Nested entities: where gold or predictions hold spans of their own (JSON lines with
nested ``spans``, CoNLL read with an inner tag column), the entity scores count
every span, as a run's ``spans`` mode does (``nerkit.metrics.span_scores``): a
sentence's entities are its spans where it has them, else the ones its tags encode
(read in the scheme and mode asked for). Token accuracy and invalid transitions stay
those of the (outer) tags. A CoNLL file read by its last column (no column named) that
looks like `nerkit convert --nested` output is refused, since its outer entities would
go unscored; so is such a training file (``read_training``, for ``--errors --train``),
whose outer entities would count as unseen, and one without tags. Of a file whose
first token line has other than three columns, or whose first sentences rule it out
(predictions beside gold tags repeat gold entities), only the first block (64 KiB) is
read for it; others take the full reader, which decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nerkit import schemes
from nerkit.errors import ConfigError, InputError, SchemeError
from nerkit.metrics.encoding import Vocabulary, lengths_of, tag_ids
from nerkit.metrics.extraction import PreparedPair, invalid_transitions, prepare_ids, prepare_pair
from nerkit.metrics.scoring import Scores, score_prepared
from nerkit.types import Sentence, Span

if TYPE_CHECKING:
    from nerkit.decoders import Decoded
    from nerkit.io.common import ReadResult

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
    # Each sentence's own spans (empty where its tags say it all), for a side whose
    # file holds nested entities; None for a side without any.
    gold_spans: tuple[tuple[Span, ...], ...] | None = None
    pred_spans: tuple[tuple[Span, ...], ...] | None = None
    # Whether spans came from a CoNLL inner tag column: the reader builds them from the
    # two tag columns leniently, so they cannot be scored in strict mode.
    inner_columns: bool = False

    @property
    def nested(self) -> bool:
        """Whether gold or predictions hold spans of their own (nested entities)."""
        return self.gold_spans is not None or self.pred_spans is not None

    def spans_of(self, which: str) -> tuple[tuple[Span, ...], ...] | None:
        return self.gold_spans if which == "gold" else self.pred_spans

    def nested_sentences(self, which: str) -> int:
        """How many sentences of ``"gold"`` or ``"pred"`` hold spans of their own."""
        spans = self.spans_of(which)
        return sum(1 for s in spans if s) if spans is not None else 0

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
    """Scores of one evaluation. With nested entities (``pair.nested``) the entity
    scores are those of ``entities``, gold and predicted spans per sentence."""

    scores: Scores
    invalid_gold: int
    invalid_pred: int
    repair: str
    repaired_tokens: int
    repaired_tags: list[list[str]] | None = None
    entities: tuple[list[list[Span]], list[list[Span]]] | None = None


def load_pair(
    gold: str | Path,
    pred: str | Path | None,
    *,
    scheme: str = "IOB2",
    gold_col: int | None = None,
    pred_col: int | None = None,
    gold_inner_col: int | None = None,
    pred_inner_col: int | None = None,
    need_tokens: bool = False,
) -> EvalPair:
    """Gold and predictions from two files (same tokens) or two columns of one file.

    ``gold_inner_col`` / ``pred_inner_col`` name the inner tag column of a CoNLL file
    with nested entities (``nerkit convert --nested`` writes the outer tags in column
    -2, the inner ones in -1); they need ``gold_col`` / ``pred_col`` for the outer tags.
    Of two files, a CoNLL one given without its columns that looks like such a file is
    an error (with its line, and the options that read it).
    """
    gold = Path(gold)
    if pred is None and (gold_col is None or pred_col is None):
        raise InputError("give GOLD and PRED files, or one file with --gold-col and --pred-col")
    one_file = pred is None
    pred = gold if pred is None else Path(pred)
    for which, path, col, inner in (
        ("gold", gold, gold_col, gold_inner_col),
        ("pred", pred, pred_col, pred_inner_col),
    ):
        _check_inner_col(which, path, col, inner)
    from nerkit.io.conll import may_hide_outer_column

    fast = scheme.lower() != "auto" and not need_tokens and gold_inner_col is pred_inner_col is None
    # A file that may be nested output read by its last column (a look at its start)
    # takes the full reader, whose result says whether it is. One file of gold and
    # predictions has its columns named: it is not looked at.
    if fast and not any(
        _by_last_column(path, col, inner) and may_hide_outer_column(path, scheme=scheme)
        for path, col, inner in ((gold, gold_col, gold_inner_col), (pred, pred_col, pred_inner_col))
    ):
        pair = _fast_pair(gold, pred, one_file, schemes.get_scheme(scheme), gold_col, pred_col)
        if pair is not None:
            return pair
    return _full_pair(
        gold, pred, one_file, scheme, (gold_col, gold_inner_col), (pred_col, pred_inner_col)
    )


def _check_inner_col(which: str, path: Path, col: int | None, inner: int | None) -> None:
    if inner is None:
        return
    from nerkit.io import detect_format

    if detect_format(path) != "conll":
        raise ConfigError(
            f"--{which}-inner-col is for CoNLL files; {path} is read as "
            f"{detect_format(path)}, whose spans hold nested entities as they are"
        )
    if col is None:
        raise ConfigError(
            f"--{which}-inner-col needs --{which}-col for the outer tags (a file written by "
            f"`nerkit convert --nested`: --{which}-col -2 --{which}-inner-col -1)"
        )


def _by_last_column(path: Path, col: int | None, inner: int | None) -> bool:
    """Whether ``path`` is read as CoNLL by its last column (no column named)."""
    from nerkit.io import detect_format

    return col is None and inner is None and detect_format(path) == "conll"


def _refuse_hidden_outer_column(which: str, path: Path, result: ReadResult) -> None:
    """Raise where ``path``, read by its last column as ``result`` (no --{which}-col
    given), looks like `nerkit convert --nested` output (token, outer tags, inner
    tags): scored so, its outer entities would not count."""
    from nerkit.io.conll import refuse_hidden_outer_column

    refuse_hidden_outer_column(
        path,
        result,
        f"give --{which}-col -2 --{which}-inner-col -1 to read both layers, or "
        f"--{which}-col -1 to read only the last",
    )


def read_training(path: str | Path, *, scheme: str) -> tuple[Sentence, ...]:
    """The sentences of a training file, whose entities ``--errors`` counts as seen.

    Refused, as ``InputError``: a CoNLL file that looks like `nerkit convert --nested`
    output (read by its last column, its outer entities would count as unseen; JSON
    lines hold both layers as spans), and a file whose sentences have neither tags
    nor spans (everything would count as unseen)."""
    import shlex

    from nerkit.io import read
    from nerkit.io.conll import refuse_hidden_outer_column

    path = Path(path)
    result = read(path, scheme=scheme)
    if _by_last_column(path, None, None):
        refuse_hidden_outer_column(
            path,
            result,
            "give --train JSON lines, whose spans hold both layers (`nerkit convert "
            f"{shlex.quote(str(path))} train.jsonl --inner-col -1`), or a file of one tag column",
        )
    if not any(s.tags or s.spans for s in result.sentences):
        raise InputError(
            "no sentence has tags or spans, so no entity would count as seen in training: "
            "--train needs a tagged file",
            path=path,
        )
    return result.sentences


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
    gold: Path,
    pred: Path,
    one_file: bool,
    scheme: str,
    gold_cols: tuple[int | None, int | None],
    pred_cols: tuple[int | None, int | None],
) -> EvalPair:
    from nerkit.io import read

    def options(cols: tuple[int | None, int | None]) -> dict[str, int]:
        tag, inner = cols
        found = {} if tag is None else {"tag_col": tag}
        return found if inner is None else found | {"inner_tag_col": inner}

    g = read(gold, scheme=scheme, **options(gold_cols))
    if _by_last_column(gold, *gold_cols):
        _refuse_hidden_outer_column("gold", gold, g)
    resolved = g.scheme
    p = read(pred, scheme=resolved, **options(pred_cols))
    if _by_last_column(pred, *pred_cols):
        _refuse_hidden_outer_column("pred", pred, p)
    if not one_file:
        _check_aligned(g.sentences, p, str(gold))
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
    pair.inner_columns = gold_cols[1] is not None or pred_cols[1] is not None
    if any(sent.spans for sent in g.sentences):
        pair.gold_spans = tuple(sent.spans for sent in g.sentences)
    if any(sent.spans for sent in p.sentences):
        pair.pred_spans = tuple(sent.spans for sent in p.sentences)
    return pair


def _check_aligned(gold: Sequence, read_pred: ReadResult, gold_path: str) -> None:
    """Error at the first sentence / token where the prediction file leaves the gold one,
    with the line of that token in the prediction file where its format has lines."""
    pred, pred_path = read_pred.sentences, read_pred.path
    for i, (g, p) in enumerate(zip(gold, pred, strict=False), 1):
        if g.tokens == p.tokens:
            continue
        for j, (a, b) in enumerate(zip(g.tokens, p.tokens, strict=False), 1):
            if a != b:
                raise InputError(
                    f"sentence {i}, token {j}: {_shown(b, a)} where {gold_path} has "
                    f"{_shown(a, b)}{_normalisation_hint(a, b)}",
                    path=pred_path,
                    line=token_line(pred_path, i - 1, j - 1),
                )
        # The first token too many, or the last one of a sentence that ends too early.
        position = min(len(g.tokens), len(p.tokens)) - (len(p.tokens) < len(g.tokens))
        raise InputError(
            f"sentence {i} has {len(p.tokens)} tokens where {gold_path} has {len(g.tokens)}",
            path=pred_path,
            line=token_line(pred_path, i - 1, max(position, 0)),
        )
    if len(gold) != len(pred):
        first = min(len(gold), len(pred)) + 1
        if len(pred) > len(gold):
            raise InputError(
                f"{len(pred)} sentences where {gold_path} has {len(gold)} (sentence "
                f"{first} is the first one too many)",
                path=pred_path,
                line=token_line(pred_path, first - 1, 0),
            )
        raise InputError(
            f"{len(pred)} sentences where {gold_path} has {len(gold)}"
            f" (sentence {first} is the first one missing)",
            path=pred_path,
        )


def _shown(token: str, other: str) -> str:
    """``repr`` of a token, or ``ascii`` where the two would print alike."""
    import unicodedata

    same = unicodedata.normalize("NFC", token) == unicodedata.normalize("NFC", other)
    return ascii(token) if same else repr(token)


def _normalisation_hint(a: str, b: str) -> str:
    import unicodedata

    if unicodedata.normalize("NFC", a) != unicodedata.normalize("NFC", b):
        return ""
    return " (the same text in different Unicode normalisation forms, e.g. NFC and NFD)"


def token_line(path: str | Path, sentence: int, token: int) -> int | None:
    """The line of token ``token`` of sentence ``sentence`` (both from 0) in a CoNLL
    file, or of the sentence in a JSON lines file; None for other formats, or where
    the file has no such sentence."""
    from nerkit.io import detect_format
    from nerkit.io.common import read_text

    path = Path(path)
    kind = detect_format(path)
    if kind == "jsonl":
        rows = (k for k, line in enumerate(read_text(path).split("\n"), 1) if line.strip())
        return next((k for n, k in enumerate(rows) if n == sentence), None)
    if kind != "conll":
        return None
    from nerkit.io.conll import is_break, is_docstart

    # As nerkit.io.conll reads a file without comments: a sentence is a run of lines
    # that are neither blank nor -DOCSTART-.
    index, position = -1, 0
    in_sentence = False
    for k, line in enumerate(read_text(path, newlines="universal").split("\n"), 1):
        if is_break(line) or is_docstart(line):
            in_sentence = False
            continue
        if not in_sentence:
            in_sentence, index, position = True, index + 1, 0
        elif index == sentence:
            position += 1
        if index == sentence and position == token:
            return k
        if index > sentence:
            break
    return None


def evaluate(pair: EvalPair, *, mode: str = "lenient", repair: str = "none") -> EvalResult:
    """Scores of ``pair``; ``repair`` first re-encodes invalid predicted sequences."""
    if repair not in REPAIRS:
        raise ConfigError(f"unknown repair {repair!r} (known: {', '.join(REPAIRS)})")
    if mode == "strict" and pair.inner_columns:
        raise ConfigError(
            "strict mode with an inner tag column: the entities of a CoNLL file's two tag "
            "columns are read leniently (an I- without its B- starts an entity); score "
            "them in lenient mode, or give the entities as JSON lines spans"
        )
    invalid_gold, invalid_pred = pair.invalid("gold"), pair.invalid("pred")
    if repair == "none":
        result = EvalResult(
            score_prepared(pair.prepared, pair.scheme, mode), invalid_gold, invalid_pred, repair, 0
        )
    else:
        _check_repairable(pair, repair)
        fixed = repaired(pair.tags("pred"), pair.scheme, repair)
        prepared = prepare_pair(pair.tags("gold"), [f.tags for f in fixed], pair.scheme)
        result = EvalResult(
            score_prepared(prepared, pair.scheme, mode),
            invalid_gold,
            invalid_pred,
            repair,
            sum(f.changed for f in fixed),
            [list(f.tags) for f in fixed],
        )
    if not pair.nested:
        return result
    from dataclasses import replace

    from nerkit.metrics import span_scores

    pred_tags = result.repaired_tags if result.repaired_tags is not None else pair.tags("pred")
    gold_entities = entity_lists(pair.tags("gold"), pair.gold_spans, pair.scheme, mode)
    pred_entities = entity_lists(pred_tags, pair.pred_spans, pair.scheme, mode)
    spans = span_scores(gold_entities, pred_entities)
    scores = replace(
        result.scores,
        per_type=spans.per_type,
        micro=spans.micro,
        macro=spans.macro,
        weighted=spans.weighted,
    )
    return replace(result, scores=scores, entities=(gold_entities, pred_entities))


def _check_repairable(pair: EvalPair, repair: str) -> None:
    """Refuse ``repair`` of predictions that hold nested spans: it re-encodes tag
    sequences, which hold only the outer entities."""
    if repair != "none" and pair.pred_spans is not None:
        raise ConfigError(
            f"--repair re-encodes predicted tag sequences, and {pair.pred_path} holds nested "
            "entities, which tags cannot hold; leave out --repair"
        )


def entity_lists(
    tags: Sequence[Sequence[str]],
    spans: Sequence[Sequence[Span]] | None,
    scheme: schemes.Scheme,
    mode: str,
) -> list[list[Span]]:
    """Each sentence's entities: its own ``spans`` where it has them, else the ones its
    ``tags`` encode (read by the metric engine in ``scheme`` and ``mode``)."""
    from nerkit.metrics import batch_spans

    found = batch_spans(tags, scheme, mode)
    if spans is not None:
        for i, own in enumerate(spans):
            if own:
                found[i] = list(own)
    return found


def repaired(tags: Sequence[Sequence[str]], scheme: schemes.Scheme, repair: str) -> list[Decoded]:
    """Each sentence's ``tags`` repaired by ``repair`` (``conlleval`` or ``discard``):
    the decoders' results, with the new ``tags`` and the number ``changed``."""
    from nerkit.decoders import repair_conlleval, repair_discard

    fix = repair_conlleval if repair == "conlleval" else repair_discard
    return [fix(list(t), scheme) for t in tags]
