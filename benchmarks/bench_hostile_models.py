"""Crafted model directories (issue 22): peak memory and what ``serkit predict`` answers.

Each crafted directory is built as in ``tests/hostile_models.py`` at the issue's sizes,
then ``serkit predict --model DIR clip.wav`` runs in a fresh process under
``/usr/bin/time -v`` (wall clock, maximum resident set size). The bundled model's own
run is the baseline. Rows:

- an export whose one float16 array (20 MB) is named by 250 steps;
- ONNX Concat bombs of depth 12 and 40 in place of the bundled CNN ensemble's network;
- the bundled vector model with sixteen unreferenced 48 MB networks listed in its manifest;
- the six crafted fields that gave tracebacks (exit status and stderr lines).

    python benchmarks/bench_hostile_models.py
    python benchmarks/bench_hostile_models.py --json hostile.json

Targets (issue 22): the amplified export refused or ≤ 300 MB; the depth-40 bomb one line,
≤ 300 MB; unreferenced networks cost nothing; each traceback case one line, exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench_cold import SERKIT, measured

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import hostile_models as hostile  # noqa: E402  (after the tests folder is on the path)
from conftest import make_voice_like  # noqa: E402


def crafted(work: Path) -> dict:
    """Row name → the model directory to predict with (built now, in ``work``)."""
    rows = {
        "bundled vector model (baseline)": hostile.copy_model(work / "baseline"),
        "bundled CNN ensemble (baseline)": hostile.copy_model(work / "baseline-cnn", hostile.BUNDLE_MODEL),
        "20 MB float16 array named by 250 steps": hostile.amplified_export(
            work / "amplified", n_values=10_000_000, references=250),
        "ONNX Concat bomb, depth 12": hostile.with_network(work / "bomb12", hostile.concat_bomb(12)),
        "ONNX Concat bomb, depth 40": hostile.with_network(work / "bomb40", hostile.concat_bomb(40)),
        "16 unreferenced 48 MB networks": hostile.unreferenced_networks(
            work / "unreferenced", count=16, n_bytes=48 << 20),
    }
    for case in hostile.TRACEBACK_CASES:
        rows[case] = hostile.crafted_field(work / case.replace(" ", "-"), case)
    rows["5000-character --model"] = "m" * 5000
    try:
        rows["encoder holding a pickle"] = hostile.pickled_encoder(work / "pickled", f"touch {work / 'ran'}")
    except ImportError:
        print("(no transformers: the pickled-encoder row is left out)", file=sys.stderr)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    import soundfile as sf

    figures = {}
    with tempfile.TemporaryDirectory(prefix="serkit-hostile-") as folder:
        work = Path(folder)
        clip = work / "clip.wav"
        sf.write(clip, make_voice_like(duration_s=2.0, sr=16000), 16000)
        rows = crafted(work)
        print(f"{'crafted model directory':<40} {'exit':>4} {'lines':>5} {'wall s':>7} {'peak MB':>8}  answer")
        for name, model_dir in rows.items():
            result, wall, peak = measured([*SERKIT, "predict", "--model", str(model_dir), str(clip)])
            lines = result.stderr.strip().splitlines()
            answer = (lines[-1] if lines else result.stdout.strip().splitlines()[-1]).replace(folder, "…")
            figures[name] = {"exit": result.returncode, "stderr_lines": len(lines), "wall_s": wall, "peak_mb": peak,
                             "answer": answer}
            print(f"{name:<40} {result.returncode:>4} {len(lines):>5} {wall:>7.2f} {peak:>8.0f}  {answer[:110]}")
        if (work / "ran").exists():
            print("the pickled encoder's command RAN", file=sys.stderr)
            return 1
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
