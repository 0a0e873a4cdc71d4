"""Hypothesis strategies shared by the evaluation tests."""

from __future__ import annotations

from hypothesis import strategies as st

from nerkit import schemes
from nerkit.types import Span

TYPES = ("PER", "LOC", "ORG")


@st.composite
def tag_batches(
    draw: st.DrawFn,
    scheme: str,
    *,
    max_sentences: int = 10,
    max_length: int = 25,
    max_span: int = 6,
) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted tags: random tags of the scheme (often invalid) or tags
    encoded from random flat spans; predictions copied, corrupted or independent."""
    tags = ["O"] + [f"{p}-{t}" for p in schemes.get_scheme(scheme).prefixes for t in TYPES]

    def sequence(n: int) -> list[str]:
        if draw(st.booleans()):
            return draw(st.lists(st.sampled_from(tags), min_size=n, max_size=n))
        spans, i = [], 0
        while i < n:
            length = draw(st.integers(1, max_span))
            if draw(st.booleans()) and i + length <= n:
                spans.append(Span(i, i + length, draw(st.sampled_from(TYPES))))
            i += length
        return schemes.encode(spans, n, scheme)

    gold, pred = [], []
    for _ in range(draw(st.integers(1, max_sentences))):
        n = draw(st.integers(0, max_length))
        g = sequence(n)
        kind = draw(st.sampled_from(("copy", "corrupt", "other")))
        p = sequence(n) if kind == "other" else list(g)
        if kind == "corrupt" and n:
            for _ in range(draw(st.integers(1, 3))):
                p[draw(st.integers(0, n - 1))] = draw(st.sampled_from(tags))
        gold.append(g)
        pred.append(p)
    return gold, pred
