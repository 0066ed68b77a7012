"""``serkit evaluate``: cross-validate models on a corpus, speaker-independent first."""

from __future__ import annotations

import argparse
import sys

from serkit.cli._common import add_corpus_arguments, load_features

HELP = "Evaluate models on a corpus: speaker-independent folds, random split beside, one table."
EXAMPLE = (
    "serkit evaluate ../shared/data/ravdess-speech --corpus ravdess --set seed26 "
    "--model all --json results.json"
)


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``evaluate`` and ``train``: the features, the seed, speaker norm."""
    add_corpus_arguments(
        parser,
        default_set=None,
        set_help="feature set, or a comma-separated bundle (default: the models' own: logmel for cnn, "
                 "logmel,functionals+egemaps for ensemble; else seed26)",
    )
    parser.add_argument("--speaker-norm", action="store_true",
                        help="standardise features per speaker (unsupervised; its own figure)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser)
    parser.add_argument("--model", default="all",
                        help="model name, a comma-separated list, or 'all' (default: all)")
    parser.add_argument("--protocol", default="speaker", choices=("speaker", "loso", "random"),
                        help="speaker: actors grouped in folds (default); loso: leave one "
                             "speaker out; either is printed first, with the random split "
                             "beside; random: only the reference's stratified 80/20 split")
    parser.add_argument("--folds", type=int, default=5,
                        help="folds for --protocol speaker (default: 5; with fewer speakers, one per speaker)")
    parser.add_argument("--json", dest="json_path", default=None,
                        help="write the full results (folds, confusion, ROC, history) here")


def resolve_feature_set(args: argparse.Namespace) -> str:
    """``--set``, or the set the models named default to (``logmel`` for ``cnn``, the
    ``logmel,functionals+egemaps`` bundle for ``ensemble``) when they agree, else
    ``seed26``. Stored back in ``args`` for the record."""
    if args.feature_set is None:
        from serkit.models import model_spec

        names = [name.strip() for name in args.model.split(",") if name.strip()]
        defaults = {model_spec(name).default_set for name in names} if args.model.strip() != "all" else set()
        args.feature_set = defaults.pop() if len(defaults) == 1 and None not in defaults else "seed26"
    return args.feature_set


def reproduce_command(verb: str, args: argparse.Namespace, *extra: str) -> str:
    """The command line that redoes this run, every default spelt out (for the results)."""
    import shlex

    parts = ["serkit", verb, str(args.root), "--corpus", args.corpus, "--set", args.feature_set,
             "--model", args.model, "--folds", str(args.folds), "--seed", str(args.seed),
             *extra]
    if args.speaker_norm:
        parts.append("--speaker-norm")
    return shlex.join(parts)


def ensure_writable_dir(directory) -> None:
    """Create ``directory`` if needed and check it is writable, before any long work."""
    import os
    from pathlib import Path

    from serkit.exceptions import ParameterError

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ParameterError(f"{directory}: cannot create ({error.strerror})") from None
    if not os.access(directory, os.W_OK):
        raise ParameterError(f"{directory}: not writable")


def load_dataset(args: argparse.Namespace):
    """Read the corpus, extract (cached) features, report skipped and failed files;
    return ``(dataset, feature_set)``."""
    from serkit.evaluation import dataset_from_extraction

    return dataset_from_extraction(*load_features(args))


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import warnings

    from serkit.evaluation import LeakageWarning, compare, format_table
    from serkit.features import get_feature_set
    from serkit.models import resolve_model_names

    # Names are checked before the (long) feature extraction.
    models = resolve_model_names(args.model, get_feature_set(resolve_feature_set(args)).kind)
    if args.json_path:
        ensure_writable_dir(Path(args.json_path).resolve().parent)
    dataset, feature_set = load_dataset(args)
    # The honest figure first, the reference's own (leaky) protocol beside it.
    protocols = [args.protocol] if args.protocol == "random" else [args.protocol, "random"]
    with warnings.catch_warnings():
        # The table closes with the leakage warning; Python's copy would only repeat it.
        warnings.simplefilter("ignore", LeakageWarning)
        result = compare(
            models,
            dataset.X,
            dataset.y,
            dataset.groups,
            corpus=dataset.corpus,
            feature_set=feature_set,
            protocols=protocols,
            n_splits=args.folds,
            random_state=args.seed,
            speaker_norm=args.speaker_norm,
            command=reproduce_command("evaluate", args, "--protocol", args.protocol),
            progress=not args.quiet,
        )
    print(format_table(result))
    if args.json_path:
        result.save_json(args.json_path)
        print(f"wrote {args.json_path}", file=sys.stderr)
    return 0
