"""Does the inference export predict every shared clip as the full pipeline does?

Loads a model twice, as its numpy export (``runtime="export"``) and as its
scikit-learn/PyTorch pipeline (``runtime="skops"``), computes each clip's features
once, and gives both the same features. Prints, per folder of clips, how many
clips, the largest probability difference and how many predicted emotions agree;
exit status 1 if any differs by more than 1e-5 or any emotion differs.

    python benchmarks/bench_export.py                          # bundled model, every shared clip
    python benchmarks/bench_export.py --model cnn-ensemble-v1 --folders ravdess-speech-48k
    python benchmarks/bench_export.py --json export.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FOLDERS = ("ravdess-speech", "ravdess-speech-48k", "nemo")
TOLERANCE = 1e-5


def clips_in(folder: Path) -> list[Path]:
    from serkit.corpora.base import AUDIO_EXTENSIONS

    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())


def compare(paths: list[Path], lean, full, *, batch: int = 64) -> dict:
    """Features once per clip, both models on them: max |Δp| and agreeing labels."""
    from tqdm import tqdm

    from serkit.core.audio import load_audio

    fs = lean.feature_set
    worst, agree, failed = 0.0, 0, 0
    for start in tqdm(range(0, len(paths), batch), desc="clips", unit="batch", leave=False, disable=not sys.stderr.isatty()):
        rows = []
        for path in paths[start : start + batch]:
            try:
                rows.append(fs.from_audio(*load_audio(path, sr=fs.sr)))
            except Exception:  # an unreadable clip is counted, not compared
                failed += 1
        if not rows:
            continue
        X = fs.collate(rows)
        p_lean, p_full = lean.estimator.predict_proba(X), full.estimator.predict_proba(X)
        worst = max(worst, float(np.abs(p_lean - p_full).max()))
        agree += int(np.sum(p_lean.argmax(axis=1) == p_full.argmax(axis=1)))
    return {"clips": len(paths) - failed, "failed": failed, "max_abs_difference": worst, "same_emotion": agree}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a model directory or bundled name (default: the bundled one)")
    parser.add_argument("--folders", nargs="+", default=list(FOLDERS), help=f"folders of {SHARED} (default: all)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    from serkit.models.artifacts import load_model

    lean, full = load_model(args.model, runtime="export"), load_model(args.model, runtime="skops")
    results, ok = {}, True
    print(f"model {lean.metadata.get('model')} on {lean.feature_set.name}: export against skops pipeline")
    with threadpool_limits(1):
        for name in args.folders:
            paths = clips_in(SHARED / name)
            if not paths:
                print(f"{name}: no clips under {SHARED / name}; skipped")
                continue
            started = time.perf_counter()
            result = compare(paths, lean, full)
            results[name] = result
            ok &= result["max_abs_difference"] <= TOLERANCE and result["same_emotion"] == result["clips"]
            print(f"{name:<20} {result['clips']:>5} clips  max |Δp| {result['max_abs_difference']:.1e}  "
                  f"same emotion {result['same_emotion']}/{result['clips']}  ({time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
