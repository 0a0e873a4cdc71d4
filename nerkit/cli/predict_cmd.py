"""``nerkit predict``: tag a file or plain text with a stored run's tagger."""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer


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
    models = load_run_models(run_path)
    if plain:
        # utf-8-sig: a byte-order mark is no part of the first word
        raw = sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8-sig")
        raw = raw.removeprefix("\ufeff")
        sentences = [
            Sentence(tokens=tuple(split(line)), sentence_id=f"s-{i}")
            for i, line in enumerate(raw.splitlines(), 1)
            if line.strip()
        ]
    else:
        from nerkit.io import read

        sentences = list(read(source, scheme=models.scheme).sentences)
    tagged = [
        Sentence(s.tokens, tags, s.sentence_id, s.document_id)
        for s, tags in zip(sentences, models.predict(sentences), strict=True)
    ]
    if output is not None:
        from nerkit.io import write

        write(tagged, output)
        typer.echo(f"wrote {len(tagged)} sentences to {output}", err=True)
        return
    out = sys.stdout
    for s in tagged:
        for token, tag in zip(s.tokens, s.tags, strict=True):
            out.write(f"{token}\t{tag}\n")
        out.write("\n")


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
