"""Cold start: ``serkit predict one.wav`` in a fresh process, wall time and peak memory.

Each run is a new process measured by ``/usr/bin/time -v`` (wall clock, user + system
CPU seconds, maximum resident set size); the figures are medians over ``--repeats`` runs,
after one warm-up run that fills the page cache and writes the compiled bytecode (as an
installed package has it: ``PYTHONDONTWRITEBYTECODE`` is lifted, and each checkout's
bytecode goes to its own folder under the temporary directory). Runs alternate between the
commands, so machine noise hits each alike. ``serkit --help`` is timed the same way.
With ``--against SRC`` every predict command also runs on another checkout's code
(``PYTHONPATH=SRC``) and the ratios this/against are printed: the one figure that means
something on a shared, busy machine. With ``--imports`` it also lists the slowest imports
of one run (``python -X importtime``).

    python benchmarks/bench_cold.py                                   # bundled model, a 4 s RAVDESS clip
    python benchmarks/bench_cold.py --runtimes auto skops --repeats 5
    python benchmarks/bench_cold.py --runtimes auto --segments vad fixed --against ../main/src --repeats 9
    python benchmarks/bench_cold.py --clip my.wav --model DIR --json cold.json

Targets (issue 11): predict ≤ 1.0 s wall and ≤ 250 MB peak; ``--help`` ≤ 0.1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_CLIP = SHARED / "ravdess-speech" / "Actor_01" / "03-01-05-01-01-01-01.flac"
SERKIT = [sys.executable, "-m", "serkit"]


def measured(command: list[str], env: dict | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    """(the finished process, wall seconds, peak MB) of one run of ``command`` under
    ``/usr/bin/time -v`` (its report is cut from the process's stderr; the CPU seconds it
    gives are left in ``result.cpu_s``)."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, env=env)
    report_at = [m.start() for m in re.finditer(r"(Command exited with non-zero status \d+\n)?\tCommand being timed:", result.stderr)][-1]
    report, result.stderr = result.stderr[report_at:], result.stderr[:report_at]
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", report)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    result.cpu_s = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", report).group(1)) for kind in ("User", "System"))
    hours, minutes, seconds = (float(part or 0) for part in wall.groups())
    return result, hours * 3600 + minutes * 60 + seconds, int(peak.group(1)) / 1024


def timed(command: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak MB, CPU seconds) of one successful run of ``command`` under ``/usr/bin/time -v``."""
    result, wall, peak = measured(command, env)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return wall, peak, result.cpu_s


def checkout_env(src: Path | None) -> dict:
    """The environment of a run of the checkout whose code is in ``src`` (None: this one):
    its ``PYTHONPATH``, bytecode written, to a folder of that checkout's own."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    tag = hashlib.sha256(env.get("PYTHONPATH", "").encode()).hexdigest()[:12]
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"serkit-bench-pycache-{tag}")
    return env


WARM_SCRIPT = """
import json, statistics, sys, time
from pathlib import Path
from serkit.models.artifacts import load_model
model, segment, rounds, *paths = sys.argv[1:]
predictor = load_model(None if model == "-" else model)
predictor.predict_file(paths[0], segment=segment)  # warm-up: first-call imports and caches
cpu_ms = []
for _ in range(int(rounds)):
    for path in paths:
        started = time.process_time()
        predictor.predict_file(path, segment=segment)
        cpu_ms.append(1000 * (time.process_time() - started))
print(json.dumps(statistics.median(cpu_ms)))
"""


def warm_cpu_ms(env: dict, model: str | None, segment: str, clips: list[Path], rounds: int) -> float:
    """Median CPU ms of ``Predictor.predict_file`` per clip in one process of the checkout ``env``
    names, after a warm-up (the Python API, one thread: serkit limits BLAS to one)."""
    command = [sys.executable, "-c", WARM_SCRIPT, model or "-", segment, str(rounds), *map(str, clips)]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"the warm run failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--segments", nargs="+", default=["vad"], choices=("vad", "fixed"),
                        help="serkit predict --segment (default: vad, the CLI's own default, passed as no option)")
    parser.add_argument("--against", type=Path, metavar="SRC",
                        help="also run each predict command on the code in SRC (another checkout's src) and print the ratios")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warm", type=Path, metavar="FOLDER",
                        help="also the warm CPU per clip of the Python API on FOLDER's clips (each checkout, alternating)")
    parser.add_argument("--warm-rounds", type=int, default=2, help="passes over the --warm clips per process")
    parser.add_argument("--imports", type=int, default=0, metavar="N", help="also list the N slowest imports")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if shutil.which("/usr/bin/time") is None:
        raise SystemExit("needs GNU time at /usr/bin/time (apt-get install time)")
    if not args.clip.is_file():
        raise SystemExit(f"{args.clip}: no such clip (pass --clip)")
    if args.against is not None and not (args.against / "serkit" / "__init__.py").is_file():
        raise SystemExit(f"{args.against}: not a src folder holding serkit")

    here = checkout_env(None)
    commands = {"--help": ([*SERKIT, "--help"], here)}
    for runtime in args.runtimes:
        for segment in args.segments:
            command = [*SERKIT, "predict", str(args.clip), "--runtime", runtime]
            command += ["--segment", segment] if segment != "vad" else []  # vad: the default (none before it)
            command += ["--model", args.model] if args.model else []
            name = f"predict ({runtime}, {segment})"
            commands[name] = (command, here)
            if args.against is not None:
                commands[f"{name} against"] = (command, checkout_env(args.against))
    for command, env in commands.values():  # warm-up: the page cache, compiled bytecode
        timed(command, env)
    runs = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, (command, env) in commands.items():
            runs[name].append(timed(command, env))

    figures = {}
    print(f"{args.clip.name}, {args.repeats} cold runs each, medians (/usr/bin/time -v)")
    print(f"{'command':<30} {'wall s':>7} {'CPU s':>6} {'peak MB':>8}   runs (wall s)")
    for name, measured_runs in runs.items():
        wall, peak, cpu = (statistics.median(run[k] for run in measured_runs) for k in range(3))
        figures[name] = {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak, "runs": measured_runs}
        print(f"{name:<30} {wall:>7.2f} {cpu:>6.2f} {peak:>8.0f}   {' '.join(f'{run[0]:.2f}' for run in measured_runs)}")
    if args.against is not None:
        print(f"\nthis checkout / {args.against} (medians; wall, CPU, peak memory):")
        for name in [name for name in figures if f"{name} against" in figures]:
            mine, theirs = figures[name], figures[f"{name} against"]
            ratios = [mine[key] / theirs[key] for key in ("wall_s", "cpu_s", "peak_mb")]
            figures[name]["ratio_against"] = dict(zip(("wall", "cpu", "peak"), ratios))
            print(f"  {name:<28} {ratios[0]:.2f}  {ratios[1]:.2f}  {ratios[2]:.2f}")
    if args.warm is not None:
        clips = sorted(path for path in args.warm.iterdir() if path.suffix.lower() in (".wav", ".flac", ".ogg"))
        checkouts = {"this": here, **({"against": checkout_env(args.against)} if args.against is not None else {})}
        warm = {(name, segment): [] for segment in args.segments for name in checkouts}
        for _ in range(args.repeats):
            for segment in args.segments:
                for name, env in checkouts.items():
                    warm[name, segment].append(warm_cpu_ms(env, args.model, segment, clips, args.warm_rounds))
        print(f"\nwarm: CPU ms per clip of predict_file, {len(clips)} clips of {args.warm}, median of each process; "
              f"{args.repeats} processes each")
        for (name, segment), values in warm.items():
            figures[f"warm {segment} {name}"] = {"cpu_ms": statistics.median(values), "runs": values}
            print(f"  {segment:<6} {name:<8} {statistics.median(values):6.1f} ms   {' '.join(f'{v:.1f}' for v in values)}")
        if args.against is not None:
            for segment in args.segments:
                ratio = statistics.median(warm["this", segment]) / statistics.median(warm["against", segment])
                print(f"  {segment:<6} this / against: {ratio:.2f}")
    if args.imports:
        command = commands[next(name for name in commands if name.startswith("predict"))][0]
        print(f"\nslowest imports of {' '.join(command[2:])}:")
        for module, ms in slowest_imports(command, args.imports):
            print(f"  {module:<40} {ms:7.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0

if __name__ == "__main__":
    sys.exit(main())
