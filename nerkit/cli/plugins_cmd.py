"""``nerkit plugins``: what is installed, what each plugin registers, and what failed."""

from typing import Annotated

import typer


def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    hook: Annotated[
        str | None,
        typer.Option(
            "--hook",
            help="Only plugins implementing this hook, e.g. register_taggers.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List plugins with their version and what they register; broken ones show their error."""
    import json
    from dataclasses import asdict

    from rich.table import Table

    from nerkit.cli.output import print_whole
    from nerkit.errors import ConfigError
    from nerkit.plugin import get_host
    from nerkit.plugin.spec import NerkitSpec

    infos = get_host().plugins()
    if hook is not None:
        hooks = sorted(n for n in vars(NerkitSpec) if n.startswith("register_"))
        if hook not in hooks:
            raise ConfigError(f"unknown hook {hook!r}; hooks: {', '.join(hooks)}")
        infos = [i for i in infos if hook in i.hooks]
    if as_json:
        typer.echo(json.dumps([asdict(i) for i in infos], indent=2))
        return
    table = Table(title="nerkit plugins", title_justify="left")
    for column in ("plugin", "version", "status", "registers"):
        table.add_column(column)
    for info in infos:
        registers = "\n".join(
            f"{kind}: {', '.join(names)}"
            for kind, names in sorted(info.registered.items())
            if names
        )
        status = {"loaded": "[green]loaded[/]", "disabled": "[dim]disabled[/]"}.get(
            info.status, "[red]failed[/]"
        )
        if info.error:
            registers = f"[red]{info.error}[/]" + (f"\n{registers}" if registers else "")
        version = f"{info.distribution} {info.version}".strip()
        table.add_row(info.name, version, status, registers)
    print_whole(table)


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)
