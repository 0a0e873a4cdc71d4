"""The correction network: an encoder plus the base tag as a feature.

``features`` decides where the base tag (and, with ``token_majority``, the tag the
training data gives the token string most often) enters:

* ``onehot``: one-hot vectors concatenated after the encoder's last hidden state (the
  paper's form);
* ``add``: trainable tag embeddings added to the encoder's input token embeddings (the
  majority tag has a table of its own: one shared table would make a sum in which the
  base tag and the majority tag could not be told apart);
* ``concat``: trainable, zero-initialised tag embeddings concatenated after the last
  hidden state.

Tag ids per subword carry an extra "no tag" id (``n_tags``) on special tokens and
padding: a zero vector in every mode.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

Features = Literal["onehot", "add", "concat"]
CONCAT_DIM = 32


class CorrectionModel(nn.Module):
    def __init__(
        self,
        encoder: nn.Module,
        n_tags: int,
        features: Features,
        majority: bool,
        dropout: float,
        copy_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.n_tags = n_tags
        self.features = features
        self.majority = majority
        hidden = encoder.config.hidden_size
        n_feats = 2 if majority else 1
        self.dropout = nn.Dropout(dropout)
        if features == "add":
            self.tag_embedding = nn.Embedding(n_tags + 1, hidden, padding_idx=n_tags)
            nn.init.normal_(self.tag_embedding.weight, std=0.02)
            with torch.no_grad():
                self.tag_embedding.weight[n_tags].zero_()
            if majority:
                self.majority_embedding = nn.Embedding(n_tags + 1, hidden, padding_idx=n_tags)
                nn.init.normal_(self.majority_embedding.weight, std=0.02)
                with torch.no_grad():
                    self.majority_embedding.weight[n_tags].zero_()
            extra = 0
        elif features == "concat":
            self.tag_embedding = nn.Embedding(n_tags + 1, CONCAT_DIM, padding_idx=n_tags)
            nn.init.zeros_(self.tag_embedding.weight)
            extra = CONCAT_DIM * n_feats
        else:
            extra = n_tags * n_feats
        self.classifier = nn.Linear(hidden + extra, n_tags)
        if features == "onehot" and copy_init:
            # start as a copier: each base tag's column votes for the same output tag
            with torch.no_grad():
                self.classifier.weight[:, hidden : hidden + n_tags] = copy_init * torch.eye(n_tags)

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        if self.features == "add":
            embeds = self.encoder.get_input_embeddings()(batch["input_ids"])
            embeds = embeds + self.tag_embedding(batch["base_tags"])
            if self.majority:
                embeds = embeds + self.majority_embedding(batch["majority_tags"])
            out = self.encoder(inputs_embeds=embeds, attention_mask=batch["attention_mask"])
            states = self.dropout(out.last_hidden_state)
            return self.classifier(states)
        out = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        states = self.dropout(out.last_hidden_state)
        tag_inputs = [batch["base_tags"]] + ([batch["majority_tags"]] if self.majority else [])
        if self.features == "concat":
            parts = [self.tag_embedding(tags) for tags in tag_inputs]
        else:
            # one extra column for "no tag", dropped: special tokens get a zero vector
            parts = [
                nn.functional.one_hot(tags, self.n_tags + 1)[..., : self.n_tags].to(states.dtype)
                for tags in tag_inputs
            ]
        return self.classifier(torch.cat([states, *parts], dim=-1))

    def is_head(self, name: str) -> bool:
        """Parameters that get the task-layer learning rate."""
        return name.startswith(("classifier", "tag_embedding", "majority_embedding"))
