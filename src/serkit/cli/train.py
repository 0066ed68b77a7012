"""``serkit train``: evaluate speaker-independently, then fit on everything and save."""

from __future__ import annotations

import argparse

from serkit.cli.evaluate import (
    add_adapt_argument,
    add_balance_argument,
    add_training_arguments,
    ensure_writable_dir,
    load_corpus_list,
    load_dataset,
    model_names,
    reproduce_command,
)

HELP = "Train a model on a whole corpus and save it (speaker-independent CV figures stored with it)."
EXAMPLE = (
    "serkit train ../shared/data/ravdess-speech --corpus ravdess --set seed26 --model svm "
    "-o models/svm-seed26\n"
    "  serkit train --train ravdess:../shared/data/ravdess-speech,nemo:../shared/data/nemo "
    "--set functionals --model logreg-tuned -o models/ravdess-nemo"
)
EXTRAS = ("train",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, root_optional=True)
    parser.add_argument("--model", default="svm", help="model name (default: svm)")
    parser.add_argument("-o", "--output", required=True, help="model directory to write")
    parser.add_argument("--folds", type=int, default=5,
                        help="speaker-grouped folds for the stored metrics (default: 5)")
    parser.add_argument("--no-eval", action="store_true",
                        help="skip the cross-validation (no metrics stored)")
    group = parser.add_argument_group(
        "multi-corpus", "train on several corpora pooled, instead of ROOT (docs/corpora.md)")
    group.add_argument("--train", metavar="READER:PATH[,READER:PATH…]",
                       help="the corpora to pool, e.g. ravdess:DIR,nemo:DIR (speakers kept apart per corpus)")
    group.add_argument("--emotions", metavar="E1,E2,…",
                       help="the classes (clips of other emotions are dropped); default: the union of the corpora's")
    add_balance_argument(group)
    add_adapt_argument(group)
    add_augment_arguments(group)


def add_augment_arguments(group) -> None:
    """``--augment MIX`` and ``--augment-fraction``: corrupted copies in the final fit."""
    # Checked by serkit.features.augment.CorruptionMix.parse (not imported here: --help stays instant).
    group.add_argument("--augment", metavar="KIND[,KIND…][;…]",
                       help="add a corrupted copy of training clips to the final fit, each copy one kind drawn "
                            "from: white, pink, babble (5-30 dB SNR), reverb, telephone, mp3, gain, pause (the "
                            "clip's speech with 0-1 s of its pauses), gate (its speech on 0-1 s of a -90 dBFS "
                            "floor), speed (played 0.85-1.15x: another voice); 'noise' = white,pink,babble, 'all' = "
                            "every recording condition (not pause, gate or speed); 'all;pause' = two copies, one of each "
                            "(docs/results.md: Robustness)")
    group.add_argument("--augment-fraction", type=float, default=1.0, metavar="F",
                       help="share of the training clips that get a copy (default: 1, chosen on the development split)")


def augmented_copies(args: argparse.Namespace, specs, feature_set) -> dict:
    """``{name: Dataset}`` of the corrupted copies ``--augment`` asks for (none without it)."""
    from serkit.cli._common import extraction_options
    from serkit.corpora import read_corpus
    from serkit.evaluation.augmented import augmented_dataset
    from serkit.evaluation.crosscorpus import corpus_names

    if not args.augment:
        return {}
    options = extraction_options(args)
    return {name: augmented_dataset(read_corpus(reader, path), args.augment, feature_set, fraction=args.augment_fraction,
                                    seed=args.seed, n_jobs=options["n_jobs"], cache_dir=options["cache_dir"],
                                    use_cache=options["use_cache"], progress=options["progress"])
            for (reader, path), name in corpus_names(specs).items()}


def run_pooled(args: argparse.Namespace, model: str) -> int:
    """``--train A,B``: the pooled fit of :func:`serkit.training.train_model`."""
    import shlex
    import sys

    from serkit.core.exceptions import ParameterError
    from serkit.evaluation.crosscorpus import format_matrix, parse_corpus_list
    from serkit.evaluation.pooling import check_balance, keep_emotions, parse_emotions
    from serkit.features.adaptation import training_groups
    from serkit.training import train_model

    if args.root is not None:
        raise ParameterError("give a corpus ROOT or --train READER:PATH[,…], not both")
    specs = parse_corpus_list(args.train)
    check_balance(model, args.balance)  # before the (long) extraction
    training_groups(args.adapt, [], [])
    if args.augment:  # before the (long) extraction
        from serkit.evaluation.augmented import check_fraction
        from serkit.features.augment import CorruptionMix

        CorruptionMix.parse(args.augment)
        check_fraction(args.augment_fraction)
    ensure_writable_dir(args.output)
    datasets, feature_set = load_corpus_list(args, specs)
    augment = augmented_copies(args, specs, feature_set)
    emotions = parse_emotions(args.emotions, keep_emotions(datasets)[1])
    dropped = keep_emotions(datasets, emotions)[2]
    if dropped:  # said before the (long) fit
        print("dropped clips of emotions not trained: " + "; ".join(
            f"{name} " + ", ".join(f"{emotion} {count}" for emotion, count in counts.items())
            for name, counts in dropped.items()), file=sys.stderr)
    command = shlex.join([
        "serkit", "train", "--train", args.train, *(("--emotions", args.emotions) if args.emotions else ()),
        "--balance", args.balance, "--adapt", args.adapt, "--set", args.feature_set, "--model", args.model, "--folds", str(args.folds),
        "--seed", str(args.seed), *(("--speaker-norm",) if args.speaker_norm else ()),
        *(("--no-eval",) if args.no_eval else ()),
        *(("--augment", args.augment, "--augment-fraction", str(args.augment_fraction)) if args.augment else ()),
        "-o", args.output,
    ])
    model_dir, result, _ = train_model(
        model, datasets, feature_set, args.output, emotions=emotions, balance=args.balance,
        speaker_norm=args.speaker_norm, adapt=args.adapt, n_splits=args.folds, random_state=args.seed,
        cross_validate=not args.no_eval, command=command, progress=not args.quiet, augment=augment,
    )
    if result is not None:
        print(format_matrix(result))
    n_clips = sum(len(data.y) for data in datasets.values()) - sum(sum(c.values()) for c in dropped.values())
    print(f"saved {model} trained on {n_clips} clips of {', '.join(datasets)} "
          f"(balance {args.balance}) to {model_dir}")
    return 0


def run(args: argparse.Namespace) -> int:
    from serkit.evaluation import format_table
    from serkit.training import train_model
    from serkit.core.exceptions import ParameterError

    names = model_names(args)
    if len(names) != 1:
        raise ParameterError(f"--model {args.model!r}: train saves one model, name exactly one")
    [model] = names
    if args.train:
        return run_pooled(args, model)
    if args.root is None:
        raise ParameterError("give a corpus ROOT, or --train READER:PATH[,…] to pool several corpora")
    if args.emotions or args.adapt != "none" or args.augment:
        raise ParameterError("--emotions, --adapt and --augment apply to --train READER:PATH[,…] (one corpus is --train READER:PATH)")
    ensure_writable_dir(args.output)
    dataset, feature_set = load_dataset(args)
    model_dir, result, _ = train_model(
        model,
        {dataset.corpus.get("name", "corpus"): dataset},
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
