"""The `convex-py` command line (the full CLI arrives with its own issue)."""

from __future__ import annotations

import sys

from convex_py import __version__


def main(argv: list[str] | None = None) -> int:
    """Print the version and what the command will do."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("--version", "-V"):
        print(f"convex-py {__version__}")
        return 0
    print(f"convex-py {__version__}: run Convex-style apps on a virtual clock.")
    print("usage: convex-py --version")
    print("Commands (simulate, run, dev) are not available yet; see README.md.")
    return 0 if not args or args[0] in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
