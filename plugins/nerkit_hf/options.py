"""The options every tagger that fine-tunes a ``transformers`` encoder shares (``bert``
and ``lear``): the encoder, windows, vocabulary extension and the training loop.

A plugin's options class derives from :class:`EncoderTrainingOptions` and adds its
own fields; :meth:`EncoderTrainingOptions.check` checks the shared ranges together
with the plugin's own, and :meth:`EncoderTrainingOptions.loop_settings` hands the loop
fields to ``nerkit_hf.training.train``. One place for the defaults: a change (say of
the learning rate) reaches every such tagger at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nerkit.errors import ConfigError
from nerkit.options import option

if TYPE_CHECKING:  # torch loads on use: describing or checking options needs none of it
    import torch

    from nerkit.interfaces import RunContext
    from nerkit_hf import training


@dataclass(frozen=True, slots=True)
class EncoderTrainingOptions:
    model: str = option(
        "",
        "HF model name or local folder; empty: the bundled all-MiniLM-L6-v2 (offline)",
        path=True,
    )
    max_length: int = option(128, "subwords per window, special tokens included")
    stride: int = option(
        32, "overlap in subwords between windows of a long sentence (at most half a window)"
    )
    extend_vocab: bool = option(
        False, "add the training words the vocabulary maps to [UNK] as new tokens (CJK)"
    )
    learning_rate: float = option(1e-4, "peak learning rate of the encoder")
    task_layer_lr: float = option(
        10.0, "the task layers' learning rate is this times learning_rate (source: 10-20)"
    )
    epochs: int = option(5, "passes over the training data")
    batch_size: int = option(32, "windows per batch (training and prediction)")
    group_by_length: bool = option(
        False,
        "train on batches of windows of similar length: less padding, faster, but about "
        "1 F1 lower on WNUT-17 (false: shuffled batches, as the HF Trainer's default)",
    )
    grad_accumulation: int = option(1, "batches per optimizer step")
    warmup_ratio: float = option(0.1, "share of the optimizer steps spent warming up")
    scheduler: Literal["linear", "exponential", "constant"] = option(
        "linear", "learning-rate decay after warmup"
    )
    gamma: float = option(0.9, "exponential scheduler: factor per epoch")
    weight_decay: float = option(0.01, "AdamW weight decay (never on biases and LayerNorm)")
    max_grad_norm: float = option(1.0, "clip gradients to this norm (0: no clipping)")
    patience: int = option(3, "stop after this many dev evaluations without a better F1 (0: never)")
    evals_per_epoch: int = option(1, "dev evaluations per epoch")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "auto", "autocast precision (auto: bf16 where the device has it, else fp32)"
    )

    def check(self, plugin: str, extra: Mapping[str, bool] | None = None) -> None:
        """Raise a ConfigError naming the first option out of range: the shared
        checks, then the plugin's ``extra`` ones (option name -> in range)."""
        checks = {
            "max_length": self.max_length >= 4,
            "stride": self.stride >= 0,
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "grad_accumulation": self.grad_accumulation >= 1,
            "evals_per_epoch": self.evals_per_epoch >= 1,
            "warmup_ratio": 0.0 <= self.warmup_ratio < 1.0,
            "learning_rate": 0 <= self.learning_rate < math.inf,
            # a negative rate would train the task layers away from the data
            "task_layer_lr": 0 <= self.task_layer_lr < math.inf,
            "weight_decay": 0 <= self.weight_decay < math.inf,
            # a decay factor: at 0 or below the learning rate vanishes or turns negative
            "gamma": 0.0 < self.gamma <= 1.0,
            "patience": self.patience >= 0,
            "max_grad_norm": self.max_grad_norm >= 0,
            **(extra or {}),
        }
        for name, ok in checks.items():
            if not ok:
                value = getattr(self, name)
                raise ConfigError(f"{plugin} option {name!r} is out of range: {value!r}")

    def training_batches(self, lengths: Sequence[int], seed: int, epoch: int) -> list[list[int]]:
        """One epoch's batches of window indices (``lengths``: the windows' lengths)."""
        from nerkit_hf import training

        if self.group_by_length:
            return training.length_grouped_batches(lengths, self.batch_size, seed, epoch)
        return training.shuffled_batches(len(lengths), self.batch_size, seed, epoch)

    def loop_settings(self, device: torch.device) -> training.LoopSettings:
        """The training-loop settings, with ``precision`` resolved for ``device``."""
        from nerkit_hf import training

        return training.LoopSettings(
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            task_layer_lr=self.task_layer_lr,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            scheduler=self.scheduler,
            gamma=self.gamma,
            grad_accumulation=self.grad_accumulation,
            max_grad_norm=self.max_grad_norm,
            evals_per_epoch=self.evals_per_epoch,
            patience=self.patience,
            precision=training.resolve_precision(self.precision, device),
        )


def train_encoder(
    model: torch.nn.Module,
    options: EncoderTrainingOptions,
    *,
    lengths: Sequence[int],
    make_batches: Callable[[list[list[int]]], Iterable[Any]],
    loss_of: Callable[[torch.nn.Module, Any], torch.Tensor],
    evaluate: Callable[[], dict[str, float]] | None,
    head: Callable[[str], bool],
    device: torch.device,
    context: RunContext,
) -> tuple[training.LoopResult, dict[str, Any]]:
    """The shared loop with ``options``' settings over the windows of ``lengths``
    (``make_batches`` turns an epoch's index batches into model batches). Returns the
    loop's result and the summary a tagger keeps in ``stats["training"]``; writes the
    curve plots into the run folder when there is one."""
    from nerkit_hf import training

    settings = options.loop_settings(device)
    result = training.train(
        model,
        settings=settings,
        epoch_batches=lambda epoch: make_batches(
            options.training_batches(lengths, context.seed, epoch)
        ),
        batches_per_epoch=len(options.training_batches(lengths, 0, 0)),
        loss_of=loss_of,
        evaluate=evaluate,
        head=head,
        device=device,
        context=context,
    )
    summary = {
        "evaluations": result.evaluations,
        "optimizer_steps": result.optimizer_steps,
        "best_dev_f1": result.best_f1,
        "best_step": result.best_step,
        "stopped_early": result.stopped_early,
        "world_size": result.world_size,
        "precision": settings.precision,
    }
    if context.work_dir is not None:
        from nerkit_hf.plots import write_plots

        write_plots(result.points, Path(context.work_dir) / "plots")
    return result, summary
