"""``nerkit eval``: score predictions against gold from files, as seqeval would, faster."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from nerkit.evaluation.files import EvalPair, EvalResult
    from nerkit.evaluation.significance import SentenceCounts

_AVERAGES = ("micro", "macro", "weighted")


def eval_command(
    gold: Annotated[
        Path,
        typer.Argument(
            help="Gold file (CoNLL, CSV, JSON lines, Parquet or Arrow).", show_default=False
        ),
    ],
    pred: Annotated[
        Path | None,
        typer.Argument(
            help="Predictions with the same tokens. Leave out with --gold-col/--pred-col.",
            show_default=False,
        ),
    ] = None,
    gold_col: Annotated[
        int | None,
        typer.Option(
            "--gold-col",
            help="Gold tag column of a CoNLL file (0-based; negative counts from the end).",
            show_default=False,
        ),
    ] = None,
    pred_col: Annotated[
        int | None,
        typer.Option(
            "--pred-col",
            help="Predicted tag column, for one CoNLL file holding both.",
            show_default=False,
        ),
    ] = None,
    gold_inner_col: Annotated[
        int | None,
        typer.Option(
            "--gold-inner-col",
            help="Inner tag column of a CoNLL GOLD file with nested entities, with --gold-col "
            "for the outer one (`nerkit convert --nested` output: --gold-col -2 --gold-inner-col -1).",
            show_default=False,
        ),
    ] = None,
    pred_inner_col: Annotated[
        int | None,
        typer.Option(
            "--pred-inner-col",
            help="Inner tag column of CoNLL predictions with nested entities, with --pred-col.",
            show_default=False,
        ),
    ] = None,
    scheme: Annotated[
        str,
        typer.Option(
            "--scheme", help="Tag scheme (IOB1, IOB2, IOE1, IOE2, BIOES, BILOU, IO) or auto."
        ),
    ] = "IOB2",
    mode: Annotated[
        str, typer.Option("--mode", help="lenient (conlleval, seqeval's default) or strict.")
    ] = "lenient",
    repair: Annotated[
        str,
        typer.Option(
            "--repair", help="Repair invalid predicted sequences first: none, conlleval or discard."
        ),
    ] = "none",
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="Add partial-match scores (SemEval-2013: strict, exact, partial, type).",
        ),
    ] = False,
    errors: Annotated[
        bool,
        typer.Option(
            "--errors", help="Add error analysis: type confusions, frequent errors, F1 by length."
        ),
    ] = False,
    train: Annotated[
        Path | None,
        typer.Option(
            "--train",
            help="Tagged training file (nested entities: JSON lines spans): --errors also "
            "splits F1 by seen / unseen entity strings.",
            show_default=False,
        ),
    ] = None,
    ci: Annotated[
        bool,
        typer.Option(
            "--ci", help="Add a bootstrap confidence interval of micro F1 over sentences."
        ),
    ] = False,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="Second prediction file: paired tests (bootstrap, approximate randomisation) of PRED against it.",
            show_default=False,
        ),
    ] = None,
    resamples: Annotated[
        int, typer.Option("--resamples", help="Resamples / trials for --ci and --against.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the resampling.")] = 13,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV rows (metric, label, value, support).")
    ] = False,
) -> None:
    """Score PRED against GOLD: per-type and averaged P / R / F1, token accuracy, invalid transitions.

    Where either side holds nested entities (JSON lines `spans`, or a CoNLL inner tag
    column named by --gold-inner-col / --pred-inner-col), every entity is scored, in
    every section; token accuracy and invalid transitions are of the outer tags. A
    CoNLL file of three columns whose last one holds entities inside those of the one
    before it (`nerkit convert --nested` output) is refused unless its columns are named.

    Example: `nerkit eval gold.conll pred.conll`, or `nerkit eval both.conll --gold-col 1 --pred-col 2`.
    """
    from nerkit.errors import ConfigError
    from nerkit.evaluation.files import REPAIRS, evaluate, load_pair

    if mode not in ("lenient", "strict"):
        raise ConfigError(f"--mode must be lenient or strict, not {mode!r}")
    if repair not in REPAIRS:  # before reading the files
        raise ConfigError(
            f"--repair must be {', '.join(REPAIRS[:-1])} or {REPAIRS[-1]}, not {repair!r}"
        )
    if as_json and as_csv:
        raise ConfigError("choose one of --json and --csv")
    if train is not None and not errors:
        raise ConfigError("--train goes with --errors")
    import sys

    fancy = not (as_json or as_csv) and sys.stdout.isatty()
    if fancy:
        # Importing rich takes tens of milliseconds of pure Python; it runs while
        # numpy, which leaves the interpreter lock, reads the files.
        import threading

        threading.Thread(target=_import_rich, daemon=True).start()
    columns = {"gold_col": gold_col, "gold_inner_col": gold_inner_col}
    pair = load_pair(
        gold, pred, scheme=scheme, pred_col=pred_col, pred_inner_col=pred_inner_col,
        need_tokens=errors, **columns,
    )  # fmt: skip
    result = evaluate(pair, mode=mode, repair=repair)
    if pred is not None:  # --against reads its file as PRED's; else it holds no gold column
        columns |= {"pred_col": pred_col, "pred_inner_col": pred_inner_col}
    elif against is not None and pred_inner_col is not None:
        # its last column would be read as the tags: the inner ones of a nested file
        raise ConfigError(
            "--against with one file of gold and predicted columns and --pred-inner-col: "
            "the --against file's columns cannot be named; give the two prediction "
            "files on their own (nerkit eval GOLD PRED --against PRED_B with "
            "--pred-col / --pred-inner-col)"
        )
    extras = _extras(
        pair, result, mode, partial, errors, train, ci, against, columns, resamples, seed
    )
    if as_json:
        from nerkit.jsontext import json_text

        typer.echo(json_text(result_to_dict(pair, result) | {k: v[0] for k, v in extras.items()}))
    elif as_csv:
        _print_csv(pair, result)
        if extras:
            typer.echo(
                "# --partial, --errors, --ci and --against are shown with --json or as tables",
                err=True,
            )
    elif fancy or extras:
        from nerkit.cli.output import print_whole

        print_whole(
            *_table_items(pair, result),
            *(item for _, renderables in extras.values() for item in renderables),
        )
    else:
        # into a pipe or a file: the same table as plain text (no rich to import)
        typer.echo(_plain_table(pair, result))


def _extras(
    pair: "EvalPair",
    result: "EvalResult",
    mode: str,
    partial: bool,
    errors: bool,
    train: Path | None,
    ci: bool,
    against: Path | None,
    columns: dict[str, int | None],
    resamples: int,
    seed: int,
) -> dict[str, tuple[Any, list[Any]]]:
    """The optional sections: name -> (JSON form, things to print). ``columns`` are
    the column options with which --against's file is read."""
    out: dict[str, tuple[Any, list[Any]]] = {}
    if not (partial or errors or ci or against):
        return out  # the plain report needs no tag strings: skip making a million
    scheme = pair.scheme.name
    if partial:
        from nerkit.evaluation.partial import partial_scores, partial_scores_from_tags
        from nerkit.evaluation.render import partial_table, partial_to_dict, partial_type_table

        if result.entities is not None:
            scored = partial_scores(*result.entities)
        else:
            scored = partial_scores_from_tags(
                pair.tags("gold"), result_tags(pair, result), scheme, mode
            )
        out["partial"] = (
            partial_to_dict(scored),
            [partial_table(scored), partial_type_table(scored)],
        )
    if errors:
        from nerkit.evaluation.analysis import analyze_errors, analyze_span_errors
        from nerkit.evaluation.files import read_training
        from nerkit.evaluation.render import analysis_tables, analysis_to_dict

        train_sentences = read_training(train, scheme=scheme) if train is not None else None
        if result.entities is not None:
            analysis = analyze_span_errors(
                pair.tokens or [], *result.entities, pair.scheme, mode, train=train_sentences
            )
        else:
            analysis = analyze_errors(
                pair.tokens or [],
                pair.tags("gold"),
                result_tags(pair, result),
                scheme,
                mode,
                train=train_sentences,
            )
        out["errors"] = (analysis_to_dict(analysis), analysis_tables(analysis))
    if ci:
        from nerkit.evaluation.significance import bootstrap_ci_counts

        interval = bootstrap_ci_counts(
            _sentence_counts(pair, result, mode), resamples=resamples, seed=seed
        )
        text = (
            f"micro F1 {100 * interval.f1:.2f}, {100 * interval.confidence:.0f}% bootstrap interval "
            f"[{100 * interval.low:.2f}, {100 * interval.high:.2f}] ({interval.resamples} resamples, seed {interval.seed})"
        )
        out["ci"] = (_asdict(interval), [text])
    if against is not None:
        out["against"] = _paired_tests(pair, result, mode, against, columns, resamples, seed)
    return out


def _sentence_counts(
    pair: "EvalPair", result: "EvalResult", mode: str, *, spans: bool = False
) -> "SentenceCounts":
    """Per-sentence entity counts of an evaluation: of its spans where it has nested
    entities (or ``spans`` asks for them), else of its tags."""
    from nerkit.evaluation.files import entity_lists
    from nerkit.evaluation.significance import sentence_counts, span_sentence_counts

    if result.entities is not None:
        return span_sentence_counts(*result.entities)
    if spans:
        return span_sentence_counts(
            entity_lists(pair.tags("gold"), None, pair.scheme, mode),
            entity_lists(result_tags(pair, result), None, pair.scheme, mode),
        )
    return sentence_counts(pair.tags("gold"), result_tags(pair, result), pair.scheme.name, mode)


def _paired_tests(
    pair: "EvalPair",
    result: "EvalResult",
    mode: str,
    against: Path,
    columns: dict[str, int | None],
    resamples: int,
    seed: int,
) -> tuple[Any, list[str]]:
    from nerkit.errors import InputError
    from nerkit.evaluation.files import evaluate, load_pair
    from nerkit.evaluation.significance import (
        approximate_randomization_counts,
        paired_bootstrap_counts,
    )

    # The gold tags are read as for PRED (from --gold-col of a one-file GOLD), and the
    # second system gets the repair the first one got.
    other = load_pair(pair.gold_path, against, scheme=pair.scheme.name, **columns)
    if other.tags("gold") != pair.tags("gold") or other.gold_spans != pair.gold_spans:
        raise InputError(
            "its sentences do not line up with the other prediction file", path=against
        )
    other_result = evaluate(other, mode=mode, repair=result.repair)
    spans = pair.nested or other.nested
    a = _sentence_counts(pair, result, mode, spans=spans)
    b = _sentence_counts(other, other_result, mode, spans=spans)
    tests = [
        paired_bootstrap_counts(a, b, resamples=resamples, seed=seed),
        approximate_randomization_counts(a, b, trials=resamples, seed=seed),
    ]
    lines = [
        f"{t.method}: F1 {100 * t.f1_a:.2f} ({pair.pred_path}) vs {100 * t.f1_b:.2f} ({against}), "
        f"delta {100 * t.delta:+.2f}, p = {t.p_value:.4f} ({t.iterations} iterations, seed {t.seed})"
        for t in tests
    ]
    return {"file": str(against), "tests": [_asdict(t) for t in tests]}, lines


def result_tags(pair: "EvalPair", result: "EvalResult") -> list[list[str]]:
    """The predicted tags that were scored (after --repair)."""
    return result.repaired_tags if result.repaired_tags is not None else pair.tags("pred")


def _asdict(value: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(value)


def _score_dict(t: Any, counts: bool) -> dict[str, Any]:
    out = {"precision": t.precision, "recall": t.recall, "f1": t.f1, "support": t.support}
    return out | {"predicted": t.predicted, "correct": t.correct} if counts else out


def result_to_dict(pair: "EvalPair", result: "EvalResult") -> dict[str, Any]:
    s = result.scores
    return {
        "gold": pair.gold_path,
        "pred": pair.pred_path,
        "scheme": s.scheme,
        "mode": s.mode,
        # entities scored as spans where a side holds nested ones (0 and 0: tags only)
        "nested_sentences": {
            "gold": pair.nested_sentences("gold"),
            "pred": pair.nested_sentences("pred"),
        },
        "per_type": {label: _score_dict(t, True) for label, t in s.per_type.items()},
        **{
            # macro and weighted averages have no counts of their own (as in the CSV)
            avg: _score_dict(t, avg == "micro")
            for avg, t in zip(_AVERAGES, (s.micro, s.macro, s.weighted), strict=True)
        },
        "accuracy": s.accuracy,
        "accuracy_without_o": s.accuracy_without_o,
        "tokens": s.tokens,
        "tokens_without_o": s.tokens_without_o,
        "sentences": int(pair.prepared.lengths.size),
        "invalid_transitions": {"gold": result.invalid_gold, "pred": result.invalid_pred},
        "repair": result.repair,
        "repaired_tokens": result.repaired_tokens,
    }


def _print_csv(pair: "EvalPair", result: "EvalResult") -> None:
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["metric", "label", "value", "support"])
    writer.writerows(result.scores.rows())
    writer.writerow(["invalid_transitions", "gold", result.invalid_gold, ""])
    writer.writerow(["invalid_transitions", "pred", result.invalid_pred, ""])
    writer.writerow(["repaired_tokens", result.repair, result.repaired_tokens, ""])
    if pair.nested:
        for which in ("gold", "pred"):
            writer.writerow(["nested_sentences", which, pair.nested_sentences(which), ""])


def _title(pair: "EvalPair", result: "EvalResult") -> str:
    s = result.scores
    nested = ", nested entities" if pair.nested else ""
    return f"{pair.pred_path} against {pair.gold_path} ({s.scheme}, {s.mode}{nested})"


def _nested_note(pair: "EvalPair") -> str:
    return (
        f"nested entities: {pair.nested_sentences('gold')} gold and "
        f"{pair.nested_sentences('pred')} predicted sentences hold spans of their own; every "
        "entity is scored, token accuracy and invalid transitions are of the outer tags"
    )


def _table_items(pair: "EvalPair", result: "EvalResult") -> list[Any]:
    """The report as a rich table and the lines under it."""
    from rich.table import Table
    from rich.text import Text

    s = result.scores
    # paths are data: "[v2]" in a file name is no style tag
    table = Table(title=Text(_title(pair, result)), title_justify="left")
    for column in ("type", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "type" else "right")
    labels = list(s.per_type)
    for label in labels:
        t = s.per_type[label]
        table.add_row(
            Text(label),
            *_pct(t.precision, t.recall, t.f1),
            str(t.support),
            end_section=label == labels[-1],
        )
    for avg, t in zip(_AVERAGES, (s.micro, s.macro, s.weighted), strict=True):
        table.add_row(
            avg,
            *_pct(t.precision, t.recall, t.f1),
            str(t.support),
            style="bold" if avg == "micro" else None,
        )
    lines = [
        f"token accuracy {100 * s.accuracy:.2f} ({s.tokens} tokens), "
        f"without O {100 * s.accuracy_without_o:.2f} ({s.tokens_without_o} tokens)",
        f"invalid transitions: gold {result.invalid_gold}, predictions {result.invalid_pred}",
    ]
    if result.repair != "none":
        lines.append(f"repaired ({result.repair}): {result.repaired_tokens} predicted tags changed")
    if pair.nested:
        lines.append(_nested_note(pair))
    return [table, *lines]


def _plain_table(pair: "EvalPair", result: "EvalResult") -> str:
    s = result.scores
    rows = [(label, t) for label, t in s.per_type.items()]
    rows += list(zip(_AVERAGES, (s.micro, s.macro, s.weighted), strict=True))
    width = max([len("weighted"), *(len(label) for label, _ in rows)])
    lines = [
        _title(pair, result),
        f"{'type':<{width}}  {'precision':>9}  {'recall':>7}  {'F1':>7}  {'support':>8}",
    ]
    for i, (label, t) in enumerate(rows):
        if i == len(s.per_type):
            lines.append("")
        p, r, f = _pct(t.precision, t.recall, t.f1)
        lines.append(f"{label:<{width}}  {p:>9}  {r:>7}  {f:>7}  {t.support:>8}")
    lines += [
        "",
        f"token accuracy {100 * s.accuracy:.2f} ({s.tokens} tokens), "
        f"without O {100 * s.accuracy_without_o:.2f} ({s.tokens_without_o} tokens)",
        f"invalid transitions: gold {result.invalid_gold}, predictions {result.invalid_pred}",
    ]
    if result.repair != "none":
        lines.append(f"repaired ({result.repair}): {result.repaired_tokens} predicted tags changed")
    if pair.nested:
        lines.append(_nested_note(pair))
    return "\n".join(lines)


def _import_rich() -> None:
    import rich.console
    import rich.table  # noqa: F401


def _pct(*values: float) -> list[str]:
    return [f"{100 * v:.2f}" for v in values]


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
