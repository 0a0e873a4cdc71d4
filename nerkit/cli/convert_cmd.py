"""``nerkit convert``: re-encode a tagged file (or a dataset split) in another tag
scheme and/or file format, reporting the invalid transitions it read."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from nerkit.io.common import TransitionReport
    from nerkit.types import Sentence

_SHOWN_PROBLEMS = 10
_SCHEMES = "IOB1, IOB2, IOE1, IOE2, BIOES, BILOU, IO"


def convert(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="IN OUT: the file to read and the file to write; with --dataset, only OUT.",
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
            help="Format to write (conll, csv, jsonl, parquet, arrow). Default: from OUT's extension.",
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
            "Default: the last, or the one before --inner-col.",
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
            help="With --dataset: how its files are read, KEY=VALUE (repeatable), as for "
            "`nerkit run -D` (tag_names, tag_col, inner_tag_col, token_col, format).",
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
) -> None:
    """Convert tags to another scheme and/or the file to another format.

    Tags are read as entities the conlleval way and written in the target scheme, so
    invalid transitions in the input (e.g. O -> I-PER in IOB2) are reported and repaired.
    Tokens, tags and nested entities are carried over; other columns of a CoNLL input
    (part of speech, chunks) are not. JSON lines, CSV, Parquet and Arrow keep sentence
    and document ids. CoNLL has no ids: it keeps document boundaries only, as
    -DOCSTART- lines (a document that comes back after another starts a new one), and
    reading it numbers the sentences s-1, s-2, ... and the documents doc-1, doc-2, ...;
    converting ids to CoNLL warns, saying what is not kept.
    """
    from dataclasses import replace

    from rich.console import Console

    from nerkit import schemes
    from nerkit.errors import ConfigError
    from nerkit.io import FORMATS, detect_format, write

    # Check what is written before reading: a typo should not cost a long read.
    target = schemes.get_scheme(to_scheme).name if to_scheme else None
    if to_format is not None and to_format.lower() not in FORMATS:
        raise ConfigError(f"unknown format {to_format!r} (known: {', '.join(FORMATS)})")
    writes_conll = (to_format.lower() if to_format else detect_format(paths[-1])) == "conll"
    if nested and not writes_conll:
        raise ConfigError("--nested is for CoNLL output (the other formats keep spans as they are)")
    if dataset is not None:
        if len(paths) != 1:
            raise typer.BadParameter("with --dataset, give only OUT", param_hint="[IN] OUT")
        if tag_col is not None or inner_col is not None:
            raise typer.BadParameter(
                "with --dataset, name the columns with -D tag_col=N -D inner_tag_col=N",
                param_hint="--tag-col / --inner-col",
            )
        source = _read_dataset_split(dataset, split, from_scheme, data_dir, dataset_opt)
    else:
        if dataset_opt:
            raise typer.BadParameter("-D goes with --dataset", param_hint="--dataset-opt")
        if len(paths) != 2:
            raise typer.BadParameter(
                "give IN and OUT (or --dataset NAME and OUT)", param_hint="[IN] OUT"
            )
        if split is not None:
            raise typer.BadParameter("--split goes with --dataset", param_hint="--split")
        source = _read_file(paths[0], from_format, from_scheme, tag_col, inner_col)
    out = paths[-1]
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
    out.parent.mkdir(parents=True, exist_ok=True)
    write(converted, out, format=to_format, **({"nested": True} if nested else {}))
    console.print(f"Wrote {_counts(converted, target)} in {target} to {out}.")
    if writes_conll:
        _warn_conll_losses(console, converted, out)
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


def _read_file(
    path: Path,
    from_format: str | None,
    from_scheme: str | None,
    tag_col: int | None,
    inner_col: int | None,
) -> _Source:
    from nerkit.errors import ConfigError
    from nerkit.io import detect_format, read
    from nerkit.io.table import is_pattern

    if not path.is_file() and not path.is_dir() and not is_pattern(path):
        raise typer.BadParameter(f"{path} is not a file", param_hint="IN")
    conll = (from_format.lower() if from_format else detect_format(path)) == "conll"
    columns: dict[str, int] = {}
    if tag_col is not None or inner_col is not None:
        if not conll:
            raise ConfigError(
                f"--tag-col and --inner-col are for CoNLL input; {path} is not read as "
                "CoNLL (its spans hold nested entities as they are)"
            )
        if tag_col is None:
            assert inner_col is not None
            if inner_col == 0:
                raise ConfigError("--inner-col 0: give --tag-col for the outer tags")
            tag_col = inner_col - 1
        columns = {"tag_col": tag_col}
        if inner_col is not None:
            columns["inner_tag_col"] = inner_col
    result = read(path, format=from_format, scheme=from_scheme or "IOB2", **columns)
    if conll and not columns:
        # read by its last column, nested output would lose its outer entities
        from nerkit.io.conll import refuse_hidden_outer_column

        refuse_hidden_outer_column(
            path,
            result,
            "give --inner-col -1 to read both layers, or --tag-col -1 to read only the last",
        )
    return _Source(str(path), result.sentences, result.scheme, result.invalid, result.unit)


def _read_dataset_split(
    name: str,
    split: str | None,
    from_scheme: str | None,
    data_dir: Path | None,
    dataset_opt: list[str] | None,
) -> _Source:
    from nerkit.datasets import open_dataset
    from nerkit.datasets.load import dataset_options, refuse_options_for_named
    from nerkit.errors import ConfigError
    from nerkit.options import parse_pairs

    options = dataset_options(parse_pairs(dataset_opt, flag="-D"))
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
    return _Source(
        f"the {split} split of {name} ({loaded.files[split]})",
        corpus[split],
        corpus.scheme,
        loaded.invalid[split],
        loaded.reads[split].unit,
    )


def _warn_conll_losses(console: "Console", sentences: "Sequence[Sentence]", out: Path) -> None:
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
