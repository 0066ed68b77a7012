"""``serkit demo``: the one command after install.

With nothing else it predicts the short example clips shipped in the package
(speech synthesised with espeak-ng) with the bundled model. With ``--data ROOT``,
or once ``serkit download ravdess`` has fetched the corpus, it also extracts
features and evaluates speaker-independently (actors grouped in folds).
"""

from __future__ import annotations

import argparse

HELP = "Predict the bundled example clips; with --data ROOT (or a downloaded RAVDESS) evaluate on the corpus."
EXAMPLE = "serkit demo --data ../shared/data/ravdess-speech"

QUICK_EVALUATION = ("logreg-tuned", "functionals")
"""What the demo evaluates unless told otherwise: a few minutes on a laptop CPU (the bundled
model's own stored figures are printed beside it)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="ROOT", help="a RAVDESS root to evaluate on (default: the downloaded copy, if any)")
    parser.add_argument("--model", metavar="MODEL_DIR", help="model for the example clips (default: the bundled one)")
    parser.add_argument("--eval-model", metavar="NAME", help=f"model to evaluate on the corpus (default: {QUICK_EVALUATION[0]})")
    parser.add_argument("--set", dest="feature_set", metavar="NAME", help=f"feature set to evaluate with (default: {QUICK_EVALUATION[1]})")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="feature-extraction processes (default 1)")


def example_clips() -> list:
    """The example clips shipped in the package, sorted by name."""
    from importlib.resources import as_file, files

    folder = files("serkit").joinpath("data", "examples")
    with as_file(folder) as path:
        return sorted(p for p in path.iterdir() if p.suffix == ".ogg")


def intended_emotion(clip) -> str:
    """The emotion an example clip's delivery was made to suggest, from its name; a clip
    made of several deliveries lists them in turn.

    >>> intended_emotion("examples/happy--fast-high.ogg"), intended_emotion("calm-sad--long-mixed.ogg")
    ('happy', 'calm→sad')
    """
    from pathlib import Path

    return Path(clip).name.split("--")[0].replace("-", "→")


def run(args: argparse.Namespace) -> int:
    import sys

    from serkit.models.artifacts import load_model
    from serkit.cli.predict import format_table

    predictor = load_model(args.model)
    name = predictor.metadata.get("name") or predictor.metadata.get("model") or "model"
    print(f"Example clips (speech synthesised with espeak-ng), predicted by {name} on {predictor.feature_set.name} features:\n")
    clips = example_clips()
    items = []
    for item in predictor.predict_batch([str(p) for p in clips], segment="vad"):  # as `serkit predict` answers
        entry = item.to_dict()
        if not entry.get("segments", True):
            del entry["segments"]
        items.append(entry)
    intended = [intended_emotion(clip) for clip in clips]
    deliveries = [clip.stem.split("--")[-1] for clip in clips]  # the name's emotion part is the first column
    width, delivery_width = max(map(len, intended)), max(map(len, deliveries))
    print(f"{'intended':<{width}}  {'delivery':<{delivery_width}}  predicted (then the runner-up)")
    print(format_table(items, [f"{emotion:<{width}}  {delivery}" for emotion, delivery in zip(intended, deliveries)]))

    root = args.data
    if root is None:
        from serkit.corpora.download import downloaded_ravdess

        root = downloaded_ravdess()
        if root is None:
            print(
                "\nNext: evaluate on real speech with `serkit download ravdess` then `serkit demo`, "
                "or `serkit demo --data RAVDESS_ROOT`.",
                file=sys.stderr,
            )
            return 0

    from serkit.evaluation import dataset_from_corpus, evaluate, format_table as evaluation_table

    summary = (predictor.metadata.get("metrics") or {}).get("summary")
    if summary and args.model is None:
        ua = summary["unweighted_accuracy"]
        print(f"\nThe bundled {name}'s own speaker-independent figure (stored with it): "
              f"UA {100 * ua['mean']:.1f} ± {100 * ua['std']:.1f} %", file=sys.stderr)
    model = args.eval_model or QUICK_EVALUATION[0]
    feature_set = args.feature_set or QUICK_EVALUATION[1]
    print(f"\nSpeaker-independent evaluation on {root}: {model} on {feature_set}, actors grouped in 5 folds", file=sys.stderr)
    dataset, fs = dataset_from_corpus(root, corpus="ravdess", feature_set=feature_set, n_jobs=args.jobs, progress=True)
    result = evaluate(
        model, dataset.X, dataset.y, dataset.groups, protocol="speaker", corpus=dataset.corpus,
        feature_set=fs, command=" ".join(["serkit"] + sys.argv[1:]),
    )
    print()
    print(evaluation_table(result))
    return 0
