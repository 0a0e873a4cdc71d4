"""nerkit.testing gives components their inputs in every form a run gives them (tuples
of sentences, and the lists of a fold), checks that each input is left unchanged,
predicts a long sentence, and can fit again in a process with another hash seed. Each
broken component below passed every contract test before; in a run it stops with an
error, or its results are wrong or change from one run to the next."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fakes import MajorityCorrector
from test_testing_contracts import BrokenCorrector, BrokenTagger, UnigramTagger

from nerkit import schemes
from nerkit.interfaces import Corrector, RunContext, Tagger
from nerkit.pipeline import Run, RunConfig
from nerkit.plugin.host import PluginHost
from nerkit.plugin.spec import hookimpl
from nerkit.testing import CorrectorContract, TaggerContract, long_sentence, toy_corpus
from nerkit.types import Prediction, Sentence


def contract_failures(contract: TaggerContract | CorrectorContract, work: Path) -> dict[str, str]:
    """Each test of ``contract`` that fails, with its error, run as pytest runs them: one
    fit for the class, a fresh folder for each test that asks for one. A fit that fails
    fails every test that needs it; it is reported once, as ``prepare``."""
    fixture = "trained_tagger" if isinstance(contract, TaggerContract) else "trained_corrector"
    try:
        trained = contract.prepare(work / "fit")
    except Exception as exc:  # what pytest shows as the fixture's error
        return {"prepare": f"{type(exc).__name__}: {exc}"}
    failures = {}
    for name in (n for n in dir(contract) if n.startswith("test_")):
        method = getattr(contract, name)
        arguments: dict[str, Any] = {}
        if fixture in inspect.signature(method).parameters:
            arguments[fixture] = trained
        if "tmp_path" in inspect.signature(method).parameters:
            arguments["tmp_path"] = work / name
            arguments["tmp_path"].mkdir(parents=True)
        try:
            method(**arguments)
        except pytest.skip.Exception:
            pass
        except Exception as exc:
            failures[name] = f"{type(exc).__name__}: {exc}"
    return failures


def assert_caught(
    contract: TaggerContract | CorrectorContract, work: Path, test: str, message: str
) -> dict[str, str]:
    failures = contract_failures(contract, work)
    assert test in failures, f"{test} passes; the failures: {failures}"
    assert message in failures[test], failures[test]
    return failures


def tagger_contract(broken: type[Tagger]) -> TaggerContract:
    return type("Contract", (BrokenTagger,), {"broken": broken})()


def corrector_contract(broken: type[Corrector]) -> CorrectorContract:
    return type("Contract", (BrokenCorrector,), {"broken": broken})()


def test_the_unigram_tagger_and_majority_corrector_pass(tmp_path: Path) -> None:
    assert contract_failures(tagger_contract(UnigramTagger), tmp_path / "tagger") == {}
    assert contract_failures(corrector_contract(MajorityCorrector), tmp_path / "corrector") == {}


# ------------------------------------------------ the inputs, as a run gives them


class RecordingTagger(UnigramTagger):
    """Records the type of each sequence fit and predict are given."""

    seen: ClassVar[set[tuple[str, str, str]]] = set()

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        self.seen.update(kinds("fit", train=train, dev=dev))
        super().fit(train, dev, scheme=scheme, context=context)

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        self.seen.update(kinds("predict", sentences=sentences))
        return super().predict(sentences)


class RecordingCorrector(MajorityCorrector):
    """Records the type of each sequence fit and correct are given."""

    seen: ClassVar[set[tuple[str, str, str]]] = set()

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
        self.seen.update(
            kinds(
                "corrector fit",
                train=train,
                train_predictions=train_predictions,
                dev=dev,
                dev_predictions=dev_predictions,
            )
        )
        super().fit(train, train_predictions, dev, dev_predictions, scheme=scheme, context=context)

    def correct(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[Prediction]:
        self.seen.update(kinds("correct", sentences=sentences, predictions=predictions))
        return super().correct(sentences, predictions)


def kinds(method: str, **arguments: object) -> set[tuple[str, str, str]]:
    return {(method, name, type(value).__name__) for name, value in arguments.items()}


class RecordingPlugin:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("recording.tagger.v1", RecordingTagger)

    @hookimpl
    def register_correctors(self, register):  # type: ignore[no-untyped-def]
        register("recording.corrector.v1", RecordingCorrector)


def test_the_contracts_give_every_form_of_input_a_run_gives(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    host = PluginHost()
    host.add(RecordingPlugin(), name="test-recording")
    config = RunConfig(
        tagger="recording", corrector="recording", dataset=str(toy), folds=2, cache=False
    )
    RecordingTagger.seen.clear()
    RecordingCorrector.seen.clear()
    Run.create(tmp_path / "runs", config, host).execute()
    in_run = RecordingTagger.seen | RecordingCorrector.seen
    # a corpus's splits are tuples; a fold's training and held-out sentences lists
    assert {("fit", "train", "tuple"), ("fit", "train", "list")} <= in_run
    assert {("predict", "sentences", "tuple"), ("predict", "sentences", "list")} <= in_run
    assert ("correct", "sentences", "tuple") in in_run

    RecordingTagger.seen.clear()
    RecordingCorrector.seen.clear()
    assert contract_failures(tagger_contract(RecordingTagger), tmp_path / "tagger") == {}
    assert contract_failures(corrector_contract(RecordingCorrector), tmp_path / "corr") == {}
    in_contracts = RecordingTagger.seen | RecordingCorrector.seen
    assert in_run <= in_contracts, (
        f"a run gives {sorted(in_run - in_contracts)}, which the contracts never give"
    )


class JoinsTrainAndDev(UnigramTagger):
    """Trains on train and dev together, as lists: a run's tuple of training sentences
    cannot be joined to a list."""

    def fit(self, train: Sequence[Sentence], dev: Any = None, **kwargs: Any) -> None:
        super().fit(train + list(dev or ()), None, **kwargs)  # type: ignore[operator]


class ClearsDev(UnigramTagger):
    """Empties the dev list once read (say, to free memory): a run's dev is a tuple."""

    def fit(self, train: Sequence[Sentence], dev: Any = None, **kwargs: Any) -> None:
        super().fit(train, dev, **kwargs)
        if dev is not None:
            dev.clear()


class JoinsTrainAndDevAsGiven(UnigramTagger):
    """Joins train and dev as they come: tuples in a run, but a fold of cross-validation
    gives a list of training sentences and the dev tuple."""

    def fit(self, train: Sequence[Sentence], dev: Any = None, **kwargs: Any) -> None:
        super().fit(train + dev if dev else train, None, **kwargs)  # type: ignore[operator]


class LowercasesDev(UnigramTagger):
    """Lowercases the dev sentences' tokens in place, frozen as they are."""

    def fit(self, train: Sequence[Sentence], dev: Any = None, **kwargs: Any) -> None:
        super().fit(train, dev, **kwargs)
        for sentence in dev or ():
            object.__setattr__(sentence, "tokens", tuple(t.lower() for t in sentence.tokens))


class JoinsTrainAndDevCorrector(MajorityCorrector):
    """Trains on train and dev together, as lists."""

    def fit(
        self,
        train: Sequence[Sentence],
        train_predictions: Sequence[Prediction],
        dev: Any = None,
        dev_predictions: Any = None,
        **kwargs: Any,
    ) -> None:
        super().fit(
            train + list(dev or ()),  # type: ignore[operator]
            list(train_predictions) + list(dev_predictions or ()),
            **kwargs,
        )


@pytest.mark.parametrize(
    ("broken", "test", "message"),
    [
        (JoinsTrainAndDev, "prepare", 'can only concatenate tuple (not "list") to tuple'),
        (ClearsDev, "prepare", "'tuple' object has no attribute 'clear'"),
        (
            JoinsTrainAndDevAsGiven,
            "test_same_seed_predicts_the_same",
            'can only concatenate list (not "tuple") to list',
        ),
        (
            LowercasesDev,
            "test_fit_and_predict_leave_their_inputs_unchanged",
            "fit changed its dev sentences",
        ),
    ],
)
def test_tagger_contract_catches_what_a_run_would(
    broken: type[Tagger], test: str, message: str, tmp_path: Path
) -> None:
    assert_caught(tagger_contract(broken), tmp_path, test, message)


def test_corrector_contract_gives_sentences_as_a_run_does(tmp_path: Path) -> None:
    contract = corrector_contract(JoinsTrainAndDevCorrector)
    assert_caught(contract, tmp_path, "prepare", 'can only concatenate tuple (not "list")')


# ------------------------------------------------------------ long sentences


def test_the_long_sentence_repeats_a_block_past_512_tokens() -> None:
    train = toy_corpus()["train"]
    sentence = long_sentence(train)
    block = len(sentence.tokens) // 5
    assert block >= 160 and len(sentence.tokens) == 5 * block
    assert sentence.tokens[:block] == sentence.tokens[-block:] == sentence.tokens[block:][:block]
    assert len(sentence.tags) == len(sentence.tokens)
    assert sentence.tokens[:9] == train[0].tokens + train[1].tokens[:2]
    assert len(sentence.tokens) - block > 512


class DropsTheLastTagOfLongSentences(UnigramTagger):
    def _tag(self, sentence: Sentence) -> Prediction:
        tags = super()._tag(sentence).tags
        return Prediction(tags=tags[:-1] if len(tags) > 12 else tags)


class Truncates(UnigramTagger):
    """Tags the first ``window`` tokens and fills the rest with O, as a tagger does that
    truncates its input at 128 or 512 subwords (HF ``run_ner``)."""

    window = 128

    def _tag(self, sentence: Sentence) -> Prediction:
        tags = super()._tag(Sentence(sentence.tokens[: self.window])).tags
        return Prediction(tags=tags + (schemes.OUTSIDE,) * (len(sentence.tokens) - len(tags)))


class TruncatesAt512(Truncates):
    window = 512


class TruncatesOnlyInABatch(UnigramTagger):
    """Pads a batch to its longest sentence, truncated at 128 tokens, and shifts the
    tags of the sentences after a long one."""

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        out = super().predict(sentences)
        for i, s in enumerate(sentences[:-1]):
            if len(s.tokens) > 128:
                shifted = (schemes.OUTSIDE, *out[i + 1].tags[:-1])
                out[i + 1] = Prediction(tags=shifted)
        return out


@pytest.mark.parametrize(
    ("broken", "test", "message"),
    [
        (
            DropsTheLastTagOfLongSentences,
            "test_a_long_sentence_gets_one_tag_per_token",
            "sentence long-1 ['Angela', 'Merkel', 'visited', 'Paris', 'on', 'Monday', '.', "
            "'Barack']: 815 tokens but 814 tags",
        ),
        (Truncates, "test_a_long_sentence_is_tagged_to_its_end", "does it truncate long"),
        (TruncatesAt512, "test_a_long_sentence_is_tagged_to_its_end", "but none of the last"),
        (
            TruncatesOnlyInABatch,
            "test_a_long_sentence_gets_one_tag_per_token",
            "changes the tags of the sentence after it",
        ),
    ],
)
def test_tagger_contract_catches_broken_long_sentences(
    broken: type[Tagger], test: str, message: str, tmp_path: Path
) -> None:
    assert_caught(tagger_contract(broken), tmp_path, test, message)


class TruncatingCorrector(MajorityCorrector):
    """Corrects the first 128 tokens and sets the rest to O."""

    def _correct_one(self, sentence: Sentence, prediction: Prediction) -> Prediction:
        head = super()._correct_one(
            Sentence(sentence.tokens[:128]), Prediction(tags=prediction.tags[:128])
        )
        rest = (schemes.OUTSIDE,) * (len(sentence.tokens) - len(head.tags))
        return Prediction(tags=head.tags + rest)


def test_corrector_contract_catches_a_truncating_corrector(tmp_path: Path) -> None:
    failures = assert_caught(
        corrector_contract(TruncatingCorrector),
        tmp_path,
        "test_a_long_sentence_is_corrected_to_its_end",
        "the corrector tags",
    )
    assert set(failures) == {"test_a_long_sentence_is_corrected_to_its_end"}


# --------------------------------------------------------------- hash seeds


class HashOrderTagger(UnigramTagger):
    """Forgets every other entity token in the order of a set of strings: two fits in
    one process agree, two processes with other hash seeds do not."""

    def fit(self, *args: Any, **kwargs: Any) -> None:
        super().fit(*args, **kwargs)
        assert self.table is not None
        entities = {t for t, tag in self.table.items() if tag != schemes.OUTSIDE}
        forget = set(list(entities)[::2])
        self.table = {t: tag for t, tag in self.table.items() if t not in forget}


class HashOrderContract(BrokenTagger):
    """At the top of the module: the new process imports it by its name."""

    broken = HashOrderTagger
    checks_hash_seed = True


def test_checks_hash_seed_catches_a_fit_that_depends_on_the_hash_seed(tmp_path: Path) -> None:
    failures = assert_caught(
        HashOrderContract(),
        tmp_path,
        "test_fit_does_not_depend_on_the_hash_seed",
        "a fit in a new process with PYTHONHASHSEED=",
    )
    # two fits in one process agree: only the new process tells
    assert set(failures) == {"test_fit_does_not_depend_on_the_hash_seed"}


def test_checks_hash_seed_needs_a_class_a_new_process_can_import(tmp_path: Path) -> None:
    class Local(BrokenTagger):
        checks_hash_seed = True

    assert_caught(
        Local(), tmp_path, "test_fit_does_not_depend_on_the_hash_seed", "inside a function"
    )
