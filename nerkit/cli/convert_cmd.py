"""``nerkit convert``: re-encode a tagged file (or a dataset split) in another tag
scheme and/or file format, reporting the invalid transitions it read and what the
output does not keep."""

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nerkit.cli.targets import refuse_existing, refuse_input_as_output

if TYPE_CHECKING:
    from rich.console import Console

    from nerkit.io.common import TransitionReport
    from nerkit.types import Sentence

_SHOWN_PROBLEMS = 10
_SCHEMES = "IOB1, IOB2, IOE1, IOE2, BIOES, BILOU, IO"
_STDOUT = "-"  # OUT that means standard output
_TEXT_FORMATS = ("conll", "csv", "jsonl")


def convert(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="IN OUT: the file to read and the file to write (- writes CoNLL, CSV or "
            "JSON lines to stdout); with --dataset, only OUT.",
            metavar="[IN] OUT",
            show_default=False,
        ),
    ],
    to_scheme: Annotated[
        str | None,
        typer.Option(
            "--to-scheme",
            help=f"Tag scheme to write ({_SCHEMES}). Default: the input's.",
            show_default=False,
        ),
    ] = None,
    to_format: Annotated[
        str | None,
        typer.Option(
            "--to-format",
            help="Format to write (conll, csv, jsonl, parquet, arrow). Default: from OUT's "
            "extension (conll for -).",
            show_default=False,
        ),
    ] = None,
    from_scheme: Annotated[
        str | None,
        typer.Option(
            "--from-scheme",
            help=f"Tag scheme of the input ({_SCHEMES}, or auto to infer it). "
            "Default: IOB2 (a dataset's own scheme with --dataset).",
            show_default=False,
        ),
    ] = None,
    from_format: Annotated[
        str | None,
        typer.Option(
            "--from-format",
            help="Format of IN (conll, csv, jsonl, parquet, arrow). Default: from IN's extension.",
            show_default=False,
        ),
    ] = None,
    tag_col: Annotated[
        int | None,
        typer.Option(
            "--tag-col",
            help="Tag column of a CoNLL IN (0-based; negative counts from the end). "
            "Default: the last, or the one before --inner-col; none for a file of tokens "
            "only. A table's tag column: -D tag_col=NAME.",
            show_default=False,
        ),
    ] = None,
    inner_col: Annotated[
        int | None,
        typer.Option(
            "--inner-col",
            help="Inner tag column of a CoNLL IN with nested entities, as `nerkit convert "
            "--nested` writes it (token, outer tags, inner tags: --inner-col -1).",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="Read a split of a dataset instead of IN: a name (see `nerkit datasets`), "
            "a folder of split files (Hugging Face layouts too) or hf:OWNER/NAME[:CONFIG].",
            show_default=False,
        ),
    ] = None,
    dataset_opt: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset-opt",
            "-D",
            help="How IN (or the files of --dataset) is read, KEY=VALUE (repeatable), as "
            "for `nerkit run -D`: from_scheme, format, tag_col (a table's column name, or "
            "a CoNLL column index), inner_tag_col, token_col, tag_names (the tags that "
            "integer ids stand for, in id order: O,B-PER,I-PER,...).",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="The split of --dataset to convert (train, dev, test).",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where named datasets are stored (default: $NERKIT_DATA_DIR or ~/.cache/nerkit/data).",
            show_default=False,
        ),
    ] = None,
    nested: Annotated[
        bool,
        typer.Option(
            "--nested",
            help="CoNLL output: write entities nested inside others as a second (inner) "
            "tag column.",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace OUT if it exists (never a file that is read).",
        ),
    ] = False,
) -> None:
    """Convert tags to another scheme and/or the file to another format.

    Tags are read as entities the conlleval way and written in the target scheme, so
    invalid transitions in the input (e.g. O -> I-PER in IOB2) are reported and repaired.
    Tokens, tags and nested entities are carried over; what else the input holds (the
    part of speech and chunk columns of a CoNLL file, other columns of a table, other
    keys of a JSON line) is not, and a warning names it. JSON lines, CSV, Parquet and
    Arrow keep sentence and document ids. CoNLL has no ids: it keeps document
    boundaries only, as -DOCSTART- lines (a document that comes back after another
    starts a new one), and reading it numbers the sentences s-1, s-2, ... and the
    documents doc-1, doc-2, ...; converting ids to CoNLL warns, saying what is not kept.
    An existing OUT is replaced only with --overwrite, and never one of the files read.
    """
    from dataclasses import replace

    from rich.console import Console

    from nerkit import schemes
    from nerkit.datasets.load import dataset_options
    from nerkit.errors import ConfigError
    from nerkit.io import FORMATS, write
    from nerkit.options import parse_pairs

    # Check what is written before reading: a typo should not cost a long read.
    target = schemes.get_scheme(to_scheme).name if to_scheme else None
    if to_format is not None and to_format.lower() not in FORMATS:
        raise ConfigError(f"unknown format {to_format!r} (known: {', '.join(FORMATS)})")
    out = paths[-1]
    to_stdout = str(out) == _STDOUT
    out_format = _out_format(out, to_format)
    writes_conll = out_format == "conll"
    if nested and not writes_conll:
        raise ConfigError("--nested is for CoNLL output (the other formats keep spans as they are)")
    options = dataset_options(parse_pairs(dataset_opt, flag="-D"))
    if dataset is not None:
        if len(paths) != 1:
            raise typer.BadParameter("with --dataset, give only OUT", param_hint="[IN] OUT")
        if tag_col is not None or inner_col is not None:
            raise typer.BadParameter(
                "with --dataset, name the columns with -D tag_col=N -D inner_tag_col=N",
                param_hint="--tag-col / --inner-col",
            )
        if not to_stdout:
            refuse_input_as_output(out, _dataset_files(dataset))
            refuse_existing(out, overwrite)
        source = _read_dataset_split(dataset, split, from_scheme, data_dir, options)
    else:
        if len(paths) != 2:
            raise typer.BadParameter(
                "give IN and OUT (or --dataset NAME and OUT)", param_hint="[IN] OUT"
            )
        if split is not None:
            raise typer.BadParameter("--split goes with --dataset", param_hint="--split")
        if not to_stdout:
            refuse_input_as_output(out, [paths[0]])
            refuse_existing(out, overwrite)
        source = _read_file(paths[0], from_format, from_scheme, tag_col, inner_col, options)
    target = target or source.scheme

    # Plain text on stderr: paths and tags must not be taken for rich markup.
    console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    console.print(
        f"Read {_counts(source.sentences, source.scheme)} in {source.scheme} from {source.name}."
    )
    if source.invalid:
        console.print(
            f"{len(source.invalid)} invalid {source.scheme} transition(s) in {source.name}:"
        )
        for report in source.invalid[:_SHOWN_PROBLEMS]:
            console.print(f"  {_where(report, source.sentences, source.unit)}")
        if len(source.invalid) > _SHOWN_PROBLEMS:
            console.print(f"  ... and {len(source.invalid) - _SHOWN_PROBLEMS} more")
        console.print(
            f"Repaired by the conversion to {target}: each broken entity is read the "
            "conlleval way (an I- without its B- starts an entity)."
        )

    converted = [
        replace(s, tags=tuple(schemes.convert(s.tags, source.scheme, target)))
        for s in source.sentences
    ]
    if to_stdout:
        _write_stdout(converted, out_format, nested)
        shown = "stdout"
    else:
        # Again: a dataset's files are known now, and while the input was read another
        # process may have made OUT.
        refuse_input_as_output(out, source.files)
        refuse_existing(out, overwrite)
        out.parent.mkdir(parents=True, exist_ok=True)
        write(converted, out, format=out_format, **({"nested": True} if nested else {}))
        shown = str(out)
    console.print(f"Wrote {_counts(converted, target)} in {target} to {shown}.")
    if source.unread:
        console.print(f"Warning: {shown} does not have all that {source.name} holds:")
        for line in source.unread:
            console.print(f"  - {line}")
    if writes_conll:
        _warn_conll_losses(console, converted, shown)
    merged = _first_merged(source.sentences, source.scheme, converted, target)
    if merged is not None:
        console.print(
            f"Warning: {merged} has fewer entities in {target} than in {source.scheme}: "
            f"{target} cannot separate adjacent entities of one type, so they were "
            "written as one."
        )


@dataclass(frozen=True, slots=True)
class _Source:
    name: str
    sentences: "Sequence[Sentence]"
    scheme: str
    invalid: "Sequence[TransitionReport]"
    unit: str = "line"  # what the reports' line numbers count
    files: Sequence[Path] = ()  # what was read, which OUT must not replace
    unread: Sequence[str] = ()  # what the input holds that was not read, for a warning


# ------------------------------------------------------------------- OUT


def _out_format(out: Path, to_format: str | None) -> str:
    """The format OUT is written in; an error for OUT that cannot be written so."""
    from nerkit.errors import ConfigError
    from nerkit.io import detect_format

    if str(out) == _STDOUT:
        name = to_format.lower() if to_format else "conll"
        if name not in _TEXT_FORMATS:
            raise ConfigError(
                f"OUT -: {name} is a binary format and is not written to stdout; give a "
                "file name, or write conll, csv or jsonl to stdout"
            )
        return name
    if out.is_dir():
        raise ConfigError(f"cannot write {out}: it is a folder (give the file to write)")
    return to_format.lower() if to_format else detect_format(out)


def _dataset_files(name: str) -> list[Path]:
    """The split files of dataset folder ``name``, found without reading them (none
    for a named or Hub dataset, whose files are known once it is opened)."""
    from nerkit.datasets import registered_datasets
    from nerkit.datasets.locate import find_split_files
    from nerkit.errors import NerkitError

    folder = Path(name).expanduser()
    if not folder.is_dir() or name in registered_datasets():
        return []  # a registered name is read as registered, whatever folder has it
    try:
        return list(find_split_files(folder).values())
    except NerkitError:
        return []  # opening the dataset says what is wrong


def _write_stdout(sentences: "Sequence[Sentence]", format: str, nested: bool) -> None:
    from nerkit.io.conll_write import conll_text
    from nerkit.io.csv import csv_text
    from nerkit.io.jsonl import jsonl_text

    if format == "conll":
        text = conll_text(sentences, nested=nested)
    elif format == "csv":
        text = csv_text(sentences)
    else:
        text = jsonl_text(sentences)
    # UTF-8 as in a file, whatever the locale of the terminal
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    stream.write(text.encode("utf-8"))
    stream.flush()


# ----------------------------------------------------------------- reading


def _read_file(
    path: Path,
    from_format: str | None,
    from_scheme: str | None,
    tag_col: int | None,
    inner_col: int | None,
    options: Mapping[str, Any],
) -> _Source:
    from nerkit.errors import ConfigError
    from nerkit.io import FORMATS, detect_format, read
    from nerkit.io.table import is_pattern

    if not path.is_file() and not path.is_dir() and not is_pattern(path):
        raise typer.BadParameter(f"{path} is not a file", param_hint="IN")
    columns = dict(options)
    from_format = _once(from_format, columns.pop("format", None), "--from-format", "format")
    from_scheme = _once(
        from_scheme, columns.pop("from_scheme", None), "--from-scheme", "from_scheme"
    )
    format = from_format.lower() if from_format else detect_format(path)
    if format not in FORMATS:
        raise ConfigError(f"unknown format {from_format!r} (known: {', '.join(FORMATS)})")
    if tag_col is not None or inner_col is not None:
        if format != "conll":
            raise ConfigError(
                f"--tag-col and --inner-col are for CoNLL input; {path} is read as {format} "
                "(its spans hold nested entities as they are; name a table's tag column "
                "with -D tag_col=NAME)"
            )
        if "tag_col" in columns or "inner_tag_col" in columns:
            raise ConfigError(
                "give the columns once: --tag-col and --inner-col, or -D tag_col and "
                "-D inner_tag_col"
            )
        if tag_col is not None:
            columns["tag_col"] = tag_col
        if inner_col is not None:
            columns["inner_tag_col"] = inner_col
    inner = columns.get("inner_tag_col")
    if inner is not None and "tag_col" not in columns:
        if inner == 0:
            raise ConfigError(
                "inner tag column 0: name the outer tag column too (--tag-col or -D tag_col)"
            )
        columns["tag_col"] = inner - 1  # as `convert --nested` writes them
    _refuse_options_of_other_formats(path, format, columns)
    layout = _ConllLayout.of(path) if format == "conll" else None
    by_last_column = layout is not None and "tag_col" not in columns
    if by_last_column and layout is not None and layout.untagged(path):
        columns["tag_col"] = None  # tokens only, as convert writes an untagged file
        by_last_column = False
    result = read(path, format=format, scheme=from_scheme or "IOB2", **columns)
    if by_last_column:
        # read by its last column, nested output would lose its outer entities
        from nerkit.io.conll import refuse_hidden_outer_column

        refuse_hidden_outer_column(
            path,
            result,
            "give --inner-col -1 to read both layers, or --tag-col -1 to read only the last",
        )
    unread = _unread(path, format, columns, layout)
    return _Source(
        str(path), result.sentences, result.scheme, result.invalid, result.unit, [path], unread
    )


def _once(flag: str | None, option: str | None, flag_name: str, key: str) -> str | None:
    """The value of ``flag_name`` or of ``-D key``; an error if both are given."""
    from nerkit.errors import ConfigError

    if flag is not None and option is not None:
        raise ConfigError(f"give {flag_name} or -D {key}, not both")
    return flag if flag is not None else option


def _refuse_options_of_other_formats(path: Path, format: str, options: Mapping[str, Any]) -> None:
    """-D options the reader of ``format`` does not take: an error that names those it
    takes (as the -D keys, not the reader's own parameters)."""
    import inspect

    import nerkit.io
    from nerkit.datasets.load import DATASET_OPTIONS
    from nerkit.errors import ConfigError

    reader = getattr(nerkit.io, f"read_{format}")
    takes = [
        name
        for name, p in inspect.signature(reader).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name in DATASET_OPTIONS
    ]
    others = [key for key in options if key not in takes]
    if others:
        given = ", ".join(f"-D {key}" for key in others)
        valid = ", ".join(["format", "from_scheme", *takes])
        rows = " (its tags are read from 'tags', or from 'ner_tags' as strings)"
        raise ConfigError(
            f"{given} does not apply to {format} input ({path}); for {format}, -D takes "
            f"{valid}" + (rows if format in ("csv", "jsonl") and "tag_col" in others else "")
        )


def _read_dataset_split(
    name: str,
    split: str | None,
    from_scheme: str | None,
    data_dir: Path | None,
    options: Mapping[str, Any],
) -> _Source:
    from nerkit.datasets import open_dataset
    from nerkit.datasets.load import refuse_options_for_named
    from nerkit.errors import ConfigError
    from nerkit.io import detect_format

    options = dict(options)
    if "from_scheme" in options:
        if from_scheme is not None:
            raise ConfigError("give the input's scheme once: --from-scheme or -D from_scheme")
        from_scheme = options.pop("from_scheme")
    refuse_options_for_named(name, options)
    # scheme=None: keep the tags as read, so that this command reports and repairs them.
    loaded = open_dataset(name, data_dir=data_dir, scheme=None, from_scheme=from_scheme, **options)
    corpus = loaded.corpus
    if split is None:
        if len(corpus.splits) != 1:
            raise typer.BadParameter(
                f"{name} has splits {', '.join(corpus.splits)}: choose one", param_hint="--split"
            )
        (split,) = corpus.splits
    if split not in corpus:
        raise typer.BadParameter(
            f"{name} has no split {split!r} (has: {', '.join(corpus.splits)})",
            param_hint="--split",
        )
    path = loaded.files[split]
    reader_options = loaded.spec.reader_options if loaded.spec is not None else options
    given = reader_options.get("format")
    format = given.lower() if isinstance(given, str) else detect_format(path)
    layout = (
        _ConllLayout.of(path, reader_options.get("comment_prefix")) if format == "conll" else None
    )
    return _Source(
        f"the {split} split of {name} ({path})",
        corpus[split],
        corpus.scheme,
        loaded.invalid[split],
        loaded.reads[split].unit,
        list(loaded.files.values()),
        _unread(path, format, reader_options, layout),
    )


# ------------------------------------------------------ what is not read


@dataclass(frozen=True, slots=True)
class _ConllLayout:
    """How many columns the token lines of a CoNLL file have, split as the reader
    splits them (at tabs if the first token line has one, else at spaces)."""

    widths: Mapping[int, int]  # number of columns -> the first line that has that many
    split_later: int | None  # the first line with a tab or space, after a line of one column

    @classmethod
    def of(cls, path: Path, comment_prefix: str | None = None) -> "_ConllLayout":
        from nerkit.io.common import read_text
        from nerkit.io.conll import is_break, is_docstart

        widths: dict[int, int] = {}
        sep: str | None = None
        split_later = None
        for lineno, line in enumerate(read_text(path, newlines="universal").split("\n"), 1):
            if is_break(line) or is_docstart(line):
                continue
            if comment_prefix is not None and line.startswith(comment_prefix):
                continue
            stripped = line.rstrip(" \t")  # as the reader strips them
            if sep is None:
                sep = "\t" if "\t" in stripped else " "
            widths.setdefault(stripped.count(sep) + 1, lineno)
            if split_later is None and ("\t" in stripped or " " in stripped):
                split_later = lineno
        return cls(widths, split_later)

    def untagged(self, path: Path) -> bool:
        """Whether the file holds tokens only (one column on its first token line, as
        convert writes an untagged file); an error if a later line has more, whose
        columns reading it as tokens only would drop."""
        from nerkit.errors import InputError

        first = min(self.widths.values(), default=None)
        if first is None or self.widths.get(1) != first:
            return False
        if self.split_later is not None:
            from nerkit.io.common import read_text

            text = read_text(path, newlines="universal").split("\n")[self.split_later - 1]
            raise InputError(
                f"a second column, but the first token line (line {first}) has a token "
                "only; a file holds tokens only, or tokens and tags, on every line",
                path=path,
                line=self.split_later,
                text=text,
            )
        return True


def _unread(
    path: Path, format: str, options: Mapping[str, Any], layout: _ConllLayout | None
) -> list[str]:
    """What ``path``, read in ``format`` with reader ``options``, holds that was not
    read, one line for each kind of loss, for a warning; empty when nothing was left."""
    if layout is not None:
        return _unread_conll_columns(layout, options)
    if format == "jsonl":
        from nerkit.io.jsonl import unread_keys

        keys = unread_keys(path)
        return [f"{_names(keys, 'key')}: convert reads {_READ}"] if keys else []
    if format == "csv":
        from nerkit.io.csv import unread_columns

        names = unread_columns(path)
        return [f"{_names(names, 'column')}: convert reads {_READ}"] if names else []
    names = _unread_table_columns(path, format, options.get("tag_col"))
    return [f"{_names(names, 'column')}: convert reads {_READ}"] if names else []


_READ = "tokens, tags, spans, and sentence and document ids only"


def _names(names: Sequence[str], kind: str) -> str:
    shown = ", ".join(repr(n) for n in names[:8])
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return f"{kind}{'s' if len(names) > 1 else ''} {shown}{more}"


def _unread_conll_columns(layout: _ConllLayout, options: Mapping[str, Any]) -> list[str]:
    token_col, inner = options.get("token_col", 0), options.get("inner_tag_col")
    # without tag_col, the outer tags are in the column before the inner ones
    tag_col = options.get("tag_col", -1 if inner is None else inner - 1)
    cols = [c for c in (token_col, tag_col, inner) if c is not None]
    tags = ", ".join(map(str, cols[1:]))
    read_ones = f"the token column ({token_col})" + (
        f" and the tag column{'s' if len(cols) > 2 else ''} ({tags})" if tags else ""
    )
    lines = []
    several = len(layout.widths) > 1
    for width, first in sorted(layout.widths.items()):
        read = {c if c >= 0 else width + c for c in cols}
        left = [i for i in range(width) if i not in read]
        if not left:
            continue
        runs = len(left) > 3 and left[-1] - left[0] == len(left) - 1
        which = f"{left[0]} to {left[-1]}" if runs else ", ".join(map(str, left))
        where = (
            f"its lines of {width} columns (first: line {first})"
            if several
            else f"its {width} columns"
        )
        lines.append(
            f"column{'s' if len(left) > 1 else ''} {which} of {where}: convert reads "
            f"{read_ones} only"
        )
    return lines


def _unread_table_columns(path: Path, format: str, tag_col: object) -> list[str]:
    """The columns of a Parquet or Arrow table (the first shard of a folder or
    pattern: the reader refuses shards of other columns) that the reader leaves."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nerkit.io.table import is_pattern, shard_files

    if is_pattern(path) and not path.exists():
        first = min(path.parent.glob(path.name))
    elif path.is_dir():
        first = shard_files(path, format)[0]
    else:
        first = path
    if format == "parquet":
        schema = pq.read_schema(first)
    else:
        with pa.memory_map(str(first)) as source:
            try:
                schema = pa.ipc.open_stream(source).schema
            except pa.ArrowInvalid:
                source.seek(0)
                schema = pa.ipc.open_file(source).schema
    names = schema.names
    read = {"id", "document_id", "tokens"}
    if isinstance(tag_col, str):
        read.add(tag_col)
    else:
        read.update(c for c in ("tags", "ner_tags") if c in names)
    if "spans" in names and _nerkit_spans(schema.field("spans").type):
        read.add("spans")
    return [name for name in names if name not in read]


def _nerkit_spans(kind: Any) -> bool:
    """Whether a ``spans`` column holds nerkit's ``{start, end, label}`` structs (the
    reader leaves another tool's spans, such as WikiANN's strings)."""
    import pyarrow as pa

    lists = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    if not lists or not pa.types.is_struct(kind.value_type):
        return False
    fields = {kind.value_type.field(i).name for i in range(kind.value_type.num_fields)}
    return {"start", "end", "label"} <= fields


# ---------------------------------------------------------------- reporting


def _warn_conll_losses(console: "Console", sentences: "Sequence[Sentence]", out: str) -> None:
    from nerkit.io.conll_write import conll_losses

    lost = conll_losses(sentences)
    if lost:
        console.print(f"Warning: {out} is CoNLL, which cannot keep all that was read:")
        for line in lost:
            console.print(f"  - {line}")
        console.print(
            "  To keep them, convert to JSON lines, CSV, Parquet or Arrow (.jsonl, .csv, "
            ".parquet, .arrow) instead."
        )


def _where(report: "TransitionReport", sentences: "Sequence[Sentence]", unit: str) -> str:
    transition = report.transition
    n_tags = len(sentences[report.sentence_index].tags)
    current = "sentence end" if transition.position >= n_tags else transition.current
    previous = "sentence start" if transition.position == 0 else transition.previous
    place = (
        f"{unit} {report.line}"
        if report.line is not None
        else f"sentence {report.sentence_index + 1}"
    )
    return f"{place}: {current} after {previous}"


def _first_merged(
    read: "Sequence[Sentence]", source: str, written: "Sequence[Sentence]", target: str
) -> str | None:
    """The first sentence (as error messages name it) whose entities the target scheme
    merged (IO has no tag that starts an entity), or None."""
    from nerkit import schemes
    from nerkit.io.common import sentence_name

    for index, (before, after) in enumerate(zip(read, written, strict=True)):
        if len(schemes.spans_lenient(after.tags, target)) != len(
            schemes.spans_lenient(before.tags, source)
        ):
            return sentence_name(before, index)
    return None


def _counts(sentences: "Sequence[Sentence]", scheme: str) -> str:
    from nerkit.datasets import split_stats

    stats = split_stats(sentences, scheme)
    return f"{stats.sentences:,} sentences ({stats.tokens:,} tokens, {stats.entities:,} entities)"


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
