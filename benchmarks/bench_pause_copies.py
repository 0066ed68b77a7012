"""Whether the bundled recipe should learn from pause and gate copies: the development split only.

An utterance cut from a conversation is heard with 0.1–1 s of the pause around it, while the
corpus clips the model learns from hold about a second (RAVDESS) or a fraction of one (nEMO).
This trains the plain head's recipe (a scaler + logistic regression, C = ``CHOSEN[3]``, the
training clips weighted by ``serkit.evaluation.pooling.balance_weights``: each corpus the same
weight, then each of its emotions) on the pooled development speakers of both corpora
(``bench_adaptation.DEV_SPEAKERS``: RAVDESS actors 01–10, nEMO's first 5 speakers; 5 speaker
folds each, fold k of both corpora held out together), on whole clips alone, with one ``pause``
copy of each training clip (``serkit.features.augment.repause``: its speech and 0–1 s of its
own pause on each side), and with a ``gate`` copy as well (``serkit.features.augment.gate``: its
speech on 0–1 s of a −90 dBFS floor, drawn per side: pauses as a noise gate leaves them), as
``build_bundled_model.py --augment`` makes them (same seeds, same cache). It tests on the
held-out fold's whole clips and on their speech as a conversation gives it
(``conversations.trim_to_speech``, then 0.1, 0.25, 0.5 or 1 s of the conversations' −90 dBFS
floor on each side). Prints user-visible UA (argmax over the model's own emotions), mean ± std
over the folds; then, as a guard for corpora nobody here has, each training's leave-one-corpus-out
UA (trained on one corpus's development speakers with their copies, tested on the other's whole
development clips of the emotions both share).

The rule for a kind of copy, fixed before its run: adopted if the trimmed conditions' mean rises
for both corpora, whole clips lose at most 1 point in each corpus, and the mean of the two
leave-one-corpus-out figures loses at most 1 point, each against the training before it.

    nice -n 10 python benchmarks/bench_pause_copies.py     # ~25 min on 2 cores, the first time
"""

from __future__ import annotations

import sys
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_adaptation import CHOSEN, CORPORA, FEATURE_SET, development_table  # noqa: E402
from conversations import FLOOR_DBFS, TRIM_DB, trim_to_speech  # noqa: E402

CONTEXTS = (0.1, 0.25, 0.5, 1.0)
N_FOLDS = 5


def conversation_like(path: str, feature_set: str = FEATURE_SET) -> dict:
    """Features of the clip's speech with each of :data:`CONTEXTS` seconds of floor on either side."""
    from serkit.core.audio import load_audio
    from serkit.features import get_feature_set
    from serkit.features.augment import gain, white_noise

    feature_set = get_feature_set(feature_set)
    y, sr = load_audio(path, sr=feature_set.sr, warn_silent=False)
    speech, rng = trim_to_speech(y, sr), np.random.default_rng(0)

    def floor(seconds):
        return gain(white_noise(round(seconds * sr), rng), FLOOR_DBFS)

    pieces = {f"speech +{c:g} s": np.r_[floor(c), speech, floor(c)] for c in CONTEXTS}
    return {key: np.asarray(feature_set.from_audio(piece, sr), float).ravel() for key, piece in pieces.items()}


def conversation_like_all(name: str, paths: list[str], feature_set: str = FEATURE_SET) -> dict:
    """:func:`conversation_like` of every path, kept in serkit's cache folder beside the features
    (they are the same on every run; recomputing them is most of this benchmark's time)."""
    import hashlib
    from functools import partial

    from serkit.features.batch import default_cache_dir

    digest = hashlib.sha256("\0".join(map(str, [feature_set, FLOOR_DBFS, TRIM_DB, *CONTEXTS, *paths])).encode()).hexdigest()[:16]
    cached = Path(default_cache_dir()) / "bench_pause_copies" / f"{name}-{digest}.npz"
    if cached.exists():
        with np.load(cached) as stored:
            return {key: stored[key] for key in stored.files}
    with Pool(2) as pool:
        rows = pool.map(partial(conversation_like, feature_set=feature_set), paths, chunksize=8)
    pieces = {key: np.stack([row[key] for row in rows]) for key in rows[0]}
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cached, **pieces)
    return pieces


def development(name: str, feature_set: str = FEATURE_SET, kinds=("pause", "gate")) -> dict:
    """One corpus's development clips: whole, a copy of each of ``kinds`` (``serkit.features.augment`` mixes),
    conversation-like; labels, speakers."""
    from serkit.evaluation import dataset_from_extraction
    from serkit.evaluation.augmented import augmented_dataset
    from serkit.features import extract_corpus

    table = development_table(name)
    whole, extracted = dataset_from_extraction(table, extract_corpus(table, feature_set, n_jobs=2))
    copies = {f"{kind} copy": augmented_dataset(table, kind, extracted, n_jobs=2).X for kind in kinds}
    pieces = conversation_like_all(name, [str(table.root / path) for path in table.table["path"]], feature_set)
    return {"X": {"whole": whole.X, **copies, **pieces}, "y": whole.y.astype(str), "speakers": whole.groups.astype(str)}


def fit(parts):
    """The plain head's recipe fitted on ``parts``: (X, y, corpus name) triples."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from serkit.evaluation.pooling import balance_weights

    X, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    corpus = np.concatenate([np.full(len(p[1]), p[2]) for p in parts])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=CHOSEN[3], max_iter=3000))
    return model.fit(X, y, logisticregression__sample_weight=balance_weights(corpus, y))


def main() -> int:
    from sklearn.metrics import balanced_accuracy_score

    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")  # the model's own emotions
    data = {name: development(name) for name in CORPORA}
    held = {name: [np.isin(d["speakers"], sorted(set(d["speakers"]))[k::N_FOLDS]) for k in range(N_FOLDS)]
            for name, d in data.items()}
    trainings = {"whole clips": ["whole"], "whole clips + pause copies": ["whole", "pause copy"],
                 "whole clips + pause + gate copies": ["whole", "pause copy", "gate copy"]}
    for training, keys in trainings.items():
        scores = {}
        for k in range(N_FOLDS):
            model = fit([(d["X"][key][~held[name][k]], d["y"][~held[name][k]], name) for name, d in data.items() for key in keys])
            for name, d in data.items():
                test = held[name][k]
                for key in d["X"]:
                    if not key.endswith("copy"):
                        scores.setdefault((name, key), []).append(
                            balanced_accuracy_score(d["y"][test], model.predict(d["X"][key][test])))
        for (name, key), values in scores.items():
            print(f"trained on {training:<35} {name:<8} tested on {key:<16} UA {100 * np.mean(values):.1f} "
                  f"± {100 * np.std(values):.1f} %", flush=True)
        for source, target in (("ravdess", "nemo"), ("nemo", "ravdess")):
            model = fit([(data[source]["X"][key], data[source]["y"], source) for key in keys])
            shared = np.isin(data[target]["y"], model.classes_)
            ua = balanced_accuracy_score(data[target]["y"][shared], model.predict(data[target]["X"]["whole"][shared]))
            print(f"trained on {training:<35} {source} -> {target} whole clips UA {100 * ua:.1f} %", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
