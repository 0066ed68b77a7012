"""``serkit report ROOT``: the corpus, its features and its models in one HTML file."""

from __future__ import annotations

import argparse
import sys

HELP = "Evaluate models on a corpus and write one self-contained HTML report with every figure."
EXAMPLE = "serkit report ../shared/data/ravdess-speech --corpus ravdess -o report.html"
EXTRAS = ("train", "report")

BUNDLED_PIPELINE = ("whisper+functionals", "logreg-tuned")
"""The feature set and model of the bundled model: the report's default (``--set``/``--models``
choose others, e.g. the reference analysis's ``--set seed26 --models dense,mlp,logreg,kmeans``)."""
HONEST_AND_REFERENCE_PROTOCOLS = ("speaker", "random")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "root", nargs="?", metavar="ROOT",
        help="corpus root; may be left out with --from (the report then has no data or feature figures)",
    )
    parser.add_argument("--corpus", default="ravdess", help="corpus reader (default: ravdess)")
    parser.add_argument(
        "--set", dest="feature_set", default=None,
        help=f"feature set (default: the one in --from results, else the bundled model's, {BUNDLED_PIPELINE[0]})",
    )
    parser.add_argument(
        "--models", default=BUNDLED_PIPELINE[1],
        help=f"comma-separated models to evaluate, or 'all' (default: the bundled model's, {BUNDLED_PIPELINE[1]}; "
        "the reference analysis's: dense,mlp,logreg,kmeans)",
    )
    parser.add_argument("-o", "--out", default="report.html", metavar="FILE", help="HTML file to write (default: report.html)")
    parser.add_argument(
        "--from", dest="from_path", metavar="RESULTS.json",
        help="draw from saved evaluation results ('serkit evaluate --json' or --save-results) instead of retraining; "
        "the JSON of a cross-corpus 'serkit evaluate --train … --json' gives a cross-corpus report",
    )
    parser.add_argument(
        "--cross-corpus", metavar="CROSS.json",
        help="add a cross-corpus section: the JSON of 'serkit evaluate --train … --test … --json'",
    )
    parser.add_argument("--save-results", metavar="RESULTS.json", help="also save the evaluation results as JSON")
    parser.add_argument("--folds", type=int, default=5, help="speaker-grouped folds (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for folds, split and models (default: 0)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="parallel feature-extraction processes (default: 1)")
    parser.add_argument("--cache-dir", default=None, help="feature cache directory (default: the user cache)")


def _read_json(path: str):
    import json

    from serkit.core.exceptions import ParameterError

    try:
        with open(path, encoding="utf-8") as stream:
            results = json.load(stream)
    except OSError as error:
        raise ParameterError(f"{path}: cannot read results ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise ParameterError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    return results


def _read_results(path: str) -> dict:
    """Evaluation runs, or a cross-corpus matrix (``{"cross_corpus": [...]}``)."""
    from serkit.core.exceptions import ParameterError

    results = _read_json(path)
    if not isinstance(results, dict) or not (results.get("runs") or results.get("cross_corpus")):
        raise ParameterError(f"{path}: no evaluation runs (expected the JSON of 'serkit evaluate --json')")
    return results


def _read_cross_corpus(path: str) -> list:
    """The matrices of a cross-corpus ``serkit evaluate --train … --json`` file."""
    from serkit.core.exceptions import ParameterError
    from serkit.report.build import cross_corpus_matrices

    try:
        matrices = cross_corpus_matrices(_read_json(path))
    except ParameterError as error:
        raise ParameterError(f"{path}: {error}") from None
    if not matrices:
        raise ParameterError(f"{path}: no cross-corpus matrix (expected the JSON of 'serkit evaluate --train … --json')")
    return matrices


def reproduce_command(args: argparse.Namespace, n_folds: int) -> str:
    """The ``serkit report`` command line that redoes this report, every default spelt out
    and the ``n_folds`` that ran (fewer than ``--folds`` on a corpus of fewer speakers)."""
    import shlex

    parts = ["serkit", "report"]
    if args.root is not None:
        parts += [args.root, "--corpus", args.corpus]
    if args.cross_corpus:
        parts += ["--cross-corpus", args.cross_corpus]
    if args.from_path:
        parts += ["--from", args.from_path]
    else:
        parts += ["--models", args.models, "--folds", str(n_folds), "--seed", str(args.seed)]
    if args.feature_set:
        parts += ["--set", args.feature_set]
    parts += ["-o", args.out]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from serkit.core.exceptions import ParameterError

    if args.root is None and args.from_path is None:
        raise ParameterError("give a corpus ROOT, or --from RESULTS.json (or both)")
    if args.save_results and args.from_path:
        raise ParameterError("--save-results writes new results; with --from nothing is re-evaluated")
    results = _read_results(args.from_path) if args.from_path else None
    if results is not None and not results.get("runs") and args.root is not None:
        raise ParameterError(f"{args.from_path}: a cross-corpus matrix holds no runs to report on ROOT; give "
                             "it with --cross-corpus beside the corpus, or --from alone")
    cross_corpus = _read_cross_corpus(args.cross_corpus) if args.cross_corpus else None
    feature_set = args.feature_set or ((results or {}).get("feature_set") or {}).get("name") or BUNDLED_PIPELINE[0]

    corpus = dataset = None
    if args.root is not None:
        from serkit.corpora import read_corpus
        from serkit.evaluation import dataset_from_corpus

        corpus = read_corpus(args.corpus, args.root)
        dataset, feature_set = dataset_from_corpus(
            args.root, corpus=args.corpus, feature_set=feature_set, n_jobs=args.jobs,
            cache_dir=args.cache_dir, progress=True,
        )
    # A corpus of fewer speakers than --folds is scored with one speaker out per fold.
    command = reproduce_command(args, args.folds if dataset is None else min(args.folds, len(set(dataset.groups))))
    if results is None:
        from serkit.evaluation import compare
        from serkit.models import resolve_model_names

        evaluation = compare(
            resolve_model_names(args.models), dataset.X, dataset.y, dataset.groups,
            protocols=HONEST_AND_REFERENCE_PROTOCOLS, n_splits=args.folds, random_state=args.seed,
            corpus=dataset.corpus, feature_set=feature_set, command=command, progress=True,
            slice_by=dataset.meta,
        )
        if args.save_results:
            print(f"results: {evaluation.save_json(args.save_results)}", file=sys.stderr)
        results = evaluation.to_dict()

    from serkit.report.build import build_report

    html = build_report(
        results,
        corpus=corpus,
        features=None if dataset is None else dict(zip(dataset.columns, dataset.X.T)),
        feature_columns=None if dataset is None else dataset.columns,
        command=command,
        cross_corpus=cross_corpus,
        progress=True,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    print(f"report: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
