"""``serkit <verb>``: one verb per step of the analysis, each thin over the library.

Each verb lives in its own module (``serkit.cli.<verb>``) exposing ``HELP``,
``EXAMPLE``, ``add_arguments(parser)`` and ``run(args) -> int``. Verb modules import
only the standard library at module level, so ``serkit --help`` stays instant; the
heavy libraries load inside ``run``.

Exit codes: 0 success; 1 a serkit error (bad audio, corpus, model: one line on
stderr, no traceback); 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from serkit import __version__

VERBS = (
    "info",
    "features",
    "evaluate",
    "train",
    "predict",
    "demo",
    "download",
    "explore",
    "report",
    "serve",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serkit",
        description="Speech emotion recognition: speech in, emotion out.",
        epilog="Run 'serkit VERB --help' for a verb's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"serkit {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        module = import_module(f"serkit.cli.{verb}")
        sub = subparsers.add_parser(
            verb,
            help=module.HELP,
            description=module.HELP,
            epilog=f"example:\n  {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``serkit`` console script; returns the exit code."""
    from serkit.exceptions import SerkitError

    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except SerkitError as error:
        print(f"serkit {args.verb}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"serkit {args.verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`serkit predict … | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
