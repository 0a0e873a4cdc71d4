"""``python -m nerkit`` runs the command line."""

from __future__ import annotations

from nerkit.cli import main

if __name__ == "__main__":
    main()
