"""The light install, as a user makes it: ``pip install .`` in a fresh venv, nothing else.

Checks that it predicts an example clip, that ``serkit serve`` and ``serkit predict --model
cnn-ensemble-v1`` answer with their one ``needs: pip install 'serkit[…]'`` line, and that no
training, GPU or plotting library (nor ``onnx``) came with it; prints the figures of issue 20
beside their targets: the venv's size, the install's time (warm pip cache: run twice, or
after ``.ci/run``'s install) and ``serkit predict`` in a fresh process (median of
``--repeats``), each in wall and in CPU seconds (steadier on a busy machine). Exits 1 when a
check fails.

    python3 .ci/check_light_install.py                    # CI: one venv, about a minute
    python3 .ci/check_light_install.py --repeats 5 --beside-this-python   # the figures, and the full install's
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLES = REPOSITORY / "src" / "serkit" / "data" / "examples"
NOT_IN_THE_LIGHT_INSTALL = ("torch", "scipy", "sklearn", "pandas", "pyarrow", "librosa", "matplotlib", "fastapi", "nvidia", "onnx")
TARGETS = {"venv MB": 400, "install s": 45, "predict s": 0.6}


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished children: on a shared, busy
    machine a steadier figure than wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list, **options) -> subprocess.CompletedProcess:
    """``command`` run to its end, outside the repository so that its ``src`` is not imported."""
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=tempfile.gettempdir(), **options)


def fail(message: str) -> None:
    sys.exit(f"light install: FAILED: {message}")


def install(venv: Path) -> tuple[float, float]:
    """Make ``venv`` and ``pip install`` the repository into it; the wall and CPU seconds that took."""
    started, cpu = time.perf_counter(), children_cpu_s()
    made = run([sys.executable, "-m", "venv", venv])
    if made.returncode != 0:
        fail(f"python3 -m venv: {made.stderr.strip()}")
    installed = run([venv / "bin" / "python", "-m", "pip", "install", "-q", REPOSITORY])
    if installed.returncode != 0:
        fail(f"pip install .: {installed.stderr.strip()[-2000:]}")
    return time.perf_counter() - started, children_cpu_s() - cpu


def size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink()) / 1e6


def check_nothing_heavy(venv: Path) -> None:
    probe = f"import importlib.util as u; print([m for m in {NOT_IN_THE_LIGHT_INSTALL!r} if u.find_spec(m)])"
    found = run([venv / "bin" / "python", "-c", probe]).stdout.strip()
    if found != "[]":
        fail(f"the light install brought {found}")


def predict_seconds(serkits: dict, clip: Path, repeats: int) -> dict:
    """Median wall and CPU time of ``serkit predict clip`` in a fresh process for each of
    ``serkits`` (name → the command that runs serkit), after one warm-up run (the page
    cache, compiled bytecode); runs alternate so that machine noise hits each alike. Fails
    unless each prints an emotion."""
    times = {f"{name}{unit}": [] for name in serkits for unit in ("", ", CPU")}
    for _ in range(repeats + 1):
        for name, serkit in serkits.items():
            started, cpu = time.perf_counter(), children_cpu_s()
            predicted = run([*serkit, "predict", clip])
            times[name].append(time.perf_counter() - started)
            times[f"{name}, CPU"].append(children_cpu_s() - cpu)
            if predicted.returncode != 0 or clip.name not in predicted.stdout:
                fail(f"{name}: serkit predict {clip.name}: {predicted.stderr.strip() or predicted.stdout.strip()}")
    print(f"serkit predict: {predicted.stdout.strip()}")
    return {name: statistics.median(measured[1:]) for name, measured in times.items()}


def check_extra_named(venv: Path, arguments: list, extra: str) -> None:
    """``serkit ARGUMENTS`` exits 1 with the one line naming ``extra``."""
    done = run([venv / "bin" / "serkit", *arguments], timeout=60)
    expected = f"serkit {arguments[0]} needs: pip install 'serkit[{extra}]'"
    if done.returncode != 1 or done.stderr.strip() != expected:
        fail(f"serkit {' '.join(map(str, arguments))}: exit {done.returncode}, {done.stderr.strip()[-500:]!r} (expected {expected!r})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=min(EXAMPLES.glob("*.ogg")), help="the clip to predict")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs of serkit predict (default 1)")
    parser.add_argument("--beside-this-python", action="store_true",
                        help="also time the serkit of the python running this script (the full install), alternating")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="make the venv here and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="serkit-light-") as temporary:
        venv = args.keep or Path(temporary) / "venv"
        if venv.exists():
            fail(f"{venv} exists; give --keep a new folder")
        wall, cpu = install(venv)
        figures = {"install s": wall, "install s, CPU": cpu, "venv MB": size_mb(venv)}
        check_nothing_heavy(venv)
        serkits = {"predict s": [venv / "bin" / "serkit"]}
        if args.beside_this_python:
            serkits["predict s, this python's serkit"] = [sys.executable, "-m", "serkit"]
        figures.update(predict_seconds(serkits, args.clip.resolve(), args.repeats))
        check_extra_named(venv, ["serve"], "serve")
        check_extra_named(venv, ["predict", "--model", "cnn-ensemble-v1", args.clip.resolve()], "cnn")
    print("light install: predicts, serve and the CNN model name their extras, nothing heavy installed")
    for name, value in figures.items():
        target = f"target ≤ {TARGETS[name]}" if name in TARGETS else ""
        print(f"  {name:<32} {value:8.2f}   {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
