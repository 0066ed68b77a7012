"""Predictions in worker processes: the same answers and errors, a dead worker replaced, no orphans.

The model is a small logistic regression on ``seed26`` saved in a temporary folder:
each worker loads it from there, as ``serkit serve`` makes them do.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import httpx
import numpy as np
import pytest
from conftest import make_tone
from test_service import assert_error, wav_bytes

import serkit
from serkit.models.artifacts import save_model
from serkit.features import get_feature_set
from serkit.models import fit_model, make_model
from serkit.service import create_app
from serkit.service.errors import ApiError
from serkit.service import pool as pool_module
from serkit.service.pool import PredictionPool
from serkit.service.settings import Settings

SR = 16000
WAV = {"content-type": "audio/wav"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    feature_set = get_feature_set("seed26")
    rng = np.random.default_rng(0)
    y = np.repeat(["angry", "calm", "sad"], 8)
    X = rng.normal(size=(len(y), len(feature_set.columns)))
    model = fit_model(make_model("logreg"), X, y, np.tile(["01", "02", "03", "04"], 6))
    return str(save_model(tmp_path_factory.mktemp("pool") / "model", model, feature_set))


def reaped(pid: int) -> bool:
    """Whether child ``pid`` has exited and been waited for."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def run_with_pool(model_dir, scenario, **settings):
    """Start the app's lifespan (the workers), run ``scenario(app, client)`` against it, shut down.

    Returns what the scenario returns and the worker ids the pool had at the end.
    """
    app = create_app(model_dir, Settings(**{"prediction_workers": 1, "max_duration_s": 60, "segment": "fixed", **settings}))

    async def main():
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                result = await scenario(app, client)
            return result, app.state.pool.pids()

    return asyncio.run(main())


@pytest.mark.timeout(120)
def test_answers_errors_and_a_killed_worker_through_the_pool(model_dir):
    tone = wav_bytes(make_tone(sr=SR, duration_s=2.0))
    long_tone = wav_bytes(make_tone(sr=SR, duration_s=40.0))  # past 1 MiB: handed over as a file

    async def scenario(app, client):
        answers = {"tone": await client.post("/v1/predict", content=tone, headers=WAV)}
        answers["long"] = await client.post("/v1/predict", content=long_tone, headers=WAV)
        answers["garbage"] = await client.post("/v1/predict", content=os.urandom(5000), headers=WAV)
        answers["silence"] = await client.post("/v1/predict", content=wav_bytes(np.zeros(SR, dtype=np.float32)), headers=WAV)
        answers["too long"] = await client.post("/v1/predict", files={"file": ("a.wav", wav_bytes(make_tone(sr=SR, duration_s=61.0)))})
        answers["hop"] = await client.post("/v1/predict?window=3&hop=5", content=tone, headers=WAV)
        answers["model"] = await client.get("/v1/model")
        killed = app.state.pool.pids()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        answers["after kill"] = [await client.post("/v1/predict", files={"file": ("a.wav", tone)}) for _ in range(3)]
        answers["health"] = await client.get("/health")
        return answers, killed, app.state.pool.restarts

    (answers, killed, restarts), pids = run_with_pool(model_dir, scenario)
    body = answers["tone"].json()
    assert answers["tone"].status_code == 200 and set(body["probabilities"]) == {"angry", "calm", "sad"}
    assert sum(body["probabilities"].values()) == pytest.approx(1.0) and body["duration"] == pytest.approx(2.0)
    # serkit's errors cross the process boundary with their class and message: the same 4xx as in one process
    assert answers["long"].status_code == 200 and answers["long"].json()["duration"] == pytest.approx(40.0)
    assert len(answers["long"].json()["segments"]) > 20
    assert_error(answers["garbage"], 422, "invalid_audio", "upload: not readable as audio")
    assert_error(answers["silence"], 422, "invalid_audio", "upload: silent")
    assert_error(answers["too long"], 422, "invalid_audio", "upload:")
    assert_error(answers["hop"], 400, "invalid_parameter")
    assert answers["model"].json()["model"] == "logreg"
    # the next requests after the kill are answered by the new worker
    assert [response.status_code for response in answers["after kill"]] == [200, 200, 200]
    assert answers["after kill"][0].json()["emotion"] == body["emotion"]
    assert answers["health"].json()["model_loaded"] and restarts == 1
    assert pids and not set(pids) & set(killed)
    # shut down: the workers are gone, not orphaned
    assert all(reaped(pid) for pid in pids)


@pytest.mark.timeout(120)
def test_a_full_pool_is_503_before_the_upload_is_read(model_dir):
    tone = wav_bytes(make_tone(sr=SR, duration_s=2.0))

    async def scenario(app, client):
        with app.state.slots.admit():  # the one place is taken
            refused = await client.post("/v1/predict", content=tone, headers=WAV)
        return refused, await client.post("/v1/predict", content=tone, headers=WAV)

    (refused, admitted), _ = run_with_pool(model_dir, scenario, max_concurrent=1, max_queued=0)
    assert_error(refused, 503, "busy")
    assert refused.headers["retry-after"] == "1"
    assert admitted.status_code == 200


class AlwaysBroken:
    """An executor whose worker dies during every task."""

    def submit(self, *args, **kwargs):
        future = Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future

    def shutdown(self, **options):
        pass


def test_a_worker_that_dies_twice_is_503_with_retry_after(monkeypatch):
    monkeypatch.setattr(pool_module, "RESTART_INTERVAL_S", 0.0)
    pool = PredictionPool(None, workers=1)
    monkeypatch.setattr(pool, "_new_executor", AlwaysBroken)
    pool._launch()
    with pytest.raises(ApiError) as refusal:
        asyncio.run(pool.predict(io.BytesIO(b"RIFF")))
    assert refusal.value.status_code == 503 and refusal.value.error == "worker_restarted"
    assert refusal.value.headers == {"Retry-After": "1"}
    assert pool.restarts == 2


def test_a_pool_that_breaks_right_after_a_restart_waits_before_the_next(monkeypatch):
    """No restart storm: a model that no longer loads costs one new pool per interval, not one per request."""
    pool = PredictionPool(None, workers=1)
    monkeypatch.setattr(pool, "_new_executor", AlwaysBroken)
    pool._launch()
    for _ in range(5):
        with pytest.raises(ApiError) as refusal:
            asyncio.run(pool.predict(io.BytesIO(b"RIFF")))
        assert refusal.value.status_code == 503
    assert pool.restarts == 1  # the first breakage restarts at once, the next ones wait
    assert 1 <= int(refusal.value.headers["Retry-After"]) <= pool_module.RESTART_INTERVAL_S
    pool._restarted_at -= pool_module.RESTART_INTERVAL_S  # the interval has passed
    with pytest.raises(ApiError):
        asyncio.run(pool.predict(io.BytesIO(b"RIFF")))
    assert pool.restarts == 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def process_state(pid: int) -> str | None:
    """The state letter in ``/proc/PID/stat`` (``Z``: a zombie), None for no such process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def is_gone(pid: int) -> bool:
    return process_state(pid) in (None, "Z")


def start_serve(model_dir: str, port: int, **environment) -> subprocess.Popen:
    source = os.path.dirname(os.path.dirname(serkit.__file__))  # this checkout's serkit in the child too
    server = subprocess.Popen(
        [sys.executable, "-m", "serkit", "serve", "--model", model_dir, "--port", str(port),
         "--prediction-workers", "1", "--log-level", "warning"],
        env={**os.environ, "PYTHONPATH": source, **environment},
    )

    def ready():
        assert server.poll() is None, "serkit serve exited during start-up"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()["model_loaded"]
        except httpx.HTTPError:
            return False

    assert wait_until(ready, 90), "serkit serve did not come up"
    return server


@pytest.mark.timeout(180)
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process table from /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["terminated", "killed"])
def test_serve_leaves_no_worker_and_no_file_behind(model_dir, stop, tmp_path):
    port = free_port()
    server = start_serve(model_dir, port, TMPDIR=str(tmp_path))
    large = wav_bytes(make_tone(sr=SR, duration_s=40.0))  # over 1 MiB: spooled to a file, read by the worker
    try:
        workers = children(server.pid)
        for body in (wav_bytes(make_tone(sr=SR)), large):
            answer = httpx.post(f"http://127.0.0.1:{port}/v1/predict", content=body, headers=WAV, timeout=60)
            assert answer.status_code == 200
        with socket.create_connection(("127.0.0.1", port)) as upload:  # stopped with half an upload spooled
            upload.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: audio/wav\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(large) + large[: len(large) // 2])
            time.sleep(0.5)
            server.send_signal(stop)
            server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert len(workers) >= 1  # the prediction worker (and multiprocessing's resource tracker)
    # terminated: the server stops its worker; killed: the worker sees its parent gone and leaves
    assert wait_until(lambda: all(is_gone(worker) for worker in workers), 30)
    # uploads live in anonymous files, which the system removes with the last process holding them
    # ONNX Runtime's native library (the voice-activity network's) keeps a 51-byte session marker
    # `.ses` in TMPDIR on import; it is not an upload, and nothing else may stay.
    assert wait_until(lambda: not [p for p in tmp_path.iterdir() if p.name != ".ses"], 30), sorted(tmp_path.iterdir())


def test_serve_sizes_the_pool_to_the_cores(monkeypatch):
    from argparse import Namespace

    from serkit.cli.serve import prediction_sizes
    from serkit.core.exceptions import ParameterError
    from serkit.service.settings import get_settings

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    for name in ("SERKIT_PREDICTION_WORKERS", "SERKIT_MAX_CONCURRENT"):
        monkeypatch.delenv(name, raising=False)

    def sizes(**flags):
        return prediction_sizes(Namespace(**{"workers": 1, "prediction_workers": None, "max_concurrent": None, **flags}), get_settings())

    assert sizes() == (4, 8)  # a worker per core, one prediction running and one sent per worker
    assert sizes(workers=2) == (2, 4)  # the cores shared among the server processes
    assert sizes(prediction_workers=3, max_concurrent=5) == (3, 5)
    assert sizes(prediction_workers=0) == (0, get_settings().max_concurrent)  # threads, as before
    monkeypatch.setenv("SERKIT_PREDICTION_WORKERS", "3")
    assert sizes() == (3, 6)
    with pytest.raises(ParameterError, match="prediction_workers=-1"):
        Settings(prediction_workers=-1)
