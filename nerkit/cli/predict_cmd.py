"""``nerkit predict``: tag a file or plain text with a stored run's tagger."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from nerkit.types import Sentence


def predict(
    source: Annotated[
        Path,
        typer.Argument(
            help="A tagged or untagged file (CoNLL, CSV, JSON lines, Parquet, Arrow), or "
            "plain text (.txt or -: one sentence per line, split into tokens by "
            "--tokenizer).",
            show_default=False,
        ),
    ],
    run: Annotated[
        str,
        typer.Option("--run", "-r", help="Run id (in --runs) or run folder.", show_default=False),
    ],
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder that holds the runs.")] = Path(
        "runs"
    ),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write here (format from the extension) instead of stdout.",
            show_default=False,
        ),
    ] = None,
    text: Annotated[
        bool, typer.Option("--text", help="Read SOURCE as plain text whatever its extension.")
    ] = False,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer",
            help="How plain text becomes tokens: whitespace; words (words and punctuation, "
            "as flair's default segtok tokenizer splits them: 'Paris.' is 'Paris' '.'); "
            "chars (each character but spaces, as Chinese and Japanese NER corpora). "
            "Default: whitespace.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Tag SOURCE with the trained tagger of a run (corrected and decoded as in the run)."""
    from nerkit.errors import NerkitError
    from nerkit.io import detect_format
    from nerkit.io.conll_write import check_conll_tokens, conll_text
    from nerkit.pipeline import load_run_models
    from nerkit.store import find_run
    from nerkit.types import Sentence

    split = _tokenizer(tokenizer or "whitespace")
    plain = text or str(source) == "-" or source.suffix == ".txt"
    if tokenizer is not None and not plain:
        raise typer.BadParameter(
            f"{source} is read as tokens already; --tokenizer is for plain text (.txt, -, "
            "or --text)",
            param_hint="--tokenizer",
        )
    run_path = find_run(run, runs_dir)
    sentences = _plain_sentences(source, split) if plain else _file_sentences(source)
    if output is None or detect_format(output) == "conll":
        # Before the model runs, which may take long: CoNLL has no room for an empty
        # sentence or a token with a tab or line break in it.
        try:
            check_conll_tokens(sentences)
        except NerkitError as exc:
            where = "to stdout" if output is None else f"to {output}"
            raise NerkitError(
                f"{'<stdin>' if str(source) == '-' else source}: {exc}; predict writes CoNLL "
                f"{where}: write JSON lines instead with -o FILE.jsonl"
            ) from None
    models = load_run_models(run_path)
    # An empty sentence (JSON lines {"tokens": []}) gets no tags, without asking the
    # tagger, which need not take one.
    filled = [s for s in sentences if s.tokens]
    predicted = iter(models.predict(filled) if filled else [])
    tagged = [
        Sentence(s.tokens, next(predicted) if s.tokens else (), s.sentence_id, s.document_id)
        for s in sentences
    ]
    if output is not None:
        from nerkit.io import write

        write(tagged, output)
        typer.echo(f"wrote {len(tagged)} sentences to {output}", err=True)
        return
    # The text `-o FILE.conll` would hold, through the same checks.
    sys.stdout.write(conll_text(tagged))


def _plain_sentences(source: Path, split: Callable[[str], list[str]]) -> list[Sentence]:
    """One sentence per line, numbered by its line (blank lines give none)."""
    from nerkit.types import Sentence

    # utf-8-sig: a byte-order mark is no part of the first word
    raw = sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8-sig")
    raw = raw.removeprefix("\ufeff")
    # Text mode already made \r\n and \r into \n. Not str.splitlines(): it also ends
    # lines at U+2028, U+0085, \x0c and more, which are inside a line of text.
    return [
        Sentence(tokens=tuple(split(line)), sentence_id=f"s-{i}")
        for i, line in enumerate(raw.split("\n"), 1)
        if line.strip()
    ]


def _file_sentences(source: Path) -> list[Sentence]:
    """The sentences of a tagged or untagged file. Its tags are not used, so they are
    read in whatever scheme they are in."""
    from nerkit.io import detect_format, read

    if detect_format(source) != "conll":
        return list(read(source, scheme="auto").sentences)
    tagged = _conll_has_tags(source)
    return list(read(source, scheme="auto", tag_col=-1 if tagged else None).sentences)


def _conll_has_tags(path: Path) -> bool:
    """Whether a CoNLL file has a tag column, as its first token line says. A file of
    tokens only may have no second column on any line: read as tokens, such a line
    would lose what follows its separator (the reader errs on the converse itself)."""
    from nerkit.errors import InputError
    from nerkit.io.common import read_text
    from nerkit.io.conll import is_break, is_docstart

    first = None
    for lineno, line in enumerate(read_text(path, newlines="universal").split("\n"), 1):
        if is_break(line) or is_docstart(line):
            continue
        # The reader drops trailing tabs and spaces, and splits at a tab if the first
        # token line has one, else at a space.
        stripped = line.rstrip(" \t")
        if first is None:
            if "\t" in stripped or " " in stripped:
                return True
            first = lineno
        elif "\t" in stripped or " " in stripped:
            raise InputError(
                f"a second column, but the first token line (line {first}) has a token "
                "only; a file holds tokens only, or tokens and tags, on every line",
                path=path,
                line=lineno,
                text=line,
            )
    return False


def _tokenizer(name: str) -> Callable[[str], list[str]]:
    if name == "whitespace":
        return str.split
    if name == "chars":
        return lambda line: [c for c in line if not c.isspace()]
    if name == "words":
        # segtok: flair's default tokenizer (a dependency of flair), PTB-like contractions
        from segtok.tokenizer import split_contractions, word_tokenizer

        return lambda line: split_contractions(word_tokenizer(line))
    raise typer.BadParameter(f"{name!r}: one of whitespace, words, chars", param_hint="--tokenizer")


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
