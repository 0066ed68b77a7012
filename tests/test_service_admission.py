"""The service under hostile clients: uploads admitted from their headers, slow clients cut
off, security headers, Host and CORS checks (small limits, a second or two of timeouts)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from conftest import make_tone
from fastapi.testclient import TestClient
from test_inference import SR, make_predictor
from test_service import wav_bytes

from serkit.core.exceptions import ParameterError
from serkit.service import create_app
from serkit.service.connections import PROTOCOL, header_timeout_s
from serkit.service.settings import MULTIPART_OVERHEAD, Settings

MIB = 2**20
SMALL = {"max_upload_bytes": 1 * MIB, "max_inflight_bytes": 3 * MIB, "upload_timeout_s": 1.0}


def small_app(**settings):
    app = create_app(settings=Settings(**{**SMALL, **settings}), predictor=make_predictor())
    app.state.predictor = make_predictor()  # what the lifespan does; raw ASGI calls run none
    return app


def scope(content_length: int | None, *, path: str = "/v1/predict", host: str = "localhost") -> dict:
    headers = [(b"host", host.encode()), (b"content-type", b"audio/wav")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1234), "server": ("localhost", 80),
    }


class Client:
    """One ASGI request: its body comes only when :attr:`release` is set; it records the
    answer and whether the server asked for the body at all."""

    def __init__(self, body: bytes):
        self.body = body
        self.release = asyncio.Event()
        self.body_asked = False
        self.status = None
        self.headers = {}
        self.answer = b""

    async def receive(self):
        self.body_asked = True
        await self.release.wait()
        body, self.body = self.body, b""
        return {"type": "http.request", "body": body, "more_body": False} if body else {"type": "http.disconnect"}

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {name.decode(): value.decode() for name, value in message["headers"]}
        else:
            self.answer += message.get("body", b"")


@pytest.mark.timeout(30)
def test_uploads_past_the_bytes_in_flight_get_503_before_their_body_is_read():
    app = small_app(max_concurrent=8, max_queued=8)
    body = wav_bytes(make_tone(sr=SR, duration_s=20.0))  # 640 kB: four fit in 3 MiB, not five
    assert 600_000 < len(body) < MIB

    async def scenario():
        clients = [Client(body) for _ in range(6)]
        tasks = [asyncio.create_task(app(scope(len(body)), client.receive, client.send)) for client in clients]
        await asyncio.sleep(0.2)  # all six have sent their headers; none its body
        in_flight = app.state.uploads.in_flight
        for client in clients:
            client.release.set()
        await asyncio.gather(*tasks)
        return clients, in_flight

    clients, in_flight = asyncio.run(scenario())
    admitted = [client for client in clients if client.status == 200]
    refused = [client for client in clients if client.status == 503]
    assert len(admitted) == 3 * MIB // len(body) == 4 and len(refused) == 2
    assert in_flight == 4 * len(body) <= 3 * MIB
    for client in refused:
        assert not client.body_asked  # answered from the headers alone
        assert client.headers["retry-after"] == "1" and client.headers["connection"] == "close"
        assert b'"busy"' in client.answer and b"3 MiB" in client.answer
    assert app.state.uploads.in_flight == 0 and app.state.slots.admitted == 0


@pytest.mark.timeout(30)
def test_a_full_queue_and_a_chunked_upload_are_counted_from_the_headers():
    app = small_app(max_concurrent=1, max_queued=1)

    async def scenario():
        first, second, third = Client(b""), Client(b""), Client(b"")
        tasks = [asyncio.create_task(app(scope(None), first.receive, first.send)),  # chunked: the largest upload
                 asyncio.create_task(app(scope(1000), second.receive, second.send))]
        await asyncio.sleep(0.1)
        held = app.state.uploads.in_flight
        await app(scope(1000), third.receive, third.send)  # no place left: both are taken
        for client in (first, second):
            client.release.set()
        await asyncio.gather(*tasks)
        return held, third

    held, third = asyncio.run(scenario())
    assert held == MIB + MULTIPART_OVERHEAD + 1000
    assert third.status == 503 and not third.body_asked and b"waiting" in third.answer


@pytest.mark.parametrize(("length", "status", "error"), [(2 * MIB, 413, "too_large"), ("12x", 400, "bad_request")])
def test_a_bad_or_too_large_content_length_is_refused_before_the_body(length, status, error):
    app = small_app()
    client = Client(b"")
    request = scope(None)
    request["headers"] = [*request["headers"][:2], (b"content-length", str(length).encode())]
    asyncio.run(app(request, client.receive, client.send))
    assert client.status == status and error.encode() in client.answer and not client.body_asked
    assert client.headers["connection"] == "close"


@pytest.mark.timeout(30)
def test_a_body_slower_than_the_upload_timeout_gets_408():
    app = small_app(upload_timeout_s=1.0)
    client = Client(b"never")  # its body never comes

    async def scenario():
        started = time.monotonic()
        await app(scope(5000), client.receive, client.send)
        return time.monotonic() - started

    seconds = asyncio.run(scenario())
    assert client.status == 408 and b"upload_timeout" in client.answer and client.headers["connection"] == "close"
    assert 0.9 < seconds < 5
    assert app.state.uploads.in_flight == 0 and app.state.slots.admitted == 0


@pytest.mark.timeout(30)
def test_a_trickling_body_is_cut_off_once_under_the_minimum_rate():
    from serkit.service.admission import bounded_receive
    from serkit.service.errors import ApiError

    async def trickle():  # ten bytes a second, for ever
        await asyncio.sleep(0.1)
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def read_all(receive):
        started = time.monotonic()
        while (await receive()).get("more_body"):
            pass
        return time.monotonic() - started

    slow = bounded_receive(trickle, size=10**6, timeout_s=30, min_rate=100, grace_s=0.5)
    started = time.monotonic()
    with pytest.raises(ApiError) as refused:
        asyncio.run(read_all(slow))
    assert refused.value.status_code == 408 and "too slowly" in refused.value.detail
    assert 0.4 < time.monotonic() - started < 3  # soon after the grace, long before the 30 s timeout

    async def fast():
        return {"type": "http.request", "body": b"x" * 1000, "more_body": False}

    assert asyncio.run(read_all(bounded_receive(fast, size=1000, timeout_s=30, min_rate=100, grace_s=0.5))) < 0.5


def test_settings_refuse_an_inflight_cap_smaller_than_one_upload():
    with pytest.raises(ParameterError, match="max_inflight_bytes"):
        Settings(max_upload_bytes=100 * MIB, max_inflight_bytes=100 * MIB)


# -- headers, hosts, CORS ----------------------------------------------------------


def script_hashes(html: str) -> set[str]:
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.DOTALL)
    return {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(settings=Settings(**SMALL), predictor=make_predictor())) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
def test_pages_carry_a_csp_with_the_hashes_of_their_own_scripts(client, path):
    page = client.get(path)
    policy = page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer" and "frame-ancestors 'none'" in policy
    hashes = script_hashes(page.text)
    assert hashes == set(re.findall(r"'sha256-[^']+'", policy))
    assert hashes or path == "/redoc"  # ReDoc's page is a tag and a script file
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert int(page.headers["content-length"]) == len(page.content)


def test_api_answers_and_refusals_carry_the_headers_too(client):
    for response in (client.get("/health"), client.get("/nowhere"),
                     client.post("/v1/predict", content=b"x" * (2 * MIB), headers={"content-type": "audio/wav"})):
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert response.status_code == 413


def test_only_allowed_hosts_are_answered():
    app = create_app(settings=Settings(allowed_hosts=("localhost", "*.example.org")), predictor=make_predictor())
    with TestClient(app, base_url="http://localhost") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health", headers={"host": "api.example.org:8000"}).status_code == 200
        refused = client.get("/health", headers={"host": "evil.example.com"})
        assert refused.status_code == 400 and refused.headers["x-frame-options"] == "DENY"


def test_cors_is_off_unless_an_origin_is_allowed(client):
    asked = {"origin": "https://app.example.org", "access-control-request-method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/predict", headers=asked).headers
    assert "access-control-allow-origin" not in client.get("/health", headers={"origin": asked["origin"]}).headers
    app = create_app(settings=Settings(cors_origins=("https://app.example.org",)), predictor=make_predictor())
    with TestClient(app) as allowed:
        preflight = allowed.options("/v1/predict", headers=asked)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.org"
        other = allowed.options("/v1/predict", headers={**asked, "origin": "https://evil.example.com"})
        assert other.status_code == 400


def test_serve_answers_localhost_and_its_own_address_by_default():
    from argparse import Namespace

    from serkit.cli.serve import allowed_hosts

    default = Settings()
    local = ("localhost", "127.0.0.1", "[::1]")
    assert allowed_hosts(Namespace(allowed_hosts=None, host="127.0.0.1"), default) == local
    assert allowed_hosts(Namespace(allowed_hosts=None, host="::1"), default) == local
    assert allowed_hosts(Namespace(allowed_hosts=None, host="10.1.2.3"), default) == (*local, "10.1.2.3")
    assert allowed_hosts(Namespace(allowed_hosts=None, host="fd00::5"), default) == (*local, "[fd00::5]")
    assert allowed_hosts(Namespace(allowed_hosts=None, host="0.0.0.0"), default) == local
    assert allowed_hosts(Namespace(allowed_hosts="a.org, *.b.org", host="0.0.0.0"), default) == ("a.org", "*.b.org")


def test_serve_hands_its_limits_to_uvicorn_the_app_and_the_connections(monkeypatch):
    import argparse
    import os

    from serkit.cli import serve
    from serkit.service.settings import ENVIRONMENT

    # serve puts its settings in the environment: give it a copy, without any SERKIT_* set
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k not in ENVIRONMENT.values()})
    monkeypatch.setattr("serkit.models.artifacts.load_model", lambda model_dir: make_predictor())
    monkeypatch.setattr(serve, "check_port_free", lambda host, port: None)
    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    args = parser.parse_args(["--prediction-workers", "0", "--max-connections", "7", "--header-timeout", "3",
                              "--upload-timeout", "4", "--max-inflight-mb", "120", "--allowed-hosts", "ser.example.org",
                              "--cors", "https://app.example.org"])
    assert serve.run(args) == 0
    assert started["limit_concurrency"] == 7 and started["http"] == PROTOCOL and started["host"] == "127.0.0.1"
    settings = started["app"].state.settings
    assert (settings.upload_timeout_s, settings.max_inflight_bytes) == (4, 120 * MIB)
    assert settings.allowed_hosts == ("ser.example.org",) and settings.cors_origins == ("https://app.example.org",)
    assert os.environ["SERKIT_HEADER_TIMEOUT_S"] == "3.0"  # where each connection reads it


# -- slow clients against a real server (uvicorn, 127.0.0.1) ------------------------


@pytest.fixture
def server(monkeypatch):
    """``serkit serve``'s uvicorn set-up (the header-deadline protocol, a connection limit) in a
    thread on a free 127.0.0.1 port, with 1 s deadlines; yields the port."""
    monkeypatch.setenv("SERKIT_HEADER_TIMEOUT_S", "1")
    header_timeout_s.cache_clear()
    app = create_app(settings=Settings(**SMALL, allowed_hosts=("localhost", "127.0.0.1")), predictor=make_predictor())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=PROTOCOL, limit_concurrency=20, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    running.should_exit = True
    thread.join(10)
    header_timeout_s.cache_clear()


def answer_and_close_time(connection: socket.socket, started: float, limit_s: float = 10) -> tuple[bytes, float]:
    """What the server sends until it closes ``connection``, and when it closed it."""
    connection.settimeout(limit_s)
    received = b""
    while chunk := connection.recv(4096):
        received += chunk
    return received, time.monotonic() - started


@pytest.mark.timeout(60)
def test_slow_headers_and_slow_bodies_lose_their_connections(server):
    started = time.monotonic()
    slow_headers = socket.create_connection(("127.0.0.1", server))
    slow_headers.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: local")  # and nothing more
    slow_body = socket.create_connection(("127.0.0.1", server))
    slow_body.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: audio/wav\r\n"
                      b"Content-Length: 100000\r\n\r\nRIFF")
    # meanwhile the server answers others at once
    health = httpx.get(f"http://127.0.0.1:{server}/health", timeout=5)
    assert health.status_code == 200
    answer, closed_s = answer_and_close_time(slow_headers, started)
    assert answer.startswith(b"HTTP/1.1 408") and 0.9 < closed_s < 5
    answer, closed_s = answer_and_close_time(slow_body, started)
    assert answer.startswith(b"HTTP/1.1 408") and b"upload_timeout" in answer and 0.9 < closed_s < 5
    # a good upload still gets its answer on a kept-alive connection, which is closed once idle
    with httpx.Client(base_url=f"http://127.0.0.1:{server}") as good:
        assert good.post("/v1/predict", content=wav_bytes(make_tone(sr=SR)), headers={"content-type": "audio/wav"}).status_code == 200
        assert good.get("/health").status_code == 200


@pytest.mark.timeout(60)
def test_a_refused_upload_closes_its_connection_unread(server):
    with socket.create_connection(("127.0.0.1", server)) as huge:
        started = time.monotonic()
        huge.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: audio/wav\r\n"
                     b"Content-Length: 900000000\r\n\r\n")
        answer, closed_s = answer_and_close_time(huge, started)
    assert answer.startswith(b"HTTP/1.1 413") and b"connection: close" in answer.lower() and closed_s < 2
    with socket.create_connection(("127.0.0.1", server)) as stranger:
        stranger.sendall(b"GET /health HTTP/1.1\r\nHost: evil.example.com\r\n\r\n")
        answer, _ = answer_and_close_time(stranger, time.monotonic())
    assert answer.startswith(b"HTTP/1.1 400")
