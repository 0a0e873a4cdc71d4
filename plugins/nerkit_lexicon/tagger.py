"""The CoNLL shared tasks' baseline: remember the entities of the training data and
tag their longest exact matches.

Fit reads every entity of the training tags (lenient spans, in the training scheme)
and counts, per surface form (the entity's token sequence), how often it was an
entity of each type; a form's type is its most frequent one, ties going to the type
name that sorts first. Predict scans left to right and at each token takes the longest
remembered form that starts there (greedy, non-overlapping), and writes the tags in the
training scheme.

Confidences (one per token):

* tokens of a matched entity: ``times the form was an entity of that type / times the
  form occurs in the training text``. The classic baseline counts only the entity
  occurrences, so a form that is usually an ordinary word ("May", "Apple" in lower
  case) looks certain; dividing by all occurrences says how often the match is right.
* ``O`` tokens: the share of the token's training occurrences that were tagged ``O``.
  For a token never seen in training it is the ``O`` share of the tokens seen exactly
  once, the usual stand-in for unseen words (rare words are entities more often than
  average ones).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerkit import schemes
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import (
    RunContext,
    Tagger,
    load_options,
    read_manifest,
    save_options,
    write_manifest,
)
from nerkit.options import option
from nerkit.types import Prediction, Sentence, Span

FORMAT = "nerkit-lexicon"
FORMAT_VERSION = 1
FILE = "lexicon.json"

Form = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LexiconOptions:
    case_sensitive: bool = option(True, "match entity forms with their case; false: case-folded")
    min_count: int = option(1, "remember a form once it was an entity of its type this many times")
    max_length: int = option(8, "longest entity, in tokens, that is remembered and matched")
    min_confidence: float = option(
        0.0,
        "tag a match only if at least this share of the form's training occurrences were that entity",
    )


@dataclass
class LexiconStatistics:
    """What fit counts; everything else is derived from it and the options."""

    types: dict[Form, Counter[str]] = field(default_factory=dict)  # form -> entity type -> count
    occurrences: dict[Form, int] = field(default_factory=dict)  # form -> count in training text
    tokens: dict[str, list[int]] = field(default_factory=dict)  # token -> [occurrences, tagged O]


@dataclass(frozen=True, slots=True)
class Match:
    label: str
    confidence: float


class LexiconTagger(Tagger):
    """Tags the longest known entity forms; torch-free and fast.

    ``statistics`` holds what fit counted (None before fit or load); a sentence without
    tokens gets a Prediction without tags.
    """

    options_class = LexiconOptions
    options: LexiconOptions
    gives_probabilities = False  # matches, not scores

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        opts = self.options
        if opts.min_count < 1:
            raise ConfigError(
                f"lexicon option 'min_count' must be at least 1, got {opts.min_count}"
            )
        if opts.max_length < 1:
            raise ConfigError(
                f"lexicon option 'max_length' must be at least 1, got {opts.max_length}"
            )
        if not 0.0 <= opts.min_confidence <= 1.0:
            raise ConfigError(
                f"lexicon option 'min_confidence' must be in [0, 1], got {opts.min_confidence}"
            )
        self.statistics: LexiconStatistics | None = None
        self._matches: dict[Form, Match] = {}
        self._lengths: dict[str, tuple[int, ...]] = {}  # first token -> form lengths, longest first
        self._o_confidence: dict[str, float] = {}
        self._unseen_o_confidence = 1.0

    # ---------------------------------------------------------------- fit

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        """Count the training entities. ``dev`` and ``context`` are not needed: there
        is nothing to tune and nothing random."""
        if not train:
            raise NerkitError("lexicon tagger: no training sentences (fit needs tagged sentences)")
        scheme_name = schemes.get_scheme(scheme).name
        # a tag of another scheme (U-LOC in IOB2) would be misread, not refused
        for tag in {t for s in train for t in s.tags}:
            schemes.check_tag(tag, scheme_name)
        stats = LexiconStatistics()
        texts: list[Form] = []
        for index, sentence in enumerate(train):
            if sentence.tokens and not sentence.tags:
                name = sentence.sentence_id or f"#{index}"
                raise NerkitError(f"lexicon tagger: training sentence {name} has no tags")
            tokens = self._normalise(sentence.tokens)
            texts.append(tokens)
            for span in schemes.spans(sentence.tags, scheme_name):
                if len(span) <= self.options.max_length:
                    form = tokens[span.start : span.end]
                    stats.types.setdefault(form, Counter())[span.label] += 1
            for token, tag in zip(tokens, sentence.tags, strict=True):
                counts = stats.tokens.setdefault(token, [0, 0])
                counts[0] += 1
                counts[1] += tag == schemes.OUTSIDE
        if not stats.tokens:
            raise NerkitError("lexicon tagger: the training sentences have no tokens")
        stats.occurrences = count_occurrences(texts, stats.types)
        self.scheme = scheme_name
        self._compile(stats)

    def _normalise(self, tokens: Sequence[str]) -> Form:
        if self.options.case_sensitive:
            return tuple(tokens)
        return tuple(t.casefold() for t in tokens)

    def _compile(self, stats: LexiconStatistics) -> None:
        """Build the look-up tables predict uses from the statistics and options."""
        opts = self.options
        matches: dict[Form, Match] = {}
        lengths: defaultdict[str, set[int]] = defaultdict(set)
        for form, types in stats.types.items():
            # most frequent type; ties go to the name that sorts first, so runs repeat
            label, count = min(types.items(), key=lambda item: (-item[1], item[0]))
            confidence = count / stats.occurrences[form]
            if count < opts.min_count or confidence < opts.min_confidence:
                continue
            matches[form] = Match(label, confidence)
            lengths[form[0]].add(len(form))
        self.statistics = stats
        self._matches = matches
        self._lengths = {first: tuple(sorted(ls, reverse=True)) for first, ls in lengths.items()}
        self._o_confidence = {t: as_o / total for t, (total, as_o) in stats.tokens.items()}
        once = [as_o for total, as_o in stats.tokens.values() if total == 1]
        if once:
            self._unseen_o_confidence = sum(once) / len(once)
        else:  # every token repeats: fall back to the O share of all tokens
            total = sum(t for t, _ in stats.tokens.values())
            self._unseen_o_confidence = sum(o for _, o in stats.tokens.values()) / total

    # ------------------------------------------------------------ predict

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        if self.statistics is None:
            raise NerkitError("lexicon tagger is not trained: call fit() or load() first")
        return [self._predict_one(s.tokens) for s in sentences]

    def _predict_one(self, raw_tokens: Sequence[str]) -> Prediction:
        tokens = self._normalise(raw_tokens)
        n = len(tokens)
        unseen = self._unseen_o_confidence
        confidences = [self._o_confidence.get(t, unseen) for t in tokens]
        found: list[Span] = []
        lengths_of, matches = self._lengths, self._matches
        i = 0
        while i < n:
            step = 1
            # most tokens start no known form: one dict miss and move on
            for length in lengths_of.get(tokens[i], ()):
                if i + length <= n and (match := matches.get(tokens[i : i + length])):
                    found.append(Span(i, i + length, match.label))
                    confidences[i : i + length] = [match.confidence] * length
                    step = length
                    break
            i += step
        tags = schemes.encode(found, n, self.scheme)
        return Prediction(tags=tuple(tags), confidences=tuple(confidences))

    # -------------------------------------------------------- save / load

    def save(self, directory: Path) -> None:
        if self.statistics is None:
            raise NerkitError("lexicon tagger is not trained: nothing to save")
        stats = self.statistics
        entities = [
            {
                "tokens": list(form),
                "types": dict(sorted(types.items())),
                "occurrences": stats.occurrences[form],
            }
            for form, types in sorted(stats.types.items())
        ]
        directory = Path(directory)
        save_options(self, directory)
        write_manifest(
            directory,
            FILE,
            FORMAT,
            FORMAT_VERSION,
            scheme=self.scheme,
            entities=entities,
            tokens=dict(sorted(stats.tokens.items())),
        )

    @classmethod
    def load(cls, directory: Path) -> LexiconTagger:
        directory = Path(directory)
        path = directory / FILE
        payload = read_manifest(directory, FILE, FORMAT, FORMAT_VERSION, "lexicon tagger")
        tagger = cls(load_options(cls.options_class, directory))
        tagger.scheme = schemes.get_scheme(payload.get("scheme", "")).name
        try:
            stats = LexiconStatistics(
                types={tuple(e["tokens"]): Counter(e["types"]) for e in payload["entities"]},
                occurrences={
                    tuple(e["tokens"]): int(e["occurrences"]) for e in payload["entities"]
                },
                tokens={t: [int(a), int(b)] for t, (a, b) in payload["tokens"].items()},
            )
            tagger._compile(stats)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise NerkitError(f"{path}: malformed lexicon ({type(exc).__name__}: {exc})") from None
        return tagger


def count_occurrences(texts: Iterable[Form], forms: Iterable[Form]) -> dict[Form, int]:
    """How often each of ``forms`` occurs as a token sequence in ``texts``.

    Only the n-grams that start with a form's first token and have a form's length are
    built, so the cost is about one dict look-up per token rather than one per n-gram.
    """
    counts = dict.fromkeys(forms, 0)
    lengths: defaultdict[str, set[int]] = defaultdict(set)
    for form in counts:
        lengths[form[0]].add(len(form))
    for tokens in texts:
        n = len(tokens)
        for i, token in enumerate(tokens):
            for length in lengths.get(token, ()):
                if i + length <= n:
                    key = tokens[i : i + length]
                    if key in counts:
                        counts[key] += 1
    return counts
