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
EXTRAS = ("train",)


def add_training_arguments(parser: argparse.ArgumentParser, *, root_optional: bool = False) -> None:
    """Arguments shared by ``evaluate`` and ``train``: the features, the seed, speaker norm."""
    add_corpus_arguments(
        parser,
        root_optional=root_optional,
        default_set=None,
        set_help="feature set, or a comma-separated bundle (default: the models' own: logmel for cnn, "
                 "logmel,functionals+egemaps for ensemble; else seed26)",
    )
    parser.add_argument("--speaker-norm", action="store_true",
                        help="standardise features per speaker (unsupervised; its own figure)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--calibrate", action="store_true",
                        help="temperature-scale each model on held-out training speakers "
                             "(ECE and Brier score reported before and after)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, root_optional=True)
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
    add_cross_corpus_arguments(parser)


def add_cross_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """--train/--test: a cross-corpus matrix instead of one corpus (docs/corpora.md)."""
    group = parser.add_argument_group(
        "cross-corpus", "train on some corpora, test on others, on the emotions they share "
        "(no ROOT; e.g. --train ravdess:DIR --train nemo:DIR gives the 2×2 matrix)")
    group.add_argument("--train", action="append", metavar="READER:PATH[,READER:PATH…]",
                       help="a training set: one corpus, or several pooled (comma-separated); "
                            "repeat for more rows")
    group.add_argument("--test", metavar="READER:PATH[,READER:PATH…]",
                       help="the test corpora, one column each (default: every corpus named in --train)")
    add_balance_argument(group)
    add_adapt_argument(group)


def add_adapt_argument(parser) -> None:
    """``--adapt GRAIN``, shared by ``evaluate --train`` and ``train --train``."""
    # Checked by serkit.features.adaptation.training_groups (not imported here: --help stays instant).
    parser.add_argument("--adapt", default="none", metavar="GRAIN",
                        help="standardise each training corpus (corpus) or speaker (speaker) by its own statistics "
                             "(default: none): a dual-path model whose plain head, trained on the clips as recorded, "
                             "answers single clips; evaluation scores each test source standardised by its own "
                             "statistics beside 'plain', the plain head on each clip (docs/adaptation.md)")


def add_balance_argument(parser) -> None:
    """``--balance``, shared by ``evaluate --train`` and ``train --train``."""
    # Checked by serkit.evaluation.pooling.check_balance (not imported here: --help stays instant).
    parser.add_argument("--balance", default="corpus",
                        help="weights of a pooled training set: corpus (default): each corpus weighs the "
                             "same and, within it, each emotion; none: every clip weighs 1")


def load_corpus_list(args: argparse.Namespace, specs, names=None) -> dict:
    """The dataset of each ``(reader, path)`` in ``specs``, by its display name
    (:func:`serkit.evaluation.crosscorpus.corpus_names`), and the feature set:
    ``({name: Dataset}, FeatureSet)``."""
    from pathlib import Path

    from serkit.evaluation.crosscorpus import corpus_names

    names = names or corpus_names(specs)
    datasets, feature_set = {}, None
    for (reader, path), name in names.items():
        one = argparse.Namespace(**{**vars(args), "corpus": reader, "root": Path(path)})
        datasets[name], feature_set = load_dataset(one)
    return datasets, feature_set


def run_cross_corpus(args: argparse.Namespace) -> int:
    """The cross-corpus matrix of every model named, printed and in ``--json``."""
    import shlex
    from pathlib import Path

    from serkit.evaluation.crosscorpus import corpus_names, cross_corpus_matrix, format_matrix, parse_corpus_list, save_json
    from serkit.core.exceptions import ParameterError

    if not args.train or args.root is not None or args.protocol != "speaker":
        raise ParameterError("cross-corpus evaluation takes --train READER:PATH[,…] (and --test), "
                             "no ROOT and no --protocol: cells within a corpus use speaker folds")
    train_specs = [parse_corpus_list(text) for text in args.train]
    test_specs = parse_corpus_list(args.test) if args.test else [spec for specs in train_specs for spec in specs]
    names = corpus_names([spec for specs in train_specs for spec in specs] + test_specs)
    models = model_names(args)
    if args.json_path:
        ensure_writable_dir(Path(args.json_path).resolve().parent)
    datasets, feature_set = load_corpus_list(args, list(names), names)
    command = shlex.join([
        "serkit", "evaluate", *(part for text in args.train for part in ("--train", text)),
        *(("--test", args.test) if args.test else ()), "--set", args.feature_set, "--model", args.model,
        "--folds", str(args.folds), "--seed", str(args.seed), *(("--speaker-norm",) if args.speaker_norm else ()),
        *(("--calibrate",) if args.calibrate else ()), "--balance", args.balance, "--adapt", args.adapt,
    ])
    results = [
        cross_corpus_matrix(
            model, datasets, [[names[spec] for spec in specs] for specs in train_specs],
            list(dict.fromkeys(names[spec] for spec in test_specs)), n_splits=args.folds,
            random_state=args.seed, speaker_norm=args.speaker_norm, balance=args.balance, adapt=args.adapt,
            progress=not args.quiet,
            feature_set=feature_set, command=command,
        )
        for model in models
    ]
    print("\n\n".join(format_matrix(result) for result in results))
    if args.json_path:
        save_json(results, args.json_path)
        print(f"wrote {args.json_path}", file=sys.stderr)
    return 0


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
    if args.calibrate:
        parts.append("--calibrate")
    return shlex.join(parts)


def model_names(args: argparse.Namespace) -> list[str]:
    """The models ``--model`` names for the feature set, ``+calibrated`` with ``--calibrate``."""
    from serkit.features import get_feature_set
    from serkit.models import CALIBRATED_SUFFIX, resolve_model_names

    names = resolve_model_names(args.model, get_feature_set(resolve_feature_set(args)).kind)
    if not args.calibrate:
        return names
    return [name if name.endswith(CALIBRATED_SUFFIX) else name + CALIBRATED_SUFFIX for name in names]


def ensure_writable_dir(directory) -> None:
    """Create ``directory`` if needed and check it is writable, before any long work."""
    import os
    from pathlib import Path

    from serkit.core.exceptions import ParameterError

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
    from serkit.core.exceptions import ParameterError

    if args.train or args.test:
        return run_cross_corpus(args)
    if args.root is None:
        raise ParameterError("give a corpus ROOT, or --train READER:PATH[,…] for cross-corpus evaluation")

    # Names are checked before the (long) feature extraction.
    models = model_names(args)
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
            slice_by=dataset.meta,
        )
    print(format_table(result))
    if args.json_path:
        result.save_json(args.json_path)
        print(f"wrote {args.json_path}", file=sys.stderr)
    return 0
