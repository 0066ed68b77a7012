"""``serkit train``: evaluate speaker-independently, then fit on everything and save."""

from __future__ import annotations

import argparse

from serkit.cli.evaluate import (
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


def run_pooled(args: argparse.Namespace, model: str) -> int:
    """``--train A,B``: the pooled fit of :func:`serkit.training.train_model`."""
    import shlex
    import sys

    from serkit.evaluation.crosscorpus import format_matrix, parse_corpus_list
    from serkit.core.exceptions import ParameterError
    from serkit.evaluation.pooling import check_balance, keep_emotions, parse_emotions
    from serkit.training import train_model

    if args.root is not None:
        raise ParameterError("give a corpus ROOT or --train READER:PATH[,…], not both")
    specs = parse_corpus_list(args.train)
    check_balance(model, args.balance)  # before the (long) extraction
    ensure_writable_dir(args.output)
    datasets, feature_set = load_corpus_list(args, specs)
    emotions = parse_emotions(args.emotions, keep_emotions(datasets)[1])
    dropped = keep_emotions(datasets, emotions)[2]
    if dropped:  # said before the (long) fit
        print("dropped clips of emotions not trained: " + "; ".join(
            f"{name} " + ", ".join(f"{emotion} {count}" for emotion, count in counts.items())
            for name, counts in dropped.items()), file=sys.stderr)
    command = shlex.join([
        "serkit", "train", "--train", args.train, *(("--emotions", args.emotions) if args.emotions else ()),
        "--balance", args.balance, "--set", args.feature_set, "--model", args.model, "--folds", str(args.folds),
        "--seed", str(args.seed), *(("--speaker-norm",) if args.speaker_norm else ()),
        *(("--no-eval",) if args.no_eval else ()), "-o", args.output,
    ])
    model_dir, result, _ = train_model(
        model, datasets, feature_set, args.output, emotions=emotions, balance=args.balance,
        speaker_norm=args.speaker_norm, n_splits=args.folds, random_state=args.seed,
        cross_validate=not args.no_eval, command=command, progress=not args.quiet,
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
    if args.emotions:
        raise ParameterError("--emotions applies to --train (several corpora); filter one corpus with a manifest")
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
