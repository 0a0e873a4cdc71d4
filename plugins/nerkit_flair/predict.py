"""Prediction with a flair ``SequenceTagger``, straight from its tensors.

flair's ``predict(..., return_probabilities_for_all_classes=True)`` makes a ``Label``
object for every token and tag, and nerkit used to turn those back into numbers. Here
flair's own building blocks run (``_prepare_tensors``, ``forward``) and the decoding is
done on the score tensors in one go per batch:

- with a CRF, the Viterbi recursion of flair's ``ViterbiDecoder`` (the same additions
  and maxima, so the same tags), its per-token distribution (softmax over the
  accumulated Viterbi scores, with the decoded tag's and the top tag's probabilities
  swapped, as flair does so that the decoded tag is the most probable one);
- without a CRF, flair's softmax over the emissions and its arg-max.

Entities are then read from each sentence's decoded tags as flair's ``predict`` reads
them, with flair's ``get_spans_from_bio`` (so an invalid path gives flair's entities:
``B-X E-X E-X`` one entity, ``B-X E-Y`` one ``X`` entity by flair's vote on its tags),
renamed by the label map, dropped where their type is not kept, and written in the
dataset's scheme. A model with token-level labels (flair's ``predict_spans`` false:
``PER``, ``LOC`` without prefixes) is read as IO tags (``I-PER``): a run of tokens of
one type is one entity. ``<unk>``, ``<START>`` and ``<STOP>`` are read as ``O``.

Confidences, the probability matrix and the tags come from small index tables built
once per call (:class:`TagColumns`) instead of per-token dictionaries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nerkit import schemes
from nerkit.types import Prediction, Sentence, Span
from nerkit_flair import convert

if TYPE_CHECKING:
    import flair.data
    import numpy as np
    from flair.models import SequenceTagger


def is_tag(value: str) -> bool:
    """Whether a value of flair's tag dictionary is a prefixed tag or ``O`` (not
    ``<START>``, ``<unk>``... nor a token-level label such as ``PER``)."""
    return value == schemes.OUTSIDE or (len(value) > 2 and value[1] == "-")


def _is_special(value: str) -> bool:
    # flair's own entries (<unk>, <START>, <STOP>) and its legacy "_" for no label
    return value in ("", "_") or (value.startswith("<") and value.endswith(">"))


def flair_tags(model: SequenceTagger) -> list[str | None]:
    """Per index of the model's tag dictionary, the tag ``get_spans_from_bio`` reads:
    the tag itself (a span model), ``I-`` + the label (a model with token-level labels),
    or None for a value that is no tag (the special ones)."""
    items = [str(v) for v in model.label_dictionary.get_items()]
    if getattr(model, "predict_spans", True):
        return [v if is_tag(v) else None for v in items]
    return [None if _is_special(v) else v if v == schemes.OUTSIDE else f"I-{v}" for v in items]


def entity_types(model: SequenceTagger) -> set[str]:
    """The entity types a flair model can predict (before any label map)."""
    return {schemes.split_tag(t)[1] for t in flair_tags(model) if t} - {""}


# flair's prefix -> the dataset scheme's prefix, where the mapping is token by token
_LOCAL_PREFIXES: dict[tuple[str, str], dict[str, str]] = {
    ("IOB2", "IOB2"): {"B": "B", "I": "I"},
    ("IOB2", "IO"): {"B": "I", "I": "I"},
    ("BIOES", "BIOES"): {"B": "B", "I": "I", "E": "E", "S": "S"},
    ("BIOES", "IOB2"): {"B": "B", "I": "I", "E": "I", "S": "B"},
    ("BIOES", "IOE2"): {"B": "I", "I": "I", "E": "E", "S": "E"},
    ("BIOES", "BILOU"): {"B": "B", "I": "I", "E": "L", "S": "U"},
    ("BIOES", "IO"): {"B": "I", "I": "I", "E": "I", "S": "I"},
    ("IO", "IO"): {"I": "I"},
}


@dataclass(frozen=True, slots=True)
class TagColumns:
    """What each index of flair's tag dictionary becomes on nerkit's side.

    ``tags``: the tag ``get_spans_from_bio`` reads (flair's format, or ``I-`` + a
    token-level label; special values ``O``), types not yet mapped; ``by_value``: the
    same by the dictionary's value; ``real``: the indices of real tags (the special
    ones are dropped from every distribution and the rest renormalised); ``outside``:
    the indices of real tags that count as ``O`` (``O``, and every tag whose type is
    not kept): a token tagged ``O`` has their summed probability as its confidence;
    ``merge``: real tags x ``labels``, 1 where a flair tag falls in a column of the
    dataset's scheme (None where that mapping depends on the neighbours: IOB1, IOE1,
    or IOB2 from token-level labels).
    """

    source: str
    scheme: str
    tags: tuple[str, ...]
    by_value: dict[str, str]
    type_map: dict[str, str]
    known_types: frozenset[str]
    real: np.ndarray
    outside: np.ndarray
    merge: np.ndarray | None
    labels: tuple[str, ...]

    @classmethod
    def of(
        cls,
        model: SequenceTagger,
        scheme: str,
        type_map: dict[str, str] | None = None,
        known_types: set[str] | None = None,
    ) -> TagColumns:
        import numpy as np

        spans_model = getattr(model, "predict_spans", True)
        source = convert.FLAIR_SCHEMES[model.tag_format] if spans_model else "IO"
        items = [str(v) for v in model.label_dictionary.get_items()]
        read = flair_tags(model)
        tags = tuple(t or schemes.OUTSIDE for t in read)
        real = [k for k, t in enumerate(read) if t is not None]
        type_map = dict(type_map or {})
        known = frozenset(known_types or ())

        def kept(tag: str) -> str:
            """The tag with its type mapped, or O where the type is not kept."""
            prefix, kind = schemes.split_tag(tag)
            if not kind:
                return schemes.OUTSIDE
            kind = type_map.get(kind, kind)
            return f"{prefix}-{kind}" if not known or kind in known else schemes.OUTSIDE

        mapped = [kept(tags[k]) for k in real]
        outside = [k for k, t in zip(real, mapped, strict=True) if t == schemes.OUTSIDE]
        prefixes = _LOCAL_PREFIXES.get((source, scheme))
        merge = None
        labels: tuple[str, ...] = ()
        if prefixes is not None:

            def target(tag: str) -> str:
                prefix, kind = schemes.split_tag(tag)
                return f"{prefixes[prefix]}-{kind}" if kind else schemes.OUTSIDE

            targets = [target(t) for t in mapped]
            labels = tuple(
                sorted(
                    {*targets, schemes.OUTSIDE},
                    key=lambda t: (t != schemes.OUTSIDE, schemes.split_tag(t)[1], t),
                )
            )
            merge = np.zeros((len(real), len(labels)), dtype=np.float64)
            merge[np.arange(len(real)), [labels.index(t) for t in targets]] = 1.0
        return cls(
            source=source,
            scheme=scheme,
            tags=tags,
            by_value=dict(zip(items, tags, strict=True)),
            type_map=type_map,
            known_types=known,
            real=np.asarray(real, dtype=np.int64),
            outside=np.asarray(outside, dtype=np.int64),
            merge=merge,
            labels=labels,
        )

    def scheme_tags(self, ids: Sequence[int]) -> tuple[str, ...]:
        """One sentence's tag indices as tags of the dataset's scheme: flair's entities
        (see :meth:`entities`) encoded in it."""
        return self.encode([self.tags[k] for k in ids])

    def value_tags(self, values: Sequence[str]) -> tuple[str, ...]:
        """As :meth:`scheme_tags`, from the values of flair's tag dictionary."""
        return self.encode([self.by_value.get(v, schemes.OUTSIDE) for v in values])

    def encode(self, tags: Sequence[str]) -> tuple[str, ...]:
        """Tags as ``get_spans_from_bio`` reads them -> tags of the dataset's scheme."""
        if all(t == schemes.OUTSIDE for t in tags):
            return (schemes.OUTSIDE,) * len(tags)
        return tuple(schemes.encode(self.entities(tags), len(tags), self.scheme))

    def entities(self, tags: Sequence[str]) -> list[Span]:
        """The entities flair's ``predict`` makes of one sentence's tags (flair's
        ``get_spans_from_bio``), renamed by the label map; those of a type not kept
        are dropped."""
        from flair.data import get_spans_from_bio

        out = []
        for indices, _score, kind in get_spans_from_bio(list(tags)):  # it appends to it
            kind = self.type_map.get(kind, kind)
            if not self.known_types or kind in self.known_types:
                out.append(Span(indices[0], indices[-1] + 1, kind))
        return out


# ------------------------------------------------------------------ decoding


def decode(
    model: SequenceTagger, batch: list[flair.data.Sentence], *, distributions: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """flair's tag index for every token of ``batch`` (the sentences one after another)
    and, with ``distributions``, flair's distribution over its tags per token (tokens x
    tags, the same numbers ``return_probabilities_for_all_classes`` gives).

    Runs the model as it is (call it in eval mode and without gradients); the embeddings
    stay on the Sentences."""
    import torch

    sentence_tensor, lengths = model._prepare_tensors(batch)
    features = model.forward(sentence_tensor, lengths)
    if not model.use_crf:
        # flair's _standard_inference: softmax over the emissions, the arg-max of that
        probabilities = torch.softmax(features, dim=1).cpu()
        best = probabilities.max(dim=1).indices
        return best.numpy(), probabilities.numpy() if distributions else None
    return _viterbi(model, features, distributions)


def _viterbi(
    model: SequenceTagger, features: tuple[Any, ...], distributions: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    import torch

    # emissions[b, t, k, j]: the score of tag k at t after tag j (CRF transitions added)
    emissions, lengths, transitions = features
    start = model.viterbi_decoder.start_tag
    stop = model.viterbi_decoder.stop_tag
    size, longest, tagset = emissions.shape[:3]
    device = emissions.device
    ends = lengths.to(device) - 1
    # best[b, t, k]: the best score of a path ending in tag k at t; back: its previous tag.
    # Each row only combines its own numbers, so sentences past their end (kept in the
    # batch here, skipped by flair) change nothing for the others.
    best = torch.zeros(size, longest, tagset, dtype=emissions.dtype, device=device)
    back = torch.zeros(size, longest, tagset, dtype=torch.long, device=device)
    best[:, 0] = emissions[:, 0, :, start]
    for t in range(1, longest):
        best[:, t], back[:, t] = torch.max(emissions[:, t] + best[:, t - 1].unsqueeze(1), dim=2)
    rows = torch.arange(size, device=device)
    final = torch.max(best[rows, ends] + transitions[stop].unsqueeze(0), dim=1).indices
    decoded = torch.zeros(size, longest, dtype=torch.long, device=device)
    pointer = final
    for t in range(longest - 1, -1, -1):
        pointer = torch.where(ends == t, final, pointer)
        decoded[:, t] = pointer
        if t:
            pointer = back[:, t].gather(1, pointer.unsqueeze(1)).squeeze(1)
    in_sentence = torch.arange(longest, device=device).unsqueeze(0) <= ends.unsqueeze(1)
    ids = decoded[in_sentence].cpu().numpy()
    if not distributions:
        return ids, None
    probabilities = torch.softmax(best[in_sentence], dim=1)
    chosen = torch.from_numpy(ids).to(device).unsqueeze(1)
    top, top_index = probabilities.max(dim=1, keepdim=True)
    chosen_value = probabilities.gather(1, chosen)
    # flair swaps the decoded tag's probability with the top one's: the decoded tag is
    # then the most probable, and the distribution keeps its values
    probabilities.scatter_(1, top_index, chosen_value)
    probabilities.scatter_(1, chosen, top)
    return ids, probabilities.cpu().numpy()


@contextlib.contextmanager
def _evaluating(model: SequenceTagger) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _length_sorted(lengths: Sequence[int]) -> list[int]:
    # longest first, as flair batches: little padding, and a sentence's tags do not
    # depend on which other sentences share its batch (flair pads, the LSTM packs)
    return sorted((i for i, n in enumerate(lengths) if n), key=lambda i: -lengths[i])


# ------------------------------------------------------------------ public


def predict_with(
    model: SequenceTagger,
    sentences: Sequence[Sentence],
    *,
    scheme: str,
    batch_size: int = 32,
    type_map: dict[str, str] | None = None,
    known_types: set[str] | None = None,
) -> list[Prediction]:
    """Tag ``sentences`` with a flair model: the entities flair's ``predict`` gives
    (types renamed by ``type_map``; those outside ``known_types``, when given, dropped)
    as tags in ``scheme``, one per token, with confidences and (where flair's tags map
    token by token onto ``scheme``) the per-token probability matrix."""
    import numpy as np
    import torch
    from flair.data import Sentence as FlairSentence

    columns = TagColumns.of(model, scheme, type_map, known_types)
    out = [Prediction(tags=())] * len(sentences)
    order = _length_sorted([len(s.tokens) for s in sentences])
    with _evaluating(model), torch.inference_mode():
        for first in range(0, len(order), batch_size):
            batch = order[first : first + batch_size]
            flair_batch = [convert.to_flair(sentences[i]) for i in batch]
            FlairSentence.set_context_for_sentences(flair_batch)
            ids, dist = decode(model, flair_batch, distributions=True)
            assert dist is not None
            real = dist[:, columns.real]
            totals = real.sum(axis=1, dtype=np.float64)
            # an entity token: the probability of the tag flair decoded; an O token (O
            # decoded, a special value, or an entity of a type not kept): of O, summed
            # over the columns that count as O, as the probability matrix sums them
            decoded = dist[np.arange(len(ids)), ids].astype(np.float64)
            outside = dist[:, columns.outside].sum(axis=1, dtype=np.float64)
            matrix = None
            if columns.merge is not None:
                matrix = real.astype(np.float64) @ columns.merge
                sums = matrix.sum(axis=1, keepdims=True)
                matrix = np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)
            lengths = [len(s) for s in flair_batch]
            bounds = np.cumsum([0, *lengths]).tolist()
            tags = [
                columns.scheme_tags(ids[bounds[k] : bounds[k + 1]].tolist())
                for k in range(len(batch))
            ]
            is_outside = np.fromiter(
                (t == schemes.OUTSIDE for sentence_tags in tags for t in sentence_tags),
                dtype=bool,
                count=len(ids),
            )
            confidences = np.divide(
                np.where(is_outside, outside, decoded),
                totals,
                out=np.zeros(len(ids), dtype=np.float64),
                where=totals > 0,
            ).clip(0.0, 1.0)
            for k, i in enumerate(batch):
                at, end = bounds[k], bounds[k + 1]
                out[i] = Prediction(
                    tags=tags[k],
                    confidences=tuple(confidences[at:end].tolist()),
                    probabilities=None if matrix is None else matrix[at:end].copy(),
                    labels=columns.labels if matrix is not None else (),
                )
    return out


def predict_tags(
    model: SequenceTagger,
    flair_sentences: Sequence[flair.data.Sentence],
    *,
    scheme: str,
    batch_size: int = 32,
    storage: Literal["none", "cpu"] = "none",
    known_types: set[str] | None = None,
) -> list[tuple[str, ...]]:
    """The tags (in ``scheme``) flair's model predicts for flair Sentences, without
    confidences or probabilities, leaving the Sentences' labels as they were.

    With ``storage="cpu"`` embeddings already stored on the Sentences are reused and new
    ones kept, as flair's own evaluation does: right only where the stored vectors are
    what a fresh pass computes (those of the stack's frozen part, stored by an
    evaluation; the caller drops the learning part's, ``nerkit_flair.curves``).
    ``known_types``: the entity types kept (any other is predicted as ``O``; None or
    empty: every type of the model), as in :func:`predict_with`."""
    import torch
    from flair.data import Sentence as FlairSentence
    from flair.training_utils import store_embeddings

    columns = TagColumns.of(model, scheme, known_types=known_types)
    out: list[tuple[str, ...]] = [()] * len(flair_sentences)
    order = _length_sorted([len(s) for s in flair_sentences])
    # kept embeddings must not be inference tensors: training code may touch them later
    grad_off = torch.inference_mode() if storage == "none" else torch.no_grad()
    # nothing here should draw from torch's generator (flair's predict did, through its
    # DataLoader); a pass between epochs must leave the next shuffles and dropout masks
    # of training as they were, so the generator is restored whatever an embedding does
    with torch.random.fork_rng(devices=[]), grad_off, _evaluating(model):
        for first in range(0, len(order), batch_size):
            batch = [flair_sentences[i] for i in order[first : first + batch_size]]
            FlairSentence.set_context_for_sentences(batch)
            ids, _ = decode(model, batch, distributions=False)
            store_embeddings(batch, storage)
            at = 0
            for i, flair_sentence in zip(order[first : first + batch_size], batch, strict=True):
                end = at + len(flair_sentence)
                out[i] = columns.scheme_tags(ids[at:end].tolist())
                at = end
    return out
