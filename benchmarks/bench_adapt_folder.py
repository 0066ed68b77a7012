"""What adapting a folder voice by voice costs: ``serkit predict DIR --adapt`` on RAVDESS clips,
voice by voice (each file's CAM++ embedding, the voices found among them) against the folder as
one source (the same files given one speaker), alternating in one process; the voices found
against the actors.

    nice -n 10 python benchmarks/bench_adapt_folder.py                       # actors 13-16, 240 files
    nice -n 10 python benchmarks/bench_adapt_folder.py --actors 13 --rounds 3

Prints the wall time per file of each way (the first pass of each warms the caches and is not
counted) and how many voices were found, with the share of files whose voice is its actor's
(each voice mapped to the actor most of its files are).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

SHARED_RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=SHARED_RAVDESS)
    parser.add_argument("--actors", nargs="+", type=int, default=[13, 14, 15, 16])
    parser.add_argument("--rounds", type=int, default=2, help="timed passes of each way, alternating")
    args = parser.parse_args(argv)
    from serkit.features.adaptation import AdaptationWarning
    from serkit.models.artifacts import load_model

    warnings.simplefilter("ignore", AdaptationWarning)
    files = [path for actor in args.actors for path in sorted((args.root / f"Actor_{actor:02d}").glob("*.flac"))]
    if not files:
        parser.error(f"no RAVDESS clips of actors {args.actors} under {args.root}")
    predictor = load_model("default")
    ways = {"voice by voice": {}, "one source": {"speakers": ["folder"] * len(files)}}
    times = {way: [] for way in ways}
    items = {}
    for round_ in range(args.rounds + 1):
        for way, options in ways.items():
            start = time.perf_counter()
            items[way] = predictor.predict_batch(files, adapt=True, **options)
            if round_:  # the first pass warms the feature and speaker networks
                times[way].append((time.perf_counter() - start) / len(files))
    for way, per_file in times.items():
        print(f"{way:<15} {1000 * min(per_file):6.1f} ms per file (best of {len(per_file)}; "
              + ", ".join(f"{1000 * t:.1f}" for t in per_file) + ")", flush=True)
    print(f"voice by voice / one source: {min(times['voice by voice']) / min(times['one source']):.2f}x")
    actors = [path.parent.name for path in files]
    voices = [item.result["voice"] for item in items["voice by voice"]]
    mapped = {voice: Counter(a for a, v in zip(actors, voices) if v == voice).most_common(1)[0][0] for voice in set(voices)}
    right = sum(mapped[voice] == actor for voice, actor in zip(voices, actors))
    print(f"{len(files)} files of {len(set(actors))} actors: {len(set(voices))} voices found, "
          f"{right} files ({100 * right / len(files):.1f} %) with their actor's voice")
    return 0


if __name__ == "__main__":
    sys.exit(main())
