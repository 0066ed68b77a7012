"""Cold start: ``serkit predict one.wav`` in a fresh process, wall time and peak memory.

Each run is a new process measured by ``/usr/bin/time -v`` (wall clock, maximum
resident set size); the figures are medians over ``--repeats`` runs, after one
warm-up run that fills the page cache. Runs alternate between the runtimes asked
for, so machine noise hits both alike. ``serkit --help`` is timed the same way.
With ``--imports`` it also lists the slowest imports of one run
(``python -X importtime``).

    python benchmarks/bench_cold.py                                   # bundled model, a 4 s RAVDESS clip
    python benchmarks/bench_cold.py --runtimes auto skops --repeats 5
    python benchmarks/bench_cold.py --clip my.wav --model DIR --json cold.json

Targets (issue 11): predict ≤ 1.0 s wall and ≤ 250 MB peak; ``--help`` ≤ 0.1 s.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_CLIP = SHARED / "ravdess-speech" / "Actor_01" / "03-01-05-01-01-01-01.flac"
SERKIT = [sys.executable, "-m", "serkit"]


def measured(command: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """(the finished process, wall seconds, peak MB) of one run of ``command`` under
    ``/usr/bin/time -v`` (its report is cut from the process's stderr)."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    report_at = [m.start() for m in re.finditer(r"(Command exited with non-zero status \d+\n)?\tCommand being timed:", result.stderr)][-1]
    report, result.stderr = result.stderr[report_at:], result.stderr[:report_at]
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", report)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    hours, minutes, seconds = (float(part or 0) for part in wall.groups())
    return result, hours * 3600 + minutes * 60 + seconds, int(peak.group(1)) / 1024


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB) of one successful run of ``command`` under ``/usr/bin/time -v``."""
    result, wall, peak = measured(command)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return wall, peak


def slowest_imports(command: list[str], count: int) -> list[tuple[str, float]]:
    """The ``count`` top-level imports with the largest cumulative time in one run (ms)."""
    result = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], capture_output=True, text=True)
    found = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match and not match.group(2).startswith(" "):
            found.append((match.group(2), int(match.group(1)) / 1000))
    return sorted(found, key=lambda item: -item[1])[:count]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="the audio file to predict")
    parser.add_argument("--model", help="a model directory or bundled name (default: the bundled one)")
    parser.add_argument("--runtimes", nargs="+", default=["auto", "skops"], choices=("auto", "export", "skops"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--imports", type=int, default=0, metavar="N", help="also list the N slowest imports")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if shutil.which("/usr/bin/time") is None:
        raise SystemExit("needs GNU time at /usr/bin/time (apt-get install time)")
    if not args.clip.is_file():
        raise SystemExit(f"{args.clip}: no such clip (pass --clip)")

    commands = {"--help": [*SERKIT, "--help"]}
    for runtime in args.runtimes:
        command = [*SERKIT, "predict", str(args.clip), "--runtime", runtime]
        commands[f"predict ({runtime})"] = command + (["--model", args.model] if args.model else [])
    for command in commands.values():  # warm-up: the page cache, compiled bytecode
        timed(command)
    runs = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            runs[name].append(timed(command))

    figures = {}
    print(f"{args.clip.name}, {args.repeats} cold runs each, medians (/usr/bin/time -v)")
    print(f"{'command':<22} {'wall s':>7} {'peak MB':>8}   runs (s)")
    for name, measured in runs.items():
        wall, peak = statistics.median(w for w, _ in measured), statistics.median(p for _, p in measured)
        figures[name] = {"wall_s": wall, "peak_mb": peak, "runs": measured}
        print(f"{name:<22} {wall:>7.2f} {peak:>8.0f}   {' '.join(f'{w:.2f}' for w, _ in measured)}")
    if args.imports:
        command = commands[next(name for name in commands if name.startswith("predict"))]
        print(f"\nslowest imports of {' '.join(command[2:])}:")
        for module, ms in slowest_imports(command, args.imports):
            print(f"  {module:<40} {ms:7.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
