"""``serkit adapt``: fit a model's source statistics on a user's recordings, save the adapted copy."""

from __future__ import annotations

import argparse

EXTRAS = ("train",)  # rewriting the model's pipeline needs scikit-learn and skops

HELP = "Adapt a model to your recordings (no labels): a new model directory that predicts single clips as that source."
EXAMPLE = "serkit adapt my-recordings/ -o models/default-adapted && serkit predict new.wav --model models/default-adapted"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR",
                        help="recordings of one source (a room, a microphone, a speaker or a few): folders are searched")
    parser.add_argument("--model", metavar="MODEL_DIR", help="an adapted model directory or bundled name (default: the bundled one)")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL_DIR", help="the adapted model directory to write")
    parser.add_argument("--segment", choices=("vad", "fixed"), default="vad",
                        help="vad (default): files without speech are left out, as serkit predict answers them "
                        "'no speech'; fixed: every readable, audible file counts")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.epilog = (parser.epilog or "") + (
        "\n\nThe recordings should hold a mix of emotions, as everyday speech does: statistics of clips that are\n"
        "all one emotion make that emotion look neutral (a warning says when the recordings vary that little).\n"
        "Refused: fewer clips than the model's minimum, files of different sample rates; silent, unreadable\n"
        "and (--segment vad) speechless files are left out with the reason. exit status: 0 written, 1 on an error."
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from serkit.models.artifacts import load_model, save_adapted
    from serkit.cli.evaluate import ensure_writable_dir
    from serkit.cli.predict import collect_files
    from serkit.core.exceptions import ParameterError
    from serkit.core.threads import usable_cores

    files, empty_folders = collect_files(args.paths)
    if not files:
        raise ParameterError(f"no audio files in {', '.join(empty_folders)}" if empty_folders else "no audio files given")
    predictor = load_model(args.model)
    if args.model is not None and Path(args.output).resolve() == Path(args.model).resolve():
        raise ParameterError(f"-o {args.output}: write the adapted copy beside the model, not over it")
    ensure_writable_dir(args.output)
    statistics, skipped = predictor.source_statistics(files, progress=not args.quiet and sys.stderr.isatty(),
                                                      segment=args.segment, n_jobs=min(8, usable_cores()))
    for item in skipped:
        print(f"left out {item.source}: {item.error.removeprefix(item.source + ': ')}", file=sys.stderr)
    source = f"{statistics.n_clips} recordings in {', '.join(str(Path(p)) for p in args.paths)}"
    model_dir = save_adapted(args.model, statistics, args.output, source=source)
    print(f"adapted {args.model or 'the bundled model'} to {source}; wrote {model_dir}")
    return 0
