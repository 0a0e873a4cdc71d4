"""nerkit's command line. ``main`` is the ``nerkit`` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run the ``nerkit`` command line (``argv`` defaults to ``sys.argv[1:]``)."""
    from nerkit.errors import NerkitError

    try:
        from nerkit.cli.app import build_app

        args = sys.argv[1:] if argv is None else argv
        command = args[0] if args and not args[0].startswith("-") else None
        build_app(command)(args=args, prog_name="nerkit")
    except NerkitError as exc:
        # Commands report their own errors; this catches one raised while the app is
        # being put together (e.g. by a command that a plugin adds).
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(2)
