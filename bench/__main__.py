"""``python -m bench [options]``: see ``--help`` and bench/README.md."""

from __future__ import annotations

from .run import main

if __name__ == "__main__":
    raise SystemExit(main())
