"""The openner corrector: the corrector contract, each feature mode, the gate."""

from __future__ import annotations

import json
import os
import random
import warnings
from pathlib import Path

import numpy as np
import pytest

from nerkit import schemes
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import Corrector, RunContext
from nerkit.testing import CorrectorContract, toy_corpus
from nerkit.types import Prediction, Sentence
from nerkit_openner.corrector import OpenNERCorrector, _held_out_majority, _majority_table

SMALL = {"max_length": 32, "batch_size": 8, "epochs": 1}
CORPUS = toy_corpus()
TRAIN, DEV, TEST = list(CORPUS["train"]), list(CORPUS["dev"]), list(CORPUS["test"])


class TestOpenNERContract(CorrectorContract):
    allows_invalid_sequences = (
        True  # the corrector's argmax is not repaired (the run's decoder does)
    )

    def make_corrector(self) -> Corrector:
        return OpenNERCorrector(dict(SMALL))


def noisy(sentences, rate: float, seed: int) -> list[Prediction]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    labels = sorted({t for s in TRAIN for t in s.tags})
    return [
        Prediction(tags=tuple(rng.choice(labels) if rng.random() < rate else t for t in s.tags))
        for s in sentences
    ]


@pytest.mark.parametrize("features", ["onehot", "add", "concat"])
def test_each_feature_mode_trains_and_reads_the_base_tags(features: str) -> None:
    corrector = OpenNERCorrector(
        dict(
            SMALL, features=features, token_majority=True, gate=False, epochs=2, task_layer_lr=20.0
        )
    )
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), DEV, noisy(DEV, 0.3, 2), context=RunContext(seed=3))
    a = corrector._raw(TEST, [Prediction(tags=s.tags) for s in TEST])[1]
    b = corrector._raw(TEST, [Prediction(tags=("O",) * len(s)) for s in TEST])[1]
    # other base tags, other output: the base tag is an input of the model
    assert any(not np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_trained_on_gold_base_tags_it_reproduces_them() -> None:
    gold = [Prediction(tags=s.tags) for s in TRAIN]
    corrector = OpenNERCorrector(
        dict(SMALL, gate=False, epochs=10, learning_rate=2e-4, task_layer_lr=50.0, warmup_ratio=0.1)
    )
    corrector.fit(TRAIN, gold, context=RunContext(seed=5, threads=1))
    out = corrector.correct(TRAIN, gold)
    assert [p.tags for p in out] == [s.tags for s in TRAIN]


def test_copy_init_starts_the_onehot_corrector_from_its_base_tags() -> None:
    """Untrained (learning rate 0), a copy-initialised head returns the base tags,
    wrong ones included; the paper's random start does not."""
    base = noisy(TEST, 0.5, 9)
    untrained = dict(SMALL, gate=False, learning_rate=0.0)
    outputs = {}
    for copy_init in (0.0, 20.0):
        corrector = OpenNERCorrector(dict(untrained, copy_init=copy_init))
        corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), context=RunContext(seed=3, threads=1))
        outputs[copy_init] = [p.tags for p in corrector.correct(TEST, base)]
    assert outputs[20.0] == [p.tags for p in base]
    assert outputs[0.0] != [p.tags for p in base]


def test_copy_init_is_for_onehot_only() -> None:
    with pytest.raises(ConfigError, match="openner option 'copy_init'"):
        OpenNERCorrector({"features": "add", "copy_init": 5.0})
    with pytest.raises(ConfigError, match="openner option 'copy_init'"):
        OpenNERCorrector({"copy_init": -1.0})


def test_a_training_sentence_s_majority_tags_leave_its_own_tags_out() -> None:
    train = [
        Sentence(tokens=("Anna", "met", "Oslo"), tags=("S-PER", "O", "S-LOC")),
        Sentence(tokens=("Anna", "left"), tags=("S-PER", "O")),
        Sentence(tokens=("Oslo", "Oslo"), tags=("S-ORG", "S-ORG")),
    ]
    # dev and test read the whole table (in IOB2, as one token would carry it)
    assert _majority_table(train, "IOBES") == {
        "Anna": "B-PER",
        "met": "O",
        "left": "O",
        "Oslo": "B-ORG",
    }
    # a training sentence reads the others: "met" occurs nowhere else and is unseen,
    # "Oslo" in the first sentence has the third's two votes, in the third the first's one
    assert _held_out_majority(train, "IOBES") == [
        ["B-PER", "O", "B-ORG"],
        ["B-PER", "O"],
        ["B-LOC", "B-LOC"],
    ]


def test_training_reads_the_held_out_majority_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    items = OpenNERCorrector._items

    def spy(self, sentences, predictions, with_gold, majority=None):  # type: ignore[no-untyped-def]
        if with_gold:
            seen.append(majority)
        return items(self, sentences, predictions, with_gold, majority)

    monkeypatch.setattr(OpenNERCorrector, "_items", spy)
    corrector = OpenNERCorrector(dict(SMALL, token_majority=True, gate=False, learning_rate=0.0))
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), context=RunContext(seed=3, threads=1))
    held_out = _held_out_majority(TRAIN, "IOB2")
    assert seen == [held_out]
    assert held_out != [[corrector.majority_table[t] for t in s.tokens] for s in TRAIN]


def test_gate_at_threshold_one_returns_the_base_tags() -> None:
    corrector = OpenNERCorrector(dict(SMALL, gate=False))
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), context=RunContext(seed=3))
    corrector.threshold = 1.0
    base = noisy(TEST, 0.5, 9) + [Prediction(tags=("I-PER", "O"))]  # includes an invalid sequence
    sentences = TEST + [TEST[0].__class__(tokens=("Anna", "sang"))]
    assert [p.tags for p in corrector.correct(sentences, base)] == [p.tags for p in base]


@pytest.mark.parametrize(
    ("scheme", "base", "taken"),
    [
        ("BIOES", ("B-PER", "O", "O", "O"), ("O", "O", "O", "B-LOC")),
        ("IOB1", ("B-PER", "O", "O", "O"), ("O", "O", "O", "B-LOC")),
        ("BIOES", ("I-PER", "I-PER", "O", "O"), ("O", "O", "O", "B-LOC")),
    ],
)
def test_the_gate_rewrites_no_base_tag_it_does_not_replace(
    scheme: str, base: tuple[str, ...], taken: tuple[str, ...]
) -> None:
    """Only the token the corrector is sure of changes, even where the base tags are
    an invalid sequence that a conversion of the whole sentence would repair."""
    corrector = OpenNERCorrector(dict(SMALL))
    corrector.scheme = scheme
    confidence = np.array([0.1, 0.1, 0.1, 0.9])
    out = corrector._gate(base, list(taken), confidence, 0.5)
    assert out[:3] == base[:3]
    assert out[3] == schemes.convert(["O", "O", "O", "B-LOC"], "IOB2", scheme)[3]


def test_without_dev_the_gate_is_off_and_says_so() -> None:
    corrector = OpenNERCorrector(dict(SMALL))
    with pytest.warns(UserWarning, match="no dev split.*every correction is applied"):
        corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), context=RunContext(seed=3, threads=1))
    assert corrector.threshold == 0.0
    assert corrector.stats["gate"].startswith("off: no dev split")


def test_base_tags_no_training_sentence_has_are_counted_and_warned_of() -> None:
    base = noisy(TRAIN, 0.3, 1)
    base[0] = Prediction(tags=("B-WEAPON",) + base[0].tags[1:])
    corrector = OpenNERCorrector(dict(SMALL, gate=False))
    with pytest.warns(UserWarning, match=r"train predictions .* read as O: B-WEAPON \(1\)"):
        corrector.fit(TRAIN, base, context=RunContext(seed=3, threads=1))
    assert corrector.stats["unknown_base_tags"] == {"train": {"B-WEAPON": 1}}
    with pytest.warns(UserWarning, match=r"input predictions .* I-WEAPON \(1\)"):
        corrector.correct(TEST[:1], [Prediction(tags=("I-WEAPON",) + TEST[0].tags[1:])])


def test_add_mode_tells_the_base_tag_from_the_majority_tag() -> None:
    """One embedding table for both would make their sum symmetric: base PER with
    majority O would read as base O with majority PER."""
    import torch

    corrector = OpenNERCorrector(dict(SMALL, features="add", token_majority=True, gate=False))
    corrector.fit(TRAIN[:4], noisy(TRAIN[:4], 0.3, 1), context=RunContext(seed=3, threads=1))
    _, (item, *_) = corrector._items(TEST[:1], [Prediction(tags=TEST[0].tags)], with_gold=False)
    batch = corrector._collate([item])
    swapped = dict(batch, base_tags=batch["majority_tags"], majority_tags=batch["base_tags"])
    assert not torch.equal(batch["base_tags"], batch["majority_tags"])
    corrector.model.eval()
    with torch.no_grad():
        # (the sums of one shared table differ only by float rounding, about 1e-6)
        assert (corrector.model(batch) - corrector.model(swapped)).abs().max() > 1e-3


def test_a_head_that_lacks_a_weight_of_the_model_is_refused(tmp_path: Path) -> None:
    import torch

    corrector = OpenNERCorrector(dict(SMALL, features="add", token_majority=True, gate=False))
    corrector.fit(TRAIN[:4], noisy(TRAIN[:4], 0.3, 1), context=RunContext(seed=3, threads=1))
    corrector.save(tmp_path)
    head = torch.load(tmp_path / "head.pt")
    torch.save({k: v for k, v in head.items() if "majority" not in k}, tmp_path / "head.pt")
    with pytest.raises(NerkitError, match=r"head.pt does not fit the model .*majority_embedding"):
        OpenNERCorrector.load(tmp_path)


def test_gate_threshold_is_picked_on_dev_and_stored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    corrector = OpenNERCorrector(dict(SMALL))
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), DEV, noisy(DEV, 0.3, 2), context=RunContext(seed=3))
    assert 0.0 <= corrector.threshold <= 1.0
    assert corrector.stats["threshold"] == corrector.threshold
    corrector.save(tmp_path)
    assert OpenNERCorrector.load(tmp_path).threshold == corrector.threshold


def test_dev_is_read_once_more_only_when_its_inputs_change(tmp_path: Path) -> None:
    """The best evaluation's output on dev serves the gate and correct(dev); it is
    what a fresh pass of the trained model gives."""
    dev_base = noisy(DEV, 0.3, 2)
    corrector = OpenNERCorrector(dict(SMALL, epochs=2, task_layer_lr=20.0))
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), DEV, dev_base, context=RunContext(seed=3))
    calls = []
    corrector.model.register_forward_hook(lambda *args: calls.append(1))
    kept = corrector.correct(DEV, list(dev_base))
    assert not calls  # no pass over dev: the kept output answered
    other = [Prediction(tags=("O",) * len(s)) for s in DEV]
    corrector.correct(DEV, other)
    assert calls  # other base tags: the model runs
    corrector.save(tmp_path)
    fresh = OpenNERCorrector.load(tmp_path).correct(DEV, dev_base)
    assert kept == fresh


def test_extend_vocab_covers_the_train_words_and_survives_save_load(tmp_path: Path) -> None:
    train = [
        Sentence(("我", "爱", "北", "京"), ("O", "O", "B-LOC", "I-LOC")),
        Sentence(("𠀀", "met", "Anna"), ("O", "O", "B-PER")),
    ]
    base = [Prediction(tags=("O",) * len(s)) for s in train]
    with pytest.warns(UserWarning, match=r"openner corrector: .* -C extend_vocab=true"):
        OpenNERCorrector(dict(SMALL, gate=False)).fit(train, base, context=RunContext(threads=1))
    corrector = OpenNERCorrector(dict(SMALL, extend_vocab=True, gate=False))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*unknown token")  # train is covered now
        corrector.fit(train, base, context=RunContext(seed=1, threads=1))
    # 爱 and the rare CJK character are not in the uncased English vocabulary
    assert corrector.stats["unk_rate_pretrained"]["train"] == pytest.approx(2 / 7)
    assert corrector.stats["unk_rate"]["train"] == 0.0
    assert corrector.stats["added_tokens"] == 2
    embeddings = corrector.model.encoder.get_input_embeddings().weight
    assert embeddings.shape[0] == len(corrector.tokenizer) == 30522 + 2
    before = corrector.correct(train, base)
    corrector.save(tmp_path)
    loaded = OpenNERCorrector.load(tmp_path)
    assert len(loaded.tokenizer) == len(corrector.tokenizer)
    assert [p.tags for p in loaded.correct(train, base)] == [p.tags for p in before]


def in_scheme(sentences: list[Sentence], scheme: str) -> list[Sentence]:
    return [Sentence(s.tokens, tuple(schemes.convert(s.tags, "IOB2", scheme))) for s in sentences]


@pytest.fixture(scope="module")
def iob2_reference() -> tuple[float, float, list[tuple[str, ...]]]:
    """Threshold, best dev F1 and corrected test tags of a corrector fitted in IOB2."""
    return fit_in_scheme("IOB2")


def fit_in_scheme(scheme: str) -> tuple[float, float, list[tuple[str, ...]]]:
    train, dev, test = (in_scheme(x, scheme) for x in (TRAIN, DEV, TEST))
    base = {
        name: [Prediction(tuple(schemes.convert(p.tags, "IOB2", scheme))) for p in predictions]
        for name, predictions in (
            ("train", noisy(TRAIN, 0.3, 1)),
            ("dev", noisy(DEV, 0.3, 2)),
            ("test", noisy(TEST, 0.5, 9)),
        )
    }
    corrector = OpenNERCorrector(dict(SMALL, epochs=2, task_layer_lr=20.0))
    corrector.fit(
        train, base["train"], dev, base["dev"], scheme=scheme, context=RunContext(seed=3, threads=1)
    )
    out = [p.tags for p in corrector.correct(test, base["test"])]
    return corrector.threshold, corrector.stats["best_dev_f1"], out


@pytest.mark.parametrize("scheme", ["IOE2", "IOE1", "BIOES", "BILOU", "IOB1"])
def test_any_scheme_trains_on_dev_and_corrects_in_that_scheme(
    scheme: str, iob2_reference: tuple[float, float, list[tuple[str, ...]]]
) -> None:
    """Inside, the corrector works in IOB2: fitted on the same data in another scheme
    it learns the same, scores dev the same, picks the same threshold and returns the
    same entities, in the dataset's scheme (IOE2 dev scoring used to fail on B- tags).
    The tags themselves may differ: base tags the gate does not replace stay as they
    are, and a mix of base and corrected tags is repaired by the run's decoder."""
    threshold, dev_f1, out = fit_in_scheme(scheme)
    reference_threshold, reference_f1, reference = iob2_reference
    assert (threshold, dev_f1) == (reference_threshold, reference_f1)
    assert [schemes.spans(tags, scheme) for tags in out] == [
        schemes.spans(tags, "IOB2") for tags in reference
    ]
    for tags in out:
        for tag in tags:
            schemes.check_tag(tag, scheme)


def test_an_untagged_training_sentence_is_named() -> None:
    train = [TRAIN[0], Sentence(tokens=("raw", "text"))]
    base = [Prediction(tags=TRAIN[0].tags), Prediction(tags=("O", "O"))]
    with pytest.raises(NerkitError, match="openner: training sentence 1 has no tags"):
        OpenNERCorrector(dict(SMALL)).fit(train, base, context=RunContext(threads=1))


def test_a_max_length_beyond_the_encoder_s_positions_is_lowered_to_them() -> None:
    corrector = OpenNERCorrector(dict(SMALL, max_length=1000, gate=False))
    gold = [Prediction(tags=s.tags) for s in TRAIN[:4]]
    with pytest.warns(UserWarning, match="openner corrector: max_length 1000 is more than the 512"):
        corrector.fit(TRAIN[:4], gold, context=RunContext(seed=1, threads=1))
    long = Sentence(("word",) * 700)
    (out,) = corrector.correct([long], [Prediction(tags=("O",) * 700)])
    assert len(out.tags) == 700


def test_options_out_of_range_are_named() -> None:
    with pytest.raises(ConfigError, match="openner option 'warmup_ratio'"):
        OpenNERCorrector({"warmup_ratio": 1.5})


DATA = Path(
    os.environ.get("NERKIT_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.mark.skipif(
    not (DATA / "wnut17").is_dir(),
    reason=f"shared corpora not found at {DATA}; set NERKIT_DATA_DIR",
)
def test_lexicon_with_openner_on_wnut17_stores_both_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from nerkit import store
    from nerkit.cli.app import app

    monkeypatch.setenv("NERKIT_DATA_DIR", str(DATA))
    monkeypatch.setenv("NERKIT_CACHE_DIR", str(tmp_path / "cache"))
    args = [
        "run",
        "-t",
        "lexicon",
        "-c",
        "openner",
        "-d",
        "wnut17",
        "--folds",
        "2",
        "--threads",
        "2",
    ]
    args += ["-C", "epochs=1", "-C", "max_length=48", "-o", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (run,) = list((tmp_path / "runs").iterdir())
    metrics = store.read_table(run, "metrics").to_pylist()
    f1 = {
        (r["split"], r["stage"]): r["value"]
        for r in metrics
        if (r["metric"], r["label"], r["mode"]) == ("f1", "micro", "lenient")
    }
    assert set(f1) == {
        ("dev", "base"),
        ("dev", "corrected"),
        ("test", "base"),
        ("test", "corrected"),
    }
    extra = json.loads(store.read_table(run, "run").to_pylist()[0]["extra"])
    assert 0.0 <= extra["corrector"]["threshold"] <= 1.0
