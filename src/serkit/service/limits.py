"""How many predictions run at once: a fixed number of slots, and 503 past them (no queue).

A queue would only turn overload into latency and memory; a client told
``503 Retry-After: 1`` at once can retry, go elsewhere, or give up. Each prediction
holds its slot until its thread has finished, even if its client has gone.

Examples
--------
>>> import asyncio
>>> slots = PredictionSlots(1)
>>> async def one():
...     async with slots.hold():
...         return slots.busy
>>> asyncio.run(one()), slots.busy
(1, 0)
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from serkit.service.errors import ApiError

RETRY_AFTER_S = 1
"""What a refused client is told to wait: about one prediction of a short clip."""


class PredictionSlots:
    """At most ``limit`` predictions at once; one more is refused with 503 and ``Retry-After``.

    Used from the event loop only (one thread), so a plain counter is enough.
    """

    def __init__(self, limit: int):
        self.limit = int(limit)
        self.busy = 0

    def check(self) -> None:
        """Refuse now, before reading an upload, when every slot is taken."""
        if self.busy >= self.limit:
            raise ApiError(
                503,
                "busy",
                f"{self.busy} predictions are running, the limit of this server; retry in {RETRY_AFTER_S} s",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )

    @asynccontextmanager
    async def hold(self):
        """Take a slot for the block (or refuse as :meth:`check`)."""
        self.check()
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
