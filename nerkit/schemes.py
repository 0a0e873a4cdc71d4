"""Tag schemes: parse, validate, extract spans, convert.

Each scheme is a small table, not a chain of ``if`` statements:

* ``roles`` maps the scheme's prefixes to the conlleval roles ``B I E S`` used by
  **lenient** span extraction (conlleval and seqeval's default);
* ``must_follow`` / ``must_precede`` say which prefixes of the *same type* must stand
  before / after a prefix for the sequence to be valid (used by ``validate``);

**Strict** extraction keeps the lenient chunks in which no token breaks those two
tables. That one rule reproduces seqeval's ``mode="strict"`` with the matching
``scheme=`` class for IOB2, IOE2, IOBES and BILOU on every sequence, invalid ones
included (the tests check it on thousands of random sequences).

Differences from seqeval 1.2.2, by design (the scheme's definition wins):

* BILOU, lenient: seqeval's default extraction does not know ``L``/``U`` and merges
  ``U-X U-X`` into one entity and ``B-X L-X B-X L-X`` into one. nerkit reads ``L`` as an
  end and ``U`` as a single, so it equals seqeval on the sequence converted to IOBES.
* IO, strict: seqeval has no IO scheme class. In IO every run of ``I-X`` is an entity
  and no sequence is invalid, so strict equals lenient.
* IOE1, strict: seqeval's ``IOE1`` class has no start pattern for ``E-`` after ``O``
  (or after ``I-`` of another type), so it drops the valid single-token entity in
  ``E-X I-X`` and finds nothing at the start of ``E-X E-X I-X``. nerkit keeps them.
* IOB1, strict: seqeval ends a ``B-`` chunk validly only before a ``B-`` of the same
  type, so it drops the valid ``B-Y`` in ``I-Y B-Y B-X``; and in the invalid
  ``O B-X I-X`` it drops ``B-X`` but keeps ``I-X`` as an entity, where nerkit drops
  the whole chunk as it does in every other scheme.
On sequences valid in the scheme, IOB1 and IOE1 strict agree with seqeval's strict
IOBES on the sequence converted to IOBES.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nerkit.errors import SchemeError
from nerkit.types import Span

OUTSIDE = "O"


@dataclass(frozen=True, slots=True)
class Scheme:
    name: str
    prefixes: str
    roles: dict[str, str]
    must_follow: dict[str, str]
    must_precede: dict[str, str]
    description: str = ""

    def __repr__(self) -> str:
        return f"Scheme({self.name})"


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme(
            name="IOB1",
            prefixes="IB",
            roles={"I": "I", "B": "B"},
            must_follow={"B": "IB"},
            must_precede={},
            description="I- inside; B- only to start an entity right after one of the same type",
        ),
        Scheme(
            name="IOB2",
            prefixes="IB",
            roles={"I": "I", "B": "B"},
            must_follow={"I": "BI"},
            must_precede={},
            description="B- starts every entity, I- continues it (the CoNLL / Hugging Face default)",
        ),
        Scheme(
            name="IOE1",
            prefixes="IE",
            roles={"I": "I", "E": "E"},
            must_follow={},
            must_precede={"E": "IE"},
            description="I- inside; E- only to end an entity right before one of the same type",
        ),
        Scheme(
            name="IOE2",
            prefixes="IE",
            roles={"I": "I", "E": "E"},
            must_follow={},
            must_precede={"I": "IE"},
            description="E- ends every entity, I- precedes it",
        ),
        Scheme(
            name="BIOES",
            prefixes="BIES",
            roles={"B": "B", "I": "I", "E": "E", "S": "S"},
            must_follow={"I": "BI", "E": "BI"},
            must_precede={"B": "IE", "I": "IE"},
            description="B- begin, I- inside, E- end, S- single-token entity (also called IOBES)",
        ),
        Scheme(
            name="BILOU",
            prefixes="BILU",
            roles={"B": "B", "I": "I", "L": "E", "U": "S"},
            must_follow={"I": "BI", "L": "BI"},
            must_precede={"B": "IL", "I": "IL"},
            description="B- begin, I- inside, L- last, U- unit (single-token entity)",
        ),
        Scheme(
            name="IO",
            prefixes="I",
            roles={"I": "I"},
            must_follow={},
            must_precede={},
            description="I- for every entity token; adjacent entities of one type cannot be told apart",
        ),
    )
}
_ALIASES = {"IOBES": "BIOES", "BIO": "IOB2", "IOB": "IOB2", "BILOU": "BILOU", "BIOUL": "BILOU"}


def get_scheme(name: str | Scheme) -> Scheme:
    """Look a scheme up by (case-insensitive) name or alias."""
    if isinstance(name, Scheme):
        return name
    key = name.upper()
    key = _ALIASES.get(key, key)
    try:
        return SCHEMES[key]
    except KeyError:
        known = ", ".join([*SCHEMES, "IOBES"])
        raise SchemeError(f"unknown tag scheme {name!r} (known: {known}, or auto)") from None


def scheme_names() -> list[str]:
    return list(SCHEMES)


# --------------------------------------------------------------------- tags


def split_tag(tag: str) -> tuple[str, str]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", "")``. No validation."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    return tag[:1], tag[2:]


def check_tag(tag: str, scheme: str | Scheme) -> None:
    """Raise SchemeError unless ``tag`` is ``O`` or ``P-TYPE`` with P a prefix of the scheme."""
    s = get_scheme(scheme)
    if tag == OUTSIDE:
        return
    if len(tag) < 3 or tag[1] != "-" or not tag[2:].strip() or tag[2:] != tag[2:].strip():
        raise SchemeError(f"tag {tag!r} is not of the form O or PREFIX-TYPE")
    if tag[0] not in s.prefixes:
        allowed = ", ".join(f"{p}-" for p in s.prefixes)
        raise SchemeError(f"tag {tag!r} has a prefix not in {s.name} (allowed: {allowed} and O)")


def infer_scheme(tag_sequences: Iterable[Sequence[str]]) -> Scheme:
    """Guess the scheme from the prefixes in use (``scheme="auto"``).

    E/S -> BIOES, L/U -> BILOU, E without B -> IOE2 (IOE1 when E- only ever stands
    before an entity of the same type), B and I -> IOB2 (IOB1 when B- only ever
    follows the same type), I alone -> IO.
    """
    prefixes: set[str] = set()
    b_only_after_same = True
    e_only_before_same = True
    for seq in tag_sequences:
        prev_p, prev_t = OUTSIDE, ""
        for i, tag in enumerate(seq):
            if tag != OUTSIDE and (len(tag) < 3 or tag[1] != "-"):
                raise SchemeError(f"tag {tag!r} is not of the form O or PREFIX-TYPE")
            p, t = split_tag(tag)
            prefixes.add(p)
            if p == "B" and not (prev_p in "IB" and prev_p != OUTSIDE and prev_t == t):
                b_only_after_same = False
            if p == "E":
                nxt = seq[i + 1] if i + 1 < len(seq) else OUTSIDE
                np_, nt = split_tag(nxt)
                if not (np_ in ("I", "E") and nt == t):
                    e_only_before_same = False
            prev_p, prev_t = p, t
    prefixes.discard(OUTSIDE)
    unknown = prefixes - set("BIESLU")
    if unknown:
        raise SchemeError(f"cannot infer a tag scheme: unknown prefixes {sorted(unknown)}")
    if prefixes & set("LU"):
        if prefixes & set("ES"):
            raise SchemeError(f"cannot infer a tag scheme from prefixes {sorted(prefixes)}")
        return SCHEMES["BILOU"]
    if "S" in prefixes or ("E" in prefixes and "B" in prefixes):
        return SCHEMES["BIOES"]
    if "E" in prefixes:
        return SCHEMES["IOE1" if e_only_before_same and "I" in prefixes else "IOE2"]
    if "B" in prefixes:
        return SCHEMES["IOB1" if b_only_after_same and "I" in prefixes else "IOB2"]
    return SCHEMES["IO"]


# ---------------------------------------------------------------- validation


@dataclass(frozen=True, slots=True)
class InvalidTransition:
    """Tags ``previous`` -> ``current`` at token ``position`` break the scheme.

    ``position`` is the index of the current token; ``len(tags)`` for the sentence end.
    Sentence edges are shown as ``O``.
    """

    position: int
    previous: str
    current: str

    def __str__(self) -> str:
        return f"{self.previous} -> {self.current} at token {self.position}"


def is_valid_transition(prev: str, cur: str, scheme: str | Scheme) -> bool:
    s = get_scheme(scheme)
    pp, pt = split_tag(prev)
    cp, ct = split_tag(cur)
    same = pt == ct and pp != OUTSIDE
    need_before = s.must_follow.get(cp)
    if need_before is not None and not (same and pp in need_before):
        return False
    need_after = s.must_precede.get(pp)
    return not (need_after is not None and not (cp != OUTSIDE and pt == ct and cp in need_after))


def validate(tags: Sequence[str], scheme: str | Scheme) -> list[InvalidTransition]:
    """Every invalid transition in ``tags`` (sentence edges count as ``O``)."""
    s = get_scheme(scheme)
    problems = []
    prev = OUTSIDE
    for i, tag in enumerate([*tags, OUTSIDE]):
        if not is_valid_transition(prev, tag, s):
            problems.append(InvalidTransition(i, prev, tag))
        prev = tag
    return problems


# ------------------------------------------------------------------- spans


def _role(prefix: str, s: Scheme) -> str:
    return OUTSIDE if prefix == OUTSIDE else s.roles.get(prefix, prefix)


def spans_lenient(tags: Sequence[str], scheme: str | Scheme) -> list[Span]:
    """Entities as conlleval / seqeval's default find them.

    A chunk ends before a B/S, after an E/S, at an O, or where the type changes;
    an I or E after O (or after another type) starts a chunk.
    """
    s = get_scheme(scheme)
    spans: list[Span] = []
    start = -1
    prev_r, prev_t = OUTSIDE, ""
    for i, tag in enumerate([*tags, OUTSIDE]):
        p, t = split_tag(tag)
        r = _role(p, s)
        ends = prev_r != OUTSIDE and (prev_r in "ES" or r in "BSO" or prev_t != t)
        if ends:
            spans.append(Span(start, i, prev_t))
        if r != OUTSIDE and (r in "BS" or prev_r in "ESO" and r in "IE" or prev_t != t):
            start = i
        prev_r, prev_t = r, t
    return spans


def broken_tokens(tags: Sequence[str], scheme: str | Scheme) -> list[bool]:
    """For each token, whether it breaks the scheme: it lacks the same-type
    predecessor its prefix needs (``must_follow``) or the successor (``must_precede``)."""
    s = get_scheme(scheme)
    broken = [False] * len(tags)
    prev_p, prev_t = OUTSIDE, ""
    for i, tag in enumerate([*tags, OUTSIDE]):
        p, t = split_tag(tag)
        same = prev_p != OUTSIDE and p != OUTSIDE and prev_t == t
        need_before = s.must_follow.get(p)
        if need_before is not None and not (same and prev_p in need_before):
            broken[i] = True
        need_after = s.must_precede.get(prev_p)
        if need_after is not None and not (same and p in need_after):
            broken[i - 1] = True
        prev_p, prev_t = p, t
    return broken


def spans_strict(tags: Sequence[str], scheme: str | Scheme) -> list[Span]:
    """Entities as seqeval's ``mode="strict"`` counts them: the lenient chunks none of
    whose tokens breaks the scheme; chunks with a broken token are dropped whole."""
    broken = broken_tokens(tags, scheme)
    return [sp for sp in spans_lenient(tags, scheme) if not any(broken[sp.start : sp.end])]


def spans(tags: Sequence[str], scheme: str | Scheme, mode: str = "lenient") -> list[Span]:
    """Entities in ``tags``: ``mode`` is ``"lenient"`` (default) or ``"strict"``."""
    if mode == "lenient":
        return spans_lenient(tags, scheme)
    if mode == "strict":
        return spans_strict(tags, scheme)
    raise SchemeError(f"unknown span mode {mode!r} (known: lenient, strict)")


# ------------------------------------------------------------- encoding


def encode(spans_: Iterable[Span], length: int, scheme: str | Scheme) -> list[str]:
    """Tags of ``length`` tokens that encode non-overlapping ``spans_`` in ``scheme``.

    In IO, adjacent entities of one type merge (the scheme cannot separate them).
    """
    s = get_scheme(scheme)
    ordered = sorted(spans_, key=lambda sp: sp.start)
    tags = [OUTSIDE] * length
    for k, sp in enumerate(ordered):
        if sp.end > length:
            raise SchemeError(f"span {sp} beyond {length} tokens")
        if k and sp.start < ordered[k - 1].end:
            raise SchemeError(f"overlapping spans {ordered[k - 1]} and {sp} cannot be tags")
        after_same = k > 0 and ordered[k - 1].end == sp.start and ordered[k - 1].label == sp.label
        before_same = (
            k + 1 < len(ordered)
            and ordered[k + 1].start == sp.end
            and ordered[k + 1].label == sp.label
        )
        body = ["I"] * len(sp)
        name = s.name
        if name == "IOB1":
            if after_same:
                body[0] = "B"
        elif name == "IOB2":
            body[0] = "B"
        elif name == "IOE1":
            if before_same:
                body[-1] = "E"
        elif name == "IOE2":
            body[-1] = "E"
        elif name in ("BIOES", "BILOU"):
            single, last = ("S", "E") if name == "BIOES" else ("U", "L")
            if len(sp) == 1:
                body[0] = single
            else:
                body[0], body[-1] = "B", last
        for off, prefix in enumerate(body):
            tags[sp.start + off] = f"{prefix}-{sp.label}"
    return tags


def convert(tags: Sequence[str], source: str | Scheme, target: str | Scheme) -> list[str]:
    """Re-encode ``tags`` from ``source`` to ``target`` (spans read leniently, so an
    invalid source sequence is repaired the conlleval way on the way)."""
    return encode(spans_lenient(tags, source), len(tags), target)
