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
* fit and predict take tuples of sentences, as a run gives them, and lists, as a fold
  of cross-validation (``--folds``) gives them, and leave them all unchanged (dev too);
* save then load predicts the same; two fits with one seed predict the same (with
  ``checks_hash_seed``, also in a new process with another ``PYTHONHASHSEED``);
* ``fit([])`` and predicting before fit raise ``NerkitError``; ``predict([])`` is ``[]``;
* a sentence without tokens gets a Prediction without tags, not an error: tokenisers
  and corpora produce such sentences, and one should not stop a run;
* a sentence of over 800 tokens gets one tag per token, and is tagged to its end (see
  ``data.long_sentence``): past any 128- or 512-subword window;
* raw text (sentences without tags) gets the same tags as the same sentences with gold
  tags, and a sentence's tags do not depend on the other sentences in the batch.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from nerkit import schemes
from nerkit.errors import NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.testing import checks, process
from nerkit.testing.data import (
    LONG_SENTENCE_COPIES,
    entity_score,
    in_scheme,
    long_sentence,
    toy_corpus,
    without_tags,
)
from nerkit.types import Prediction, Sentence


@dataclass
class TrainedTagger:
    """A tagger fitted once for a whole contract class, with what it was given."""

    tagger: Tagger
    train: Sequence[Sentence]  # the very tuple given to fit
    train_before: Sequence[Sentence]  # a deep copy taken before fit
    test: Sequence[Sentence]  # the very tuple given to predict
    test_before: Sequence[Sentence]
    predictions: list[Prediction]
    # last, with defaults: subclasses may build one from the fields above
    dev: Sequence[Sentence] | None = None  # the very tuple given to fit as dev
    dev_before: Sequence[Sentence] | None = None


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
    #: True: fit once more in a new Python process with another ``PYTHONHASHSEED`` and
    #: compare, which catches a fit that depends on the order of a set of strings. It
    #: costs a process start and a fit, and needs the subclass importable by its module
    #: and name in that process; fixtures (autouse ones included) do not run there
    checks_hash_seed: ClassVar[bool] = False

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

    def fit_fresh(
        self,
        work_dir: Path,
        train: Sequence[Sentence] | None = None,
        dev: Sequence[Sentence] | None = None,
    ) -> Tagger:
        """A fresh tagger fit on ``train`` and ``dev``; by default on the contract's
        sentences as tuples, the form in which a run gives them."""
        tagger = self.make_tagger()
        tagger.fit(
            train if train is not None else tuple(self.train_sentences()),
            dev if dev is not None else _as_tuple(self.dev_sentences()),
            scheme=self.scheme,
            context=self.make_context(work_dir),
        )
        return tagger

    def prepare(self, work_dir: Path) -> TrainedTagger:
        """Fit a fresh tagger and predict the held-out sentences, all given as tuples as
        a run gives them, keeping copies of every input (what the ``trained_tagger``
        fixture holds)."""
        train, dev = tuple(self.train_sentences()), _as_tuple(self.dev_sentences())
        train_before, dev_before = copy.deepcopy(train), copy.deepcopy(dev)
        tagger = self.fit_fresh(work_dir, train, dev)
        test = tuple(self.heldout_sentences())
        test_before = copy.deepcopy(test)
        predictions = tagger.predict(test)
        return TrainedTagger(
            tagger, train, train_before, test, test_before, predictions, dev, dev_before
        )

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
        assert trained_tagger.dev == trained_tagger.dev_before, "fit changed its dev sentences"
        assert trained_tagger.test == trained_tagger.test_before, "predict changed its sentences"
        # a fold of cross-validation gives a list, which predict must not sort in place
        given = list(trained_tagger.test)
        trained_tagger.tagger.predict(given)
        assert given == list(trained_tagger.test_before), (
            "predict changed the list of sentences it was given"
        )

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
        # this fit gets a list of training sentences and the dev tuple, as a fold of
        # cross-validation (--folds) does: a tagger that joins them (train + dev) fails
        train = list(self.train_sentences())
        train_before = copy.deepcopy(train)
        again = self.fit_fresh(tmp_path, train, trained_tagger.dev)
        assert train == train_before, "fit changed the list of training sentences it was given"
        checks.assert_same_predictions(
            trained_tagger.predictions,
            again.predict(trained_tagger.test),
            tolerance=self.tolerance,
            what=f"two fits with seed {self.seed} (the second given a list, as a fold is)",
        )

    def test_fit_does_not_depend_on_the_hash_seed(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        if not self.checks_hash_seed:
            pytest.skip("checks_hash_seed = False: no fit in a process with another hash seed")
        hash_seed = process.other_hash_seed()
        checks.assert_same_predictions(
            trained_tagger.predictions,
            process.prepared_outputs(type(self), tmp_path, hash_seed),
            tolerance=self.tolerance,
            what=f"a fit in a new process with PYTHONHASHSEED={hash_seed} (does fit iterate "
            "a set of strings, or a random generator not seeded from context.seed?)",
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

    def test_a_long_sentence_gets_one_tag_per_token(self, trained_tagger: TrainedTagger) -> None:
        # between two short sentences, whose tags it must not shift (a windowing bug would)
        tagger = trained_tagger.tagger
        first, last = trained_tagger.test[0], trained_tagger.test[-1]
        batch = (first, long_sentence(trained_tagger.train), last)
        out = tagger.predict(batch)
        checks.assert_well_formed(batch, out, tagger, sequences=not self.allows_invalid_sequences)
        assert out[0].tags == trained_tagger.predictions[0].tags, (
            "a long sentence in the batch changes the tags of the sentence before it"
        )
        assert out[2].tags == trained_tagger.predictions[-1].tags, (
            "a long sentence in the batch changes the tags of the sentence after it"
        )

    def test_a_long_sentence_is_tagged_to_its_end(self, trained_tagger: TrainedTagger) -> None:
        sentence = long_sentence(trained_tagger.train)
        out = trained_tagger.tagger.predict((sentence,))
        checks.assert_one_tag_per_token((sentence,), out)
        checks.assert_tagged_to_the_end(sentence, out[0], LONG_SENTENCE_COPIES, what="tagger")

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


def _as_tuple(sentences: Sequence[Sentence] | None) -> tuple[Sentence, ...] | None:
    return tuple(sentences) if sentences is not None else None
