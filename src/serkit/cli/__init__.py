"""``serkit <verb>``: one verb per step of the analysis, each thin over the library.

Each verb lives in its own module (``serkit.cli.<verb>``) exposing ``HELP``,
``EXAMPLE``, ``add_arguments(parser)`` and ``run(args) -> int``. Verb modules import
only the standard library at module level, so ``serkit --help`` stays instant; the
heavy libraries load inside ``run``.

A verb that needs more than ``pip install serkit`` (prediction) names its extras in
``EXTRAS`` (see :mod:`serkit.cli._extras`); run without them it prints the one
``pip install`` line that brings them.

Exit codes: 0 success; 1 a serkit error (bad audio, corpus, model: one line on
stderr, no traceback) or a missing extra; 2 wrong arguments (the verb's usage, and a "did you mean"
for a mistyped verb or option). serkit's own warnings print as one ``warning:``
line each, once, above any progress bar.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import warnings
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
        sub.set_defaults(_run=module.run, _extras=getattr(module, "EXTRAS", ()))
    return parser


def did_you_mean(word: str, choices) -> str:
    """``" (did you mean X?)"`` for the closest of ``choices`` to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parser.parse_args(argv)``, but a mistyped verb is named with the closest verb, and an
    unknown option after a verb fails with that verb's usage and the closest option."""
    verb = next((word for word in argv if not word.startswith("-")), None)
    if verb is not None and verb not in VERBS:
        parser.error(f"unknown verb {verb!r}{did_you_mean(verb, VERBS)}; verbs: {', '.join(VERBS)}")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        [verbs] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
        verb_parser = verbs.choices[args.verb]
        options = [option for action in verb_parser._actions for option in action.option_strings]
        verb_parser.error("unrecognized arguments: " + " ".join(
            word + (did_you_mean(word.split("=")[0], options) if word.startswith("-") else "") for word in unknown
        ))
    return args


def show_serkit_warning(message, category, filename, lineno, file=None, line=None, *, shown: set, others) -> None:
    """``warnings.showwarning`` for the CLI: serkit's warnings as one ``warning:`` line
    each, printed once and above any progress bar; other libraries' through ``others``."""
    if not category.__module__.startswith("serkit."):
        others(message, category, filename, lineno, file, line)
        return
    text = f"warning: {message}"
    if text not in shown:
        from tqdm.auto import tqdm

        shown.add(text)
        tqdm.write(text, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``serkit`` console script; returns the exit code."""
    import functools

    from serkit.cli._extras import extra_providing, install_hint, missing_extras
    from serkit.core.exceptions import SerkitError

    args = parse_arguments(build_parser(), sys.argv[1:] if argv is None else list(argv))
    missing = missing_extras(args._extras)
    if missing:
        print(install_hint(args.verb, missing), file=sys.stderr)
        return 1
    try:
        with warnings.catch_warnings():
            warnings.showwarning = functools.partial(show_serkit_warning, shown=set(), others=warnings.showwarning)
            return int(args._run(args) or 0)
    except SerkitError as error:
        print(f"serkit {args.verb}: error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        # A path of the verb that needs an extra it does not declare (demo --data evaluates).
        extra = extra_providing(error.name)
        if extra is None:
            raise
        print(install_hint(args.verb, [extra]), file=sys.stderr)
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
