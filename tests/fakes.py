"""Small real components (no mocks) that several test modules train and run."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nerkit import schemes
from nerkit.decoders import repair_conlleval
from nerkit.errors import NerkitError
from nerkit.interfaces import Corrector, RunContext
from nerkit.types import Prediction, Sentence


def majority(votes: Counter[str]) -> str:
    # most votes; ties go to the tag that sorts first, so fits repeat exactly
    return min(votes.items(), key=lambda item: (-item[1], item[0]))[0]


class MajorityCorrector(Corrector):
    """For each (token, base tag) seen in training, the gold tag it most often was."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.votes: dict[tuple[str, str], Counter[str]] | None = None

    def fit(
        self,
        train: Sequence[Sentence],
        train_predictions: Sequence[Prediction],
        dev: Sequence[Sentence] | None = None,
        dev_predictions: Sequence[Prediction] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        if not train:
            raise NerkitError("majority corrector: no training sentences")
        check_lengths(train, train_predictions)
        votes: dict[tuple[str, str], Counter[str]] = {}
        for sentence, prediction in zip(train, train_predictions, strict=True):
            for token, base, gold in zip(
                sentence.tokens, prediction.tags, sentence.tags, strict=True
            ):
                votes.setdefault((token, base), Counter())[gold] += 1
        self.votes, self.scheme = votes, schemes.get_scheme(scheme).name

    def correct(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[Prediction]:
        if self.votes is None:
            raise NerkitError("majority corrector is not trained")
        check_lengths(sentences, predictions)
        return [self._correct_one(s, p) for s, p in zip(sentences, predictions, strict=True)]

    def _correct_one(self, sentence: Sentence, prediction: Prediction) -> Prediction:
        assert self.votes is not None
        keys = list(zip(sentence.tokens, prediction.tags, strict=True))
        voted = [majority(self.votes[k]) if k in self.votes else k[1] for k in keys]
        tags = repair_conlleval(voted, self.scheme).tags
        confidences = []
        for key, tag in zip(keys, tags, strict=True):
            if key in self.votes:
                confidences.append(self.votes[key][tag] / sum(self.votes[key].values()))
            else:
                confidences.append(1.0 if tag == key[1] else 0.0)
        return Prediction(tags=tags, confidences=tuple(confidences))

    def save(self, directory: Path) -> None:
        assert self.votes is not None
        rows = [[t, b, dict(v)] for (t, b), v in sorted(self.votes.items())]
        (directory / "votes.json").write_text(json.dumps({"scheme": self.scheme, "votes": rows}))

    @classmethod
    def load(cls, directory: Path) -> MajorityCorrector:
        payload = json.loads((directory / "votes.json").read_text())
        corrector = cls()
        corrector.scheme = payload["scheme"]
        corrector.votes = {(t, b): Counter(v) for t, b, v in payload["votes"]}
        return corrector


def check_lengths(sentences: Sequence[Sentence], predictions: Sequence[Prediction]) -> None:
    if len(sentences) != len(predictions):
        raise NerkitError(f"{len(sentences)} sentences but {len(predictions)} predictions")
