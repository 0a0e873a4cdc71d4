"""The contract every Decoder keeps. A plugin's test module subclasses it:

    from nerkit.testing import DecoderContract

    class TestMyDecoderBIOES(DecoderContract):
        scheme = "BIOES"

        def make_decoder(self):
            return MyDecoder()

Inputs are seeded random tag sequences over the scheme's tags (most of them invalid,
in a scheme with invalid sequences: IO has none) and valid ones encoded from random
spans.
"""

from __future__ import annotations

import copy
import random
from typing import ClassVar

import numpy as np

from nerkit import schemes
from nerkit.interfaces import Decoder
from nerkit.testing.data import probabilities_for
from nerkit.types import Prediction, Span


class DecoderContract:
    """Promises of ``nerkit.interfaces.Decoder``; subclass as ``TestXxx`` and define
    :meth:`make_decoder`."""

    scheme: ClassVar[str] = "IOB2"
    seed: ClassVar[int] = 13
    entity_types: ClassVar[tuple[str, ...]] = ("LOC", "PER")
    #: how many random sequences each test decodes, and their longest length
    cases: ClassVar[int] = 300
    max_length: ClassVar[int] = 12
    #: True for decoders that read ``Prediction.probabilities`` (e.g. Viterbi)
    needs_probabilities: ClassVar[bool] = False

    def make_decoder(self) -> Decoder:
        raise NotImplementedError(f"{type(self).__name__} must define make_decoder()")

    # ------------------------------------------------------------- inputs

    def labels(self) -> list[str]:
        prefixes = schemes.get_scheme(self.scheme).prefixes
        return [schemes.OUTSIDE] + [f"{p}-{t}" for t in self.entity_types for p in prefixes]

    def make_prediction(self, tags: list[str], rng: np.random.Generator) -> Prediction:
        """A prediction whose tags are ``tags`` (with a matching probability matrix when
        the decoder needs one)."""
        if not self.needs_probabilities:
            return Prediction(tags=tuple(tags))
        labels = self.labels()
        return Prediction(
            tags=tuple(tags),
            probabilities=probabilities_for(tags, labels, rng),
            labels=tuple(labels),
        )

    def random_predictions(self) -> list[Prediction]:
        rng, np_rng = random.Random(self.seed), np.random.default_rng(self.seed)
        labels = self.labels()
        out = []
        for _ in range(self.cases):
            length = rng.randint(1, self.max_length)
            out.append(self.make_prediction([rng.choice(labels) for _ in range(length)], np_rng))
        return out

    def valid_predictions(self) -> list[Prediction]:
        rng, np_rng = random.Random(self.seed + 1), np.random.default_rng(self.seed + 1)
        out = []
        for _ in range(self.cases):
            length = rng.randint(1, self.max_length)
            spans, position = [], 0
            while position < length:
                start = position + rng.randint(0, 2)
                end = min(length, start + rng.randint(1, 3))
                if start < end:
                    spans.append(Span(start, end, rng.choice(self.entity_types)))
                position = end
            tags = schemes.encode(spans, length, self.scheme)
            out.append(self.make_prediction(tags, np_rng))
        return out

    # --------------------------------------------------------------- tests

    def test_random_inputs_decode_to_valid_sequences(self) -> None:
        decoder = self.make_decoder()
        predictions = self.random_predictions()
        scheme = schemes.get_scheme(self.scheme)
        # a scheme without transition rules (IO) has no invalid sequence to repair: the
        # decoded tags are still checked
        if scheme.must_follow or scheme.must_precede:
            invalid = sum(bool(schemes.validate(p.tags, scheme)) for p in predictions)
            assert invalid > len(predictions) // 4, "too few invalid inputs to test repair"
        for prediction in predictions:
            tags, _ = decoder.decode(prediction, self.scheme)
            assert len(tags) == len(prediction.tags), f"{list(prediction.tags)} -> {list(tags)}"
            for tag in tags:
                schemes.check_tag(tag, self.scheme)
            problems = schemes.validate(tags, self.scheme)
            assert not problems, (
                f"{list(prediction.tags)} decoded to the invalid {list(tags)}: "
                + ", ".join(map(str, problems))
            )

    def test_changes_counted_are_the_tokens_changed(self) -> None:
        decoder = self.make_decoder()
        for prediction in self.random_predictions():
            tags, changed = decoder.decode(prediction, self.scheme)
            differing = sum(a != b for a, b in zip(prediction.tags, tags, strict=True))
            assert changed == differing, (
                f"{list(prediction.tags)} -> {list(tags)}: reported {changed}"
            )

    def test_valid_input_is_left_alone(self) -> None:
        decoder = self.make_decoder()
        for prediction in self.valid_predictions():
            tags, changed = decoder.decode(prediction, self.scheme)
            assert tuple(tags) == prediction.tags and changed == 0, (
                f"the valid {list(prediction.tags)} became {list(tags)}"
            )

    def test_decoded_entities_have_input_types(self) -> None:
        decoder = self.make_decoder()
        for prediction in self.random_predictions():
            known = {schemes.split_tag(t)[1] for t in (*prediction.tags, *prediction.labels)}
            tags, _ = decoder.decode(prediction, self.scheme)
            for tag in tags:
                assert tag == schemes.OUTSIDE or schemes.split_tag(tag)[1] in known, (
                    f"{tag!r} from {list(prediction.tags)}"
                )

    def test_an_empty_prediction_decodes_to_nothing(self) -> None:
        tags, changed = self.make_decoder().decode(
            self.make_prediction([], np.random.default_rng(0)), self.scheme
        )
        assert tuple(tags) == () and changed == 0

    def test_an_empty_prediction_without_probabilities_decodes_to_nothing(self) -> None:
        # what taggers give a sentence without tokens, even those with probability matrices
        tags, changed = self.make_decoder().decode(Prediction(tags=(), confidences=()), self.scheme)
        assert tuple(tags) == () and changed == 0

    def test_decoding_leaves_the_prediction_unchanged(self) -> None:
        decoder = self.make_decoder()
        predictions = self.random_predictions()
        before = copy.deepcopy(predictions)
        for prediction in predictions:
            decoder.decode(prediction, self.scheme)
        assert predictions == before  # probability matrices are compared too
