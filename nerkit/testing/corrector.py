"""The contract every Corrector keeps. A plugin's test module subclasses it:

    from nerkit.testing import CorrectorContract

    class TestMyCorrector(CorrectorContract):
        def make_corrector(self):
            return MyCorrector({"epochs": 1})

The base tagger is pretended: its predictions are the gold tags with seeded noise
(``noise_rate``), so the contract needs no tagger. The promises mirror the tagger's
(``nerkit.testing.tagger``): among them, a sentence without tokens gets a Prediction
without tags, a sentence's correction does not depend on the others in the batch, and
the corrector learns: on its own training data it keeps most of what the base tagger
got right (a corrector that drops every entity fails). Sentences are given as tuples
and base predictions as lists, as a run gives them, and every input must be left
unchanged.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from nerkit import schemes
from nerkit.errors import NerkitError
from nerkit.interfaces import Corrector, RunContext
from nerkit.testing import checks, process
from nerkit.testing.data import (
    LONG_SENTENCE_COPIES,
    entity_score,
    in_scheme,
    label_set,
    long_sentence,
    noisy_predictions,
    toy_corpus,
    without_tags,
)
from nerkit.types import Prediction, Sentence


@dataclass
class CorrectorData:
    """Sentences and the pretend base tagger's predictions for them, split by split."""

    train: Sequence[Sentence]
    train_base: Sequence[Prediction]
    dev: Sequence[Sentence] | None  # None: no dev set, as a corpus without one gives
    dev_base: Sequence[Prediction] | None
    test: Sequence[Sentence]
    test_base: Sequence[Prediction]


def as_a_run_gives(data: CorrectorData) -> CorrectorData:
    """``data`` in the form in which a run gives it to a corrector: the sentences in
    tuples (a corpus's splits), the base predictions in lists."""
    return CorrectorData(
        tuple(data.train),
        list(data.train_base),
        tuple(data.dev) if data.dev is not None else None,
        list(data.dev_base) if data.dev_base is not None else None,
        tuple(data.test),
        list(data.test_base),
    )


@dataclass
class TrainedCorrector:
    """A corrector fitted once for a whole contract class, with what it was given."""

    corrector: Corrector
    data: CorrectorData  # the very sequences given to fit and correct
    data_before: CorrectorData  # deep copies taken before
    corrected: list[Prediction]  # of data.test


class CorrectorContract:
    """Promises of ``nerkit.interfaces.Corrector``; subclass as ``TestXxx`` and define
    :meth:`make_corrector`."""

    scheme: ClassVar[str] = "IOB2"
    seed: ClassVar[int] = 13
    #: share of base tags replaced by another label
    noise_rate: ClassVar[float] = 0.2
    allows_invalid_sequences: ClassVar[bool] = False
    tolerance: ClassVar[float] = 0.0
    #: entity F1 of the corrected training predictions must reach this share of the
    #: base predictions' F1 (the corrector learns its training data, or at least keeps
    #: what the base got right: one that predicts only O fails); 0 waives the check
    min_train_f1_vs_base: ClassVar[float] = 0.5
    #: True: fit once more in a new Python process with another ``PYTHONHASHSEED`` and
    #: compare (see ``TaggerContract.checks_hash_seed``)
    checks_hash_seed: ClassVar[bool] = False

    def make_corrector(self) -> Corrector:
        """A fresh, untrained corrector with small options (fast to train)."""
        raise NotImplementedError(f"{type(self).__name__} must define make_corrector()")

    def train_sentences(self) -> list[Sentence]:
        return in_scheme(toy_corpus()["train"], self.scheme)

    def dev_sentences(self) -> list[Sentence]:
        return in_scheme(toy_corpus()["dev"], self.scheme)

    def heldout_sentences(self) -> list[Sentence]:
        # not ``test_sentences``: pytest would collect a method of that name as a test
        return in_scheme(toy_corpus()["test"], self.scheme)

    def base_predictions(self, sentences: list[Sentence], seed_offset: int) -> list[Prediction]:
        """What the pretend base tagger predicts: gold tags with seeded noise."""
        labels = label_set(self.train_sentences())
        return noisy_predictions(
            sentences, rate=self.noise_rate, seed=self.seed + seed_offset, labels=labels
        )

    def make_context(self, work_dir: Path) -> RunContext:
        return RunContext(seed=self.seed, work_dir=work_dir)

    def corrector_data(self) -> CorrectorData:
        train, dev, test = self.train_sentences(), self.dev_sentences(), self.heldout_sentences()
        return CorrectorData(
            train,
            self.base_predictions(train, 0),
            dev,
            self.base_predictions(dev, 1),
            test,
            self.base_predictions(test, 2),
        )

    def fit_fresh(self, work_dir: Path, data: CorrectorData) -> Corrector:
        corrector = self.make_corrector()
        corrector.fit(
            data.train,
            data.train_base,
            data.dev,
            data.dev_base,
            scheme=self.scheme,
            context=self.make_context(work_dir),
        )
        return corrector

    def prepare(self, work_dir: Path) -> TrainedCorrector:
        """Fit a fresh corrector and correct the held-out predictions, keeping copies of
        every input (what the ``trained_corrector`` fixture holds)."""
        data = as_a_run_gives(self.corrector_data())
        before = copy.deepcopy(data)
        corrector = self.fit_fresh(work_dir, data)
        corrected = corrector.correct(data.test, data.test_base)
        return TrainedCorrector(corrector, data, before, corrected)

    # A classmethod: pytest gives each test a new instance, so a class-scoped fixture
    # must not hang on to one.
    @pytest.fixture(scope="class")
    @classmethod
    def trained_corrector(cls, tmp_path_factory: pytest.TempPathFactory) -> TrainedCorrector:
        return cls().prepare(tmp_path_factory.mktemp("fit"))

    # --------------------------------------------------------------- tests

    def test_corrects_one_tag_per_token(self, trained_corrector: TrainedCorrector) -> None:
        checks.assert_one_tag_per_token(trained_corrector.data.test, trained_corrector.corrected)

    def test_tags_have_the_form_of_the_declared_scheme(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        scheme = schemes.get_scheme(trained_corrector.corrector.scheme).name
        checks.assert_tags_in_scheme(
            trained_corrector.data.test, trained_corrector.corrected, scheme, sequences=False
        )
        types = checks.trained_types(self.train_sentences())
        checks.assert_types_known(trained_corrector.corrected, types)

    def test_tag_sequences_are_valid(self, trained_corrector: TrainedCorrector) -> None:
        if self.allows_invalid_sequences:
            pytest.skip("this corrector leaves repairing invalid sequences to a decoder")
        checks.assert_tags_in_scheme(
            trained_corrector.data.test,
            trained_corrector.corrected,
            trained_corrector.corrector.scheme,
        )

    def test_confidences_are_probabilities(self, trained_corrector: TrainedCorrector) -> None:
        checks.assert_confidences_well_formed(
            trained_corrector.data.test, trained_corrector.corrected
        )

    def test_probability_labels_are_tags_of_the_declared_scheme(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        types = checks.trained_types(self.train_sentences())
        checks.assert_labels_in_scheme(
            trained_corrector.data.test,
            trained_corrector.corrected,
            schemes.get_scheme(trained_corrector.corrector.scheme).name,
            types,
        )

    def test_probabilities_as_declared(self, trained_corrector: TrainedCorrector) -> None:
        checks.assert_probabilities_as_declared(
            trained_corrector.data.test,
            trained_corrector.corrected,
            trained_corrector.corrector.gives_probabilities,
        )

    def test_corrections_are_in_the_declared_scheme(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        checks.assert_declared_scheme_reads_best(
            trained_corrector.corrected,
            trained_corrector.corrector.scheme,
            self.scheme,
            what="corrector",
        )

    def test_learns_the_training_data(self, trained_corrector: TrainedCorrector) -> None:
        if self.min_train_f1_vs_base == 0:
            pytest.skip("min_train_f1_vs_base = 0: the learning check is waived")
        data = trained_corrector.data
        gold = [s.tags for s in data.train]
        base = entity_score(gold, [p.tags for p in data.train_base], self.scheme)
        corrected = entity_score(
            gold,
            [p.tags for p in trained_corrector.corrector.correct(data.train, data.train_base)],
            self.scheme,
            predicted_scheme=trained_corrector.corrector.scheme,
        )
        assert corrected.f1 >= self.min_train_f1_vs_base * base.f1, (
            f"entity F1 on its own training data is {corrected.f1:.3f} corrected, "
            f"{base.f1:.3f} before (the noisy base tags): below "
            f"min_train_f1_vs_base = {self.min_train_f1_vs_base} of it (untrained, or it "
            "drops the entities); train it longer in make_corrector(), or set "
            "min_train_f1_vs_base = 0 to waive this check"
        )

    def test_fit_and_correct_leave_their_inputs_unchanged(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        for field in dataclasses.fields(CorrectorData):
            now = getattr(trained_corrector.data, field.name)
            before = getattr(trained_corrector.data_before, field.name)
            assert now == before, f"the {field.name} given to the corrector changed"

    def test_save_then_load_corrects_the_same(
        self, trained_corrector: TrainedCorrector, tmp_path: Path
    ) -> None:
        corrector = trained_corrector.corrector
        directory = tmp_path / "model"
        directory.mkdir()
        corrector.save(directory)
        assert any(directory.iterdir()), "save wrote nothing"
        # a run saves into ID.partial/ and renames it to ID/ when done, and reused folds
        # are copied: what was saved must load from another place
        moved = checks.moved_folder(directory, tmp_path / "moved")
        loaded = type(corrector).load(moved)
        assert isinstance(loaded, type(corrector))
        assert loaded.scheme == corrector.scheme
        checks.assert_same_predictions(
            trained_corrector.corrected,
            loaded.correct(trained_corrector.data.test, trained_corrector.data.test_base),
            tolerance=self.tolerance,
            what="after save and load",
        )

    def test_same_seed_corrects_the_same(
        self, trained_corrector: TrainedCorrector, tmp_path: Path
    ) -> None:
        again = self.fit_fresh(tmp_path, as_a_run_gives(self.corrector_data()))
        checks.assert_same_predictions(
            trained_corrector.corrected,
            again.correct(trained_corrector.data.test, trained_corrector.data.test_base),
            tolerance=self.tolerance,
            what=f"two fits with seed {self.seed}",
        )

    def test_fit_does_not_depend_on_the_hash_seed(
        self, trained_corrector: TrainedCorrector, tmp_path: Path
    ) -> None:
        if not self.checks_hash_seed:
            pytest.skip("checks_hash_seed = False: no fit in a process with another hash seed")
        hash_seed = process.other_hash_seed()
        checks.assert_same_predictions(
            trained_corrector.corrected,
            process.prepared_outputs(type(self), tmp_path, hash_seed),
            tolerance=self.tolerance,
            what=f"a fit in a new process with PYTHONHASHSEED={hash_seed} (does fit iterate "
            "a set of strings, or a random generator not seeded from context.seed?)",
        )

    def test_fit_on_no_sentences_is_a_clear_error(self, tmp_path: Path) -> None:
        with pytest.raises(NerkitError) as error:
            self.make_corrector().fit(
                [], [], scheme=self.scheme, context=self.make_context(tmp_path)
            )
        assert str(error.value).strip(), "the error has no message"

    def test_correcting_no_sentences_gives_no_predictions(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        assert trained_corrector.corrector.correct([], []) == []

    def test_sentences_and_predictions_of_different_lengths_are_a_clear_error(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        with pytest.raises(NerkitError) as error:
            trained_corrector.corrector.correct(
                trained_corrector.data.test, trained_corrector.data.test_base[:-1]
            )
        assert str(error.value).strip(), "the error has no message"

    def test_a_sentence_without_tokens_gets_an_empty_prediction(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        # tokenisers and corpora produce such sentences; one should not stop a run
        data = trained_corrector.data
        out = trained_corrector.corrector.correct(
            [data.test[0], Sentence(tokens=()), data.test[-1]],
            [data.test_base[0], Prediction(tags=()), data.test_base[-1]],
        )
        assert len(out) == 3, (
            f"3 sentences (the middle one without tokens) but {len(out)} predictions"
        )
        assert out[1].tags == () and out[1].confidences == ()
        # the empty sentence must not shift the others' corrections
        assert out[0].tags == trained_corrector.corrected[0].tags
        assert out[2].tags == trained_corrector.corrected[-1].tags

    def long_sentence_and_base(self, data: CorrectorData) -> tuple[Sentence, Prediction]:
        """A sentence of over 800 tokens (``data.long_sentence``) and its base prediction."""
        sentence = long_sentence(data.train)
        (base,) = self.base_predictions([sentence], 3)
        return sentence, base

    def test_a_long_sentence_gets_one_tag_per_token(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        # between two short sentences, whose corrections it must not shift
        corrector, data = trained_corrector.corrector, trained_corrector.data
        sentence, base = self.long_sentence_and_base(data)
        batch = (data.test[0], sentence, data.test[-1])
        out = corrector.correct(batch, [data.test_base[0], base, data.test_base[-1]])
        checks.assert_well_formed(
            batch, out, corrector, sequences=not self.allows_invalid_sequences
        )
        assert out[0].tags == trained_corrector.corrected[0].tags, (
            "a long sentence in the batch changes the corrections of the sentence before it"
        )
        assert out[2].tags == trained_corrector.corrected[-1].tags, (
            "a long sentence in the batch changes the corrections of the sentence after it"
        )

    def test_a_long_sentence_is_corrected_to_its_end(
        self, trained_corrector: TrainedCorrector
    ) -> None:
        sentence, base = self.long_sentence_and_base(trained_corrector.data)
        out = trained_corrector.corrector.correct((sentence,), [base])
        checks.assert_one_tag_per_token((sentence,), out)
        checks.assert_tagged_to_the_end(sentence, out[0], LONG_SENTENCE_COPIES, what="corrector")

    def test_order_of_sentences_does_not_matter(self, trained_corrector: TrainedCorrector) -> None:
        data = trained_corrector.data
        backwards = trained_corrector.corrector.correct(data.test[::-1], data.test_base[::-1])
        assert [p.tags for p in backwards[::-1]] == [p.tags for p in trained_corrector.corrected], (
            "a sentence's corrections depend on the sentences corrected with it"
        )

    def test_raw_text_gets_the_same_corrections(self, trained_corrector: TrainedCorrector) -> None:
        # sentences to correct may carry gold tags (evaluation); a corrector must not read them
        raw = trained_corrector.corrector.correct(
            without_tags(trained_corrector.data.test), trained_corrector.data.test_base
        )
        assert [p.tags for p in raw] == [p.tags for p in trained_corrector.corrected], (
            "corrections change when the sentences' gold tags are removed: the corrector reads them"
        )
