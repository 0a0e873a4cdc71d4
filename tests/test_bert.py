"""The bert tagger: the Tagger contract, one tag per word whatever the tokenizer does,
the training loop's promises (early stopping, frozen layers, no decay on biases and
LayerNorm, curves and plots), vocabulary extension, and a `nerkit run` through the CLI.

All with the bundled offline MiniLM and tiny data: a fit takes a few seconds on CPU.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from nerkit import store
from nerkit.cli.app import app
from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.io import write
from nerkit.metrics import scores
from nerkit.plugin import PluginHost
from nerkit.testing import TaggerContract, TrainedTagger, parse_bracketed, toy_corpus
from nerkit.types import Sentence
from nerkit_bert.tagger import BertTagger, head_tags, resolve_model
from nerkit_hf import training

SMALL = {"batch_size": 8, "max_length": 32}


class TestBertContract(TaggerContract):
    # the raw argmax may break the scheme (I-X after O): the run's decoder repairs it
    allows_invalid_sequences = True
    min_train_f1 = 0.6

    def make_tagger(self) -> Tagger:
        return BertTagger({**SMALL, "epochs": 6, "learning_rate": 3e-4, "patience": 0})

    # ---- promises of this tagger, checked on the contract's trained tagger

    def test_every_word_of_a_long_sentence_gets_its_own_prediction(
        self, trained_tagger: TrainedTagger
    ) -> None:
        tagger = trained_tagger.tagger
        assert isinstance(tagger, BertTagger)
        base = parse_bracketed("[Angela Merkel](PER) visited [Paris](LOC) on Monday .").tokens
        long = Sentence(base * 143)  # 1,001 words, max_length 32: about 80 windows
        before = tagger.stats["windowed_sentences"].get("predicted", 0)
        (prediction,) = tagger.predict([long])
        assert len(prediction.tags) == len(prediction.confidences) == 1001
        assert tagger.stats["windowed_sentences"]["predicted"] == before + 1
        # a word no window predicted would have all-zero logits: a uniform row
        uniform = np.full(len(prediction.labels), 1 / len(prediction.labels))
        assert not any(np.allclose(row, uniform) for row in prediction.probabilities)
        # the tagger learnt the names; far from the sentence start it still finds them
        assert prediction.tags[700:707] == ("B-PER", "I-PER", "O", "B-LOC", "O", "O", "O")

    def test_words_the_tokenizer_drops_get_a_tag(self, trained_tagger: TrainedTagger) -> None:
        words = ("Paris", "\ufe0f", "\u200b", "\x07", "\u3000", "London")
        (prediction,) = trained_tagger.tagger.predict([Sentence(words)])
        assert len(prediction.tags) == 6
        assert prediction.probabilities.shape == (6, len(prediction.labels))

    def test_only_tags_of_the_training_data_are_predicted(
        self, trained_tagger: TrainedTagger
    ) -> None:
        tagger = trained_tagger.tagger
        assert isinstance(tagger, BertTagger)
        train_tags = {t for s in trained_tagger.train for t in s.tags}
        assert set(tagger.labels) == train_tags  # no [CLS] / [SEP] / [PAD] label
        for prediction in trained_tagger.predictions:
            assert prediction.labels == tagger.labels
            assert np.allclose(prediction.probabilities.sum(axis=1), 1.0, atol=1e-6)
            best = prediction.probabilities.argmax(axis=1)
            assert prediction.tags == tuple(tagger.labels[i] for i in best)  # not repaired

    def test_the_best_dev_checkpoint_is_kept(self, trained_tagger: TrainedTagger) -> None:
        tagger = trained_tagger.tagger
        assert isinstance(tagger, BertTagger)
        dev = self.dev_sentences()
        assert dev is not None
        predicted = [p.tags for p in tagger.predict(dev)]
        f1 = scores([s.tags for s in dev], predicted, "IOB2", "lenient").f1
        assert f1 == tagger.stats["training"]["best_dev_f1"]
        assert tagger.stats["training"]["evaluations"] == 6  # one per epoch

    def test_vocabulary_coverage_is_measured_per_split(self, trained_tagger: TrainedTagger) -> None:
        tagger = trained_tagger.tagger
        assert isinstance(tagger, BertTagger)
        # the toy corpus is English, 東京 and Zürich: all in MiniLM's vocabulary; its
        # U+3000 tokens are words without subwords
        assert tagger.stats["unk_rate"] == {"train": 0.0, "dev": 0.0}
        assert tagger.stats["empty_words"] == {"train": 2, "dev": 0}

    # ---- a fine-tuned model used as it is (train=false)

    @staticmethod
    def checkpoint(tagger: Tagger, folder: Path) -> Path:
        """The trained model as run_ner.py leaves one: save_pretrained, nothing else."""
        assert isinstance(tagger, BertTagger)
        tagger.model.save_pretrained(folder)
        tagger.tokenizer.save_pretrained(folder)
        return folder

    def test_a_fine_tuned_model_used_as_it_is_predicts_as_it_did(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        model = self.checkpoint(trained_tagger.tagger, tmp_path / "ckpt")
        used = BertTagger({**SMALL, "train": False, "model": str(model)})
        used.fit(trained_tagger.train, context=RunContext(seed=99))
        assert used.scheme == "IOB2"
        assert used.labels == trained_tagger.tagger.labels  # type: ignore[attr-defined]
        assert used.unmapped_labels == []
        for ours, theirs in zip(
            used.predict(trained_tagger.test), trained_tagger.predictions, strict=True
        ):
            assert ours.tags == theirs.tags
            np.testing.assert_allclose(ours.probabilities, theirs.probabilities, atol=1e-4)

    def test_a_model_trained_in_fp16_on_a_gpu_predicts_after_loading_on_a_cpu(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        """A saved model keeps its precision option; where the device it is loaded on
        cannot compute in it (fp16 on a CPU) it predicts in fp32, not fails."""
        trained_tagger.tagger.save(tmp_path)
        options = tmp_path / "options.json"
        predictions = {}
        for precision in ("fp32", "fp16"):
            saved = json.loads(options.read_text())
            options.write_text(json.dumps({**saved, "precision": precision}))
            predictions[precision] = BertTagger.load(tmp_path).predict(trained_tagger.test)
        for fp16, fp32 in zip(predictions["fp16"], predictions["fp32"], strict=True):
            assert fp16.tags == fp32.tags
            np.testing.assert_array_equal(fp16.probabilities, fp32.probabilities)

    def test_a_label_map_renames_types_and_types_the_data_lacks_become_o(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        model = self.checkpoint(trained_tagger.tagger, tmp_path / "ckpt")
        label_map = tmp_path / "map.tsv"
        label_map.write_text("\ufeff# model -> data\nPER\tperson\n", encoding="utf-8")

        def as_data(tag: str) -> str:  # the data names PER "person" and has no LOC
            return "O" if tag.endswith("LOC") else tag.replace("PER", "person")

        train = [Sentence(s.tokens, tuple(map(as_data, s.tags))) for s in trained_tagger.train]
        used = BertTagger(
            {**SMALL, "train": False, "model": str(model), "label_map": str(label_map)}
        )
        with pytest.warns(UserWarning, match="map to none of the dataset's types: LOC; predicted"):
            used.fit(train)
        assert used.unmapped_labels == ["LOC"]
        assert used.labels == ("O", "B-ORG", "B-person", "I-ORG", "I-person")
        head = trained_tagger.tagger.labels  # type: ignore[attr-defined]
        column = {tag: used.labels.index(as_data(tag)) for tag in head}
        predictions = used.predict(trained_tagger.test)
        for ours, theirs in zip(predictions, trained_tagger.predictions, strict=True):
            merged = np.zeros_like(ours.probabilities)
            for j, tag in enumerate(head):
                merged[:, column[tag]] += theirs.probabilities[:, j]
            np.testing.assert_allclose(ours.probabilities, merged, atol=1e-4)
            assert ours.tags == tuple(used.labels[i] for i in merged.argmax(axis=1))
        # saved and loaded, it predicts the same; and so does the saved folder used as
        # a model as it is (a run's tagger/ keeps its renaming)
        used.save(tmp_path / "saved")
        loaded = BertTagger.load(tmp_path / "saved")
        expected = [p.tags for p in predictions]
        assert [p.tags for p in loaded.predict(trained_tagger.test)] == expected
        again = BertTagger({**SMALL, "train": False, "model": str(tmp_path / "saved")})
        again.fit(train)
        assert again.labels == used.labels
        assert [p.tags for p in again.predict(trained_tagger.test)] == expected

    def test_types_of_dev_count_as_the_data_s(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        model = self.checkpoint(trained_tagger.tagger, tmp_path / "ckpt")
        no_org = [
            Sentence(s.tokens, tuple("O" if "ORG" in t else t for t in s.tags))
            for s in trained_tagger.train
        ]
        dev = [s for s in trained_tagger.train if any("ORG" in t for t in s.tags)][:1]
        used = BertTagger({**SMALL, "train": False, "model": str(model)})
        used.fit(no_org, dev)  # ORG only in dev: kept
        assert used.unmapped_labels == [] and "B-ORG" in used.labels

    def test_nerkit_run_with_a_fine_tuned_model_as_it_is(
        self, trained_tagger: TrainedTagger, tmp_path: Path
    ) -> None:
        model = self.checkpoint(trained_tagger.tagger, tmp_path / "ckpt")
        folder = tmp_path / "toy"
        folder.mkdir()
        # a test set alone: a model used as it is needs no training data
        write(toy_corpus()["test"], folder / "test.conll")
        out = tmp_path / "runs"
        result = CliRunner().invoke(
            app,
            ["run", "--tagger", "bert", "--dataset", str(folder), "--out", str(out),
             "-T", "train=false", "-T", f"model={model}", "-T", "batch_size=8",
             "-T", "max_length=32"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        (run,) = [p for p in out.iterdir() if p.is_dir()]
        metrics = store.read_table(run, "metrics").to_pylist()
        (f1,) = [
            m["value"]
            for m in metrics
            if (m["split"], m["mode"], m["metric"], m["label"])
            == ("test", "lenient", "f1", "micro")
        ]
        expected = scores(
            [s.tags for s in trained_tagger.test],
            [p.tags for p in trained_tagger.predictions],
            "IOB2",
            "lenient",
        ).f1
        assert f1 == pytest.approx(expected)


class TestBertContractBIOESAllSubwords(TaggerContract):
    scheme = "BIOES"
    allows_invalid_sequences = True

    def make_tagger(self) -> Tagger:
        return BertTagger({**SMALL, "epochs": 2, "learning_rate": 3e-4, "label_all_subwords": True})


# ------------------------------------------------------------ training loop


def toy(split: str) -> list[Sentence]:
    return list(toy_corpus()[split])


def collecting_context(work_dir: Path | None = None) -> tuple[RunContext, list[tuple[Any, ...]]]:
    points: list[tuple[Any, ...]] = []
    return RunContext(seed=3, work_dir=work_dir, curve=lambda *p: points.append(p)), points


def test_early_stopping_stops_after_patience_evaluations_without_improvement() -> None:
    # learning rate 0: dev F1 never improves after the first evaluation
    tagger = BertTagger({**SMALL, "learning_rate": 0.0, "epochs": 10, "patience": 2})
    context, points = collecting_context()
    tagger.fit(toy("train")[:8], toy("dev"), context=context)  # one batch an epoch
    assert tagger.stats["training"]["evaluations"] == 3  # the first, then 2 without gain
    assert tagger.stats["training"]["stopped_early"] is True
    assert len([p for p in points if p[2:4] == ("dev", "f1")]) == 3
    assert max(p[0] for p in points) == 3  # stopped in epoch 3 of 10


def test_frozen_weights_stay_bit_for_bit_and_curves_and_plots_are_reported(
    tmp_path: Path,
) -> None:
    from transformers import AutoModel

    tagger = BertTagger(
        {
            **SMALL,
            "epochs": 2,
            "evals_per_epoch": 2,
            "freeze_embeddings": True,
            "freeze_layers": 2,
            "learning_rate": 1e-3,
        }
    )
    context, points = collecting_context(tmp_path)
    tagger.fit(toy("train"), toy("dev"), context=context)

    pretrained = AutoModel.from_pretrained(resolve_model(""), local_files_only=True).state_dict()
    trained = tagger.model.base_model.state_dict()
    pretrained = {k: v for k, v in pretrained.items() if k in trained}  # no pooler in the tagger
    for name, weight in pretrained.items():
        if name.startswith(("embeddings.", "encoder.layer.0.", "encoder.layer.1.")):
            assert torch.equal(trained[name], weight), f"{name} changed though frozen"
    changed = [n for n in pretrained if not torch.equal(trained[n], pretrained[n])]
    assert changed and all(n.startswith("encoder.layer.") for n in changed)
    assert not any(n.startswith(("encoder.layer.0.", "encoder.layer.1.")) for n in changed)

    # 4 evaluations (2 per epoch), each with train loss and five dev numbers
    metrics = {(split, metric) for _, _, split, metric, _ in points}
    assert metrics == {("train", "loss")} | {
        ("dev", m) for m in ("loss", "precision", "recall", "f1", "accuracy")
    }
    assert len([p for p in points if p[2:4] == ("dev", "f1")]) == 4
    steps = [p[1] for p in points if p[2:4] == ("train", "loss")]
    assert steps == sorted(steps) and len(set(steps)) == 4
    assert all(0.0 <= p[4] <= 1.0 for p in points if p[3] != "loss")
    plots = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert plots == ["accuracy.png", "f1.png", "loss.png"]
    assert all((tmp_path / "plots" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)

    # what the optimizer got: no decay on biases and LayerNorm, 10x lr on the head,
    # frozen parameters left out
    groups = training.parameter_groups(
        tagger.model,
        learning_rate=1e-3,
        weight_decay=0.01,
        head=tagger.is_head,
        task_layer_lr=10.0,
    )
    decay_of = {n: g["weight_decay"] for g in groups for n in g["names"]}
    lr_of = {n: g["lr"] for g in groups for n in g["names"]}
    assert decay_of["bert.encoder.layer.5.attention.output.LayerNorm.weight"] == 0.0
    assert decay_of["bert.encoder.layer.5.output.dense.bias"] == 0.0
    assert decay_of["bert.encoder.layer.5.output.dense.weight"] == 0.01
    assert all(d == 0.0 for n, d in decay_of.items() if n.endswith("bias") or "LayerNorm" in n)
    assert lr_of["classifier.weight"] == pytest.approx(1e-2)
    assert lr_of["bert.encoder.layer.5.output.dense.weight"] == pytest.approx(1e-3)
    assert not any(n.startswith(("bert.embeddings.", "bert.encoder.layer.1.")) for n in lr_of)


def test_learning_rate_schedules_warm_up_then_decay() -> None:
    # 10 warmup steps of 100, 20 steps an epoch
    linear = training.lr_lambda("linear", 10, 100, 20, 0.5)
    assert linear(0) < linear(5) < linear(9) < 1.0
    assert linear(10) == 1.0 and linear(55) == pytest.approx(0.5) and linear(100) == 0.0
    exponential = training.lr_lambda("exponential", 10, 100, 20, 0.5)
    assert exponential(30) == pytest.approx(0.5) and exponential(50) == pytest.approx(0.25)
    assert training.lr_lambda("constant", 10, 100, 20, 0.5)(99) == 1.0


def test_batches_group_similar_lengths_and_are_seeded() -> None:
    lengths = [(i * 7919) % 97 + 1 for i in range(400)]
    first = training.length_grouped_batches(lengths, 8, seed=1, epoch=1)
    assert sorted(i for b in first for i in b) == list(range(400))
    assert first == training.length_grouped_batches(lengths, 8, seed=1, epoch=1)
    assert first != training.length_grouped_batches(lengths, 8, seed=1, epoch=2)
    # within a batch lengths differ far less than across the data
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in first]
    assert np.mean(spread) < 10


def test_group_by_length_false_gives_plain_shuffled_batches() -> None:
    lengths = [(i * 7919) % 97 + 1 for i in range(400)]
    options = BertTagger({"batch_size": 8, "group_by_length": False}).options
    first = options.training_batches(lengths, seed=1, epoch=1)
    assert [len(b) for b in first] == [8] * 50
    assert sorted(i for b in first for i in b) == list(range(400))
    assert first == options.training_batches(lengths, seed=1, epoch=1)
    assert first != options.training_batches(lengths, seed=1, epoch=2)
    # batches mix lengths as the data does
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in first]
    assert np.mean(spread) > 50
    grouped = BertTagger({"batch_size": 8, "group_by_length": True}).options
    assert grouped.training_batches(lengths, 1, 1) == training.length_grouped_batches(
        lengths, 8, seed=1, epoch=1
    )
    assert not BertTagger().options.group_by_length  # the Trainer's default


def test_long_training_sentences_are_windowed_with_accumulation_and_decay() -> None:
    tagger = BertTagger(
        {
            "batch_size": 8,
            "max_length": 8,  # 6 subwords a window: most toy sentences need two or more
            "stride": 4,
            "epochs": 1,
            "grad_accumulation": 2,
            "scheduler": "exponential",
        }
    )
    train = toy("train")
    tagger.fit(train, toy("dev"), context=RunContext(threads=torch.get_num_threads()))
    assert tagger.encoder is not None
    subwords = [sum(len(p) or 1 for p in tagger.encoder.pieces(s.tokens)) for s in train]
    long = sum(n > 6 for n in subwords)
    assert long > 5
    assert tagger.stats["windowed_sentences"]["train"] == long
    windows = len(tagger.encoder.encode_all([s.tokens for s in train]))
    batches = -(-windows // 8)
    assert tagger.stats["training"]["optimizer_steps"] == -(-batches // 2)
    predictions = tagger.predict(toy("test"))
    assert [len(p.tags) for p in predictions] == [len(s) for s in toy("test")]


def test_extend_vocab_brings_the_train_unk_rate_to_zero() -> None:
    train = [
        Sentence(("我", "爱", "😀", "北", "京"), ("O", "O", "O", "B-LOC", "I-LOC")),
        Sentence(("🦄", "ᚠᚢ", "in", "Paris"), ("O", "O", "O", "B-LOC")),
        Sentence(("𠀀", "met", "Anna"), ("O", "O", "B-PER")),
    ]
    dev = [Sentence(("在", "in", "Paris"), ("O", "O", "B-LOC"))]  # 在: unknown, not in train
    with pytest.warns(UserWarning, match=r"train words .* unknown .* -T extend_vocab=true"):
        BertTagger({**SMALL, "epochs": 1}).fit(train, context=RunContext())
    tagger = BertTagger({**SMALL, "epochs": 1, "extend_vocab": True})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tagger.fit(train, dev, context=RunContext())
    unknown = [str(w.message) for w in caught if "unknown token" in str(w.message)]
    # after the extension train is covered; dev's unseen character is still unknown
    assert len(unknown) == 1 and unknown[0].startswith("bert tagger: 33.3% of the dev words")
    assert "unseen in training stay unknown" in unknown[0]
    assert tagger.stats["unk_rate_pretrained"]["dev"] == tagger.stats["unk_rate"]["dev"] == 1 / 3
    # 爱 (simplified), the emoji, the runes and the rare CJK character are not in the vocabulary
    assert tagger.stats["unk_rate_pretrained"]["train"] == pytest.approx(5 / 12)
    assert tagger.stats["unk_rate"]["train"] == 0.0
    assert tagger.stats["added_tokens"] == 5
    embeddings = tagger.model.get_input_embeddings().weight
    assert embeddings.shape[0] == len(tagger.tokenizer) == 30522 + 5
    (prediction,) = tagger.predict([Sentence(("😀", "𠀀"))])
    assert len(prediction.tags) == 2


@pytest.mark.parametrize(
    "option",
    [
        {"task_layer_lr": -1.0},  # the head would train away from the data
        {"task_layer_lr": float("inf")},  # the head's weights would turn NaN
        {"learning_rate": float("inf")},
        {"weight_decay": -0.01},
        {"gamma": 0.0, "scheduler": "exponential"},  # torch failed mid-training
        {"gamma": -0.5, "scheduler": "exponential"},
        {"gamma": 1.5},
        {"classifier_dropout": 1.5},  # was "cannot load model ..."
        {"classifier_dropout": -0.1},
    ],
)
def test_options_out_of_range_are_config_errors_naming_the_option(option: dict[str, Any]) -> None:
    name = next(iter(option))
    with pytest.raises(ConfigError, match=f"bert option '{name}' is out of range"):
        BertTagger({**SMALL, **option})


def test_options_at_the_edges_of_their_ranges_are_accepted() -> None:
    BertTagger({"task_layer_lr": 0.0, "weight_decay": 0.0, "gamma": 1.0, "classifier_dropout": 0.0})


def test_a_max_length_beyond_the_model_s_positions_is_lowered_to_them() -> None:
    """MiniLM has 512 positions: max_length 1000 would crash on a sentence of more
    than 512 subwords; as the Hugging Face scripts do, the window is lowered (with a
    warning) and long sentences are cut into more windows."""
    tagger = BertTagger({**SMALL, "max_length": 1000, "epochs": 1})
    with pytest.warns(UserWarning, match="max_length 1000 is more than the 512 positions"):
        tagger.fit(toy("train")[:4], context=RunContext(seed=1, threads=1))
    assert tagger.encoder is not None and tagger.encoder.max_length == 512
    (prediction,) = tagger.predict([Sentence(("word",) * 700)])
    assert len(prediction.tags) == 700
    assert tagger.stats["windowed_sentences"]["predicted"] == 1


def test_fp16_on_cpu_is_a_clear_error() -> None:
    tagger = BertTagger({**SMALL, "precision": "fp16"})
    with pytest.raises(NerkitError, match="fp16 needs a CUDA GPU"):
        tagger.fit(toy("train"), context=RunContext(device="cpu"))


def test_bf16_autocast_runs_on_cpu() -> None:
    with training.autocast("bf16", torch.device("cpu")):
        product = torch.ones(2, 2) @ torch.ones(2, 2)
    assert product.dtype == torch.bfloat16


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bf16_only_where_the_device_has_it(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpu = torch.device("cpu")
    monkeypatch.setattr(training, "bf16_supported", lambda device: native)
    assert training.resolve_precision("auto", cpu) == ("bf16" if native else "fp32")
    assert training.resolve_precision("fp32", cpu) == "fp32"  # an explicit choice stays
    with training.autocast("auto", cpu):
        product = torch.ones(2, 2) @ torch.ones(2, 2)
    assert product.dtype == (torch.bfloat16 if native else torch.float32)
    tagger = BertTagger({**SMALL, "epochs": 1})
    assert tagger.options.precision == "auto"
    tagger.fit(toy("train"), context=RunContext(device="cpu"))
    assert tagger.stats["training"]["precision"] == ("bf16" if native else "fp32")


def test_registered_through_the_plugin_entry_point() -> None:
    registry = PluginHost().registry("tagger")
    assert registry.resolve("bert") == "bert.tagger.v1"
    assert registry.get("bert") is BertTagger


def test_the_plugin_module_imports_neither_torch_nor_transformers() -> None:
    import subprocess
    import sys

    code = (
        "import sys, nerkit_bert, nerkit_hf; "
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


# --------------------------------------------------------------------- CLI


def test_nerkit_run_stores_curves_and_plots(tmp_path: Path) -> None:
    corpus = toy_corpus()
    folder = tmp_path / "toy"
    folder.mkdir()
    for split in corpus:
        write(corpus[split], folder / f"{split}.conll")
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--tagger",
            "bert",
            "--dataset",
            str(folder),
            "--out",
            str(out),
            "-T",
            "epochs=1",
            "-T",
            "max_length=32",
            "-T",
            "batch_size=8",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    assert not run.name.endswith(".partial")
    curves = store.read_table(run, "curves").to_pylist()
    assert {(r["split"], r["metric"]) for r in curves} >= {("train", "loss"), ("dev", "f1")}
    assert sorted(p.name for p in (run / "plots").iterdir()) == [
        "accuracy.png",
        "f1.png",
        "loss.png",
    ]
    loaded = BertTagger.load(run / "tagger")
    assert loaded.stats["windowed_sentences"]["train"] == 0
    # the run itself records the tagger's statistics (windowed sentences among them)
    extra = json.loads(store.read_table(run, "run").to_pylist()[0]["extra"])
    assert extra["tagger"]["windowed_sentences"]["train"] == 0


# ------------------------------------------------------------ train=false


@pytest.mark.parametrize(
    ("labels", "scheme"),
    [
        (["O", "B-PER", "I-PER"], "IOB2"),
        (["O", "I-PER"], "IO"),  # read as IOB2, viterbi would turn every entity into O
        (["O", "I-X", "E-X"], "IOE2"),
        (["O", "B-X", "I-X", "E-X", "S-X"], "BIOES"),
        (["O", "B-X", "I-X", "L-X", "U-X"], "BILOU"),
    ],
)
def test_the_scheme_of_a_head_is_read_from_its_tags(labels: list[str], scheme: str) -> None:
    assert head_tags(labels, "m") == (scheme, labels)


def test_bare_types_are_io_tags_and_a_scheme_can_be_named() -> None:
    assert head_tags(["O", "PER", "LOC"], "m") == ("IO", ["O", "I-PER", "I-LOC"])
    assert head_tags(["O", "B-X", "I-X"], "m", "IOB1") == ("IOB1", ["O", "B-X", "I-X"])
    with pytest.raises(NerkitError, match="head_scheme=IO, but the head of 'm' has a tag"):
        head_tags(["O", "B-X", "I-X"], "m", "IO")


def test_a_head_without_tag_names_or_of_no_scheme_is_refused() -> None:
    with pytest.raises(NerkitError, match=r"names no tags \(id2label: LABEL_0, LABEL_1\)"):
        head_tags(["LABEL_0", "LABEL_1"], "m")
    with pytest.raises(NerkitError, match="mix the prefixes SU of no one scheme"):
        head_tags(["O", "S-X", "U-Y"], "m")
    with pytest.raises(NerkitError, match=r"mixes tags \(B-X\) and bare entity types \(Y\)"):
        head_tags(["O", "B-X", "Y"], "m")


def test_an_encoder_without_a_fine_tuned_head_cannot_be_used_as_it_is() -> None:
    tagger = BertTagger({**SMALL, "train": False})  # the bundled MiniLM: no NER head
    with pytest.raises(NerkitError, match="train=false needs a model fine-tuned for NER"):
        tagger.fit(toy("train"))


def test_options_of_a_model_used_as_it_is_are_checked() -> None:
    with pytest.raises(ConfigError, match="label_map is for a model used as it is"):
        BertTagger({"label_map": "map.tsv"})
    with pytest.raises(ConfigError, match="extend_vocab adds untrained tokens"):
        BertTagger({"train": False, "extend_vocab": True})
    with pytest.raises(ConfigError, match="head_scheme is for a model used as it is"):
        BertTagger({"head_scheme": "IOB1"})
