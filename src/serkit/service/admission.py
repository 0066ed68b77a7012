"""Admit or refuse an upload from its headers, before its body is read.

:class:`UploadAdmission` is the ASGI middleware every request with a body passes. From
the headers alone it

- refuses a body declared larger than the upload limit (413), and a malformed
  ``Content-Length`` (400);
- takes a place among the predictions running or waiting
  (:meth:`serkit.service.limits.PredictionSlots.admit`), or answers 503 with
  ``Retry-After`` when there is none;
- reserves the declared bytes (a chunked body: the largest upload) in the bytes all
  uploads may hold at once, ``Settings.max_inflight_bytes``, or answers 503;

so a flood of large uploads costs headers, not spooled files. While the body is read
it counts the bytes (413 past the declared or largest size), gives the whole body
``Settings.upload_timeout_s`` to arrive, and after :data:`GRACE_S` wants it to keep
coming at :data:`MIN_BYTES_PER_S` on average (408 otherwise): a client sending a byte a
second loses its connection, and the place it took, within seconds. Every refusal that leaves a body
unread closes the connection (``Connection: close``), so that the body is never read
to find the next request. Place and bytes are given back when the answer is sent.

Examples
--------
>>> budget = UploadBudget(100)
>>> with budget.reserve(60):
...     budget.in_flight
60
>>> budget.in_flight
0
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack, contextmanager

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from serkit.service.errors import ApiError
from serkit.service.limits import RETRY_AFTER_S, PredictionSlots
from serkit.service.settings import MULTIPART_OVERHEAD, Settings

CLOSE = {"Connection": "close"}
"""Sent with every refusal that leaves a body unread (:func:`refuse`, and the 408 and 413
while reading it): the server closes the connection rather than read the rest."""

MIN_BYTES_PER_S = 16 * 1024
"""The slowest average rate a body may arrive at once :data:`GRACE_S` have passed
(128 kbit/s: a poor mobile link), so that a slow client cannot hold a place among the
predictions for the whole upload timeout."""

GRACE_S = 5.0
"""Seconds a body may take before :data:`MIN_BYTES_PER_S` applies (a connection's slow start)."""


class UploadBudget:
    """The upload bytes all requests together hold, at most ``limit``; one request more
    that would pass it is refused with 503 and ``Retry-After``.

    Used from the event loop only (one thread), so a plain counter is enough.
    """

    def __init__(self, limit: int):
        self.limit = int(limit)
        self.in_flight = 0

    @contextmanager
    def reserve(self, size: int):
        """Hold ``size`` bytes for the block, or refuse at once when they do not fit."""
        if self.in_flight + size > self.limit:
            raise ApiError(
                503, "busy",
                f"uploads of {self.in_flight / 2**20:.1f} MiB are being received or predicted, and this one "
                f"({size / 2**20:.1f} MiB) would pass the limit of {self.limit / 2**20:g} MiB; retry in {RETRY_AFTER_S} s",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        self.in_flight += size
        try:
            yield
        finally:
            self.in_flight -= size


def declared_size(headers: Headers, largest: int) -> int | None:
    """The body size a request announces: its ``Content-Length``, ``largest`` for a chunked
    body (its size is known only at its end, so it may take that much), None for no body.

    Raises :class:`~serkit.service.errors.ApiError` 400 for a malformed length and 413
    for one over ``largest``.

    >>> declared_size(Headers({"content-length": "1000"}), 5000), declared_size(Headers({}), 5000)
    (1000, None)
    >>> declared_size(Headers({"transfer-encoding": "chunked"}), 5000)
    5000
    """
    text = headers.get("content-length")
    if text is None:
        return largest if "chunked" in headers.get("transfer-encoding", "").lower() else None
    if not text.isdigit() or len(text) > 18:
        raise ApiError(400, "bad_request", f"Content-Length {text[:20]!r} is not a size in bytes")
    if int(text) > largest:
        raise ApiError(
            413, "too_large",
            f"upload of {int(text) / 2**20:.1f} MiB exceeds the limit of {(largest - MULTIPART_OVERHEAD) / 2**20:g} MiB",
        )
    return int(text) or None


def bounded_receive(receive, *, size: int, timeout_s: float, min_rate: float = MIN_BYTES_PER_S,
                    grace_s: float = GRACE_S):
    """Wrap an ASGI ``receive``: the body may bring at most ``size`` bytes (413 past them),
    must be complete within ``timeout_s`` seconds from now, and after ``grace_s`` must have
    come at ``min_rate`` bytes a second on average (408 otherwise). Once the body is
    complete, messages pass unchanged (a later ``receive`` waits for a disconnect, which
    has no deadline)."""
    started = time.monotonic()
    received = 0
    complete = False

    async def limited_receive():
        nonlocal received, complete
        if complete:
            return await receive()
        # The next bytes are due when the average rate would fall under min_rate.
        due = started + min(timeout_s, grace_s + received / min_rate)
        try:
            message = await asyncio.wait_for(receive(), max(0.0, due - time.monotonic()))
        except asyncio.TimeoutError:
            raise ApiError(408, "upload_timeout", slow_upload_reason(received, size, timeout_s, min_rate), headers=CLOSE) from None
        received += len(message.get("body", b""))
        if received > size:
            raise ApiError(413, "too_large", f"upload larger than the {size} bytes announced or allowed", headers=CLOSE)
        complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return limited_receive


def slow_upload_reason(received: int, size: int, timeout_s: float, min_rate: float) -> str:
    """Why a body was cut off, for the 408's ``detail``."""
    return (f"the upload came too slowly ({received} of at most {size} bytes): it must arrive within "
            f"{timeout_s:g} s, at {min_rate / 1024:g} KiB/s or more")


class UploadAdmission:
    """ASGI middleware: admit a request with a body from its headers, or refuse it before
    reading the body; bound the body's size and time while it is read (see the module).

    Parameters
    ----------
    app : ASGI application
    settings : Settings
        ``max_upload_bytes``, ``max_inflight_bytes``, ``upload_timeout_s``.
    slots : PredictionSlots
        The places for predictions running or waiting: one per request with a body.
    budget : UploadBudget
        The upload bytes in flight, at most ``settings.max_inflight_bytes``.
    """

    def __init__(self, app, *, settings: Settings, slots: PredictionSlots, budget: UploadBudget):
        self.app = app
        self.settings = settings
        self.slots = slots
        self.budget = budget

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with ExitStack() as held:
            try:
                size = declared_size(Headers(scope=scope), self.settings.max_upload_bytes + MULTIPART_OVERHEAD)
                if size is not None:
                    held.enter_context(self.slots.admit())
                    held.enter_context(self.budget.reserve(size))
            except ApiError as refusal:
                return await refuse(refusal, scope, receive, send)
            if size is not None:
                receive = bounded_receive(receive, size=size, timeout_s=self.settings.upload_timeout_s)
            await self.app(scope, receive, send)


async def refuse(refusal: ApiError, scope, receive, send) -> None:
    """Answer ``refusal`` as the API's JSON error, closing the connection (the body stays unread)."""
    headers = {**(refusal.headers or {}), **CLOSE}
    response = JSONResponse({"error": refusal.error, "detail": refusal.detail}, refusal.status_code, headers)
    await response(scope, receive, send)
