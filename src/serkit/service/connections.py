"""A deadline for a request's headers: uvicorn's HTTP protocol, closing a connection that is slow to send them.

uvicorn bounds the idle time between requests (``timeout_keep_alive``) but not the time
a client takes to send a request's headers: a client sending a byte a second holds its
connection for as long as it likes, and the application never sees it (it is called
once the headers are complete). :class:`HeaderDeadlineProtocol` is uvicorn's own
protocol (``auto``: httptools, or h11) with that deadline: from the moment a connection
opens, and again from the end of each answer, the next request's headers must have
arrived within ``Settings.header_timeout_s``, or the connection gets ``408`` and is
closed. The same deadline closes a connection that, after its answer, keeps sending a
body nobody reads. The body's own deadline is the application's
(:mod:`serkit.service.admission`).

``serkit serve`` passes it to uvicorn by its import path (``http=`` :data:`PROTOCOL`),
which works with several server processes; the deadline comes from the ``SERKIT_*``
environment (:func:`serkit.service.settings.get_settings`).

Examples
--------
>>> PROTOCOL
'serkit.service.connections:HeaderDeadlineProtocol'
"""

from __future__ import annotations

from functools import lru_cache

from uvicorn.protocols.http.auto import AutoHTTPProtocol

PROTOCOL = "serkit.service.connections:HeaderDeadlineProtocol"

TIMEOUT_ANSWER = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@lru_cache(maxsize=1)
def header_timeout_s() -> float:
    """``Settings.header_timeout_s`` of this process's environment (read once)."""
    from serkit.service.settings import get_settings

    return get_settings().header_timeout_s


class HeaderDeadlineProtocol(AutoHTTPProtocol):
    """uvicorn's HTTP protocol whose connections must send each request's headers within
    :func:`header_timeout_s` (see the module)."""

    def connection_made(self, transport):
        super().connection_made(transport)
        self._header_deadline = None
        self._arm_header_deadline()

    def on_response_complete(self):
        super().on_response_complete()
        self._arm_header_deadline()

    def connection_lost(self, exc):
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        super().connection_lost(exc)

    def _arm_header_deadline(self):
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        self._header_deadline = self.loop.call_later(header_timeout_s(), self._header_deadline_passed)

    def _header_deadline_passed(self):
        # A request whose headers arrived meanwhile has a cycle still answering: leave it be.
        waiting_for_headers = self.cycle is None or self.cycle.response_complete
        if waiting_for_headers and not self.transport.is_closing():
            self.transport.write(TIMEOUT_ANSWER)
            self.transport.close()
