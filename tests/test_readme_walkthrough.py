"""The README's "Writing a plugin" walkthrough runs as written.

Every ```console block of that section is a list of ``$ COMMAND`` lines, each followed
by lines its output (stdout and stderr) must contain. The commands run in a shell, in
this environment (its ``bin`` first on ``PATH``, so ``nerkit``, ``pip`` and ``python`` are
the ones under test): commands naming a path under ``examples/`` in the repository
root, the others in one scratch folder shared by the whole walkthrough, so that the
runs they store and the files they write do not land in the checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import SHARED_DATA, SHARED_DATA_REASON, has_shared_data

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SECTION = "### Writing a plugin"


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)


def section(text: str, heading: str = SECTION) -> str:
    start = text.index(heading)
    after = text.find("\n## ", start)
    return text[start : after if after != -1 else len(text)]


def console_blocks(text: str) -> list[list[Command]]:
    """The ``$ COMMAND`` lines of each ```console block, with their expected output."""
    blocks = []
    for body in re.findall(r"^```console\n(.*?)^```", text, flags=re.S | re.M):
        commands: list[Command] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append(Command(line[2:].strip()))
            elif line.strip():
                assert commands, f"output before any command in a console block: {line!r}"
                commands[-1].expected.append(line.strip())
        blocks.append(commands)
    return blocks


BLOCKS = console_blocks(section(README.read_text(encoding="utf-8")))


def test_the_walkthrough_is_found_and_starts_by_installing_the_example() -> None:
    commands = [c.line for block in BLOCKS for c in block]
    assert len(BLOCKS) >= 3 and len(commands) >= 10, commands
    assert commands[0] == "pip install -e examples/nerkit-crfsuite"
    assert any(c.startswith("nerkit run --tagger crfsuite --corrector openner") for c in commands)
    for name in ("NERKIT_STRICT_PLUGINS", "NERKIT_LOAD_PLUGINS"):
        assert any(name in c for c in commands), name


def test_the_readme_starts_with_the_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first = re.search(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)
    assert first is not None and text.index("```") == first.start()
    lines = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert lines == ["make demo", "make test"]


def test_the_parser_reads_commands_and_their_output() -> None:
    text = "```console\n$ nerkit a\none\n  two\n$ nerkit b\n```\n```sh\n$ not this\n```\n"
    (block,) = console_blocks(text)
    assert [(c.line, c.expected) for c in block] == [
        ("nerkit a", ["one", "two"]),
        ("nerkit b", []),
    ]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("walkthrough")


def environment(workspace: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NERKIT_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["COLUMNS"] = "120"  # rich tables: wide enough not to cut the names checked
    env["NERKIT_CACHE_DIR"] = str(workspace / "cache")
    if has_shared_data():
        env["NERKIT_DATA_DIR"] = str(SHARED_DATA)
    return env


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_each_console_block_runs_as_written(block: list[Command], workspace: Path) -> None:
    env = environment(workspace)
    skipped = []
    for command in block:
        if "wnut17" in command.line and not has_shared_data("wnut17"):
            skipped.append(command.line)  # without its corpus, the command would download it
            continue
        cwd = ROOT if "examples/" in command.line else workspace
        done = subprocess.run(
            ["bash", "-c", command.line],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"$ {command.line}\nexit {done.returncode}\n{output}"
        for expected in command.expected:
            assert expected in output, f"$ {command.line}\nno {expected!r} in:\n{output}"
    if skipped:
        pytest.skip(f"{SHARED_DATA_REASON}; not run: {skipped}")
