"""The roles a plugin can fill: one abstract base class per role (datasets are
``nerkit.datasets.DatasetSpec`` values, not classes).

A component is built from a frozen options dataclass (``options_class``) and never
mutates the sentences or predictions it is given.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from nerkit.errors import NerkitError
from nerkit.options import NoOptions, as_dict, build_options
from nerkit.types import Prediction, Sentence

CurveCallback = Callable[[int, int, str, str, float], None]
"""``(epoch, step, split, metric, value)``: a point of a training curve."""

ProgressCallback = Callable[[str, int, int], None]
"""``(description, done, total)``."""


def _no_curve(epoch: int, step: int, split: str, metric: str, value: float) -> None:
    pass


def _no_progress(description: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class RunContext:
    """What a component needs to know about the run it is part of."""

    seed: int = 13
    device: str = "cpu"
    threads: int | None = None
    work_dir: Path | None = None
    curve: CurveCallback = field(default=_no_curve, repr=False)
    progress: ProgressCallback = field(default=_no_progress, repr=False)

    def seed_everything(self) -> None:
        """Seed Python's and numpy's generators (torch plugins also seed torch)."""
        import numpy as np

        random.seed(self.seed)
        np.random.seed(self.seed % 2**32)


class Component:  # noqa: B024 - a mixin; each role below declares the abstract methods
    """Shared by every role: typed options, saved next to the component's state."""

    options_class: ClassVar[type] = NoOptions

    def __init__(self, options: Any = None) -> None:
        if options is None or isinstance(options, dict):
            options = build_options(self.options_class, options, component=type(self).__name__)
        self.options = options

    def config(self) -> dict[str, Any]:
        return as_dict(self.options)


class Tagger(Component, ABC):
    """Learns from tagged sentences and tags new ones."""

    #: the tag scheme of the tags predict returns (set by fit / load)
    scheme: str = "IOB2"
    #: whether predict gives each prediction a probability matrix: True, False, or None
    #: (not declared, or it depends on the options); a run with a decoder that needs
    #: one is refused up front when a component says False
    gives_probabilities: bool | None = None
    #: False for a tagger that learns nothing from training data (a trained model used
    #: as it is, loaded by ``fit``, which may still read the data's entity types; an
    #: instance may say so from its options): a run without a corrector needs no train
    #: split for it, and calls ``fit`` with no sentences where there is none
    trains: bool = True

    @abstractmethod
    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        """Train on ``train`` (``dev`` for early stopping / model selection)."""

    @abstractmethod
    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        """One Prediction per sentence, one tag per token, in ``self.scheme``."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write everything ``load`` needs into ``directory`` (it exists and is empty)."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Tagger:
        """Rebuild a trained tagger saved by ``save``."""


class Corrector(Component, ABC):
    """Reads sentences with a base tagger's predictions and returns corrected ones."""

    scheme: str = "IOB2"
    #: as ``Tagger.gives_probabilities``, for what correct returns
    gives_probabilities: bool | None = None

    @abstractmethod
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
        """Learn to turn ``train_predictions`` into the gold tags of ``train``."""

    @abstractmethod
    def correct(
        self, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[Prediction]:
        """Corrected predictions, one per sentence."""

    @abstractmethod
    def save(self, directory: Path) -> None: ...

    @classmethod
    @abstractmethod
    def load(cls, directory: Path) -> Corrector: ...


class Decoder(Component, ABC):
    """Turns a prediction into a tag sequence valid in a scheme."""

    #: reads the prediction's probability matrix (the viterbi decoder)
    needs_probabilities: bool = False

    @abstractmethod
    def decode(self, prediction: Prediction, scheme: str) -> tuple[tuple[str, ...], int]:
        """The decoded tags and the number of tokens changed."""


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One number of a metrics table: ``(metric, label, value, support)``."""

    metric: str
    label: str
    value: float
    support: int


class Metric(Component, ABC):
    """Scores predicted tag sequences against gold ones."""

    @abstractmethod
    def compute(
        self,
        gold: Sequence[Sequence[str]],
        predicted: Sequence[Sequence[str]],
        *,
        scheme: str = "IOB2",
        mode: str = "lenient",
    ) -> list[MetricRow]: ...


def save_options(component: Component, directory: Path) -> None:
    """Store the component's options (a helper for ``save``)."""
    (directory / "options.json").write_text(
        json.dumps(component.config(), indent=2, sort_keys=True)
    )


def load_options(options_class: type, directory: Path) -> Any:
    return build_options(options_class, json.loads((directory / "options.json").read_text()))


def write_manifest(directory: Path, name: str, fmt: str, version: int, **fields: Any) -> None:
    """Write a saved component's manifest ``directory/name``: JSON holding ``format``
    and ``version`` (checked by :func:`read_manifest`) and ``fields`` (a helper for
    ``save``)."""
    payload = {"format": fmt, "version": version, **fields}
    (Path(directory) / name).write_text(
        json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8"
    )


def read_manifest(directory: Path, name: str, fmt: str, version: int, what: str) -> dict[str, Any]:
    """The manifest :func:`write_manifest` wrote (a helper for ``load``).

    A missing or unreadable file, or one of another format or version, is a
    ``NerkitError`` naming it; ``what`` names the component (``"bert tagger"``).
    """
    path = Path(directory) / name
    if not path.is_file():
        raise NerkitError(f"{directory} holds no saved {what} ({name} is missing)")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NerkitError(f"{path}: cannot read the saved {what}: {exc}") from None
    found = payload if isinstance(payload, dict) else {}
    if found.get("format") != fmt or found.get("version") != version:
        raise NerkitError(
            f"{path}: not a {fmt} file of version {version} "
            f"(format {found.get('format')!r}, version {found.get('version')!r})"
        )
    return found
