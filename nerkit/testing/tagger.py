"""The contract every Tagger keeps. A plugin's test module subclasses it:

    from nerkit.testing import TaggerContract

    class TestMyTagger(TaggerContract):
        def make_tagger(self):
            return MyTagger({"epochs": 2})

The tagger is trained once per class on a toy corpus (override ``train_sentences`` /
``heldout_sentences`` to use other data) and each test checks one promise:

* one tag per token, of the form of ``tagger.scheme``, of types seen in training, and
  (unless ``allows_invalid_sequences``) valid sequences; confidences in [0, 1];
  probability labels are tags of ``tagger.scheme`` over the types seen in training;
* ``tagger.scheme`` may differ from the scheme given to fit (a run converts), but the
  predictions must read as that scheme rather than as the one fit was given;
* fit and predict leave the lists they are given unchanged;
* save then load predicts the same; two fits with one seed predict the same;
* ``fit([])`` and predicting before fit raise ``NerkitError``; ``predict([])`` is ``[]``;
* a sentence without tokens gets a Prediction without tags, not an error: tokenisers
  and corpora produce such sentences, and one should not stop a run;
* raw text (sentences without tags) gets the same tags as the same sentences with gold
  tags, and a sentence's tags do not depend on the other sentences in the batch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from nerkit import schemes
from nerkit.errors import NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.testing import checks
from nerkit.testing.data import entity_score, in_scheme, toy_corpus, without_tags
from nerkit.types import Prediction, Sentence


@dataclass
class TrainedTagger:
    """A tagger fitted once for a whole contract class, with what it was given."""

    tagger: Tagger
    train: list[Sentence]  # the very list given to fit
    train_before: list[Sentence]  # a deep copy taken before fit
    test: list[Sentence]  # the very list given to predict
    test_before: list[Sentence]
    predictions: list[Prediction]


class TaggerContract:
    """Promises of ``nerkit.interfaces.Tagger``; subclass as ``TestXxx`` and define
    :meth:`make_tagger`."""

    #: scheme given to ``fit``; the toy data is re-encoded in it
    scheme: ClassVar[str] = "IOB2"
    seed: ClassVar[int] = 13
    #: True for taggers that leave repairing invalid sequences to a decoder
    allows_invalid_sequences: ClassVar[bool] = False
    #: largest difference allowed between confidences that must be identical (0: exact)
    tolerance: ClassVar[float] = 0.0
    #: entity F1 on the training sentences must reach it (the tagger learns); None: it
    #: must be above 0 (one entity of its own training data found: an untrained or
    #: always-O tagger fails); 0 waives the check
    min_train_f1: ClassVar[float | None] = None
    #: True for taggers that can predict before ``fit`` (e.g. wrappers of a trained model)
    predicts_without_fit: ClassVar[bool] = False

    # ------------------------------------------------ what a subclass provides

    def make_tagger(self) -> Tagger:
        """A fresh, untrained tagger with small options (fast to train)."""
        raise NotImplementedError(f"{type(self).__name__} must define make_tagger()")

    def train_sentences(self) -> list[Sentence]:
        return in_scheme(toy_corpus()["train"], self.scheme)

    def dev_sentences(self) -> list[Sentence] | None:
        return in_scheme(toy_corpus()["dev"], self.scheme)

    def heldout_sentences(self) -> list[Sentence]:
        # not ``test_sentences``: pytest would collect a method of that name as a test
        return in_scheme(toy_corpus()["test"], self.scheme)

    def make_context(self, work_dir: Path) -> RunContext:
        return RunContext(seed=self.seed, work_dir=work_dir)

    # ------------------------------------------------------------- helpers

    def fit_fresh(self, work_dir: Path, train: list[Sentence] | None = None) -> Tagger:
        tagger = self.make_tagger()
        tagger.fit(
            train if train is not None else self.train_sentences(),
            self.dev_sentences(),
            scheme=self.scheme,
            context=self.make_context(work_dir),
        )
        return tagger

    def prepare(self, work_dir: Path) -> TrainedTagger:
        """Fit a fresh tagger and predict the held-out sentences, keeping copies of both
        inputs (what the ``trained_tagger`` fixture holds)."""
        train = self.train_sentences()
        train_before = copy.deepcopy(train)
        tagger = self.fit_fresh(work_dir, train)
        test = self.heldout_sentences()
        test_before = copy.deepcopy(test)
        predictions = tagger.predict(test)
        return TrainedTagger(tagger, train, train_before, test, test_before, predictions)

    # A classmethod: pytest gives each test a new instance, so a class-scoped fixture
    # must not hang on to one.
    @pytest.fixture(scope="class")
    @classmethod
    def trained_tagger(cls, tmp_path_factory: pytest.TempPathFactory) -> TrainedTagger:
        return cls().prepare(tmp_path_factory.mktemp("fit"))

    # --------------------------------------------------------------- tests

    def test_predicts_one_tag_per_token(self, trained_tagger: TrainedTagger) -> None:
        checks.assert_one_tag_per_token(trained_tagger.test, trained_tagger.predictions)

    def test_tags_have_the_form_of_the_declared_scheme(self, trained_tagger: TrainedTagger) -> None:
        tagger = trained_tagger.tagger
        scheme = schemes.get_scheme(tagger.scheme).name  # an unknown scheme fails here
        checks.assert_tags_in_scheme(
            trained_tagger.test, trained_tagger.predictions, scheme, sequences=False
        )
        types = checks.trained_types(trained_tagger.train)
        checks.assert_types_known(trained_tagger.predictions, types)

    def test_tag_sequences_are_valid(self, trained_tagger: TrainedTagger) -> None:
        if self.allows_invalid_sequences:
            pytest.skip("this tagger leaves repairing invalid sequences to a decoder")
        checks.assert_tags_in_scheme(
            trained_tagger.test, trained_tagger.predictions, trained_tagger.tagger.scheme
        )

    def test_confidences_are_probabilities(self, trained_tagger: TrainedTagger) -> None:
        checks.assert_confidences_well_formed(trained_tagger.test, trained_tagger.predictions)

    def test_probability_labels_are_tags_of_the_declared_scheme(
        self, trained_tagger: TrainedTagger
    ) -> None:
        types = checks.trained_types(trained_tagger.train)
        checks.assert_labels_in_scheme(
            trained_tagger.test,
            trained_tagger.predictions,
            schemes.get_scheme(trained_tagger.tagger.scheme).name,
            types,
        )

    def test_probabilities_as_declared(self, trained_tagger: TrainedTagger) -> None:
        checks.assert_probabilities_as_declared(
            trained_tagger.test,
            trained_tagger.predictions,
            trained_tagger.tagger.gives_probabilities,
        )

    def test_predictions_are_in_the_declared_scheme(self, trained_tagger: TrainedTagger) -> None:
        checks.assert_declared_scheme_reads_best(
            trained_tagger.predictions, trained_tagger.tagger.scheme, self.scheme, what="tagger"
        )

    def test_fit_and_predict_leave_their_inputs_unchanged(
        self, trained_tagger: TrainedTagger
    ) -> None:
        assert trained_tagger.train == trained_tagger.train_before, (
            "fit changed its training sentences"
        )
        assert trained_tagger.test == trained_tagger.test_before, "predict changed its sentences"

    def test_save_then_load_predicts_the_same(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        tagger = trained_tagger.tagger
        directory = tmp_path / "model"
        directory.mkdir()
        tagger.save(directory)
        assert any(directory.iterdir()), "save wrote nothing"
        # a run saves into ID.partial/ and renames it to ID/ when done, and reused folds
        # are copied: what was saved must load from another place
        moved = checks.moved_folder(directory, tmp_path / "moved")
        loaded = type(tagger).load(moved)
        assert isinstance(loaded, type(tagger))
        assert loaded.scheme == tagger.scheme
        checks.assert_same_predictions(
            trained_tagger.predictions,
            loaded.predict(trained_tagger.test),
            tolerance=self.tolerance,
            what="after save and load",
        )

    def test_same_seed_predicts_the_same(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        again = self.fit_fresh(tmp_path)
        checks.assert_same_predictions(
            trained_tagger.predictions,
            again.predict(trained_tagger.test),
            tolerance=self.tolerance,
            what=f"two fits with seed {self.seed}",
        )

    def test_fit_on_no_sentences_is_a_clear_error(self, tmp_path: Path) -> None:
        tagger = self.make_tagger()
        with pytest.raises(NerkitError) as error:
            tagger.fit([], None, scheme=self.scheme, context=self.make_context(tmp_path))
        assert str(error.value).strip(), "the error has no message"

    def test_predict_before_fit_is_a_clear_error(self) -> None:
        if self.predicts_without_fit:
            pytest.skip("this tagger can predict without being fitted")
        with pytest.raises(NerkitError) as error:
            self.make_tagger().predict(self.heldout_sentences())
        assert str(error.value).strip(), "the error has no message"

    def test_predicting_no_sentences_gives_no_predictions(
        self, trained_tagger: TrainedTagger
    ) -> None:
        assert trained_tagger.tagger.predict([]) == []

    def test_a_sentence_without_tokens_gets_an_empty_prediction(
        self, trained_tagger: TrainedTagger
    ) -> None:
        first, last = trained_tagger.test[0], trained_tagger.test[-1]
        out = trained_tagger.tagger.predict([first, Sentence(tokens=()), last])
        assert len(out) == 3, (
            f"3 sentences (the middle one without tokens) but {len(out)} predictions"
        )
        assert out[1].tags == () and out[1].confidences == ()
        # the empty sentence must not shift the others' predictions
        assert out[0].tags == trained_tagger.predictions[0].tags
        assert out[2].tags == trained_tagger.predictions[-1].tags

    def test_raw_text_gets_the_same_tags(self, trained_tagger: TrainedTagger) -> None:
        # sentences to predict may carry gold tags (evaluation); a tagger must not read them
        raw = trained_tagger.tagger.predict(without_tags(trained_tagger.test))
        checks.assert_one_tag_per_token(trained_tagger.test, raw)
        assert [p.tags for p in raw] == [p.tags for p in trained_tagger.predictions], (
            "predictions change when the sentences' gold tags are removed: the tagger reads them"
        )

    def test_order_of_sentences_does_not_matter(self, trained_tagger: TrainedTagger) -> None:
        backwards = trained_tagger.tagger.predict(trained_tagger.test[::-1])
        assert [p.tags for p in backwards[::-1]] == [p.tags for p in trained_tagger.predictions], (
            "a sentence's tags depend on the sentences predicted with it"
        )

    def test_learns_the_training_data(self, trained_tagger: TrainedTagger) -> None:
        if self.min_train_f1 == 0:
            pytest.skip("min_train_f1 = 0: the learning check is waived for this tagger")
        train = trained_tagger.train
        predicted = trained_tagger.tagger.predict(train)
        score = entity_score(
            [s.tags for s in train],
            [p.tags for p in predicted],
            self.scheme,
            predicted_scheme=trained_tagger.tagger.scheme,
        )
        if self.min_train_f1 is None:
            assert score.f1 > 0, (
                "the tagger finds no entity of its own training data (untrained, or it "
                "predicts only O); train it longer in make_tagger(), or set "
                "min_train_f1 = 0 to waive this check"
            )
        else:
            assert score.f1 >= self.min_train_f1, (
                f"entity F1 on its own training data is {score.f1:.3f}"
            )
