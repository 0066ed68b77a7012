"""Local process pool against a Dask LocalCluster, and the memory of streamed output.

Runs ``serkit features`` as a subprocess, cache off, with ``-j 2`` and with
``--dask local:2`` on the shared RAVDESS (and nEMO with ``--nemo``), and prints the
wall time, the peak RSS of the ``serkit`` process itself (its ``VmHWM``, polled; the
workers are other processes) and whether both outputs are the same bytes. Then the
peak RSS of ``serkit features`` writing partitioned Parquet for ``--big`` clips: the
shared RAVDESS hard-linked several times into a temporary folder (no data copied),
listed in a manifest, extracted with a fresh cache (a repeat of a file's content is a
cache hit in a worker: the parent receives and writes every row all the same), and,
for comparison, the same clips into one Parquet file, which holds every row at once.

    nice -n 10 python benchmarks/bench_dask.py
    nice -n 10 python benchmarks/bench_dask.py --nemo --big 5000 --json bench_dask.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    # A process that has exited but not been reaped has no VmHWM line.
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), None)


def run_measured(arguments: list[str]) -> dict:
    """Run ``serkit ARGUMENTS``; its wall time and the last peak RSS seen of its process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "serkit", *arguments], stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _peak_rss_mb(process.pid) or 0.0)
        time.sleep(0.05)
    wall = time.perf_counter() - start
    stderr = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"serkit {' '.join(arguments)} failed ({process.returncode}):\n{stderr[-2000:]}")
    return {"wall_s": round(wall, 1), "parent_peak_rss_mb": round(peak), "summary": stderr.strip().splitlines()[-1]}


def compare_engines(root: Path, corpus: str, workdir: Path) -> dict:
    """``-j 2`` against ``--dask local:2`` on one corpus, cache off."""
    common = [str(root), "--corpus", corpus, "--set", "seed26", "--no-cache", "-q"]
    local = run_measured(["features", *common, "-j", "2", "-o", str(workdir / f"{corpus}-local.csv")])
    dask = run_measured(["features", *common, "--dask", "local:2", "-o", str(workdir / f"{corpus}-dask.csv")])
    same = (workdir / f"{corpus}-local.csv").read_bytes() == (workdir / f"{corpus}-dask.csv").read_bytes()
    return {"corpus": corpus, "local -j 2": local, "--dask local:2": dask, "identical_bytes": same}


def linked_manifest(n_clips: int, workdir: Path) -> Path:
    """A manifest of ``n_clips`` hard links to the shared RAVDESS clips (repeated as needed)."""
    from serkit.corpora import read_corpus

    corpus = read_corpus("ravdess", SHARED / "ravdess-speech")
    rows = ["path,label,speaker"]
    for i in range(n_clips):
        clip = corpus.table.iloc[i % len(corpus.table)]
        link = workdir / "linked" / f"copy{i // len(corpus.table)}" / clip["path"]
        link.parent.mkdir(parents=True, exist_ok=True)
        os.link(corpus.root / clip["path"], link)
        rows.append(f"{link},{clip['label']},{clip['speaker']}")
    manifest = workdir / "linked.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def streamed_memory(n_clips: int, workdir: Path) -> dict:
    manifest = linked_manifest(n_clips, workdir)
    common = [str(manifest), "--corpus", "manifest", "--set", "seed26", "-j", "2", "-q", "--cache-dir", str(workdir / "cache")]
    streamed = run_measured(["features", *common, "-o", f"{workdir / 'parts'}/"])
    whole = run_measured(["features", *common, "-o", str(workdir / "whole.parquet")])
    return {"clips": n_clips, "partitioned (streamed)": streamed, "one .parquet (in memory, cache warm)": whole}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nemo", action="store_true", help="also compare the engines on the shared nEMO")
    parser.add_argument("--big", type=int, default=5000, help="clips for the memory run (0: skip it)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    figures = {"cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 1), "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        workdir = Path(tmp)
        corpora = [("ravdess", SHARED / "ravdess-speech")] + ([("nemo", SHARED / "nemo")] if args.nemo else [])
        for corpus, root in corpora:
            figures["runs"].append(result := compare_engines(root, corpus, workdir))
            print(json.dumps(result, indent=2), flush=True)
        if args.big:
            figures["memory"] = streamed_memory(args.big, workdir)
            print(json.dumps(figures["memory"], indent=2), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
