"""How many predictions run at once, how many may wait, and 503 past both; the upload
sizes and the probe clip that the app, the worker pool and the routers share.

A prediction is CPU-bound: more of them at once than there are cores only share the
cores. So at most ``limit`` run; up to ``queue`` more wait their turn (each holding
at most one upload, so memory stays bounded); a request beyond those is told
``503 Retry-After: 1`` at once, from its headers, before its upload is read
(:mod:`serkit.service.admission` takes the place), and can retry, go elsewhere,
or give up. Each prediction holds its slot until its thread has finished, even if
its client has gone.

Examples
--------
>>> import asyncio
>>> slots = PredictionSlots(1, queue=0)
>>> async def one():
...     with slots.admit():
...         async with slots.hold():
...             return slots.admitted, slots.busy
>>> asyncio.run(one()), slots.busy
((1, 1), 0)
"""

from __future__ import annotations

import asyncio
import io
from contextlib import asynccontextmanager, contextmanager

import numpy as np

from serkit.service.errors import ApiError

RETRY_AFTER_S = 1
"""What a refused client is told to wait: about one prediction of a short clip."""


class PredictionSlots:
    """At most ``limit`` predictions at once and ``queue`` waiting; one more is refused
    with 503 and ``Retry-After``.

    Used from the event loop only (one thread), so plain counters are enough.
    """

    def __init__(self, limit: int, *, queue: int = 0):
        self.limit = int(limit)
        self.queue = int(queue)
        self.busy = 0
        self.admitted = 0
        self._running = None  # the semaphore is made in the event loop that uses it

    @contextmanager
    def admit(self):
        """Hold a place (running or waiting) for the block, or refuse at once with 503 when
        every slot and place in the queue is taken."""
        if self.admitted >= self.limit + self.queue:
            raise ApiError(
                503,
                "busy",
                f"{self.busy} predictions are running and {self.admitted - self.busy} waiting, the limit "
                f"of this server; retry in {RETRY_AFTER_S} s",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    @asynccontextmanager
    async def hold(self):
        """Wait for a slot (inside a place taken with :meth:`admit`) and hold it for the block."""
        if self._running is None:
            self._running = asyncio.Semaphore(self.limit)
        async with self._running:
            self.busy += 1
            try:
                yield
            finally:
                self.busy -= 1


# -- uploads and the probe clip, shared by the app, the worker pool and the routers

IN_MEMORY_BYTES = 1024 * 1024
"""Uploads up to this size go to a worker as bytes; larger ones by the path of their file."""


class NamedStream(io.RawIOBase):
    """A seekable view of an upload that names itself ``upload`` in error messages
    (never the client's file name, never a server path)."""

    name = "upload"

    def __init__(self, raw):
        self._raw = raw

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, buffer):
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset, whence=io.SEEK_SET):
        return self._raw.seek(offset, whence)

    def tell(self):
        return self._raw.tell()


def probe_tone(sr: int) -> np.ndarray:
    """One second of a 180 Hz tone with a 3 Hz tremolo at rate ``sr``: what a model is tried on.

    >>> probe_tone(16000).shape
    (16000,)
    """
    t = np.arange(sr) / sr
    return (0.1 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
