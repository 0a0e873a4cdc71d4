"""Data-parallel training under a real launcher (``torchrun``) with two CPU processes
(gloo): the shared loop averages gradients across processes, and ``nerkit run``
trains a bert tagger with two processes and stores exactly one run that predicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from plugin_utils import run_nerkit

from nerkit import store
from nerkit_bert.tagger import BertTagger
from nerkit_hf import distributed

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="this torch build has no gloo backend for torch.distributed",
)


def torchrun(args: list[str], *, cwd: Path, processes: int = 2) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node N ARGS`` (one thread per process)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={processes}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)


LOOP_SCRIPT = textwrap.dedent(
    """
    import sys

    import torch

    from nerkit.interfaces import RunContext
    from nerkit_hf import distributed, training

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    # each process sees different batches: without gradient averaging the weights
    # of the two processes would part after the first step
    data = [
        {"x": torch.randn(4, 3), "y": torch.randint(0, 2, (4,))} for _ in range(7)
    ]

    def loss_of(module, batch):
        return torch.nn.functional.cross_entropy(module(batch["x"]), batch["y"])

    result = training.train(
        model,
        settings=training.LoopSettings(epochs=2, learning_rate=0.1, warmup_ratio=0.0),
        epoch_batches=lambda epoch: iter(data),
        batches_per_epoch=len(data),
        loss_of=loss_of,
        evaluate=None,
        head=lambda name: True,
        device=torch.device("cpu"),
        context=RunContext(seed=1),
    )
    torch.save(
        {"state": model.state_dict(), "steps": result.optimizer_steps,
         "world_size": result.world_size},
        f"{sys.argv[1]}/rank{distributed.rank()}.pt",
    )
    """
)


def test_the_loop_averages_gradients_across_two_processes(tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text(LOOP_SCRIPT)
    done = torchrun([str(script), str(tmp_path)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    for saved in ranks:
        assert saved["world_size"] == 2
        # 7 batches shared by 2 processes: 3 each per epoch (the odd one is dropped)
        assert saved["steps"] == 6
    torch.manual_seed(0)
    start = torch.nn.Linear(3, 2)
    for name, value in ranks[0]["state"].items():
        assert torch.equal(value, ranks[1]["state"][name]), name
        assert not torch.equal(value, start.state_dict()[name]), f"{name} never trained"


def test_the_shard_drops_the_batches_that_not_every_process_can_take(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "1")
    assert distributed.shard(10) == (1, 3, 9)
    from nerkit_hf.training import _own_batches

    assert list(_own_batches(iter(range(10)), 1, 3, 9)) == [1, 4, 7]
    monkeypatch.delenv("WORLD_SIZE")
    monkeypatch.delenv("RANK")
    assert distributed.shard(10) == (0, 1, 10)
    assert not distributed.active()


def test_nerkit_run_under_torchrun_trains_with_two_processes_and_stores_one_run(
    tmp_path: Path, toy: Path
) -> None:
    out = tmp_path / "runs"
    done = torchrun(
        [
            "-m",
            "nerkit",
            "run",
            "--tagger",
            "bert",
            "--dataset",
            str(toy),
            "--out",
            str(out),
            "--threads",
            "1",
            "-T",
            "epochs=2",
            "-T",
            "max_length=32",
            "-T",
            "batch_size=4",
            "-T",
            "learning_rate=3e-4",
        ],  # fmt: skip
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = list(out.iterdir())  # rank 1 stored nothing
    assert not run.name.endswith(".partial")
    extra = json.loads(store.read_table(run, "run").to_pylist()[0]["extra"])
    training = extra["tagger"]["training"]
    assert training["world_size"] == 2
    # 27 toy sentences in batches of 4: 7 batches, 3 per process and epoch
    assert training["optimizer_steps"] == 6
    predictions = store.read_table(run, "predictions").to_pylist()
    assert {r["split"] for r in predictions} == {"dev", "test"}
    # the stored model loads and predicts in a plain single process
    loaded = BertTagger.load(run / "tagger")
    from nerkit.testing import toy_corpus

    test = list(toy_corpus()["test"])
    assert [len(p.tags) for p in loaded.predict(test)] == [len(s) for s in test]
    predicted = run_nerkit(["predict", "--run", str(run), str(toy / "test.conll")])
    assert predicted.returncode == 0, predicted.stderr
