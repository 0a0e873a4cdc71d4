"""The training curve of the flair tagger: the train loss and nerkit's dev scores after
every epoch of flair's ``ModelTrainer``, and the weights of the epoch with the best dev
F1.

The dev scores always come from nerkit's metric engine, on tags the current model
predicts for dev. Where flair's own dev evaluation has just made exactly those
predictions, they are taken from it instead of predicting dev a second time: while
flair evaluates, the model's decoder (``viterbi_decoder``, or ``_standard_inference``
without a CRF) is wrapped by a tap that passes every call through unchanged and keeps
the tags it decodes for the dev Sentences. That is the case when

- flair evaluates dev at all (not with ``train_with_dev``), and
- the embeddings it evaluates on are what a fresh pass computes: not stored between
  epochs (``embeddings_storage="none"``, recomputed with the current weights), or
  stored from the frozen part of the stack only, by an earlier evaluation (dev is not
  trained on).

flair's storage keeps every vector that needs no gradient, and in an evaluation none
does: the vectors of a part that learns (``char``, ``onehot``) would be read stale by
every later evaluation, and by the training steps of ``train_with_dev``, where dev
sentences are trained on. So the plugin drops them (``learning``: their names) from
flair's dev Sentences after every evaluation and every pass of its own.

Otherwise (``train_with_dev``) a separate pass predicts dev on freshly converted
Sentences: dev's stored vectors then come from training steps, where flair runs even a
frozen transformer with dropout. Either way flair's training itself runs as it would
without nerkit: the tap changes no number, and the separate pass leaves torch's random
generator as it found it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nerkit.interfaces import RunContext
from nerkit.types import Sentence
from nerkit_flair import convert
from nerkit_flair.predict import TagColumns, predict_tags

if TYPE_CHECKING:
    import flair.data
    from flair.models import SequenceTagger


class _Tap:
    """Keeps the tags a decoding call returned for the watched Sentences (by identity)."""

    def __init__(self, watched: Sequence[flair.data.Sentence]) -> None:
        self.index = {id(s): k for k, s in enumerate(watched)}
        self.tags: dict[int, list[str]] = {}

    def keep(self, sentences: Sequence[flair.data.Sentence], decoded: Sequence[Any]) -> None:
        for sentence, tags in zip(sentences, decoded, strict=True):
            k = self.index.get(id(sentence))
            if k is not None:
                self.tags[k] = [tag for tag, _score in tags]

    def wrap(self, decode: Callable[..., Any], sentences_at: int, name: str) -> Callable[..., Any]:
        def tapped(*args: Any, **kwargs: Any) -> Any:
            result = decode(*args, **kwargs)
            sentences = args[sentences_at] if len(args) > sentences_at else kwargs[name]
            self.keep(sentences, result[0])
            return result

        return tapped


class _TappedViterbi:
    """A model's ``ViterbiDecoder`` with a tap on ``decode``."""

    def __init__(self, decoder: Any, tap: _Tap) -> None:
        self.inner = decoder
        # flair calls decode(features_tuple, probabilities_for_all_classes, sentences)
        self.decode = tap.wrap(decoder.decode, 2, "sentences")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def curve_plugin(
    model: SequenceTagger,
    scheme: str,
    batch_size: int,
    dev: Sequence[Sentence],
    context: RunContext,
    max_epochs: int,
    select: bool,
    *,
    known_types: set[str] | None = None,
    flair_dev: Sequence[flair.data.Sentence] | None = None,
    reuse_evaluation: bool = False,
    stored_dev: bool = False,
    learning: Sequence[str] = (),
) -> Any:
    """A flair TrainerPlugin that reports the train loss and nerkit's dev scores per
    epoch and, with ``select``, keeps a copy of the weights of the epoch with the best
    dev F1 (the first of equals) in ``best_state``.

    ``known_types``: the entity types the tagger may predict (the others are scored
    as ``O``, as its predict returns them); None: every type of the model.
    ``flair_dev`` are the Sentences of flair's corpus for ``dev`` (one per sentence).
    ``reuse_evaluation``: flair's evaluation of them is a fresh prediction of the
    current model (see the module's docstring), so its tags are scored. ``stored_dev``:
    a separate pass may reuse the embeddings stored on them. Else a separate pass
    predicts freshly converted Sentences. ``learning``: the names of the embeddings
    that learn, whose vectors are dropped from ``flair_dev`` after every evaluation
    and pass (with storage ``cpu``; nothing is kept otherwise). ``last_dev_tags``
    holds the tags scored last."""
    from flair.trainers.plugins.base import TrainerPlugin, TrainingInterrupt

    from nerkit.metrics import scores

    class NerkitCurves(TrainerPlugin):
        step = 0
        best_f1 = -1.0
        best_state: dict[str, Any] | None = None
        last_dev_tags: list[tuple[str, ...]] | None = None
        tap: _Tap | None = None
        interrupted = False

        @TrainerPlugin.hook
        def training_interrupt(self, **kw: Any) -> None:
            # flair's trainer catches Ctrl-C and returns as if training had ended; the
            # tagger raises it again, so a run stops unfinished (and resumes) instead of
            # storing a half-trained model as finished. flair dispatches this event from
            # its except blocks for KeyboardInterrupt and for its own TrainingInterrupt
            # alike; the latter is how a plugin ends training on purpose (the annealing
            # plugin, once the learning rate falls below min_learning_rate): a normal end
            self.interrupted = not isinstance(sys.exc_info()[1], TrainingInterrupt)

        @TrainerPlugin.hook
        def after_training_batch(self, batch_count: int, **kw: Any) -> None:
            self.step = batch_count

        @TrainerPlugin.hook
        def metric_recorded(self, record: Any) -> None:
            if tuple(record.name) == ("train", "loss"):
                context.curve(
                    int(record.global_step), self.step, "train", "loss", float(record.value)
                )

        @TrainerPlugin.hook
        def after_training_epoch(self, epoch: int, **kw: Any) -> None:
            # flair's dev evaluation comes next
            if dev and reuse_evaluation and flair_dev is not None:
                self.attach_tap(_Tap(flair_dev))

        @TrainerPlugin.hook
        def after_evaluation(self, epoch: int, **kw: Any) -> None:
            tap = self.detach_tap()
            self.forget()
            if dev:
                predicted = self.dev_tags(tap)
                self.forget()
                self.last_dev_tags = predicted
                result = scores([s.tags for s in dev], predicted, scheme)
                for metric in ("precision", "recall", "f1"):
                    context.curve(epoch, self.step, "dev", metric, getattr(result, metric))
                if select and result.f1 > self.best_f1:
                    self.best_f1 = result.f1
                    state = model.state_dict()
                    self.best_state = {k: v.detach().clone() for k, v in state.items()}
            context.progress("training flair", epoch, max_epochs)

        @TrainerPlugin.hook("_training_finally")
        def training_finally(self, **kw: Any) -> None:
            self.detach_tap()

        def dev_tags(self, tap: _Tap | None) -> list[tuple[str, ...]]:
            if tap is not None and len(tap.tags) == len(dev):
                # flair's decoded tags, read into entities as predict_tags reads them
                columns = TagColumns.of(model, scheme, known_types=known_types)
                return [columns.value_tags(tap.tags[k]) for k in range(len(dev))]
            # flair did not evaluate dev (or not all of it): predict it here
            if stored_dev and flair_dev is not None:
                sentences, storage = flair_dev, "cpu"
            else:
                sentences, storage = [convert.to_flair(s) for s in dev], "none"
            return predict_tags(
                model,
                sentences,
                scheme=scheme,
                batch_size=batch_size,
                storage=storage,  # type: ignore[arg-type]
                known_types=known_types,
            )

        def forget(self) -> None:
            """Drop the learning embeddings' vectors from flair's dev Sentences."""
            if learning:
                for sentence in flair_dev or ():
                    sentence.clear_embeddings(list(learning))

        def attach_tap(self, tap: _Tap) -> None:
            self.detach_tap()
            self.tap = tap
            if model.use_crf:
                model.viterbi_decoder = _TappedViterbi(model.viterbi_decoder, tap)
            else:
                # flair calls _standard_inference(features, batch, probabilities_for_all)
                model._standard_inference = tap.wrap(model._standard_inference, 1, "batch")

        def detach_tap(self) -> _Tap | None:
            tap, self.tap = self.tap, None
            if tap is not None:
                if model.use_crf:
                    model.viterbi_decoder = model.viterbi_decoder.inner
                else:
                    del model._standard_inference  # the class's method shows again
            return tap

    return NerkitCurves()
