"""A plain torch training loop shared by the transformer plugins.

What HF ``run_ner.py`` and the BERT-NER scripts do, in one place: AdamW with no weight
decay on biases and LayerNorm weights and a separate learning rate for the task head,
warmup then linear / exponential / constant decay, gradient accumulation, several
evaluations per epoch, early stopping on dev F1 with patience (the best dev weights
are restored at the end), bf16 / fp16 autocast, and length-grouped batches.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from nerkit.errors import NerkitError
from nerkit.interfaces import RunContext
from nerkit_hf import distributed

Precision = Literal["auto", "fp32", "bf16", "fp16"]
Schedule = Literal["linear", "exponential", "constant"]


# ------------------------------------------------------------ environment


def seed_all(seed: int) -> None:
    """Seed Python, numpy and torch (all devices) from one number."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` (an error without a GPU) or ``auto`` (cuda when there is one).
    Under a multi-process launcher, plain ``cuda`` means this process's GPU
    (``LOCAL_RANK``)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise NerkitError(f"device {name!r} asked for, but torch sees no CUDA GPU; use cpu")
    if name == "cuda" and distributed.active():
        return torch.device("cuda", distributed.local_rank())
    try:
        return torch.device(name)
    except RuntimeError:
        raise NerkitError(f"unknown device {name!r}; use cpu, cuda or auto") from None


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA GPU that supports it,
    or a CPU with bf16 instructions (AVX512-BF16 or AMX, as oneDNN reports them)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):  # a torch build without oneDNN
            return False
    return False


def resolve_precision(precision: Precision, device: torch.device) -> Precision:
    """``auto`` is bf16 where ``device`` supports it natively and fp32 elsewhere;
    any other value is kept."""
    if precision != "auto":
        return precision
    return "bf16" if bf16_supported(device) else "fp32"


def autocast(precision: Precision, device: torch.device) -> AbstractContextManager[Any]:
    """The autocast context for ``precision`` on ``device``; a clear error where the
    device cannot compute in it."""
    precision = resolve_precision(precision, device)
    if precision == "fp32":
        return nullcontext()
    if problem := _unsupported(precision, device):
        raise NerkitError(problem)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _unsupported(precision: Precision, device: torch.device) -> str | None:
    """Why ``device`` cannot compute in ``precision`` (resolved); None where it can."""
    if precision == "fp16" and device.type != "cuda":
        return (
            "precision fp16 needs a CUDA GPU (fp16 autocast is not supported on CPU); "
            "use bf16 or fp32 on CPU"
        )
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "precision bf16: this GPU does not support bfloat16; use fp16 or fp32"
    return None


def predict_autocast(precision: Precision, device: torch.device) -> AbstractContextManager[Any]:
    """The autocast context for prediction: as :func:`autocast`, except that where
    ``device`` cannot compute in ``precision`` (a model trained in fp16 on a GPU, loaded
    on a CPU) the model predicts in fp32 rather than failing."""
    if _unsupported(resolve_precision(precision, device), device):
        return nullcontext()
    return autocast(precision, device)


# ------------------------------------------------------------ optimisation


def is_no_decay(name: str, module: nn.Module) -> bool:
    """Biases and normalisation weights are not decayed (as in BERT's own recipe)."""
    norm_types = (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d)
    return name.endswith("bias") or isinstance(module, norm_types) or "LayerNorm" in name


def parameter_groups(
    model: nn.Module,
    *,
    learning_rate: float,
    weight_decay: float,
    head: Callable[[str], bool],
    task_layer_lr: float = 1.0,
) -> list[dict[str, Any]]:
    """AdamW parameter groups of the trainable parameters: encoder / head (``head``
    says which names are the task head, whose learning rate is multiplied by
    ``task_layer_lr``) x decay / no decay. Each group carries ``name`` and ``names``
    (the parameter names) so that a test or a log can say what went where."""
    groups: dict[tuple[bool, bool], dict[str, Any]] = {}
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            name = f"{module_name}.{param_name}" if module_name else param_name
            key = (head(name), is_no_decay(name, module))
            if key not in groups:
                groups[key] = {
                    "name": f"{'head' if key[0] else 'encoder'}/{'no_decay' if key[1] else 'decay'}",
                    "params": [],
                    "names": [],
                    "lr": learning_rate * (task_layer_lr if key[0] else 1.0),
                    "weight_decay": 0.0 if key[1] else weight_decay,
                }
            groups[key]["params"].append(param)
            groups[key]["names"].append(name)
    return [groups[k] for k in sorted(groups)]


def lr_lambda(
    schedule: Schedule, warmup: int, total: int, steps_per_epoch: int, gamma: float
) -> Callable[[int], float]:
    """Learning-rate factor per optimizer step: linear warmup over ``warmup`` steps,
    then linear decay to 0 at ``total``, ``gamma`` per epoch, or constant."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if schedule == "linear":
            return max(0.0, (total - step) / max(1, total - warmup))
        if schedule == "exponential":
            return gamma ** ((step - warmup) / max(1, steps_per_epoch))
        return 1.0

    return factor


# ------------------------------------------------------------------ batches


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int, *, shuffle: bool = True
) -> list[list[int]]:
    """Index batches of similar lengths (less padding): shuffle, sort by length within
    buckets of 50 batches, shuffle the batches. Seeded by ``(seed, epoch)``; without
    ``shuffle``, simply sorted by length (for prediction)."""
    if not shuffle:
        order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths)).tolist()
    bucket = batch_size * 50
    batches: list[list[int]] = []
    for b in range(0, len(order), bucket):
        chunk = sorted(order[b : b + bucket], key=lambda i: -lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def shuffled_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Index batches of a plain shuffle of ``n`` items (the Hugging Face Trainer's
    default), seeded by ``(seed, epoch)``."""
    order = np.random.default_rng([seed, epoch]).permutation(n).tolist()
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


@dataclass(frozen=True)
class Collator:
    """Pads ``(input_ids, labels)`` items to the longest in the batch (picklable, so
    DataLoader workers can use it)."""

    pad_id: int

    def __call__(self, items: Sequence[tuple[Sequence[int], Sequence[int]]]) -> dict[str, Any]:
        width = max(len(ids) for ids, _ in items)
        ids = torch.full((len(items), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(items), width), -100, dtype=torch.long)
        mask = torch.zeros((len(items), width), dtype=torch.long)
        for row, (item_ids, item_labels) in enumerate(items):
            ids[row, : len(item_ids)] = torch.tensor(item_ids, dtype=torch.long)
            labels[row, : len(item_labels)] = torch.tensor(item_labels, dtype=torch.long)
            mask[row, : len(item_ids)] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def batches(
    items: Sequence[tuple[Sequence[int], Sequence[int]]],
    index_batches: list[list[int]],
    pad_id: int,
    num_workers: int = 0,
) -> Iterator[dict[str, Any]]:
    loader = torch.utils.data.DataLoader(
        list(items),
        batch_sampler=index_batches,
        collate_fn=Collator(pad_id),
        num_workers=num_workers,
    )
    return iter(loader)


# -------------------------------------------------------------------- loop


@dataclass(frozen=True)
class LoopSettings:
    epochs: int = 3
    learning_rate: float = 5e-5
    task_layer_lr: float = 1.0
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    scheduler: Schedule = "linear"
    gamma: float = 0.9
    grad_accumulation: int = 1
    max_grad_norm: float = 1.0
    evals_per_epoch: int = 1
    patience: int = 3
    precision: Precision = "fp32"


@dataclass
class LoopResult:
    """What happened in training (stored by taggers in their ``stats``)."""

    evaluations: int = 0
    optimizer_steps: int = 0
    best_f1: float | None = None
    best_step: int | None = None
    stopped_early: bool = False
    #: processes that trained together (``torchrun`` / ``accelerate launch``)
    world_size: int = 1
    points: list[tuple[int, int, str, str, float]] = field(default_factory=list)


def train(
    model: nn.Module,
    *,
    settings: LoopSettings,
    epoch_batches: Callable[[int], list[dict[str, Any]] | Iterator[dict[str, Any]]],
    batches_per_epoch: int,
    loss_of: Callable[[nn.Module, dict[str, Any]], torch.Tensor],
    evaluate: Callable[[], dict[str, float]] | None,
    head: Callable[[str], bool],
    device: torch.device,
    context: RunContext,
) -> LoopResult:
    """Train ``model`` in place. ``epoch_batches(epoch)`` gives the batches of an epoch
    (``batches_per_epoch`` of them), ``loss_of(module, batch)`` the mean loss of a
    batch computed by calling ``module`` (``model``, or its data-parallel wrapper under
    a multi-process launcher; it runs under autocast), ``evaluate()`` dev scores with
    at least ``f1`` (or None without dev: the last weights are kept).

    Launched as several processes (``torchrun``, ``accelerate launch``), each process
    takes every N-th batch of the same seeded epoch order and DDP averages the
    gradients, so an optimizer step sees N batches; rank 0's dev scores decide early
    stopping for all."""
    result = LoopResult()
    rank, size, usable = distributed.shard(batches_per_epoch)
    if usable == 0:
        raise NerkitError(
            f"{batches_per_epoch} training batches cannot be shared by {size} processes; "
            "use fewer processes or a smaller batch size"
        )
    result.world_size = size
    batches_per_epoch = usable // size
    forward = distributed.wrap(model, device)

    def record(epoch: int, step: int, split: str, metric: str, value: float) -> None:
        result.points.append((epoch, step, split, metric, float(value)))
        context.curve(epoch, step, split, metric, float(value))

    steps_per_epoch = math.ceil(batches_per_epoch / settings.grad_accumulation)
    total = steps_per_epoch * settings.epochs
    optimizer = torch.optim.AdamW(
        parameter_groups(
            model,
            learning_rate=settings.learning_rate,
            weight_decay=settings.weight_decay,
            head=head,
            task_layer_lr=settings.task_layer_lr,
        )
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lr_lambda(
            settings.scheduler,
            int(settings.warmup_ratio * total),
            total,
            steps_per_epoch,
            settings.gamma,
        ),
    )
    scaler = torch.amp.GradScaler("cuda", enabled=settings.precision == "fp16")
    evals = max(1, min(settings.evals_per_epoch, steps_per_epoch))
    # evaluate after these optimizer steps of each epoch (evenly spaced, the last one last)
    eval_after = {round(k * steps_per_epoch / evals) for k in range(1, evals + 1)}
    best_state: dict[str, torch.Tensor] | None = None
    since_best, step, loss_sum, loss_count = 0, 0, 0.0, 0
    trainable = [p for p in model.parameters() if p.requires_grad]

    for epoch in range(1, settings.epochs + 1):
        model.train()
        in_epoch = 0
        for i, batch in enumerate(_own_batches(epoch_batches(epoch), rank, size, usable)):
            batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
            with autocast(settings.precision, device):
                loss = loss_of(forward, batch)
            loss_sum += float(loss.detach())
            loss_count += 1
            scaler.scale(loss / settings.grad_accumulation).backward()
            last_of_epoch = i + 1 == batches_per_epoch
            if (i + 1) % settings.grad_accumulation and not last_of_epoch:
                continue
            scaler.unscale_(optimizer)
            if settings.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(trainable, settings.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            in_epoch += 1
            context.progress("training", step, total)
            if in_epoch not in eval_after:
                continue
            record(epoch, step, "train", "loss", loss_sum / max(1, loss_count))
            loss_sum, loss_count = 0.0, 0
            if evaluate is None:
                continue
            scores = distributed.from_rank0(evaluate())
            model.train()
            result.evaluations += 1
            for metric, value in scores.items():
                record(epoch, step, "dev", metric, value)
            if result.best_f1 is None or scores["f1"] > result.best_f1:
                result.best_f1, result.best_step, since_best = scores["f1"], step, 0
                best_state = {
                    k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
                }
            else:
                since_best += 1
                if settings.patience > 0 and since_best >= settings.patience:
                    result.stopped_early = True
                    break
        if result.stopped_early:
            break
    result.optimizer_steps = step
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


def _own_batches(
    epoch: Iterator[dict[str, Any]] | list[dict[str, Any]], rank: int, size: int, usable: int
) -> Iterator[dict[str, Any]]:
    """This process's share of an epoch: batches ``rank``, ``rank + size``, ... among
    the first ``usable``."""
    for i, batch in enumerate(epoch):
        if i >= usable:
            return
        if i % size == rank:
            yield batch
