"""``serkit train``: evaluate speaker-independently, then fit on everything and save."""

from __future__ import annotations

import argparse

from serkit.cli.evaluate import (
    add_training_arguments,
    ensure_writable_dir,
    load_dataset,
    model_names,
    reproduce_command,
)

HELP = "Train a model on a whole corpus and save it (speaker-independent CV figures stored with it)."
EXAMPLE = (
    "serkit train ../shared/data/ravdess-speech --corpus ravdess --set seed26 --model svm "
    "-o models/svm-seed26"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser)
    parser.add_argument("--model", default="svm", help="model name (default: svm)")
    parser.add_argument("-o", "--output", required=True, help="model directory to write")
    parser.add_argument("--folds", type=int, default=5,
                        help="speaker-grouped folds for the stored metrics (default: 5)")
    parser.add_argument("--no-eval", action="store_true",
                        help="skip the cross-validation (no metrics stored)")


def run(args: argparse.Namespace) -> int:
    from serkit.artifacts import train_and_save
    from serkit.evaluation import format_table
    from serkit.exceptions import ParameterError

    names = model_names(args)
    if len(names) != 1:
        raise ParameterError(f"--model {args.model!r}: train saves one model, name exactly one")
    [model] = names
    ensure_writable_dir(args.output)
    dataset, feature_set = load_dataset(args)
    model_dir, result = train_and_save(
        model,
        dataset,
        feature_set,
        args.output,
        n_splits=args.folds,
        random_state=args.seed,
        speaker_norm=args.speaker_norm,
        cross_validate=not args.no_eval,
        command=reproduce_command(
            "train", args, *(["--no-eval"] if args.no_eval else []), "-o", args.output
        ),
        progress=not args.quiet,
    )
    if result is not None:
        print(format_table(result))
    print(f"saved {model} trained on {len(dataset.y)} clips to {model_dir}")
    return 0
