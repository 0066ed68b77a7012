"""How much of an utterance's surrounding pause the model must hear (speech.CONTEXT_S).

RAVDESS, the 5 speaker folds (seed 0): a scaler + logistic regression (C = 0.01) on
``whisper+functionals``, trained on whole clips or on their speech with 0.25 s of context,
tested on whole clips and on their speech (first to last utterance found by the VAD) with
0, 0.25, 0.5 and 1 s of context. Prints UA (mean ± std over the folds).

    nice -n 10 python benchmarks/bench_heard_context.py          # ~6 min on 2 quiet cores
    nice -n 10 python benchmarks/bench_heard_context.py --feature-set whisper-speech+functionals   # the bundled model's
"""

from __future__ import annotations

import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech"
CONTEXTS = (0.0, 0.25, 0.5, 1.0)


def clip_features(path: str, feature_set_name: str = "whisper+functionals") -> dict:
    """The clip's features whole and with each context around its speech."""
    from serkit.core.audio import load_audio
    from serkit.features import get_feature_set
    from serkit.inference.speech import find_speech

    feature_set = get_feature_set(feature_set_name)
    y, sr = load_audio(path, sr=feature_set.sr)
    speech = find_speech(y, sr)
    start, end = (speech.utterances[0].start, speech.utterances[-1].end) if speech.utterances else (0.0, len(y) / sr)
    rows = {"whole": feature_set.from_audio(y, sr)}
    for context in CONTEXTS:
        piece = y[max(0, int((start - context) * sr)): min(len(y), int((end + context) * sr))]
        rows[f"speech ±{context:g} s"] = feature_set.from_audio(piece, sr)
    return {key: np.asarray(value, dtype=float).ravel() for key, value in rows.items()}


def main() -> int:
    import argparse
    from functools import partial

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature-set", default="whisper+functionals", help="the features (default: whisper+functionals)")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from serkit.corpora import read_corpus

    table = read_corpus("ravdess", ROOT).table
    with Pool(2) as pool:
        rows = pool.map(partial(clip_features, feature_set_name=args.feature_set), [str(ROOT / p) for p in table["path"]], chunksize=8)
    X = {key: np.stack([row[key] for row in rows]) for key in rows[0]}
    y, groups = table["label"].astype(str).to_numpy(), table["speaker"].astype(str).to_numpy()
    folds = list(StratifiedGroupKFold(5, shuffle=True, random_state=0).split(X["whole"], y, groups))
    for train_key in ("whole", "speech ±0.25 s"):
        for test_key in X:
            scores = []
            for train, test in folds:
                model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))
                model.fit(X[train_key][train], y[train])
                scores.append(balanced_accuracy_score(y[test], model.predict(X[test_key][test])))
            print(f"trained on {train_key:<15} tested on {test_key:<15} UA {100 * np.mean(scores):.1f} ± {100 * np.std(scores):.1f} %", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
