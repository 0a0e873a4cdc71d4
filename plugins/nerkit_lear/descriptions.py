"""Label descriptions: the natural-language text of each entity type that LEAR
encodes next to the sentence.

A description file holds one line per label, ``LABEL<TAB>description``; blank lines
and lines starting with ``#`` are skipped. Without a file, each description is made
from the label's name (``creative-work`` -> "creative work", ``PER`` -> "person").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from nerkit.errors import InputError

FROM_NAMES = "label names"
"""``Descriptions.source`` when the descriptions were made from the label names."""

# Abbreviations common in NER label sets; anything else is kept as written.
_ABBREVIATIONS = {
    "per": "person",
    "pers": "person",
    "loc": "location",
    "org": "organization",
    "misc": "miscellaneous",
    "gpe": "geo-political entity",
    "fac": "facility",
    "norp": "nationality, religious or political group",
    "nam": "name",
    "nom": "nominal mention",
    "prod": "product",
    "evt": "event",
}
_SEPARATORS = re.compile(r"[-_./\s]+")


@dataclass(frozen=True, slots=True)
class Descriptions:
    """One description per label, and where they came from (a file or the names)."""

    texts: Mapping[str, str]
    source: str

    def for_labels(self, labels: Iterable[str]) -> list[str]:
        """The descriptions of ``labels``, in their order; a label without one is an
        error that names the description file."""
        labels = list(labels)
        missing = [label for label in labels if label not in self.texts]
        if missing:
            raise InputError(
                f"no description for label(s) {', '.join(missing)} "
                f"(add a line LABEL<TAB>description for each; the file describes "
                f"{', '.join(sorted(self.texts)) or 'no labels'})",
                path=self.source,
            )
        return [self.texts[label] for label in labels]


def from_label_name(label: str) -> str:
    """A description made from a label's name: separators become spaces, common
    abbreviations are spelt out (``creative-work`` -> "creative work", ``PER.NAM`` ->
    "person name")."""
    words = [w for w in _SEPARATORS.split(label) if w]
    spelt = [_ABBREVIATIONS.get(w.lower(), w if not w.isupper() else w.lower()) for w in words]
    return " ".join(spelt) or label


def from_label_names(labels: Iterable[str]) -> Descriptions:
    return Descriptions({label: from_label_name(label) for label in labels}, FROM_NAMES)


def read_descriptions(path: str | Path) -> Descriptions:
    """Read a description file (see the module docstring). Errors name the file, the
    line and what is wrong with it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM is not a label
    except FileNotFoundError:
        raise InputError("label description file not found", path=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None
    except OSError as exc:
        raise InputError(
            f"cannot read the label description file ({exc.strerror})", path=path
        ) from None
    texts: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        label, tab, description = line.partition("\t")
        label, description = label.strip(), description.strip()
        if not tab:
            raise InputError(
                "expected LABEL<TAB>description (no tab on this line)",
                path=path,
                line=lineno,
                text=line,
            )
        if not label:
            raise InputError("the label before the tab is empty", path=path, line=lineno, text=line)
        if not description:
            raise InputError(
                f"label {label!r} has an empty description", path=path, line=lineno, text=line
            )
        if label in texts:
            raise InputError(
                f"label {label!r} is described twice (first on line {first_line[label]})",
                path=path,
                line=lineno,
                text=line,
            )
        texts[label] = description
        first_line[label] = lineno
    if not texts:
        raise InputError("the label description file describes no labels", path=path)
    return Descriptions(texts, str(path))
