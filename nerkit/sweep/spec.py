"""A sweep spec: a TOML file naming datasets, taggers, correctors, their options, seeds
and folds. Every mistake is a ``ConfigError`` naming the file, the key and, where it
can be found, the line::

    name = "small"
    datasets = ["wnut17", { name = "conll2002-nl", max_train_sentences = 1500 },
                { name = "my/folder", dataset_options = { tag_names = ["O", "B-X"] } }]
    max_dev_sentences = 500          # every dataset's (a dataset's table may set its own)
    seeds = [13, 14, 15]
    folds = 2                        # out-of-fold predictions of correction runs
    cpus = 1                         # each run's (and fold's) request; threads pinned to it

    [[tagger]]
    name = "bert"
    options = { epochs = 1 }         # values as they are (a list stays a list)
    grid = { learning_rate = [5e-5, 3e-5] }   # one run per value (product over keys)
    cpus = 2

    [[corrector]]
    name = "none"                    # the tagger alone

    [[corrector]]
    name = "openner"
    options = { epochs = 1 }

Without ``[[corrector]]`` tables every run is the tagger alone.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerkit.errors import ConfigError

NO_CORRECTOR = "none"
TOP_KEYS = {
    "name": "a name for the sweep, recorded with its runs",
    "out": "folder of the runs (--out wins)",
    "export": "folder of results-only copies (nerkit export): runs there count as done, "
    "each finished run is copied there (--export wins)",
    "data_dir": "where named datasets are looked up",
    "datasets": "dataset names or folders, or {name, max_train_sentences, max_dev_sentences, "
    "max_test_sentences, dataset_options} tables",
    "seeds": "a seed or a list of seeds",
    "folds": "folds of the out-of-fold predictions of correction runs",
    "fold_mode": "random or entity-disjoint",
    "max_train_sentences": "train on the first N training sentences only",
    "max_dev_sentences": "use the first N dev sentences only",
    "max_test_sentences": "score on the first N test sentences only",
    "decoder": 'a decoder name, or {name = "...", options = {...}}',
    "cpus": "CPUs each run asks for (its threads are pinned to it)",
    "gpus": "GPUs each run asks for (a share is allowed, e.g. 0.5)",
    "tagger": "[[tagger]] tables",
    "corrector": "[[corrector]] tables",
}
COMPONENT_KEYS = ("name", "options", "grid", "cpus", "gpus", "datasets")
LIMITS = ("max_train_sentences", "max_dev_sentences", "max_test_sentences")
DATASET_KEYS = ("name", *LIMITS, "dataset_options")
# a run stores its seed in an int64 column (and hands it to 64-bit seeding)
INT64_MAX = 2**63 - 1
# a table's header line, ``[name]`` or ``[[name]]`` (not a line of an array, ``[1, 2],``)
_TABLE_HEADER = re.compile(r"\s*\[\[?[^\[\],=]+\]\]?\s*(#.*)?$")


@dataclass(frozen=True)
class Component:
    """A ``[[tagger]]`` or ``[[corrector]]`` table."""

    role: str
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    cpus: int | None = None
    gpus: float | None = None
    datasets: tuple[str, ...] | None = None  # None: every dataset of the sweep
    where: str = ""  # e.g. "tagger[2]", for messages

    @property
    def is_none(self) -> bool:
        return self.role == "corrector" and self.name == NO_CORRECTOR

    def variants(self) -> Iterator[dict[str, Any]]:
        """The options of each grid point (fixed options plus one value per grid key)."""
        keys = list(self.grid)
        for values in itertools.product(*(self.grid[k] for k in keys)):
            yield dict(self.options) | dict(zip(keys, values, strict=True))


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    max_train_sentences: int | None = None
    max_dev_sentences: int | None = None
    max_test_sentences: int | None = None
    # how the files are read (``nerkit run -D``): see nerkit.datasets.load
    dataset_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepSpec:
    path: Path
    name: str
    datasets: tuple[DatasetEntry, ...]
    taggers: tuple[Component, ...]
    correctors: tuple[Component, ...]
    seeds: tuple[int, ...] = (13,)
    folds: int = 5
    fold_mode: str = "random"
    decoder: str = "conlleval"
    decoder_options: Mapping[str, Any] = field(default_factory=dict)
    cpus: int = 1
    gpus: float = 0.0
    data_dir: str | None = None
    out: str | None = None
    export: str | None = None


class _Reader:
    """Reads values out of the parsed TOML and turns mistakes into clear errors."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, where: str, message: str) -> ConfigError:
        line = self._line_of(where)
        at = f" (line {line})" if line else ""
        return ConfigError(f"{self.path}: {where}{at}: {message}")

    def _line_of(self, where: str) -> int | None:
        """Best effort: the line that sets ``where``: a key of the n-th ``[[table]]``
        (``tagger[2].grid.epochs``), or a top-level key, also for an element of its
        array (``seeds[3]``, ``datasets[2].max_train_sentences``: the key's line)."""
        parts = where.split(".")
        head = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", parts[0])
        if head is None:
            return None
        name, index = head.group(1), head.group(2)
        headers = [
            i
            for i, line in enumerate(self.lines)
            if re.match(rf"\s*\[\[\s*{re.escape(name)}\s*\]\]", line)
        ]
        if index is None or not headers:  # a top-level key: set before the first table
            return self._key_line(name, 0)
        if int(index) > len(headers):
            return None
        start = headers[int(index) - 1]
        if len(parts) == 1:
            return start + 1
        return self._key_line(parts[1].split("[")[0], start + 1)

    def _key_line(self, key: str, start: int) -> int | None:
        """The line from ``start`` on, before the next table, that sets ``key``."""
        for i in range(start, len(self.lines)):
            line = self.lines[i]
            if _TABLE_HEADER.match(line):
                return None
            if re.match(rf"\s*{re.escape(key)}\s*[=.]", line):
                return i + 1
        return None

    # ------------------------------------------------------------ values

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, got {value!r}")
        return value

    def integer(self, value: Any, where: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(where, f"expected an integer of at least {minimum}, got {value!r}")
        if value > INT64_MAX:
            raise self.fail(
                where, f"{value} is out of range (a 64-bit integer, at most {INT64_MAX})"
            )
        return value

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(where, f"expected a number of at least 0, got {value!r}")
        return float(value)

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a table ({{key = value, ...}}), got {value!r}")
        return value

    def check_keys(self, raw: Mapping[str, Any], valid: Any, where: str) -> None:
        for key in raw:
            if key not in valid:
                place = f"{where}.{key}" if where else key
                raise self.fail(place, f"unknown key {key!r} (valid: {', '.join(sorted(valid))})")

    def component(self, raw: Any, role: str, index: int) -> Component:
        where = f"{role}[{index}]"
        raw = self.table(raw, where)
        self.check_keys(raw, COMPONENT_KEYS, where)
        if "name" not in raw:
            raise self.fail(where, f'needs a name, e.g. name = "{_EXAMPLES[role]}"')
        options = self.table(raw.get("options", {}), f"{where}.options")
        grid = {}
        for key, values in self.table(raw.get("grid", {}), f"{where}.grid").items():
            if not isinstance(values, list) or not values:
                raise self.fail(
                    f"{where}.grid.{key}",
                    f"a grid key needs a non-empty list of values, got {values!r}",
                )
            if key in options:
                raise self.fail(f"{where}.grid.{key}", "is both an option and a grid key")
            grid[key] = tuple(values)
        datasets = raw.get("datasets")
        if datasets is not None:
            if not isinstance(datasets, list) or not datasets:
                raise self.fail(f"{where}.datasets", "expected a non-empty list of dataset names")
            datasets = tuple(
                self.string(d, f"{where}.datasets[{i}]") for i, d in enumerate(datasets, 1)
            )
        name = self.string(raw["name"], f"{where}.name")
        if name == NO_CORRECTOR and (options or grid):
            raise self.fail(where, 'name = "none" (no corrector) takes no options')
        return Component(
            role=role,
            name=name,
            options=options,
            grid=grid,
            cpus=self.integer(raw["cpus"], f"{where}.cpus", 1) if "cpus" in raw else None,
            gpus=self.number(raw["gpus"], f"{where}.gpus") if "gpus" in raw else None,
            datasets=datasets,
            where=where,
        )

    def dataset(self, raw: Any, index: int, defaults: dict[str, int | None]) -> DatasetEntry:
        """A dataset entry; its limits default to the spec's top-level ones."""
        where = f"datasets[{index}]"
        if isinstance(raw, str):
            return DatasetEntry(self.string(raw, where), **defaults)
        raw = self.table(raw, where)
        self.check_keys(raw, DATASET_KEYS, where)
        if "name" not in raw:
            raise self.fail(where, 'needs a name, e.g. { name = "wnut17" }')
        limits = dict(defaults)
        for key in LIMITS:
            if key in raw:
                limits[key] = self.integer(raw[key], f"{where}.{key}", 1)
        name = self.string(raw["name"], f"{where}.name")
        options: dict[str, Any] = {}
        if "dataset_options" in raw:
            from nerkit.datasets.load import dataset_options, refuse_options_for_named

            table = self.table(raw["dataset_options"], f"{where}.dataset_options")
            try:
                options = dataset_options(table)
                refuse_options_for_named(name, options)
            except ConfigError as exc:
                raise self.fail(f"{where}.dataset_options", str(exc)) from None
        return DatasetEntry(name, **limits, dataset_options=options)


_EXAMPLES = {"tagger": "lexicon", "corrector": "openner"}


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep spec (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: sweep spec not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_spec(raw, path, text)


def parse_spec(raw: Mapping[str, Any], path: Path, text: str = "") -> SweepSpec:
    read = _Reader(path, text)
    read.check_keys(raw, TOP_KEYS, "")
    for required, example in (
        ("datasets", '["wnut17"]'),
        ("tagger", '[[tagger]] name = "lexicon"'),
    ):
        if required not in raw:
            raise ConfigError(f"{path}: {required!r} is missing, e.g. {example}")

    limits = {key: read.integer(raw[key], key, 1) if key in raw else None for key in LIMITS}
    datasets = raw["datasets"]
    if not isinstance(datasets, list) or not datasets:
        raise read.fail("datasets", "expected a non-empty list of datasets")
    entries = tuple(read.dataset(d, i, limits) for i, d in enumerate(datasets, 1))

    taggers = raw["tagger"]
    if not isinstance(taggers, list):
        raise read.fail("tagger", "write each tagger as a [[tagger]] table")
    correctors = raw.get("corrector", [{"name": NO_CORRECTOR}])
    if not isinstance(correctors, list):
        raise read.fail("corrector", "write each corrector as a [[corrector]] table")

    seeds = raw.get("seeds", [13])
    seeds = seeds if isinstance(seeds, list) else [seeds]
    if not seeds:
        raise read.fail("seeds", "expected at least one seed")
    seeds = [read.integer(s, f"seeds[{i}]", 0) for i, s in enumerate(seeds, 1)]

    decoder, decoder_options = raw.get("decoder", "conlleval"), {}
    if isinstance(decoder, dict):
        read.check_keys(decoder, ("name", "options"), "decoder")
        decoder_options = read.table(decoder.get("options", {}), "decoder.options")
        decoder = decoder.get("name", "conlleval")
    fold_mode = read.string(raw.get("fold_mode", "random"), "fold_mode")
    from nerkit.folds import FOLD_MODES

    if fold_mode not in FOLD_MODES:
        raise read.fail(
            "fold_mode", f"unknown fold mode {fold_mode!r} (known: {', '.join(FOLD_MODES)})"
        )
    out = raw.get("out")
    export = raw.get("export")
    data_dir = raw.get("data_dir")
    components = [
        *(read.component(t, "tagger", i) for i, t in enumerate(taggers, 1)),
        *(read.component(c, "corrector", i) for i, c in enumerate(correctors, 1)),
    ]
    names = [d.name for d in entries]
    for component in components:
        for i, name in enumerate(component.datasets or (), 1):
            if name not in names:
                raise read.fail(
                    f"{component.where}.datasets[{i}]",
                    f"{name!r} is not one of the sweep's datasets ({', '.join(names)})",
                )
    return SweepSpec(
        path=path,
        name=read.string(raw.get("name", path.stem), "name"),
        datasets=entries,
        taggers=tuple(c for c in components if c.role == "tagger"),
        correctors=tuple(c for c in components if c.role == "corrector"),
        seeds=tuple(dict.fromkeys(seeds)),
        folds=read.integer(raw.get("folds", 5), "folds", 2),
        fold_mode=fold_mode,
        decoder=read.string(decoder, "decoder"),
        decoder_options=decoder_options,
        cpus=read.integer(raw.get("cpus", 1), "cpus", 1),
        gpus=read.number(raw.get("gpus", 0), "gpus"),
        data_dir=read.string(data_dir, "data_dir") if data_dir is not None else None,
        out=read.string(out, "out") if out is not None else None,
        export=read.string(export, "export") if export is not None else None,
    )
