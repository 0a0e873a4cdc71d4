"""Small, hand-written data for contract tests: a toy corpus, seeded noise, probability
matrices, and an exact-match entity score that depends only on ``nerkit.schemes``."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nerkit import schemes
from nerkit.types import Corpus, Prediction, Sentence

if TYPE_CHECKING:
    import numpy as np

_PIECE = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)|(\S+)")


def parse_bracketed(text: str, sentence_id: str | None = None) -> Sentence:
    """``"[Angela Merkel](PER) visited [Paris](LOC) ."`` as an IOB2-tagged Sentence.

    Tokens are split on spaces, so tokens that are themselves whitespace (U+3000)
    need a Sentence built by hand.
    """
    tokens: list[str] = []
    tags: list[str] = []
    for match in _PIECE.finditer(text):
        entity, label, plain = match.groups()
        if plain is not None:
            tokens.append(plain)
            tags.append(schemes.OUTSIDE)
            continue
        words = entity.split()
        tokens.extend(words)
        tags.extend([f"B-{label}"] + [f"I-{label}"] * (len(words) - 1))
    return Sentence(tokens=tuple(tokens), tags=tuple(tags), sentence_id=sentence_id)


_TRAIN = (
    "[Angela Merkel](PER) visited [Paris](LOC) on Monday .",
    "[Barack Obama](PER) met [Angela Merkel](PER) in [Berlin](LOC) .",
    "[Google](ORG) opened a new office in [London](LOC) .",
    "[Microsoft](ORG) and [Google](ORG) compete in [New York](LOC) .",
    "[Marie Curie](PER) worked at the [University of Paris](ORG) .",
    "The [United Nations](ORG) met in [Geneva](LOC) last week .",
    "[John Smith](PER) joined [Acme Corp](ORG) in 2019 .",
    "She flew from [Tokyo](LOC) to [San Francisco](LOC) .",
    "[Apple](ORG) shares rose after [Tim Cook](PER) spoke .",
    "[Washington](LOC) is the capital of the [United States](LOC) .",
    "[George Washington](PER) was the first president .",
    "The [World Health Organization](ORG) is based in [Geneva](LOC) .",
    "[Ada Lovelace](PER) wrote the first program .",
    "[Siemens](ORG) builds trains in [Munich](LOC) .",
    "We drove to [Zürich](LOC) with [Anna](PER) .",
    "[東京](LOC) is larger than [Osaka](LOC) .",
    "[Berlin](LOC)",
    "Nothing happened today .",
    "[Amazon](ORG) hired [Jeff Bezos](PER) 's friend in [Seattle](LOC) .",
    "[Nelson Mandela](PER) was born in [South Africa](LOC) .",
    "The [European Union](ORG) and [NATO](ORG) met in [Brussels](LOC) .",
    "[Pablo Picasso](PER) lived in [Barcelona](LOC) and [Paris](LOC) .",
    "[Toyota](ORG) sells cars in [Japan](LOC) .",
    "[Washington](LOC) hosted the [United Nations](ORG) .",
    "Is [Maria](PER) at [IBM](ORG) now ?",
)
_DEV = (
    "[Tim Cook](PER) visited [Berlin](LOC) .",
    "[Google](ORG) hired [Marie Curie](PER) 's students .",
    "The meeting in [Tokyo](LOC) was short .",
    "[NATO](ORG) met in [Washington](LOC) .",
)
_TEST = (
    "[Angela Merkel](PER) met [Tim Cook](PER) in [London](LOC) .",
    "[Microsoft](ORG) opened an office in [Zürich](LOC) .",
    "[Ada Lovelace](PER) and [Marie Curie](PER) were scientists .",
    "The [United Nations](ORG) praised [Japan](LOC) .",
    "Rain is expected in [Munich](LOC) tomorrow .",
    "[Fritz Haber](PER) worked for [BASF](ORG) .",
    # adjacent entities of one type: IOB1 and IO cannot keep them apart
    "[Paris](LOC) [London](LOC) [Tokyo](LOC)",
    "[Paris](LOC)",
)


def _sentences(texts: Sequence[str], split: str) -> list[Sentence]:
    return [parse_bracketed(t, f"{split}-{i + 1}") for i, t in enumerate(texts)]


def edge_case_sentences(split: str = "test") -> list[Sentence]:
    """Sentences with tokens a naive tokenizer or vocabulary breaks on: non-Latin
    scripts and U+3000, a whitespace character that is a token here."""
    return [
        Sentence(("東京", "\u3000", "Zürich"), ("B-LOC", "O", "B-LOC"), f"{split}-unicode-1"),
        Sentence(
            ("Hello", "\u3000", "Zürich", "!"), ("O", "O", "B-LOC", "O"), f"{split}-unicode-2"
        ),
    ]


#: copies of one block in :func:`long_sentence`
LONG_SENTENCE_COPIES = 5


def long_sentence(
    sentences: Sequence[Sentence],
    *,
    block_tokens: int = 160,
    copies: int = LONG_SENTENCE_COPIES,
) -> Sentence:
    """One sentence of ``copies`` copies of a block: the tokens and tags of ``sentences``
    one after another (cycled) until the block has at least ``block_tokens`` tokens.

    With the defaults it has over 800 tokens, so its last block starts past 640 tokens,
    beyond a 512-subword window whatever the tokenizer: a component that truncates long
    sentences, and fills the rest with ``O``, finds nothing in the last block that it
    finds in the first. Its tags are the concatenation, which in IOB1 or IO may join two
    entities into one; the contracts read only its tokens and the base tags of a
    corrector, which may be invalid anyway.
    """
    if copies < 1 or not any(s.tokens for s in sentences):
        raise ValueError("long_sentence: needs sentences with tokens and at least one copy")
    tokens: list[str] = []
    tags: list[str] = []
    while len(tokens) < block_tokens:
        for s in sentences:
            tokens.extend(s.tokens)
            tags.extend(s.tags or (schemes.OUTSIDE,) * len(s.tokens))
            if len(tokens) >= block_tokens:
                break
    return Sentence(tokens=tuple(tokens) * copies, tags=tuple(tags) * copies, sentence_id="long-1")


def toy_corpus() -> Corpus:
    """About 40 short English sentences, IOB2, types PER / LOC / ORG (train / dev / test).

    Includes a one-token sentence, an all-``O`` sentence, adjacent same-type entities,
    an ambiguous form (``Washington``: LOC twice, PER inside ``George Washington``) and
    the :func:`edge_case_sentences` in train and test.
    """
    return Corpus(
        splits={
            "train": (*_sentences(_TRAIN, "train"), *edge_case_sentences("train")),
            "dev": tuple(_sentences(_DEV, "dev")),
            "test": (*_sentences(_TEST, "test"), *edge_case_sentences("test")),
        },
        name="nerkit-toy",
        scheme="IOB2",
        license="CC0-1.0 (written for nerkit's tests)",
    )


def in_scheme(sentences: Sequence[Sentence], scheme: str) -> list[Sentence]:
    """IOB2 sentences re-encoded in ``scheme`` (untagged ones stay untagged)."""
    return [
        Sentence(
            tokens=s.tokens,
            tags=tuple(schemes.convert(s.tags, "IOB2", scheme)) if s.tags else (),
            sentence_id=s.sentence_id,
            document_id=s.document_id,
            # nested entities are offsets, the same in every scheme
            spans=s.spans,
        )
        for s in sentences
    ]


def without_tags(sentences: Sequence[Sentence]) -> list[Sentence]:
    """The same sentences as raw text (no tags), as a user would give them to predict."""
    return [
        Sentence(tokens=s.tokens, sentence_id=s.sentence_id, document_id=s.document_id)
        for s in sentences
    ]


# ------------------------------------------------------------------ noise


def label_set(sentences: Sequence[Sentence]) -> list[str]:
    """Every tag used, ``O`` first (and always present), then sorted."""
    seen = {tag for s in sentences for tag in s.tags} | {schemes.OUTSIDE}
    return sorted(seen, key=lambda t: (t != schemes.OUTSIDE, t))


def noisy_tags(
    tags: Sequence[str], labels: Sequence[str], rate: float, rng: random.Random
) -> tuple[str, ...]:
    """``tags`` with each one replaced, with probability ``rate``, by another label."""
    out = []
    for tag in tags:
        if rng.random() < rate:
            others = [label for label in labels if label != tag]
            out.append(rng.choice(others) if others else tag)
        else:
            out.append(tag)
    return tuple(out)


def noisy_predictions(
    sentences: Sequence[Sentence],
    *,
    rate: float = 0.2,
    seed: int = 13,
    labels: Sequence[str] | None = None,
) -> list[Prediction]:
    """A pretend base tagger: the gold tags with seeded noise (may be invalid sequences)."""
    rng = random.Random(seed)
    labels = list(labels) if labels is not None else label_set(sentences)
    return [Prediction(tags=noisy_tags(s.tags, labels, rate, rng)) for s in sentences]


def probabilities_for(
    tags: Sequence[str], labels: Sequence[str], rng: np.random.Generator
) -> np.ndarray:
    """A random tokens x labels probability matrix whose row-wise argmax is ``tags``."""
    import numpy as np  # only decoder contracts need it; keeps the pytest plugin light

    index = {label: i for i, label in enumerate(labels)}
    probs = rng.dirichlet(np.ones(len(labels)), size=len(tags))
    for row, tag in enumerate(tags):
        # lift the chosen label clearly above the rest so the argmax is unambiguous
        probs[row, index[tag]] = probs[row].max() + 0.5
    return probs / probs.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ scores


@dataclass(frozen=True, slots=True)
class EntityScore:
    precision: float
    recall: float
    f1: float
    gold: int
    predicted: int
    correct: int


def entity_score(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    scheme: str,
    *,
    predicted_scheme: str | None = None,
    mode: str = "lenient",
) -> EntityScore:
    """Exact-match micro precision / recall / F1 over entity spans (0 where undefined).

    Written over ``schemes.spans`` alone so that contract checks do not trust the
    metric engine they may be testing.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sequences but {len(predicted)} predicted ones")
    gold_set: set[tuple[int, int, int, str]] = set()
    pred_set: set[tuple[int, int, int, str]] = set()
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        gold_set.update((i, sp.start, sp.end, sp.label) for sp in schemes.spans(g, scheme, mode))
        pred_set.update(
            (i, sp.start, sp.end, sp.label)
            for sp in schemes.spans(p, predicted_scheme or scheme, mode)
        )
    correct = len(gold_set & pred_set)
    precision = correct / len(pred_set) if pred_set else 0.0
    recall = correct / len(gold_set) if gold_set else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return EntityScore(precision, recall, f1, len(gold_set), len(pred_set), correct)
