"""Robustness to recording conditions: held-out RAVDESS speakers clean and corrupted, with and
without augmented training audio (issue 18, item 3).

Two stages, each printing its table (``--stage``):

- ``dev``: the development split of ``bench_adaptation.py`` (RAVDESS actors 01-10, nEMO's first
  5 speakers). Trained on actors 01-06 and those nEMO speakers, tested on actors 07-10 clean and
  under each condition. Compares training without copies and with one corrupted copy of a
  fraction of the training clips (``--fraction``, default all) from each candidate mix
  (``--mixes``); the choice (the mix with the best mean UA over conditions and figures) is
  printed and used by ``test``.
- ``test``: held-out RAVDESS actors never looked at by the choice: the first of 3 speaker folds
  of actors 11-20 (``--test-folds 3``: each of the 3 in turn, then the mean). Trained on every other
  RAVDESS actor and all of nEMO, without copies and with the chosen mix (``MIX;MIX``: one copy of
  every training clip from each mix).

Figures are user-visible UA (argmax over all the model's emotions), each condition a batch of
the held-out speakers' clips:

- ``adapt corpus``: the bundled recipe's adapted head (logreg, C of ``bench_adaptation.CHOSEN``, ``FEATURE_SET``, each training
  corpus standardised by its own statistics, corpus x emotion balance). ``single`` standardises
  the test clips by the pooled training statistics (a single clip); ``adapted`` the corrupted
  batch by its own statistics; ``by voice`` the batch voice by voice, as ``serkit predict DIR --adapt``
  standardises a folder (:func:`serkit.evaluation.crosscorpus.standardise_voices` on each clip's
  CAM++ embedding, cached under ``voices/`` in serkit's cache). ``copies apart``: the copies standardised as a source of their
  own (instead of inside their corpus);
- ``adapt none``: the same trained without source adaptation (the plain single-clip head).

Corrupted audio (16-bit FLAC at 16 kHz) goes to ``--audio-dir`` and its features through serkit's
extraction and cache. Babble comes from RAVDESS actors 01-06 (training speakers in both stages;
nEMO copies: nEMO's first 5 speakers), never the clip's own speaker.

    nice -n 10 python benchmarks/bench_robust.py --stage dev --fraction 0.25 --jobs 2     # the mixes
    nice -n 10 python benchmarks/bench_robust.py --stage dev --mixes all --fraction 0.5   # then the share: 0.5, 1
    nice -n 10 python benchmarks/bench_robust.py --stage test --mix all --fraction 1 --conditions clean white@10 babble@10 telephone reverb@0.5 mp3@16
    nice -n 10 python benchmarks/bench_robust.py --stage test --mix "all;pause;gate" --conditions clean white@10 babble@10 telephone   # the shipped copies: one of each mix
    nice -n 10 python benchmarks/bench_robust.py --stage test --test-folds 3 --mix "all;pause;gate" --conditions clean white@10 babble@10 telephone
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from bench_adaptation import CHOSEN, CORPORA, DEV_SPEAKERS, FEATURE_SET, MODEL, clip_voices

CONDITIONS = ("clean", "white@10", "babble@10", "telephone", "reverb@0.5", "mp3@16")
MIXES = ("white,pink,babble,gain", "all")
SEED = 0
TEST_FOLDS = 3
"""Actors 11-20 are split in this many speaker folds; ``--test-folds 1`` (the default) holds out the first."""


def read_tables() -> dict:
    """The corpus tables by name."""
    from serkit.corpora import read_corpus

    return {name: read_corpus(name, root) for name, root in CORPORA.items()}


def part(table, speakers):
    """``table`` restricted to ``speakers``."""
    from serkit.corpora import CorpusTable

    rows = table.table[table.table["speaker"].astype(str).isin(list(speakers))].reset_index(drop=True)
    return CorpusTable(table.name, table.root, rows)


def speakers_of(table) -> list[str]:
    return sorted(set(table.table["speaker"].astype(str)))


def features(table, args):
    """The Dataset of ``table``'s clips (serkit's extraction and cache)."""
    from serkit.evaluation import dataset_from_extraction
    from serkit.features import extract_corpus

    extraction = extract_corpus(table, FEATURE_SET, n_jobs=args.jobs, cache_dir=args.cache_dir,
                                progress=sys.stderr.isatty())
    return dataset_from_extraction(table, extraction)[0]


def copies(table, corruption, pool, args, fraction=1.0):
    """Features of corrupted copies of ``table``'s clips (a deterministic ``fraction`` of them)."""
    from serkit.evaluation.augmented import select_clips
    from serkit.features.augment import augment_corpus

    out = augment_corpus(select_clips(table, fraction, SEED), corruption, args.audio_dir / table.name, copies=1, seed=SEED,
                         pool_corpus=pool)
    return features(out, args)


def fit(train, augmented, adapt, apart=False):
    """logreg fitted on ``train`` (list of Datasets, corpus names in ``.corpus['name']``) plus the
    ``augmented`` copies; ``(model, adaptation)``."""
    from serkit.evaluation.pooling import training_weights
    from serkit.features.adaptation import adapt_training
    from serkit.models import fit_model, make_model

    parts = [(data, data.corpus["name"], data.corpus["name"]) for data in train]
    parts += [(data, data.corpus["name"], data.corpus["name"] + ("+copies" if apart else "")) for data in augmented]
    X = np.concatenate([data.X for data, _, _ in parts])
    y = np.concatenate([data.y for data, _, _ in parts]).astype(str)
    speakers = np.concatenate([np.char.add(name + "/", data.groups.astype(str)) for data, name, _ in parts])
    corpus = np.concatenate([np.full(len(data.y), name) for data, name, _ in parts])
    source = np.concatenate([np.full(len(data.y), label) for data, _, label in parts])
    X_fit, adaptation = adapt_training(X, adapt, source, speakers)
    C = CHOSEN[3] if adapt == "none" else CHOSEN[2]  # the bundled model's plain and adapted heads
    model = fit_model(make_model(MODEL, C=C), X_fit, y, speakers, sample_weight=training_weights(corpus, y, "corpus"))
    return model, adaptation


def score(model, adaptation, test, voices) -> dict:
    """User-visible UA of ``test``: single clip (pooled statistics) and, adapted models, the batch
    adapted as one source and voice by voice (``voices``: the test clips' speaker embeddings)."""
    from serkit.evaluation.crosscorpus import _all_emotions_ua, standardise_voices
    from serkit.features.adaptation import SourceAdapter

    classes = [str(c) for c in model.classes_]
    y = test.y.astype(str)
    found = {"single": _all_emotions_ua(y, model.predict_proba(adaptation["pooled"].apply(test.X) if adaptation else test.X), classes)}
    if adaptation:
        found["adapted"] = _all_emotions_ua(y, model.predict_proba(SourceAdapter().fit_transform(test.X)), classes)
        found["by voice"] = _all_emotions_ua(y, model.predict_proba(standardise_voices(test.X, voices)), classes)
    return found


def run_split(title, train_tables, test_table, pools, mixes, conditions, args, dev_pool) -> dict:
    """Every recipe x augmentation on ``test_table`` under each condition; prints the table."""
    from serkit.features.augment import Condition, CorruptionMix

    train = [features(table, args) for table in train_tables]
    tests = {name: features(test_table, args) if name == "clean" else copies(test_table, Condition.parse(name), dev_pool, args)
             for name in conditions}
    voices = {name: clip_voices(test, test_table.root if name == "clean" else args.audio_dir / test_table.name, "robust",
                                args.cache_dir) for name, test in tests.items()}
    print(f"\n{title}: test {len(tests['clean'].y)} clips of {', '.join(speakers_of(test_table))}; "
          f"trained on {sum(len(d.y) for d in train)} clips", flush=True)
    results = {}
    for mix in ("none", *mixes):
        augmented = [] if mix == "none" else [copies(table, CorruptionMix.parse(one), pools[table.name], args, args.fraction)
                                              for table in train_tables for one in mix.split(";")]
        recipes = {"adapt corpus": ("corpus", False), "adapt none": ("none", False)}
        if augmented:
            recipes["adapt corpus, copies apart"] = ("corpus", True)
        for recipe, (adapt, apart) in recipes.items():
            model, adaptation = fit(train, augmented, adapt, apart)
            row = {name: score(model, adaptation, test, voices[name]) for name, test in tests.items()}
            key = f"{recipe} | augment {mix} ({sum(len(d.y) for d in augmented)} copies)"
            results[key] = row
            for figure in row["clean"]:
                cells = "  ".join(f"{100 * row[name][figure]:5.1f}" for name in conditions)
                print(f"  {key:<74} {figure:<8} {cells}", flush=True)
    print(f"  {'':<74} {'':<8} " + "  ".join(f"{name[:5]:>5}" for name in conditions))
    return results


def choose(results, mixes) -> str:
    """The mix (or "none") with the best mean UA over conditions, figures and the two recipes."""
    def mean(mix):
        rows = [row for key, row in results.items() if f"augment {mix} (" in key and "apart" not in key]
        return float(np.mean([v for row in rows for cond in row.values() for v in cond.values()]))

    means = {mix: mean(mix) for mix in ("none", *mixes)}
    print("  mean over conditions, figures, recipes: " + ", ".join(f"{m} {100 * v:.1f}" for m, v in means.items()))
    return max(means, key=means.get)


def fold_means(folds: list, conditions) -> dict:
    """Each row's figures averaged over the test folds (every fold weighs the same: 240 or 180 clips),
    printed as ``run_split`` prints a fold, with the folds' range beside each figure."""
    print(f"\nheld-out RAVDESS actors, mean over {len(folds)} folds (min-max of the folds)")
    means = {}
    # Every fold has the same recipes in the same order; only their copy counts differ.
    for first, rows in zip(folds[0], zip(*(fold.values() for fold in folds))):
        key = re.sub(r" \(\d+ copies\)$", "", first)
        means[key] = {name: {figure: float(np.mean([row[name][figure] for row in rows]))
                             for figure in rows[0][name]} for name in conditions}
        for figure in rows[0]["clean"]:
            cells = "  ".join(f"{100 * means[key][name][figure]:5.1f} ({100 * min(r[name][figure] for r in rows):.0f}-"
                              f"{100 * max(r[name][figure] for r in rows):.0f})" for name in conditions)
            print(f"  {key:<74} {figure:<8} {cells}", flush=True)
    print(f"  {'':<74} {'':<8} " + "  ".join(f"{name[:5]:>13}" for name in conditions))
    return means


def main(argv=None) -> int:
    from serkit.evaluation import split_indices

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", nargs="+", choices=("dev", "test"), default=["dev", "test"])
    parser.add_argument("--mixes", nargs="+", default=list(MIXES), help="candidate mixes (serkit.features.augment.CorruptionMix)")
    parser.add_argument("--mix", help="test: the mix to use (default: the dev stage's choice)")
    parser.add_argument("--fraction", type=float, default=1.0, help="share of training clips that get a corrupted copy")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS))
    parser.add_argument("--test-folds", type=int, default=1, choices=range(1, TEST_FOLDS + 1),
                        help=f"test: how many of the {TEST_FOLDS} folds of actors 11-20 are held out in turn (default 1: "
                             "actors 13, 16, 18, 20); with more, the mean over them is printed too")
    parser.add_argument("--audio-dir", type=Path, default=Path.home() / ".cache" / "serkit-robust")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    tables = read_tables()
    rav, nemo = tables["ravdess"], tables["nemo"]
    actors, nemo_speakers = speakers_of(rav), speakers_of(nemo)
    dev_actors, dev_nemo = actors[: DEV_SPEAKERS["ravdess"]], nemo_speakers[: DEV_SPEAKERS["nemo"]]
    pools = {"ravdess": part(rav, dev_actors[:6]), "nemo": part(nemo, dev_nemo)}
    results = {}
    mix = args.mix
    if "dev" in args.stage:
        results["dev"] = run_split("development split", [part(rav, dev_actors[:6]), part(nemo, dev_nemo)],
                                   part(rav, dev_actors[6:]), pools, args.mixes, args.conditions, args, pools["ravdess"])
        chosen = choose(results["dev"], args.mixes)
        print(f"  chosen on the development split: augment {chosen}")
        results["chosen"] = chosen
        mix = mix or chosen
    if "test" in args.stage:
        rest = actors[DEV_SPEAKERS["ravdess"]:]
        groups = np.array(rest)
        mixes = [] if mix in (None, "none") else [mix]
        folds = split_indices("speaker", np.zeros(len(rest)), groups, n_splits=TEST_FOLDS, random_state=SEED)
        for k, (_, held) in enumerate(folds[: args.test_folds]):
            held = sorted(groups[held])
            results[f"test fold {k + 1}"] = run_split(
                f"held-out RAVDESS actors, fold {k + 1} of {TEST_FOLDS}", [part(rav, [a for a in actors if a not in held]), nemo],
                part(rav, held), pools, mixes, args.conditions, args, pools["ravdess"])
        if args.test_folds > 1:
            results["test mean"] = fold_means([results[f"test fold {k + 1}"] for k in range(args.test_folds)],
                                              args.conditions)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
