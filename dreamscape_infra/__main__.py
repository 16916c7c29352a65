"""`python -m dreamscape_infra` runs the CLI."""

from __future__ import annotations

from dreamscape_infra.cli import main

if __name__ == "__main__":
    main()
