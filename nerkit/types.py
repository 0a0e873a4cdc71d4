"""Value types shared by every part of nerkit.

All are frozen: components return new values instead of mutating their inputs.
Sequences are stored as tuples so that values hash and compare by content.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


def _as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else tuple(value)


@dataclass(frozen=True, slots=True)
class Span:
    """An entity: half-open token offsets ``[start, end)`` and a label."""

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span offsets [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Sentence:
    """A tokenised sentence with one tag per token (tags may be empty for raw text).

    ``spans`` carries entities that tags cannot express (overlapping / nested ones);
    when it is empty the entities are the ones the tags encode.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...] = ()
    sentence_id: str | None = None
    document_id: str | None = None
    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", _as_tuple(self.tokens))
        object.__setattr__(self, "tags", _as_tuple(self.tags))
        object.__setattr__(self, "spans", _as_tuple(self.spans))
        if self.tags and len(self.tags) != len(self.tokens):
            raise ValueError(
                f"sentence {self.sentence_id!r}: {len(self.tokens)} tokens but {len(self.tags)} tags"
            )
        for span in self.spans:
            if span.end > len(self.tokens):
                raise ValueError(
                    f"sentence {self.sentence_id!r}: span {span} beyond {len(self.tokens)} tokens"
                )

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True, slots=True)
class Corpus:
    """Named splits (``train``, ``dev``, ``test``, ...) of sentences, plus provenance."""

    splits: Mapping[str, tuple[Sentence, ...]]
    name: str = ""
    scheme: str = "IOB2"
    license: str = ""
    citation: str = ""

    def __post_init__(self) -> None:
        frozen = {name: _as_tuple(sents) for name, sents in self.splits.items()}
        object.__setattr__(self, "splits", _FrozenDict(frozen))

    def __getitem__(self, split: str) -> tuple[Sentence, ...]:
        try:
            return self.splits[split]
        except KeyError:
            raise KeyError(
                f"corpus {self.name!r} has no split {split!r} (has: {', '.join(self.splits)})"
            ) from None

    def __contains__(self, split: object) -> bool:
        return split in self.splits

    def __iter__(self) -> Iterator[str]:
        return iter(self.splits)

    def labels(self) -> list[str]:
        """Every tag that occurs in any split, ``O`` first, then sorted."""
        seen = {tag for sents in self.splits.values() for s in sents for tag in s.tags}
        return sorted(seen, key=lambda t: (t != "O", t))


@dataclass(frozen=True, slots=True)
class Prediction:
    """A tagger's output for one sentence.

    ``confidences`` holds one probability per token for the chosen tag.
    ``probabilities`` optionally holds a tokens x labels matrix (rows sum to 1),
    with ``labels`` giving the column order.
    """

    tags: tuple[str, ...]
    confidences: tuple[float, ...] = ()
    probabilities: Any = None  # numpy array of shape (len(tags), len(labels)), or None
    labels: tuple[str, ...] = ()
    spans: tuple[Span, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _as_tuple(self.tags))
        object.__setattr__(self, "confidences", _as_tuple(self.confidences))
        object.__setattr__(self, "labels", _as_tuple(self.labels))
        object.__setattr__(self, "spans", _as_tuple(self.spans))
        if self.confidences and len(self.confidences) != len(self.tags):
            raise ValueError(f"{len(self.tags)} tags but {len(self.confidences)} confidences")
        if self.probabilities is not None:
            shape = getattr(self.probabilities, "shape", None)
            if shape is None or len(shape) != 2:
                raise ValueError("probabilities must be a 2-d array (tokens x labels)")
            if shape != (len(self.tags), len(self.labels)):
                raise ValueError(
                    f"probabilities have shape {shape}, expected "
                    f"({len(self.tags)}, {len(self.labels)}) for the given tags and labels"
                )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prediction):
            return NotImplemented
        if (self.tags, self.confidences, self.labels, self.spans) != (
            other.tags,
            other.confidences,
            other.labels,
            other.spans,
        ):
            return False
        if (self.probabilities is None) != (other.probabilities is None):
            return False
        if self.probabilities is None:
            return True
        import numpy as np

        return bool(np.array_equal(self.probabilities, other.probabilities))

    __hash__ = None  # type: ignore[assignment]  # holds an array


class _FrozenDict(dict):  # type: ignore[type-arg]
    """A dict that refuses mutation, so a frozen Corpus stays frozen."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Corpus splits are read-only; build a new Corpus instead")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))
