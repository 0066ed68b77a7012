"""Load benchmark of ``serkit serve``: latency percentiles, throughput, errors by status.

Starts the server on 127.0.0.1 (a free port), sends a bounded number of requests
from concurrent clients (4 s clips, a few garbage requests mixed in), checks that
garbage gets a 4xx (digital silence its "no speech" answer, a 200), nothing gets a 5xx
and the server is alive at the end, then stops it. Before and after that it measures
the CPU seconds per benchmark clip through the Python API with the service's own
segmentation (voice activity, then utterances), whose mean gives the ceiling the
service is compared with: cores ÷ CPU seconds per clip (and before, it times one
synthetic 4 s clip there).

Usage::

    python benchmarks/bench_service.py                      # bundled model, 2000 requests, 8 clients
    python benchmarks/bench_service.py --model DIR --requests 500 --concurrency 1

Clips are synthetic voice-like 4 s signals unless ``--clips DIR`` names audio files
(e.g. ``../shared/data/ravdess-speech-48k/Actor_01``); they go as multipart uploads, each
encoded once, on kept-alive ``http.client`` connections, so that the load generator takes
little of the cores it shares with the server (it prints its CPU per request beside the
server's and the prediction workers'). Exit status 1 when a request
got a 5xx, a garbage request did not get its answer, or the server died.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

CLIP_S = 4.0


def voice_like(seed: int, *, sr: int = 16000, duration_s: float = CLIP_S) -> np.ndarray:
    """A harmonic tone with vibrato, syllable-like envelope and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sr)) / sr
    f0 = rng.uniform(100, 260) * (1 + 0.06 * np.sin(2 * np.pi * rng.uniform(2, 6) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 10))
    syllables = 0.5 * (1 - np.cos(2 * np.pi * rng.uniform(2.5, 4.5) * t))
    return (0.15 * syllables * y + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


def wav_bytes(y: np.ndarray, sr: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def load_clips(folder: str | None, count: int = 8) -> list[bytes]:
    if folder is None:
        return [wav_bytes(voice_like(seed), 16000) for seed in range(count)]
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".wav", ".flac", ".ogg"))[:count]
    if not files:
        sys.exit(f"no audio files in {folder}")
    return [p.read_bytes() for p in files]


GARBAGE = [  # (description, body, content type, the status it must get: "4xx" or one status)
    ("random bytes", os.urandom(20_000), "audio/wav", "4xx"),
    ("empty wav", wav_bytes(np.zeros(0, dtype=np.float32), 16000), "audio/wav", "4xx"),
    ("silence", wav_bytes(np.zeros(32000, dtype=np.float32), 16000), "audio/wav", 200),  # answered "no speech"
    ("text", b"hello", "text/plain", "4xx"),
]


def expected(status, wanted) -> bool:
    """Whether ``status`` is what a garbage request must get (``wanted``: ``"4xx"`` or a status).

    >>> expected(422, "4xx"), expected(200, "4xx"), expected(200, 200)
    (True, False, True)
    """
    if wanted == "4xx":
        return isinstance(status, int) and 400 <= status < 500
    return status == wanted


def time_python_api(model_dir: str | None, clips: list[bytes], *, repeats: int = 30, rounds: int = 3) -> dict:
    """The loaded model, the wall time of ``Predictor.predict_audio`` on one synthetic 4 s
    clip, and the CPU seconds of ``Predictor.predict_file`` per benchmark clip
    (:func:`cpu_per_clip`)."""
    from serkit.models.artifacts import load_model

    started = time.perf_counter()
    predictor = load_model(model_dir)
    load_s = time.perf_counter() - started
    y = voice_like(0, sr=predictor.sr)
    predictor.predict_audio(y, predictor.sr)  # warm-up: first-call imports and caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        predictor.predict_audio(y, predictor.sr)
        times.append(1000 * (time.perf_counter() - started))
    return {
        "predictor": predictor,
        "load_s": load_s,
        "median_ms": statistics.median(times),
        "p95_ms": float(np.percentile(times, 95)),
        "cpu_s_per_clip": cpu_per_clip(predictor, clips, rounds=rounds),
    }


def cpu_per_clip(predictor, clips: list[bytes], *, rounds: int = 3) -> float:
    """Median CPU seconds of ``predictor.predict_file`` on each of ``clips`` (``rounds`` passes),
    segmented as the service segments (:class:`serkit.service.settings.Settings`)."""
    from serkit.service.settings import Settings

    cpu_s = []
    for _ in range(rounds):
        for clip in clips:
            started = time.process_time()
            predictor.predict_file(io.BytesIO(clip), segment=Settings().segment)
            cpu_s.append(time.process_time() - started)
    return statistics.median(cpu_s)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, model_dir: str | None, workers: int = 1, prediction_workers: int | None = None, *,
                 options: tuple[str, ...] = (), environment: dict[str, str] | None = None) -> subprocess.Popen:
    """``serkit serve`` on 127.0.0.1:``port`` with ``options`` (more flags) and ``environment``
    (more variables), once its model is loaded."""
    import httpx

    command = [sys.executable, "-m", "serkit", "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    if model_dir:
        command += ["--model", model_dir]
    if prediction_workers is not None:
        command += ["--prediction-workers", str(prediction_workers)]
    server = subprocess.Popen([*command, *options], env={**os.environ, **(environment or {})})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with status {server.returncode} during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json().get("model_loaded"):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    sys.exit("the server did not come up within 120 s")


MULTIPART_BOUNDARY = "serkit-bench-boundary"
MULTIPART_TYPE = f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"


def multipart_body(wav: bytes) -> bytes:
    """``wav`` as the multipart field ``file`` (what ``curl -F file=@clip.wav`` sends)."""
    head = (f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="clip.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n").encode()
    return head + wav + f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()


def cpu_seconds(pid: int) -> dict | None:
    """CPU seconds (user + system) of process ``pid`` and of its living children, from
    ``/proc`` (None where there is none)."""
    def of(stat_path):
        with open(stat_path) as stat:
            fields = stat.read().rpartition(")")[2].split()
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    if not os.path.exists(f"/proc/{pid}/stat"):
        return None
    children = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent, seconds = of(f"/proc/{entry}/stat")
            except (OSError, ValueError, IndexError):
                continue
            children += seconds if parent == pid else 0.0
    return {"server": of(f"/proc/{pid}/stat")[1], "children": children}


def post(connection, path: str, body: bytes, content_type: str) -> int | str:
    """POST ``body`` on a kept-alive ``http.client`` connection: the status, or why there is none."""
    import http.client

    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as error:
        connection.close()  # the next request opens a new connection
        return f"no answer ({type(error).__name__})"


def run_load(url: str, clips: list[bytes], *, requests: int, concurrency: int, garbage_every: int) -> dict:
    import http.client
    from urllib.parse import urlsplit

    plan = []  # (is_garbage, description, body, content type, the status it must get)
    for i in range(requests):
        if garbage_every and i % garbage_every == garbage_every - 1:
            plan.append((True, *GARBAGE[(i // garbage_every) % len(GARBAGE)]))
        else:
            plan.append((False, "clip", clips[i % len(clips)], "audio/wav", 200))
    # Clips go as multipart, each body encoded once, on kept-alive stdlib connections: the
    # load generator shares the cores with the server, and its CPU is not the service's.
    multipart = {id(body): multipart_body(body) for _, _, body, content_type, _ in plan if content_type == "audio/wav"}
    target = urlsplit(url)
    latencies, statuses, garbage_statuses, failures = [], Counter(), Counter(), []
    lock = threading.Lock()
    next_index = iter(range(len(plan)))

    def client():
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                connection.close()
                return
            is_garbage, description, body, content_type, wanted = plan[index]
            started = time.perf_counter()
            if content_type == "audio/wav":
                status = post(connection, target.path, multipart[id(body)], MULTIPART_TYPE)
            else:
                status = post(connection, target.path, body, content_type)
            elapsed = 1000 * (time.perf_counter() - started)
            with lock:
                statuses[status] += 1
                if is_garbage:
                    garbage_statuses[status] += 1
                    if not expected(status, wanted):
                        failures.append(f"garbage '{description}' got {status}")
                else:
                    latencies.append(elapsed)
                    if status != 200:
                        failures.append(f"clip got {status}")

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"latencies": latencies, "statuses": statuses, "garbage": garbage_statuses, "failures": failures, "wall_s": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model directory (default: the bundled model)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--garbage-every", type=int, default=50, help="every Nth request is garbage (0: none)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn (server) processes")
    parser.add_argument("--prediction-workers", type=int, help="prediction processes (default: serkit serve's, the cores)")
    parser.add_argument("--clips", help="folder of audio clips to send instead of synthetic 4 s ones")
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.2f} at the start")
    clips = load_clips(args.clips)
    api = time_python_api(args.model, clips)
    predictor = api["predictor"]
    print(f"model: {predictor.metadata.get('model')} on {predictor.feature_set.name} (loaded in {api['load_s']:.2f} s)")
    print(f"python API, one 4 s clip: median {api['median_ms']:.1f} ms, p95 {api['p95_ms']:.1f} ms")
    print(f"python API, the benchmark's clips: {1000 * api['cpu_s_per_clip']:.1f} ms CPU per clip (median, one thread)")

    port = free_port()
    server = start_server(port, args.model, args.workers, args.prediction_workers)
    try:
        cpu_before, load_cpu_before = cpu_seconds(server.pid), time.process_time()
        result = run_load(
            f"http://127.0.0.1:{port}/v1/predict", clips,
            requests=args.requests, concurrency=args.concurrency, garbage_every=args.garbage_every,
        )
        cpu_after, load_cpu = cpu_seconds(server.pid), time.process_time() - load_cpu_before
        import httpx

        try:
            alive = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["model_loaded"]
        except httpx.HTTPError:
            alive = False
    finally:
        server.terminate()
        server.wait(timeout=30)

    # Measured again after the load and averaged: the machine's speed drifts over a run.
    cpu_s_after = cpu_per_clip(predictor, clips)
    cpu_s = (api["cpu_s_per_clip"] + cpu_s_after) / 2
    ceiling = cores / cpu_s
    print(
        f"python API after the load: {1000 * cpu_s_after:.1f} ms CPU per clip; ceiling {cores} cores / "
        f"{1000 * cpu_s:.1f} ms (the mean) = {ceiling:.1f} clips/s"
    )
    latencies = np.array(result["latencies"])
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if latencies.size else (float("nan"),) * 3
    rate = sum(result["statuses"].values()) / result["wall_s"]
    clip_rate = latencies.size / result["wall_s"]
    five_xx = sum(n for s, n in result["statuses"].items() if not isinstance(s, int) or s >= 500)
    print(
        f"service: {sum(result['statuses'].values())} requests ({sum(result['garbage'].values())} garbage), "
        f"{args.concurrency} clients, {args.workers} server process(es), {result['wall_s']:.1f} s"
    )
    print(f"latency of 4 s clips: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
    print(f"throughput: {rate:.1f} requests/s; clips {clip_rate:.1f}/s = {100 * clip_rate / ceiling:.0f} % of the ceiling")
    if cpu_after:
        n = sum(result["statuses"].values())
        server_s = cpu_after["server"] - cpu_before["server"]
        workers_s = cpu_after["children"] - cpu_before["children"]
        print(
            f"CPU per request: server process {1000 * server_s / n:.1f} ms, its child processes (prediction workers) "
            f"{1000 * workers_s / n:.1f} ms, this load generator {1000 * load_cpu / n:.1f} ms"
        )
    print(f"status counts (5xx: {five_xx}): " + ", ".join(f"{s}: {n}" for s, n in sorted(result["statuses"].items(), key=str)))
    print("garbage statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(result["garbage"].items(), key=str)))
    print(f"server alive at the end: {alive}; load average {os.getloadavg()[0]:.2f} at the end")
    checks = {  # issue 11's targets
        ">= 100 requests/s": rate >= 100,
        ">= 85 % of the ceiling": clip_rate >= 0.85 * ceiling,
        "p50 <= 80 ms": p50 <= 80,
        "p99 <= 200 ms": p99 <= 200,
        "zero 5xx": five_xx == 0,
        "garbage -> its answer": not any("garbage" in f for f in result["failures"]),
        "server alive": alive,
        "python API <= 15 ms": api["median_ms"] <= 15,
    }
    print("targets: " + ", ".join(f"{name} {'PASS' if ok else 'MISS'}" for name, ok in checks.items()))
    for failure in sorted(set(result["failures"]))[:10]:
        print(f"  problem: {failure}")
    return 0 if checks["zero 5xx"] and checks["garbage -> its answer"] and checks["server alive"] else 1


if __name__ == "__main__":
    sys.exit(main())
