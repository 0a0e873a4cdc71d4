"""nerkit.testing: the contracts run on small real components, catch broken ones, and
reach plugin authors through the pytest11 entry point."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SHARED_DATA, has_shared_data
from fakes import MajorityCorrector, majority

from nerkit import schemes
from nerkit.decoders import (
    ConllevalDecoder,
    DiscardDecoder,
    NoDecoder,
    ViterbiDecoder,
    repair_conlleval,
)
from nerkit.errors import NerkitError
from nerkit.interfaces import Corrector, Decoder, Metric, MetricRow, RunContext, Tagger
from nerkit.io import read
from nerkit.testing import (
    CorrectorContract,
    DatasetContract,
    DecoderContract,
    MetricContract,
    TaggerContract,
    in_scheme,
    toy_corpus,
)
from nerkit.types import Corpus, Prediction, Sentence, Span

# ----------------------------------------------------------- small components


class UnigramTagger(Tagger):
    """Each known token's most frequent training tag (others ``O``), repaired."""

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.table: dict[str, str] | None = None

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        if not train:
            raise NerkitError("unigram tagger: no training sentences")
        votes: dict[str, Counter[str]] = {}
        for sentence in train:
            for token, tag in zip(sentence.tokens, sentence.tags, strict=True):
                votes.setdefault(token, Counter())[tag] += 1
        self.table = {token: majority(v) for token, v in votes.items()}
        self.scheme = schemes.get_scheme(scheme).name

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        if self.table is None:
            raise NerkitError("unigram tagger is not trained")
        return [self._tag(s) for s in sentences]

    def _tag(self, sentence: Sentence) -> Prediction:
        assert self.table is not None
        raw = [self.table.get(t, schemes.OUTSIDE) for t in sentence.tokens]
        return Prediction(tags=repair_conlleval(raw, self.scheme).tags)

    def save(self, directory: Path) -> None:
        (directory / "table.json").write_text(
            json.dumps({"scheme": self.scheme, "table": self.table})
        )

    @classmethod
    def load(cls, directory: Path) -> UnigramTagger:
        payload = json.loads((directory / "table.json").read_text())
        tagger = cls()
        tagger.scheme, tagger.table = payload["scheme"], payload["table"]
        return tagger


class SpanMetric(Metric):
    """Exact-match entity precision / recall / F1 per type and micro-averaged."""

    def compute(
        self,
        gold: Sequence[Sequence[str]],
        predicted: Sequence[Sequence[str]],
        *,
        scheme: str = "IOB2",
        mode: str = "lenient",
    ) -> list[MetricRow]:
        gold_spans, pred_spans = set(), set()
        for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
            gold_spans |= {(i, s.start, s.end, s.label) for s in schemes.spans(g, scheme, mode)}
            pred_spans |= {(i, s.start, s.end, s.label) for s in schemes.spans(p, scheme, mode)}
        rows: list[MetricRow] = []
        labels = sorted({s[3] for s in gold_spans | pred_spans})
        for label in [*labels, "micro"]:
            g = {s for s in gold_spans if label in ("micro", s[3])}
            p = {s for s in pred_spans if label in ("micro", s[3])}
            correct = len(g & p)
            precision = correct / len(p) if p else 0.0
            recall = correct / len(g) if g else 0.0
            f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
            for metric, value in (("precision", precision), ("recall", recall), ("f1", f1)):
                rows.append(MetricRow(metric, label, value, len(g)))
        return rows


# ------------------------------------------------------------ the contracts


class TestMajorityCorrector(CorrectorContract):
    checks_hash_seed = True

    def make_corrector(self) -> Corrector:
        return MajorityCorrector()


class TestMajorityCorrectorBIOES(TestMajorityCorrector):
    scheme = "BIOES"
    noise_rate = 0.5


class TestUnigramTagger(TaggerContract):
    min_train_f1 = 0.5
    checks_hash_seed = True

    def make_tagger(self) -> Tagger:
        return UnigramTagger()


class BIOESPredictingTagger(UnigramTagger):
    """Fit in any scheme, predicts BIOES and says so (``Tagger.scheme``): a run converts."""

    fit_scheme = "IOB2"

    def fit(self, *args: Any, **kwargs: Any) -> None:
        super().fit(*args, **kwargs)
        self.fit_scheme, self.scheme = self.scheme, "BIOES"

    def _tag(self, sentence: Sentence) -> Prediction:
        assert self.table is not None
        raw = [self.table.get(t, schemes.OUTSIDE) for t in sentence.tokens]
        return Prediction(tags=tuple(schemes.convert(raw, self.fit_scheme, "BIOES")))

    def save(self, directory: Path) -> None:
        super().save(directory)
        (directory / "fit_scheme").write_text(self.fit_scheme)

    @classmethod
    def load(cls, directory: Path) -> BIOESPredictingTagger:
        tagger = super().load(directory)
        assert isinstance(tagger, BIOESPredictingTagger)
        tagger.fit_scheme = (directory / "fit_scheme").read_text()
        return tagger


class TestBIOESPredictingTagger(TaggerContract):
    min_train_f1 = 0.5

    def make_tagger(self) -> Tagger:
        return BIOESPredictingTagger()


class WithProbabilities(UnigramTagger):
    """Probabilities over every tag of the scheme over the learnt types (as crfsuite
    gives them), plus an all-zero column of a type it never learnt: a fixed label set."""

    extra: tuple[str, ...] = ("B-MISC",)
    #: probability mass spread over every label (0: one-hot rows)
    smooth = 0.0

    def _tag(self, sentence: Sentence) -> Prediction:
        tags = super()._tag(sentence).tags
        assert self.table is not None
        types = sorted({schemes.split_tag(t)[1] for t in self.table.values()} - {""})
        prefixes = schemes.get_scheme(self.scheme).prefixes
        labels = ("O", *(f"{p}-{t}" for t in types for p in prefixes), *self.extra)
        probabilities = np.full((len(tags), len(labels)), self.smooth / len(labels))
        probabilities[np.arange(len(tags)), [labels.index(t) for t in tags]] += 1.0 - self.smooth
        return Prediction(tags=tags, probabilities=probabilities, labels=labels)


class TestTaggerWithAFixedLabelSet(TaggerContract):
    scheme = "BIOES"
    min_train_f1 = 0.5

    def make_tagger(self) -> Tagger:
        return WithProbabilities()


class TestConllevalDecoderIOB2(DecoderContract):
    def make_decoder(self) -> Decoder:
        return ConllevalDecoder()


class TestConllevalDecoderBIOES(TestConllevalDecoderIOB2):
    scheme = "BIOES"


class TestDiscardDecoderIOB2(DecoderContract):
    def make_decoder(self) -> Decoder:
        return DiscardDecoder()


class TestDiscardDecoderBIOES(TestDiscardDecoderIOB2):
    scheme = "BIOES"


class TestConllevalDecoderIO(TestConllevalDecoderIOB2):
    """IO has no invalid sequence: nothing to repair, and the contract still runs."""

    scheme = "IO"


class TestDiscardDecoderIO(TestDiscardDecoderIOB2):
    scheme = "IO"


class TestViterbiDecoderIOB2(DecoderContract):
    needs_probabilities = True

    def make_decoder(self) -> Decoder:
        return ViterbiDecoder()


class TestViterbiDecoderBIOES(TestViterbiDecoderIOB2):
    scheme = "BIOES"
    entity_types = ("LOC", "ORG", "PER")


class TestViterbiDecoderIO(TestViterbiDecoderIOB2):
    scheme = "IO"


class TestSpanMetric(MetricContract):
    def make_metric(self) -> Metric:
        return SpanMetric()


class TestSpanMetricBILOU(TestSpanMetric):
    scheme = "BILOU"


class TestToyCorpus(DatasetContract):
    required_splits = ("train", "dev", "test")

    def load(self) -> Corpus:
        return toy_corpus()


class TestWnut17AsADataset(DatasetContract):
    required_splits = ("train", "dev", "test")

    def load(self) -> Corpus:
        if not has_shared_data("wnut17"):
            pytest.skip(f"WNUT-17 not found under {SHARED_DATA}; set NERKIT_DATA_DIR")
        folder = SHARED_DATA / "wnut17"
        files = {
            "train": "wnut17train.conll",
            "dev": "emerging.dev.conll",
            "test": "emerging.test.annotated",
        }
        splits = {
            name: read(folder / f, format="conll", scheme="IOB2").sentences
            for name, f in files.items()
        }
        return Corpus(splits=splits, name="wnut17", scheme="IOB2")


# ------------------------------------------- the contracts catch broken code


class PeekingTagger(UnigramTagger):
    """Cheats: returns the gold tags of sentences that carry them."""

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        honest = super().predict(sentences)
        return [Prediction(s.tags) if s.tags else p for s, p in zip(sentences, honest, strict=True)]


class SortingTagger(UnigramTagger):
    """Sorts the caller's list in place (say, to batch sentences by length), copying
    only what is not a list: a run's tuples pass, a fold's list is reordered."""

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        batch = sentences if isinstance(sentences, list) else list(sentences)
        batch.sort(key=len)
        return super().predict(batch)


_fits = itertools.count()


class UnseededTagger(UnigramTagger):
    """Seeds itself from a process-wide counter instead of ``context.seed``, so two fits
    with the same seed forget different entities."""

    def fit(self, train: Sequence[Sentence], *args: Any, **kwargs: Any) -> None:
        super().fit(train, *args, **kwargs)
        assert self.table is not None
        rng = random.Random(next(_fits))
        entities = sorted(t for t, tag in self.table.items() if tag != schemes.OUTSIDE)
        drop = set(rng.sample(entities, len(entities) // 2))
        self.table = {t: tag for t, tag in self.table.items() if t not in drop}


class BrokenTagger(TaggerContract):
    """Not collected: each meta-test below swaps in one broken tagger."""

    broken: type[Tagger] = UnigramTagger

    def make_tagger(self) -> Tagger:
        return self.broken()


class StaleSchemeTagger(UnigramTagger):
    """Never records the scheme it is fit in: says IOB2 (the class default) and predicts
    the IOB1 it learnt, leaving repair to a decoder."""

    def fit(self, *args: Any, **kwargs: Any) -> None:
        super().fit(*args, **kwargs)
        del self.scheme  # as if fit never set it

    def _tag(self, sentence: Sentence) -> Prediction:
        assert self.table is not None
        return Prediction(tags=tuple(self.table.get(t, schemes.OUTSIDE) for t in sentence.tokens))


class AlwaysOutside(UnigramTagger):
    """Fits, saves and loads like a tagger, and predicts O everywhere."""

    def _tag(self, sentence: Sentence) -> Prediction:
        return Prediction(tags=(schemes.OUTSIDE,) * len(sentence.tokens))


class ForeignLabels(WithProbabilities):
    """A probability column ``S-PER``: no IOB2 tag."""

    extra = ("S-PER",)


class UnknownTypeLabels(WithProbabilities):
    """A column of a type never in the training data that the viterbi decoder can choose."""

    smooth = 0.1


class ClaimsProbabilities(UnigramTagger):
    """Says it gives probabilities, which a run trusts to accept the viterbi decoder."""

    gives_probabilities = True


class DeniesProbabilities(WithProbabilities):
    """Gives probabilities yet says it does not: a run would refuse viterbi for nothing."""

    gives_probabilities = False


@pytest.mark.parametrize(
    ("broken", "contract_test", "message"),
    [
        (ClaimsProbabilities, "test_probabilities_as_declared", "is True, yet .* has none"),
        (DeniesProbabilities, "test_probabilities_as_declared", "is False, yet .* has a prob"),
        (PeekingTagger, "test_raw_text_gets_the_same_tags", "the tagger reads them"),
        (AlwaysOutside, "test_learns_the_training_data", "finds no entity of its own training"),
        (SortingTagger, "test_fit_and_predict_leave_their_inputs_unchanged", "predict changed"),
        (UnseededTagger, "test_same_seed_predicts_the_same", "two fits with seed 13"),
        (
            ForeignLabels,
            "test_probability_labels_are_tags_of_the_declared_scheme",
            "a probability label: tag 'S-PER' has a prefix not in IOB2",
        ),
        (
            UnknownTypeLabels,
            "test_probability_labels_are_tags_of_the_declared_scheme",
            "label 'B-MISC' has a type never in the training data",
        ),
    ],
)
def test_tagger_contract_catches(
    broken: type[Tagger], contract_test: str, message: str, tmp_path: Path
) -> None:
    contract = type("Contract", (BrokenTagger,), {"broken": broken})()
    trained = contract.prepare(tmp_path / "fit")
    arguments: dict[str, Any] = {"trained_tagger": trained}
    if contract_test == "test_same_seed_predicts_the_same":
        arguments["tmp_path"] = tmp_path / "again"
    with pytest.raises(AssertionError, match=message):
        getattr(contract, contract_test)(**arguments)


class LoadsFromWhereItSaved(UnigramTagger):
    """Saves the folder's absolute path and loads from there, wherever it is asked to:
    after a run renames ID.partial/ to ID/, the model cannot be loaded."""

    def save(self, directory: Path) -> None:
        super().save(directory)
        (directory / "where").write_text(str(directory.resolve()))

    @classmethod
    def load(cls, directory: Path) -> UnigramTagger:
        return super().load(Path((directory / "where").read_text()))


def test_tagger_contract_loads_what_was_saved_from_another_place(tmp_path: Path) -> None:
    contract = type("Contract", (BrokenTagger,), {"broken": LoadsFromWhereItSaved})()
    trained = contract.prepare(tmp_path / "fit")
    (tmp_path / "save").mkdir()
    with pytest.raises(FileNotFoundError, match=r"save/model/table\.json"):
        contract.test_save_then_load_predicts_the_same(trained, tmp_path / "save")


def test_tagger_contract_catches_a_tagger_that_does_not_record_its_scheme(
    tmp_path: Path,
) -> None:
    class Contract(BrokenTagger):
        broken = StaleSchemeTagger
        scheme = "IOB1"
        allows_invalid_sequences = True

    contract = Contract()
    trained = contract.prepare(tmp_path)
    # its tags have IOB2's prefixes: only reading them tells the schemes apart
    contract.test_tags_have_the_form_of_the_declared_scheme(trained)
    with pytest.raises(AssertionError, match=r"declares scheme IOB2 after fit\(scheme='IOB1'\)"):
        contract.test_predictions_are_in_the_declared_scheme(trained)


class PeekingCorrector(MajorityCorrector):
    def correct(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[Prediction]:
        honest = super().correct(sentences, predictions)
        return [Prediction(s.tags) if s.tags else p for s, p in zip(sentences, honest, strict=True)]


def test_corrector_contract_catches_a_corrector_that_reads_gold_tags(tmp_path: Path) -> None:
    class Contract(CorrectorContract):
        def make_corrector(self) -> Corrector:
            return PeekingCorrector()

    contract = Contract()
    with pytest.raises(AssertionError, match="the corrector reads them"):
        contract.test_raw_text_gets_the_same_corrections(contract.prepare(tmp_path))


class DropsEmptySentences(MajorityCorrector):
    """Corrects only the sentences with tokens (say, a batcher that skips empty ones)."""

    def correct(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[Prediction]:
        kept = [i for i, s in enumerate(sentences) if s.tokens]
        return super().correct([sentences[i] for i in kept], [predictions[i] for i in kept])


class FirstSentenceAsContext(MajorityCorrector):
    """Reads the batch's first sentence as document context: corrects nothing unless it
    is long."""

    def correct(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[Prediction]:
        corrected = super().correct(sentences, predictions)
        if sentences and len(sentences[0].tokens) > 5:
            return corrected
        return [Prediction(tags=p.tags) for p in predictions]


class DropsEntities(MajorityCorrector):
    """Fits, saves and loads like a corrector, and corrects every tag to O."""

    def _correct_one(self, sentence: Sentence, prediction: Prediction) -> Prediction:
        return Prediction(tags=(schemes.OUTSIDE,) * len(sentence.tokens))


class BrokenCorrector(CorrectorContract):
    """Not collected: each meta-test below swaps in one broken corrector."""

    broken: type[Corrector] = MajorityCorrector

    def make_corrector(self) -> Corrector:
        return self.broken()


@pytest.mark.parametrize(
    ("broken", "contract_test", "message"),
    [
        (
            DropsEmptySentences,
            "test_a_sentence_without_tokens_gets_an_empty_prediction",
            "3 sentences .* but 2 predictions",
        ),
        (
            FirstSentenceAsContext,
            "test_order_of_sentences_does_not_matter",
            "depend on the sentences corrected with it",
        ),
        (
            DropsEntities,
            "test_learns_the_training_data",
            r"entity F1 on its own training data is 0\.000 corrected, 0\.565 before",
        ),
    ],
)
def test_corrector_contract_catches(
    broken: type[Corrector], contract_test: str, message: str, tmp_path: Path
) -> None:
    contract = type("Contract", (BrokenCorrector,), {"broken": broken})()
    trained = contract.prepare(tmp_path)
    with pytest.raises(AssertionError, match=message):
        getattr(contract, contract_test)(trained_corrector=trained)


def test_in_scheme_keeps_nested_entities() -> None:
    nested = Sentence(
        ("New", "York", "University"),
        ("B-ORG", "I-ORG", "I-ORG"),
        spans=(Span(0, 3, "ORG"), Span(0, 2, "LOC")),
    )
    (converted,) = in_scheme([nested], "BIOES")
    assert converted.tags == ("B-ORG", "I-ORG", "E-ORG")
    assert converted.spans == nested.spans


class MiscountingDecoder(ConllevalDecoder):
    def decode(self, prediction: Prediction, scheme: str) -> tuple[tuple[str, ...], int]:
        tags, changed = super().decode(prediction, scheme)
        return tags, 0


@pytest.mark.parametrize(
    ("decoder", "contract_test", "message"),
    [
        (MiscountingDecoder, "test_changes_counted_are_the_tokens_changed", "reported 0"),
        (NoDecoder, "test_random_inputs_decode_to_valid_sequences", "decoded to the invalid"),
    ],
)
def test_decoder_contract_catches(decoder: type[Decoder], contract_test: str, message: str) -> None:
    class Contract(DecoderContract):
        def make_decoder(self) -> Decoder:
            return decoder()

    with pytest.raises(AssertionError, match=message):
        getattr(Contract(), contract_test)()


class TokenAccuracyAsF1(SpanMetric):
    """Reports token accuracy under the name of entity F1."""

    def compute(
        self, gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], **kw: Any
    ) -> list[MetricRow]:
        rows = [
            r
            for r in super().compute(gold, predicted, **kw)
            if (r.metric, r.label) != ("f1", "micro")
        ]
        pairs = [
            (g, p)
            for gs, ps in zip(gold, predicted, strict=True)
            for g, p in zip(gs, ps, strict=True)
        ]
        accuracy = sum(g == p for g, p in pairs) / len(pairs)
        return [*rows, MetricRow("f1", "micro", accuracy, len(pairs))]


def test_metric_contract_catches_a_wrong_f1() -> None:
    class Contract(MetricContract):
        def make_metric(self) -> Metric:
            return TokenAccuracyAsF1()

    with pytest.raises(AssertionError, match=r"'f1', 'micro'\) is 0\.\d+ for predictions without"):
        Contract().test_predicting_only_o_recalls_nothing()


# --------------------------------------------------------- reaching authors


def test_installing_nerkit_registers_the_pytest_plugin() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("nerkit") == "nerkit.testing.pytest_plugin"


def test_the_plugin_fixtures_are_available(
    nerkit_toy_corpus: Corpus, nerkit_run_context: RunContext
) -> None:
    # these fixtures come from the pytest11 plugin, not from a conftest
    assert {len(nerkit_toy_corpus[s]) for s in ("train", "dev", "test")} == {27, 4, 10}
    assert nerkit_run_context.work_dir is not None and nerkit_run_context.work_dir.is_dir()


def test_contracts_are_not_collected_as_tests() -> None:
    for contract in (
        TaggerContract,
        CorrectorContract,
        DecoderContract,
        MetricContract,
        DatasetContract,
    ):
        assert not contract.__name__.startswith("Test")
