"""Predictions in worker processes: one model per process, so the cores work in parallel.

A prediction is CPU-bound Python; in threads of one process the GIL lets about one
core do it. :class:`PredictionPool` runs them in ``workers`` processes started with
``spawn`` (a fresh interpreter, never a fork of a process that has threads), each
loading the model once when it starts. The event loop only hands over the upload
(its bytes, or for a large one a path by which the worker opens the server's own
anonymous temporary file, never a copy) and awaits the result dict.

- serkit's errors (bad audio, bad parameters) cross the process boundary with their
  class and message, so the service answers the same 4xx as in one process.
- A worker that dies (killed, out of memory) breaks the pool: it is replaced by a new
  one, and the request is sent once more to it; if that fails too, the answer is
  ``503 worker_restarted`` with ``Retry-After``. The server itself never goes down.
- Each worker ignores Ctrl-C (the server shuts the pool down in order) and exits by
  itself if the server process disappears, so no worker outlives it.

Examples
--------
>>> pool = PredictionPool(None, workers=2)  # doctest: +SKIP
>>> asyncio.run(pool.start())  # doctest: +SKIP
>>> pool.pids()  # doctest: +SKIP
[4242, 4243]
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import math
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from serkit.service.errors import ApiError
from serkit.service.limits import IN_MEMORY_BYTES, NamedStream, probe_tone

logger = logging.getLogger("serkit.service")

SHARED_FILES = os.path.isdir("/proc/self/fd")
"""Whether a worker can open the server's open files by path (``/proc/PID/fd/N``, Linux):
then a large upload, spooled to an anonymous temporary file that vanishes with the
server however it ends, reaches the worker without a copy. Elsewhere its bytes go over
the pipe."""

RETRY_AFTER_S = 1
"""What a client whose worker died is told to wait: about the time a new worker needs to start."""

LOAD_TIMEOUT_S = 300
"""How long a worker that has loaded the model waits for the others before serving anyway."""

RESTART_INTERVAL_S = 10.0
"""At most one new pool per this many seconds: a pool that breaks again so soon after a
restart (a model that no longer loads, uploads that kill every worker) is left broken and
requests get 503 until the interval has passed, instead of each starting processes that
load the model."""

PARENT_CHECK_S = 1.0
"""How often a worker checks that the server process is still there."""


# -- in each worker process -------------------------------------------------------

_worker_predictor = None


def _exit_with_parent(parent_pid: int) -> None:
    """Leave when the server process is gone (its pid is no longer this process's parent)."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(0)


def _warm_up(predictor) -> None:
    """Predict a tone once: the first prediction's imports and caches cost about a
    second, which should not fall on a client's first request."""
    import soundfile as sf

    from serkit.inference.speech import vad_network

    wav = io.BytesIO()
    sf.write(wav, probe_tone(predictor.sr), predictor.sr, format="WAV")
    wav.seek(0)
    predictor.predict_file(NamedStream(wav))
    vad_network()  # the voice-activity network, built once per process


def _start_worker(model_dir, parent_pid: int, all_loaded) -> None:
    """The pool's initializer: ignore Ctrl-C, watch the server, load the model once and
    warm it up, then wait at the ``all_loaded`` barrier, so that no worker takes a
    request while another still loads (loading takes the cores for seconds)."""
    import signal

    from serkit.models.artifacts import load_model

    global _worker_predictor
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C reaches the whole group
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    _worker_predictor = load_model(model_dir)
    _warm_up(_worker_predictor)
    try:
        all_loaded.wait(timeout=LOAD_TIMEOUT_S)
    except threading.BrokenBarrierError:  # another worker failed or is slow: serve anyway
        pass


def _worker_ready() -> int:
    return os.getpid()


def _predict_in_worker(upload: bytes | str, options: dict) -> dict:
    """Predict ``upload`` (the file's bytes, or a path to the server's open file)."""
    with io.BytesIO(upload) if isinstance(upload, bytes) else open(upload, "rb") as raw:
        return _worker_predictor.predict_file(NamedStream(raw), **options)


# -- in the server process --------------------------------------------------------


class PredictionPool:
    """``workers`` processes, each with the model of ``model_dir`` loaded, that run
    :meth:`serkit.inference.Predictor.predict_file`.

    Parameters
    ----------
    model_dir : str or None
        What :func:`serkit.models.artifacts.load_model` loads in each worker (None: the bundled model).
    workers : int > 0
        Worker processes (a prediction uses one core).
    """

    def __init__(self, model_dir, *, workers: int):
        self.model_dir = model_dir
        self.workers = int(workers)
        self.restarts = 0
        self._executor = None
        self._restarted_at = -math.inf

    def _new_executor(self) -> ProcessPoolExecutor:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_worker,
            initargs=(self.model_dir, os.getpid(), context.Barrier(self.workers)),
        )

    def _launch(self) -> list:
        """A new executor with every worker started now (they load the model meanwhile)."""
        self._executor = self._new_executor()
        # Spawned workers start on demand: one task per worker starts them all.
        return [self._executor.submit(_worker_ready) for _ in range(self.workers)]

    async def start(self) -> None:
        """Start the workers and wait until they answer (each has loaded the model).

        Raises :class:`~serkit.core.exceptions.ArtifactError` when a worker cannot load it.
        """
        from serkit.core.exceptions import ArtifactError

        try:
            await asyncio.gather(*[asyncio.wrap_future(ready) for ready in self._launch()])
        except BrokenProcessPool:
            self.close()
            raise ArtifactError(f"{self.model_dir or 'the bundled model'}: a prediction worker could not load it") from None

    def pids(self) -> list[int]:
        """The worker processes' ids (empty before :meth:`start` and after :meth:`close`)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Swap a broken executor (a worker died) for a new one, once however many requests
        notice, and at most once per :data:`RESTART_INTERVAL_S`."""
        if self._executor is not broken or self._restart_wait_s() > 0:
            return
        self.restarts += 1
        self._restarted_at = time.monotonic()
        logger.warning("a prediction worker died (killed or out of memory); starting %d new ones", self.workers)
        broken.shutdown(wait=False, cancel_futures=True)  # its other workers are already terminated
        self._launch()

    async def predict(self, raw, **options) -> dict:
        """Predict the upload in ``raw`` (a seekable binary file) in a worker.

        ``options`` go to ``predict_file`` (``window_s``, ``hop_s``, ``max_duration_s``, ``segment``, ``diarize``).
        Raises what ``predict_file`` raises, or :class:`~serkit.service.errors.ApiError`
        503 when the worker died twice.
        """
        raw.flush()  # what is still buffered here would be missing from the worker's view of the file
        size = raw.seek(0, io.SEEK_END)
        raw.seek(0)
        if size <= IN_MEMORY_BYTES or not SHARED_FILES:
            return await self._submit(raw.read(), options)
        # The worker opens the file anew (its own offset); it stays open here until the answer.
        return await self._submit(f"/proc/{os.getpid()}/fd/{raw.fileno()}", options)

    def _restart_wait_s(self) -> float:
        """Seconds until a broken pool may be replaced (0: now)."""
        return max(0.0, self._restarted_at + RESTART_INTERVAL_S - time.monotonic())

    async def _submit(self, upload: bytes | str, options: dict) -> dict:
        for _ in range(2):  # a request that only shared the pool with a dying worker gets a second try
            executor = self._executor
            try:
                return await asyncio.wrap_future(executor.submit(_predict_in_worker, upload, options))
            except BrokenProcessPool:
                self._replace(executor)
        retry_s = max(RETRY_AFTER_S, math.ceil(self._restart_wait_s()))
        raise ApiError(
            503, "worker_restarted",
            f"the prediction worker stopped (killed or out of memory) and is being restarted; retry in {retry_s} s",
            headers={"Retry-After": str(retry_s)},
        )

    def close(self) -> None:
        """Stop the workers (after their current prediction)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
            # A worker's error that reached a client keeps, through its traceback, a frame that
            # holds the executor: collect that cycle now, so that its queues' semaphores are
            # released here, not reported as leaked by multiprocessing's tracker at exit.
            gc.collect()
