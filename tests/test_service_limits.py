"""The service under hostile or unlucky requests: absurd hops, overload, disconnects, huge samples."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import httpx
import numpy as np
import pytest
from conftest import make_tone
from fastapi.testclient import TestClient
from test_inference import SR, make_predictor
from test_service import assert_error, wav_bytes

from serkit.inference.predictor import Predictor
from serkit.service import create_app
from serkit.service.settings import Settings, get_settings

WAV = {"content-type": "audio/wav"}


class SlowPredictor(Predictor):
    """Takes ``delay`` seconds per file (a thread blocked in the pool), whatever the audio."""

    delay = 1.0

    def predict_file(self, source, **options):
        time.sleep(self.delay)
        return super().predict_file(source, **options)


def slow_app(max_concurrent: int, max_queued: int = 0):
    fast = make_predictor()
    slow = SlowPredictor(fast.estimator, fast.feature_set, metadata=fast.metadata)
    app = create_app(settings=Settings(max_concurrent=max_concurrent, max_queued=max_queued), predictor=slow)
    app.state.predictor = slow  # what the lifespan does, for httpx's ASGITransport, which runs none
    return app


@pytest.fixture(scope="module")
def client():
    app = create_app(settings=Settings(max_duration_s=30), predictor=make_predictor(
        versions={"numpy": "2.4"}, command="serkit train /srv/private/corpus", corpus={"name": "ravdess", "root": "/srv/private"},
    ))
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.timeout(10)
def test_absurd_hop_is_refused_at_once(client):
    data = wav_bytes(make_tone(sr=SR, duration_s=3.8))
    assert_error(client.post("/v1/predict?hop=1e-300", content=data, headers=WAV), 400, "invalid_parameter", "at least 0.1 s")
    assert_error(client.post("/v1/predict?window=0.2", content=data, headers=WAV), 400, "invalid_parameter", "0.5 to 60 s")


@pytest.mark.parametrize("scale", [1e20, 1e25])
def test_huge_float_samples_are_a_4xx(client, scale):
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, make_tone(sr=SR, duration_s=6.0) * scale, SR, format="WAV", subtype="FLOAT")
    response = client.post("/v1/predict", content=buffer.getvalue(), headers=WAV)
    assert_error(response, 422, "invalid_audio", "beyond any recording")


def test_long_audio_gets_a_summary(client):
    y = np.concatenate([make_tone(freq_hz=150, duration_s=6.0, sr=SR), make_tone(freq_hz=700, duration_s=3.0, sr=SR)])
    body = client.post("/v1/predict", content=wav_bytes(y), headers=WAV).json()
    assert body["summary"]["dominant"] == "sad"
    assert sum(body["summary"]["seconds"].values()) == pytest.approx(9.0, abs=0.01)
    short = client.post("/v1/predict", content=wav_bytes(make_tone(sr=SR)), headers=WAV).json()
    assert short["summary"] is None


def test_model_description_hides_details_by_default(client):
    body = client.get("/v1/model").json()
    assert body["name"] == "test-pitch-logreg" and body["emotions"] == ["happy", "sad"]
    assert body["corpus"] == {"name": "ravdess"}
    text = client.get("/v1/model").text + client.get("/health").text
    for secret in ("versions", "numpy", "command", "/srv/private", "params"):
        assert secret not in text


def test_details_only_with_the_setting(monkeypatch):
    monkeypatch.setenv("SERKIT_EXPOSE_DETAILS", "1")
    monkeypatch.setenv("SERKIT_MAX_CONCURRENT", "3")
    settings = get_settings()
    assert settings.expose_details and settings.max_concurrent == 3
    with TestClient(create_app(settings=settings, predictor=make_predictor(versions={"numpy": "2.4"}))) as client:
        assert client.get("/v1/model").json()["versions"] == {"numpy": "2.4"}
    monkeypatch.setenv("SERKIT_EXPOSE_DETAILS", "maybe")
    with pytest.raises(Exception, match="SERKIT_EXPOSE_DETAILS"):
        get_settings()


@pytest.mark.timeout(30)
def test_past_the_limit_503_with_retry_after_while_health_answers():
    app = slow_app(max_concurrent=2)
    data = wav_bytes(make_tone(sr=SR))

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            finished = []

            async def predict():
                response = await client.post("/v1/predict", content=data, headers=WAV)
                finished.append("predict")
                return response

            async def health():
                await asyncio.sleep(0.2)  # every slot is taken by now
                responses = [await client.get("/health") for _ in range(20)]
                finished.append("health")
                return responses

            *predictions, healths = await asyncio.gather(*[predict() for _ in range(6)], health())
            return predictions, healths, finished

    predictions, healths, finished = asyncio.run(scenario())
    statuses = sorted(response.status_code for response in predictions)
    assert statuses == [200, 200, 503, 503, 503, 503]
    refused = next(response for response in predictions if response.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == "busy"
    assert all(response.status_code == 200 for response in healths)
    # the refusals came at once, then twenty health checks while the two admitted predictions slept
    assert finished == ["predict"] * 4 + ["health"] + ["predict"] * 2


@pytest.mark.timeout(30)
def test_queued_requests_wait_their_turn_and_the_rest_get_503():
    app = slow_app(max_concurrent=2, max_queued=2)
    data = wav_bytes(make_tone(sr=SR))

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await asyncio.gather(*[client.post("/v1/predict", content=data, headers=WAV) for _ in range(6)])

    statuses = sorted(response.status_code for response in asyncio.run(scenario()))
    assert statuses == [200, 200, 200, 200, 503, 503]  # two ran, two waited, two were refused
    assert app.state.slots.admitted == app.state.slots.busy == 0


@pytest.mark.timeout(30)
def test_health_answers_while_threads_hammer_predict():
    app = slow_app(max_concurrent=2)
    data = wav_bytes(make_tone(sr=SR))
    with TestClient(app) as client:
        stop = threading.Event()
        statuses = []

        def hammer():
            while not stop.is_set():
                statuses.append(client.post("/v1/predict", content=data, headers=WAV).status_code)

        threads = [threading.Thread(target=hammer) for _ in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        health = [client.get("/health").status_code for _ in range(10)]
        health_done_while_busy = app.state.slots.busy > 0
        stop.set()
        for thread in threads:
            thread.join()
    assert health == [200] * 10 and health_done_while_busy
    assert set(statuses) <= {200, 503} and 503 in statuses


def test_a_disconnect_mid_upload_is_one_log_line(caplog):
    app = create_app(predictor=make_predictor())
    app.state.predictor = make_predictor()
    body = wav_bytes(make_tone(sr=SR, duration_s=2.0))
    for content_type, chunk in (("audio/wav", body[:1000]), ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n' + body[:1000])):
        messages = [{"type": "http.request", "body": chunk, "more_body": True}, {"type": "http.disconnect"}]

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            pass

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/v1/predict", "raw_path": b"/v1/predict", "query_string": b"", "root_path": "",
            "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1234), "server": ("test", 80),
        }
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            asyncio.run(app(scope, receive, send))
        lines = [record for record in caplog.records if record.levelno >= logging.INFO]
        assert len(lines) == 1, [record.getMessage() for record in lines]
        assert "disconnected" in lines[0].getMessage() and lines[0].exc_info is None
