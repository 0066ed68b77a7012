"""Accuracy of every model × feature set on the shared RAVDESS, speaker-independent first.

For each feature set and model, three figures:

- ``speaker``: actors grouped into 5 stratified folds (no actor on both sides),
  unweighted accuracy (UA, balanced accuracy) mean ± std over the folds — the honest,
  per-clip figure;
- ``+norm``: the same folds with per-speaker feature standardisation (each speaker's
  own statistics, no labels) — needs several clips of a speaker, so reported apart;
- ``random``: the reference analysis's stratified 80/20 split (accuracy), where the
  same actors sit on both sides.

Each row also gives the training time per fold and the model's prediction time per
clip (features excluded). An ``ensemble`` row is followed by one row per member,
scored on the same folds by the same fitted models (``cnn`` in ensemble …). Frame
sets and bundles have no ``+norm`` figure (speaker normalisation is for vectors).
``--model-seeds 0 1 2`` trains every model with each seed on the same folds and
adds a row of the mean ± std over the seeds.

``logreg-tuned`` (``serkit.models.tuned``) is logistic regression whose C is chosen
by an inner speaker-grouped 4-fold CV on the training part of each split (never on
the test fold). ``--save-default DIR`` then fits that selection on all
the clips and saves it with its figures in the metadata (the first bundled model,
``functionals`` + ``logreg-tuned``, was made so; the bundled ensemble is made by
``serkit train``, see docs/models-and-artifacts.md):

    python benchmarks/bench_accuracy.py --sets functionals --models logreg-tuned \\
        --save-default models/functionals-logreg

Other examples:

    python benchmarks/bench_accuracy.py                        # the full table (long)
    python benchmarks/bench_accuracy.py --sets seed26 functionals --models logreg svm
    python benchmarks/bench_accuracy.py --protocols speaker --json accuracy.json
    # the CNN beside logreg-tuned (1-1.5 h per seed on a 2-core CPU; minutes on a GPU)
    python benchmarks/bench_accuracy.py --sets logmel,functionals+egemaps --models ensemble \
        --protocols speaker random --model-seeds 0 1 2

Features are extracted once through serkit's cache (``$SERKIT_CACHE_DIR`` or the
user cache folder); later runs only fit models.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

SHARED_RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech"
DEFAULT_SETS = ("seed26", "functionals", "egemaps", "functionals+egemaps")
DEFAULT_MODELS = ("logreg", "svm", "mlp", "logreg-tuned")
PROTOCOLS = ("speaker", "norm", "random")


def model_factory(name: str, random_state: int):
    """A zero-argument factory for the registered model ``name``."""
    from serkit.models import make_model

    make_model(name)  # unknown names fail before any fitting
    return lambda: make_model(name, random_state=random_state)


def _ua(summary) -> dict:
    stat = summary["unweighted_accuracy"]
    return {"mean": stat["mean"], "std": stat["std"]}


def _row(set_name, model, protocol, seed, summary, n_folds, *, fit_seconds, predict_ms, seconds) -> dict:
    return {
        "feature_set": set_name,
        "model": model,
        "protocol": protocol,
        "seed": seed,
        "unweighted_accuracy": _ua(summary),
        "accuracy": summary["accuracy"]["mean"],
        "macro_f1": summary["macro_f1"]["mean"],
        "folds": n_folds,
        "fit_seconds_per_fold": fit_seconds,
        "predict_ms_per_clip": predict_ms,
        "seconds": seconds,
    }


def run_benchmark(root: Path, sets, models, protocols, *, n_splits=5, random_state=0, model_seeds=None,
                  n_jobs=2, progress=True) -> tuple[list[dict], dict]:
    """Evaluate every (set, model, seed) under ``protocols``; rows for the table, and the runs.

    Folds come from ``random_state``; each model is trained with every seed of
    ``model_seeds`` (default: ``[random_state]``) on those folds.
    """
    from tqdm.auto import tqdm

    from serkit.evaluation import dataset_from_corpus, evaluate

    seeds = list(model_seeds) if model_seeds else [random_state]
    rows, runs = [], {}
    for set_name in sets:
        dataset, feature_set = dataset_from_corpus(root, corpus="ravdess", feature_set=set_name,
                                                   n_jobs=n_jobs, progress=progress)
        jobs = [(model, protocol, seed) for model in models for protocol in protocols for seed in seeds
                if protocol != "norm" or feature_set.kind == "vector"]
        for model, protocol, seed in tqdm(jobs, desc=set_name, disable=not progress, file=sys.stderr):
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the random split's leakage warning: noted in the table
                result = evaluate(
                    model_factory(model, seed), dataset.X, dataset.y, dataset.groups,
                    protocol="random" if protocol == "random" else "speaker",
                    speaker_norm=protocol == "norm", n_splits=n_splits, random_state=random_state,
                    progress=False, corpus=dataset.corpus, feature_set=feature_set,
                )
            run = result.runs[0]
            runs[(set_name, model, protocol, seed)] = run
            n_test = sum(fold["n_test"] for fold in run.folds)
            timing = dict(fit_seconds=round(run.fit_seconds / len(run.folds), 1),
                          predict_ms=round(1000 * run.predict_seconds / n_test, 2))
            rows.append(_row(set_name, model, protocol, seed, run.summary, len(run.folds),
                             seconds=round(time.perf_counter() - started, 1), **timing))
            for member, scores in (run.members or {}).items():
                rows.append(_row(set_name, f"{member} in {model}", protocol, seed, scores["summary"],
                                 len(scores["folds"]), fit_seconds=None, predict_ms=None, seconds=None))
    if len(seeds) > 1:
        rows += seed_summary_rows(rows)
    return rows, runs


def seed_summary_rows(rows: list[dict]) -> list[dict]:
    """One row per (set, model, protocol) over the seeds: mean ± std of the per-seed means."""
    groups: dict = {}
    for row in rows:
        groups.setdefault((row["feature_set"], row["model"], row["protocol"]), []).append(row)
    summary = []
    for (set_name, model, protocol), per_seed in groups.items():
        ua = [row["unweighted_accuracy"]["mean"] for row in per_seed]
        accuracy = [row["accuracy"] for row in per_seed]
        summary.append({
            "feature_set": set_name, "model": model, "protocol": protocol, "seed": "mean",
            "seeds": [row["seed"] for row in per_seed],
            "unweighted_accuracy": {"mean": float(np.mean(ua)), "std": float(np.std(ua))},
            "accuracy": float(np.mean(accuracy)), "accuracy_std": float(np.std(accuracy)),
            "macro_f1": float(np.mean([row["macro_f1"] for row in per_seed])),
            "folds": per_seed[0]["folds"], "fit_seconds_per_fold": None, "predict_ms_per_clip": None,
            "seconds": None,
        })
    return summary


def format_table(rows: list[dict], protocols) -> str:
    """One line per (set, model, seed): UA mean ± std per grouped protocol (over folds;
    over seeds on the ``mean`` lines), accuracy for random, then the timings."""
    headers = {"speaker": "speaker UA", "norm": "+speaker norm UA", "random": "random 80/20 acc"}
    by_key: dict = {}
    for row in rows:
        by_key.setdefault((row["feature_set"], row["model"], row["seed"]), {})[row["protocol"]] = row
    lines = [f"{'feature set':28s} {'model':26s} {'seed':>4s} "
             + " ".join(f"{headers[p]:>17s}" for p in protocols) + f" {'fit s/fold':>10s} {'ms/clip':>8s}"]
    for (set_name, model, seed), cells in by_key.items():
        texts = []
        for protocol in protocols:
            row = cells.get(protocol)
            if row is None:
                texts.append(f"{'-':>17s}")
            elif protocol == "random" and "accuracy_std" in row:
                texts.append(f"{100 * row['accuracy']:9.1f} ± {100 * row['accuracy_std']:4.1f}%")
            elif protocol == "random":
                texts.append(f"{100 * row['accuracy']:16.1f}%")
            else:
                ua = row["unweighted_accuracy"]
                texts.append(f"{100 * ua['mean']:9.1f} ± {100 * ua['std']:4.1f}%")
        timed = cells.get("speaker") or next(iter(cells.values()))
        fit = "-" if timed["fit_seconds_per_fold"] is None else f"{timed['fit_seconds_per_fold']:.1f}"
        predict = "-" if timed["predict_ms_per_clip"] is None else f"{timed['predict_ms_per_clip']:.2f}"
        lines.append(f"{set_name:28s} {model:26s} {seed!s:>4s} " + " ".join(texts) + f" {fit:>10s} {predict:>8s}")
    return "\n".join(lines)


def save_default(model_dir: Path, root: Path, set_name: str, model: str, runs: dict, *, n_splits,
                 random_state, command: str) -> dict:
    """Fit ``model`` on every clip and save it with the figures just measured."""
    from serkit.models.artifacts import save_model
    from serkit.evaluation import dataset_from_corpus
    from serkit.models import fit_model

    dataset, feature_set = dataset_from_corpus(root, corpus="ravdess", feature_set=set_name, progress=False)
    fitted = fit_model(model_factory(model, random_state)(), dataset.X, dataset.y, dataset.groups)
    tuning = None
    if hasattr(fitted, "best_estimator_"):
        tuning = {"param": fitted.param, "values": list(fitted.values), "chosen": fitted.best_value_,
                  "inner_cv": f"speaker-grouped {fitted.n_inner}-fold on all training clips",
                  "inner_unweighted_accuracy": {str(k): v for k, v in fitted.inner_scores_.items()}}
        fitted = fitted.best_estimator_
    speaker = runs[(set_name, model, "speaker", random_state)]
    metrics = {
        "protocol": f"speaker-grouped {n_splits}-fold CV (actors never on both sides)",
        "speaker_norm": False,
        "summary": speaker.summary,
        "folds": speaker.folds,
        "confusion_normalized": speaker.confusion_normalized,
    }
    if (set_name, model, "norm", random_state) in runs:
        metrics["with_speaker_norm"] = {"summary": runs[(set_name, model, "norm", random_state)].summary}
    if (set_name, model, "random", random_state) in runs:
        metrics["random_split"] = {"summary": runs[(set_name, model, "random", random_state)].summary,
                                   "note": "reference's stratified 80/20 split; actors on both sides"}
    extra = {
        "corpus": dataset.corpus,
        "n_train": int(len(dataset.y)),
        "command": command,
        "seed": int(random_state),
        "tuning": tuning,
        "training_data": "RAVDESS speech, 20 actors (1200 clips); CC BY-NC-SA 4.0 — see LICENSE-DATA.md",
    }
    save_model(model_dir, fitted, feature_set, metrics=metrics, extra=extra)
    return {"model_dir": str(model_dir), "tuning": tuning}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog="See the module docstring for the protocols.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=SHARED_RAVDESS, help="RAVDESS speech root (Actor_XX folders)")
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), help="feature sets (default: %(default)s)")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS),
                        help="registered model names (default: %(default)s)")
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS),
                        help="speaker: grouped folds; norm: the same with speaker normalisation; random: 80/20")
    parser.add_argument("--splits", type=int, default=5, help="speaker-grouped folds (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds (and of the models without --model-seeds)")
    parser.add_argument("--model-seeds", type=int, nargs="+", default=None,
                        help="train each model with each of these seeds on the same folds; adds mean ± std over seeds")
    parser.add_argument("--jobs", type=int, default=2, help="extraction workers (cached after the first run)")
    parser.add_argument("--json", type=Path, help="also write rows and the table as JSON")
    parser.add_argument("--save-default", type=Path, metavar="DIR",
                        help="fit the (single) model on the (single) set on all clips and save it to DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    if not args.data.is_dir():
        print(f"no RAVDESS speech folder at {args.data} (use --data)", file=sys.stderr)
        return 1
    if args.save_default and (len(args.sets) != 1 or len(args.models) != 1 or "speaker" not in args.protocols):
        print("--save-default needs exactly one --sets, one --models, and the speaker protocol", file=sys.stderr)
        return 1
    command = "python benchmarks/bench_accuracy.py " + " ".join(argv if argv is not None else sys.argv[1:])
    with threadpool_limits(1):  # the machine is shared; one BLAS thread per process
        rows, runs = run_benchmark(args.data, args.sets, args.models, args.protocols, n_splits=args.splits,
                                   random_state=args.seed, model_seeds=args.model_seeds, n_jobs=args.jobs,
                                   progress=not args.quiet)
        table = format_table(rows, args.protocols)
        print(table)
        saved = None
        if args.save_default:
            saved = save_default(args.save_default, args.data, args.sets[0], args.models[0], runs,
                                 n_splits=args.splits, random_state=args.seed, command=command)
            print(f"saved {args.models[0]} on {args.sets[0]} to {args.save_default}"
                  + (f" (chosen {saved['tuning']['param']}={saved['tuning']['chosen']})" if saved["tuning"] else ""))
    if args.json:
        args.json.write_text(json.dumps({"command": command, "rows": rows, "table": table, "saved": saved},
                                        indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
