"""Security headers on every answer, with a Content-Security-Policy made for each page.

:class:`SecurityHeaders` adds ``X-Content-Type-Options: nosniff``, ``X-Frame-Options:
DENY``, ``Referrer-Policy: no-referrer`` and a ``Content-Security-Policy``. A JSON
answer's policy allows nothing (``default-src 'none'``). An HTML page's allows this
server's own files, and of inline code only the ``<script>`` blocks the page itself
holds, by their SHA-256 (:func:`page_policy`): the policy follows the page as it is
served (the web page, Swagger UI, ReDoc), with nothing to keep in step by hand, and a
script injected anywhere else does not run. Inline styles are allowed (ReDoc makes its
own at run time), as are ``blob:`` scripts and workers (the page's recorder worklet,
ReDoc's search) and ``blob:``/``data:`` media and images (the player, icons).

Examples
--------
>>> policy = page_policy(b"<script>go()</script>")
>>> "script-src 'self' blob: 'sha256-" in policy, "frame-ancestors 'none'" in policy
(True, True)
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
"""Sent with every answer (the CSP comes on top, by the kind of answer)."""

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""The policy of everything but HTML: nothing may load or run in it."""

PAGE_POLICY = (
    "default-src 'self'; script-src 'self' blob:{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""The policy of an HTML page; ``{hashes}``: those of its inline scripts, each after a space."""

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=16)
def page_policy(html: bytes) -> str:
    """The Content-Security-Policy of the page ``html``: :data:`PAGE_POLICY` with the
    SHA-256 of each of its inline scripts (cached: the pages served are few and fixed)."""
    hashes = sorted({
        " 'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    })
    return PAGE_POLICY.format(hashes="".join(hashes))


class SecurityHeaders:
    """ASGI middleware: :data:`HEADERS` and a Content-Security-Policy on every answer
    (see the module). An HTML answer is held until its body is complete, to hash its
    scripts; the pages are this server's own, a few tens of kB."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        held = {}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *HEADERS]
                if any(name == b"content-type" and value.startswith(b"text/html") for name, value in headers):
                    held.update(message, headers=headers, body=b"")  # the policy needs the whole page
                    return
                message = {**message, "headers": [*headers, (b"content-security-policy", API_POLICY.encode())]}
            elif message["type"] == "http.response.body" and held:
                held["body"] += message.get("body", b"")
                if message.get("more_body", False):
                    return
                body = held.pop("body")
                held["headers"].append((b"content-security-policy", page_policy(body).encode()))
                await send(held)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, send_with_headers)
