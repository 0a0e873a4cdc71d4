"""Meta-tests: every hook has a test, the README documents each hook with the
signature it has in code, and every command and option of the CLI has help text."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import typer

from nerkit.cli.app import build_app
from nerkit.plugin.spec import NerkitSpec, Register

ROOT = Path(__file__).resolve().parents[1]
TEST_DIRS = [ROOT / "tests", *sorted((ROOT / "examples").glob("*/tests"))]
HOOKS = sorted(n for n, v in vars(NerkitSpec).items() if n.startswith("register_") and callable(v))

# A hook implementation in a test: a function or method under @hookimpl, in code or in
# the source of a plugin that a test writes out and installs.
HOOKIMPL = re.compile(r"@hookimpl\s*\n\s*def (\w+)\(")
# A documented signature: `register_taggers(register: Register) -> None`
DOCUMENTED = re.compile(r"`(register_\w+)\(([^`]*)\) -> ([^`]+)`")


def signature(function: Any, *, skip_self: bool = True) -> str:
    """``(name: Type, ...) -> Return`` with annotations as written in the source."""
    sig = inspect.signature(function)

    def name(annotation: Any) -> str:
        return annotation if isinstance(annotation, str) else annotation.__name__

    params = []
    for p in sig.parameters.values():
        if skip_self and p.name == "self":
            continue
        if p.kind is p.KEYWORD_ONLY and "*" not in params:
            params.append("*")
        default = "" if p.default is p.empty else f" = {p.default!r}"
        params.append(f"{p.name}: {name(p.annotation)}{default}")
    return f"({', '.join(params)}) -> {name(sig.return_annotation)}"


def implemented_in_tests() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in TEST_DIRS:
        for path in folder.glob("test_*.py"):
            if path.name == Path(__file__).name:
                continue
            for hook in HOOKIMPL.findall(path.read_text(encoding="utf-8")):
                found.setdefault(hook, set()).add(path.name)
    return found


def readme_section(heading: str = "### Writing a plugin") -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


# ---------------------------------------------------------------------- hooks


def test_the_hooks_are_found() -> None:
    assert {"register_taggers", "register_commands"} <= set(HOOKS) and len(HOOKS) >= 6
    assert HOOKIMPL.findall(
        "@hookimpl\ndef register_x(register):\n    @hookimpl\n    def y(app):"
    ) == [
        "register_x",
        "y",
    ]


def test_every_hook_has_a_test_that_implements_it() -> None:
    found = implemented_in_tests()
    missing = [hook for hook in HOOKS if hook not in found]
    assert not missing, f"no test implements {missing} (a plugin with @hookimpl of each)"


def test_the_readme_documents_each_hook_with_its_signature_in_code() -> None:
    documented: dict[str, list[str]] = {}
    for name, params, returns in DOCUMENTED.findall(readme_section()):
        documented.setdefault(name, []).append(f"({params}) -> {returns}")
    assert sorted(documented) == HOOKS, "hooks documented vs hooks in nerkit/plugin/spec.py"
    for hook in HOOKS:
        in_code = signature(getattr(NerkitSpec, hook))
        assert set(documented[hook]) == {in_code}, (
            f"{hook}: README {documented[hook]}, code {in_code}"
        )


def test_the_readme_documents_the_register_callback() -> None:
    in_code = signature(Register.__call__)
    assert f"`Register` being `{in_code}`" in readme_section(), in_code


def test_signature_reads_annotations_as_written() -> None:
    def hook(self: Any, register: Register, app: Any) -> None: ...

    assert signature(hook) == "(register: Register, app: Any) -> None"


# ------------------------------------------------------------------------ CLI


def walk(command: Any, ctx: typer.Context, path: str):  # type: ignore[no-untyped-def]
    """Every (path, command) under ``command``, itself included. Typer ships its own
    copy of click, so a group is whatever lists sub-commands."""
    yield path, command
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{path} {name}: listed but not found"
            yield from walk(sub, typer.Context(sub, parent=ctx, info_name=name), f"{path} {name}")


def test_every_command_and_option_has_help_text() -> None:
    # with the plugins' commands: they show up in `nerkit --help` like the built-in ones
    root = typer.main.get_command(build_app(plugins=True))
    commands = dict(walk(root, typer.Context(root, info_name="nerkit"), "nerkit"))
    assert {"nerkit", "nerkit run", "nerkit plugins", "nerkit eval"} <= set(commands)
    undocumented = []
    for path, command in commands.items():
        if not (command.help or command.short_help or "").strip():
            undocumented.append(path)
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip():
                undocumented.append(f"{path} {param.opts[0] if param.opts else param.name}")
    assert not undocumented, f"no help text: {undocumented}"


def test_the_walk_reaches_nested_commands() -> None:
    app = typer.Typer(help="top")
    inner = typer.Typer(help="inner")

    @inner.command(help="leaf")
    def leaf() -> None: ...

    @app.command(help="other")
    def other() -> None: ...

    app.add_typer(inner, name="inner")
    root = typer.main.get_command(app)
    found = [p for p, _ in walk(root, typer.Context(root, info_name="top"), "top")]
    assert sorted(found) == ["top", "top inner", "top inner leaf", "top other"]
