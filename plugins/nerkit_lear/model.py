"""The LEAR network: a sentence encoder, label descriptions encoded by the same
encoder, a label-knowledge fusion layer, and per-label start / end classifiers.

Fusion: every token attends to the tokens of each label's description (scaled dot
product of a query of the token and keys of the description tokens); the attended
description vector is added to the token's state and passed through a linear layer
and tanh, which gives one label-specific representation per (token, label). A start
and an end classifier per label (a weight vector and a bias each) read those
representations; a sigmoid turns their logits into probabilities.

With span matching, a small network scores a (start token, end token) pair of a label
from the two tokens' label-specific representations; it is trained on the pairs of
gold starts and gold ends and lets nested decoding pair every start with every end.

Batches (``forward``) hold ``input_ids`` and ``attention_mask`` and, for training,
``word_mask`` (positions that carry a word's label: its first subword, in the window
that owns it), ``start_labels`` / ``end_labels`` (batch x positions x labels, 0/1),
and for span matching ``pairs`` (rows ``batch, start position, end position, label``)
with ``pair_labels``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the usual torch alias


class LearModel(nn.Module):
    def __init__(
        self,
        encoder: nn.Module,
        description_ids: torch.Tensor,
        description_mask: torch.Tensor,
        *,
        dropout: float = 0.1,
        span_loss_weight: float = 0.0,
        positive_weight: float = 1.0,
        prior: float | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        n_labels = description_ids.shape[0]
        self.n_labels = n_labels
        #: weight of the span-matching loss; 0: no span matching
        self.span_loss_weight = span_loss_weight
        self.span_matching = span_loss_weight > 0
        #: weight of the positive (start / end) targets in the pointer loss: about one
        #: (word, label) position in a hundred is a start, and with equal weights the
        #: probabilities settle far below any useful threshold
        self.positive_weight = positive_weight
        # buffers: saved with the weights and moved with the model
        self.register_buffer("description_ids", description_ids.long())
        self.register_buffer("description_mask", description_mask.long())
        self.dropout = nn.Dropout(dropout)
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.fuse = nn.Linear(hidden, hidden)
        self.start_weight = nn.Parameter(torch.empty(n_labels, hidden))
        self.start_bias = nn.Parameter(torch.zeros(n_labels))
        self.end_weight = nn.Parameter(torch.empty(n_labels, hidden))
        self.end_bias = nn.Parameter(torch.zeros(n_labels))
        std = float(getattr(encoder.config, "initializer_range", 0.02))
        for weight in (self.start_weight, self.end_weight):
            nn.init.normal_(weight, std=std)
        if prior is not None:
            # start at the loss-minimising constant: with biases at 0 (probability 0.5
            # everywhere) the first steps only push every position down, which on
            # sparse targets (characters of Weibo) stalls the pointers for many epochs
            logit = math.log(prior / (1.0 - prior))
            for bias in (self.start_bias, self.end_bias):
                nn.init.constant_(bias, logit)
        if self.span_matching:
            self.match_start = nn.Linear(hidden, hidden)
            self.match_end = nn.Linear(hidden, hidden, bias=False)
            self.match_weight = nn.Parameter(torch.empty(n_labels, hidden))
            self.match_bias = nn.Parameter(torch.zeros(n_labels))
            nn.init.normal_(self.match_weight, std=std)

    @staticmethod
    def is_head(name: str) -> bool:
        """Parameters outside the pretrained encoder (they get ``task_layer_lr``)."""
        return not name.startswith("encoder.")

    def label_states(self) -> torch.Tensor:
        """The encoded descriptions: labels x description tokens x hidden."""
        out = self.encoder(input_ids=self.description_ids, attention_mask=self.description_mask)
        return out.last_hidden_state

    def fused_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Label-specific token representations: batch x positions x labels x hidden."""
        tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        tokens = self.dropout(tokens)
        labels = self.label_states()
        query = self.query(tokens)
        key, value = self.key(labels), self.value(labels)
        scores = torch.einsum("btd,cmd->btcm", query, key) / math.sqrt(query.shape[-1])
        padding = (self.description_mask == 0)[None, None]
        scores = scores.masked_fill(padding, torch.finfo(scores.dtype).min)
        attended = torch.einsum("btcm,cmd->btcd", scores.softmax(dim=-1), value)
        fused = torch.tanh(self.fuse(tokens.unsqueeze(2) + attended))
        return self.dropout(fused)

    def match_logits(
        self, start_states: torch.Tensor, end_states: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        """Match logits of pairs: the start's and the end's states at the pair's label
        (pairs x hidden each) and the label indices."""
        hidden = F.gelu(self.match_start(start_states) + self.match_end(end_states))
        return (hidden * self.match_weight[labels]).sum(-1) + self.match_bias[labels]

    def forward(
        self, batch: dict[str, Any], *, keep_states: bool = False
    ) -> dict[str, torch.Tensor]:
        states = self.fused_states(batch["input_ids"], batch["attention_mask"])
        start = (states * self.start_weight).sum(-1) + self.start_bias
        end = (states * self.end_weight).sum(-1) + self.end_bias
        out = {"start_logits": start, "end_logits": end}
        if keep_states:
            out["states"] = states
        if "start_labels" in batch:
            out["loss"] = self._loss(batch, states, start, end)
        return out

    def _loss(
        self,
        batch: dict[str, Any],
        states: torch.Tensor,
        start: torch.Tensor,
        end: torch.Tensor,
    ) -> torch.Tensor:
        mask = batch["word_mask"].bool()
        weight = start.new_tensor(self.positive_weight, dtype=torch.float)
        loss = F.binary_cross_entropy_with_logits(
            start[mask].float(), batch["start_labels"][mask].float(), pos_weight=weight
        ) + F.binary_cross_entropy_with_logits(
            end[mask].float(), batch["end_labels"][mask].float(), pos_weight=weight
        )
        if not self.span_matching:
            return loss
        pairs = batch["pairs"]
        if len(pairs) == 0:
            # keeps the matching parameters in the graph (data-parallel training needs
            # every parameter to receive a gradient in every step)
            anchor = self.match_weight.sum() + self.match_bias.sum()
            anchor = anchor + sum(p.sum() for p in self.match_start.parameters())
            anchor = anchor + sum(p.sum() for p in self.match_end.parameters())
            return loss + 0.0 * anchor
        b, i, j, c = pairs.unbind(dim=1)
        logits = self.match_logits(states[b, i, c], states[b, j, c], c)
        return loss + self.span_loss_weight * F.binary_cross_entropy_with_logits(
            logits.float(), batch["pair_labels"].float()
        )
