"""``nerkit info``: a component's options with their types, defaults and help."""

from typing import Annotated

import typer

KINDS = ("tagger", "corrector", "decoder", "metric", "dataset")


def info(
    name: Annotated[
        str,
        typer.Argument(
            help="Component name, e.g. lexicon or lexicon.tagger.v1.", show_default=False
        ),
    ],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help=f"Look only among this kind ({', '.join(KINDS)}).", show_default=False
        ),
    ] = None,
) -> None:
    """Show what a tagger, corrector, decoder, metric or dataset is and which options it takes."""
    from rich.console import Console
    from rich.table import Table

    from nerkit.cli.output import print_whole
    from nerkit.errors import ConfigError
    from nerkit.options import describe
    from nerkit.plugin import get_host

    host = get_host()
    kinds = KINDS if kind is None else (kind,)
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    found = [(k, host.registry(k)) for k in kinds if name in host.registry(k)]
    if not found:
        known = "; ".join(f"{k}s: {', '.join(host.registry(k).names()) or '-'}" for k in kinds)
        raise ConfigError(f"no component named {name!r} ({known})")
    console = Console()
    for k, registry in found:
        entry = registry.entry(name)
        console.print(f"[bold]{entry.name}[/] ({k}, plugin {entry.plugin})")
        if k == "dataset":
            obj = registry.get(entry.name)
            console.print(
                f"{obj.description}\nlanguage: {obj.language}\nlicence: {obj.license}\ncitation: {obj.citation}"
            )
            continue
        # neither reads the component's module where its plugin registered the options
        # apart from it (bert, lear: no torch import)
        doc = registry.description(entry.name)
        if doc:
            console.print(doc)
        options = describe(
            registry.options_class(entry.name), component=f"{entry.name} (plugin {entry.plugin})"
        )
        if not options:
            console.print("no options")
            continue
        table = Table(title_justify="left")
        for column in ("option", "type", "default", "help"):
            table.add_column(column)
        for opt in options:
            table.add_row(opt.name, opt.type, repr(opt.default), opt.help)
        print_whole(table)


def register(app: typer.Typer) -> None:
    app.command("info")(info)
