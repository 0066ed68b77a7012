"""The service through FastAPI's TestClient: every endpoint and every error path."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import soundfile as sf
from conftest import make_tone
from fastapi.testclient import TestClient
from test_inference import SR, low_then_high, make_predictor

from serkit.core.exceptions import ArtifactError
from serkit.service import create_app
from serkit.service.settings import Settings


def wav_bytes(y: np.ndarray, sr: int = SR, fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client():
    app = create_app(settings=Settings(max_upload_bytes=2_000_000, max_duration_s=30, segment="fixed"), predictor=make_predictor())
    with TestClient(app) as test_client:
        yield test_client


def assert_error(response, status: int, error: str, detail_part: str = ""):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == error
    assert detail_part in body["detail"]


def test_health(client):
    assert client.get("/health").json() == {"status": "ok", "model_loaded": True, "version": pytest.importorskip("serkit").__version__}


def test_model_description(client):
    body = client.get("/v1/model").json()
    assert body["name"] == "test-pitch-logreg"
    assert body["emotions"] == ["happy", "sad"]
    assert body["feature_set"]["name"] == "test-pitch"
    assert body["window_s"] == 3.0 and body["hop_s"] == 1.5


def test_page_and_docs(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "serkit" in page.text
    # self-contained: no external scripts, styles, fonts or images
    for marker in ('src="http', "href=\"http", "url(http", "@import"):
        assert marker not in page.text
    schema = client.get("/openapi.json").json()
    assert "multipart/form-data" in schema["paths"]["/v1/predict"]["post"]["requestBody"]["content"]


@pytest.mark.parametrize("docs_url", ["/docs", "/redoc"])
def test_api_docs_work_offline(client, docs_url):
    import re

    page = client.get(docs_url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # Every script, style sheet and icon comes from this server, none from a CDN or font service.
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text, re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000, asset
    assert "/openapi.json" in page.text


def test_predict_multipart(client):
    response = client.post("/v1/predict", files={"file": ("../../etc/clip.wav", wav_bytes(make_tone(freq_hz=700, sr=SR)), "audio/wav")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["emotion"] == "happy"
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert body["duration"] == pytest.approx(1.0)
    assert body["segments"] == []


def test_predict_multipart_any_field_name_and_flac(client):
    data = wav_bytes(make_tone(freq_hz=150, sr=44100), 44100, fmt="FLAC")
    response = client.post("/v1/predict", files={"audio": ("x.flac", data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert response.json()["emotion"] == "sad"


def test_predict_raw_body(client):
    response = client.post("/v1/predict", content=wav_bytes(make_tone(freq_hz=150, sr=SR)), headers={"content-type": "audio/wav"})
    assert response.status_code == 200, response.text
    assert response.json()["emotion"] == "sad"


def test_predict_long_file_has_a_timeline(client):
    response = client.post(
        "/v1/predict?window=2&hop=1", content=wav_bytes(low_then_high()), headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 200, response.text
    segments = response.json()["segments"]
    assert len(segments) == 9
    assert segments[0]["emotion"] == "sad" and segments[-1]["emotion"] == "happy"
    assert set(segments[0]) == {"start", "end", "emotion", "probabilities", "familiarity", "caution", "speaker"}


def test_answers_match_the_documented_schema(client):
    """The answer is sent as the predictor built it: it must be what /openapi.json promises."""
    from serkit.service.routers.predict import Prediction

    for query, audio in (("", make_tone(freq_hz=700, sr=SR)), ("?window=2&hop=1", low_then_high())):
        body = client.post(f"/v1/predict{query}", content=wav_bytes(audio), headers={"content-type": "audio/wav"}).json()
        assert Prediction.model_validate(body).model_dump(exclude_unset=True) == body  # optional fields only when set
    schema = client.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Prediction"}


def test_no_file(client):
    assert_error(client.post("/v1/predict", data={"note": "hello"}, files={}), 415, "unsupported_media_type")
    response = client.post(
        "/v1/predict",
        content=b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--b--\r\n",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert_error(response, 400, "no_file", "'file'")
    assert_error(client.post("/v1/predict", content=b"", headers={"content-type": "audio/wav"}), 400, "no_file", "empty")


def test_a_bad_speaker_count_is_refused_before_reading(client):
    for value in ("many", "0", "17"):
        response = client.post(f"/v1/predict?speakers={value}", content=b"x", headers={"content-type": "audio/wav"})
        assert_error(response, 400, "invalid_parameter", "speakers=")


def test_speakers_found_in_noise_come_with_a_caution(client, tmp_path):
    from test_speakers import noisy_example

    clean, noisy = noisy_example(tmp_path)
    headers = {"content-type": "audio/wav"}
    body = client.post("/v1/predict?speakers=auto&segment=vad", content=noisy.read_bytes(), headers=headers).json()
    assert body["speakers"] and body["speakers_caution"].startswith("this recording is noisy")
    body = client.post("/v1/predict?speakers=auto&segment=vad", content=clean.read_bytes(), headers=headers).json()
    assert body["speakers"] and body["speakers_caution"] is None


def test_each_channel_of_a_call_is_one_speaker(client, tmp_path):
    from test_speakers import call_recording

    call_recording(tmp_path / "call.wav", leak_db=-25.0)
    audio = (tmp_path / "call.wav").read_bytes()
    body = client.post("/v1/predict?speakers=channels&segment=vad", content=audio, headers={"content-type": "audio/wav"}).json()
    assert [segment["speaker"] for segment in body["segments"]] == ["channel 1", "channel 2", "channel 1", "channel 2"]
    assert set(body["speakers"]) == {"channel 1", "channel 2"}
    response = client.post("/v1/predict?speakers=channels", content=audio, headers={"content-type": "audio/wav"})
    assert_error(response, 400, "invalid_parameter", "segment='vad'")  # this server's default is fixed windows


def test_garbage_bytes(client):
    response = client.post("/v1/predict", files={"file": ("clip.wav", os.urandom(5000), "audio/wav")})
    assert_error(response, 422, "invalid_audio", "upload: not readable as audio")


def test_empty_wav(client):
    response = client.post("/v1/predict", files={"file": ("empty.wav", wav_bytes(np.zeros(0, dtype=np.float32)), "audio/wav")})
    assert_error(response, 422, "invalid_audio", "empty")


def test_too_short_and_silent(client):
    assert_error(
        client.post("/v1/predict", files={"file": ("short.wav", wav_bytes(make_tone(duration_s=0.05, sr=SR)), "audio/wav")}),
        422, "invalid_audio", "too short",
    )
    assert_error(
        client.post("/v1/predict", files={"file": ("silent.wav", wav_bytes(np.zeros(SR, dtype=np.float32)), "audio/wav")}),
        422, "invalid_audio", "silent",
    )


def test_too_large(client, tmp_path, monkeypatch):
    # 3 MB of audio against a 2 MB limit: refused from Content-Length, and while streaming
    # when no length is declared; nothing is left behind in the temporary folder.
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    big = wav_bytes(make_tone(duration_s=95, sr=SR))
    assert len(big) > 2_000_000
    assert_error(client.post("/v1/predict", files={"file": ("big.wav", big, "audio/wav")}), 413, "too_large")
    assert_error(client.post("/v1/predict", content=big, headers={"content-type": "audio/wav"}), 413, "too_large")

    def chunks():
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    assert_error(client.post("/v1/predict", content=chunks(), headers={"content-type": "audio/wav"}), 413, "too_large")
    assert list(tmp_path.iterdir()) == []


def test_too_long(client):
    # 40 s of 8 kHz audio is small in bytes but over the 30 s limit, refused from the header
    data = wav_bytes(make_tone(duration_s=40, sr=8000), 8000)
    assert_error(client.post("/v1/predict", files={"file": ("long.wav", data, "audio/wav")}), 422, "invalid_audio", "too long")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/predict", content=wav_bytes(make_tone(sr=SR)), headers=headers)
    assert_error(response, 415, "unsupported_media_type", "multipart/form-data")


def test_bad_query(client):
    data = wav_bytes(make_tone(sr=SR))
    assert_error(client.post("/v1/predict?window=-1", content=data, headers={"content-type": "audio/wav"}), 422, "invalid_request", "window")
    assert_error(
        client.post("/v1/predict?window=2&hop=3", content=data, headers={"content-type": "audio/wav"}),
        400, "invalid_parameter", "must not exceed",
    )


def test_unknown_route_and_method(client):
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get("/v1/predict"), 405, "method_not_allowed")


def test_bad_model_fails_at_start_up():
    broken = make_predictor()
    broken.estimator.predict_proba = lambda X: np.full((len(X), 3), 0.5)
    with pytest.raises(ArtifactError, match="fails on a test clip"):
        with TestClient(create_app(predictor=broken)):
            pass
    with pytest.raises(ArtifactError, match="per-speaker"):
        with TestClient(create_app(predictor=make_predictor(speaker_norm=True))):
            pass


def test_serve_refuses_a_bad_model_before_starting(tmp_path, capsys):
    from serkit.cli import main

    (tmp_path / "metadata.json").write_text("{}")
    assert main(["serve", "--model", str(tmp_path), "--port", "1"]) == 1
    assert "manifest.json" in capsys.readouterr().err


def test_a_long_prediction_does_not_block_other_requests():
    import asyncio
    import time

    import httpx
    from test_inference import PitchFeatures

    from serkit.inference.predictor import Predictor

    class SlowFeatures(PitchFeatures):
        def from_audio(self, y, sr):
            time.sleep(0.1)  # ten windows: about a second of work in the thread pool
            return super().from_audio(y, sr)

    fast = make_predictor()
    app = create_app(predictor=fast)
    app.state.predictor = Predictor(fast.estimator, SlowFeatures())  # ASGITransport runs no lifespan
    long_wav = wav_bytes(low_then_high())

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            started = time.perf_counter()
            slow = asyncio.create_task(
                client.post("/v1/predict?window=2&hop=1&segment=fixed", content=long_wav, headers={"content-type": "audio/wav"})
            )
            await asyncio.sleep(0.05)
            health = await client.get("/health")
            health_after = time.perf_counter() - started
            prediction = await slow
            return health, health_after, prediction, time.perf_counter() - started

    health, health_after, prediction, total = asyncio.run(scenario())
    assert health.status_code == 200 and prediction.status_code == 200
    assert len(prediction.json()["segments"]) == 9
    assert health_after < 0.5 * total


@pytest.mark.parametrize("ending", ["m4a", "mp4", "webm", "alac.m4a"])
def test_predicts_what_phones_and_browsers_record(client, ending):
    from conftest import encode_recorder_format

    buffer = io.BytesIO()
    buffer.name = f"clip.{ending}"
    data = encode_recorder_format(buffer, make_tone(freq_hz=700, sr=48000), 48000).getvalue()
    content_type = {"m4a": "audio/mp4", "mp4": "video/mp4", "webm": "audio/webm;codecs=opus", "alac.m4a": "audio/x-m4a"}[ending]
    for response in (
        client.post("/v1/predict", files={"file": (f"clip.{ending}", data, content_type)}),
        client.post("/v1/predict", content=data, headers={"content-type": content_type}),
    ):
        assert response.status_code == 200, response.text
        assert response.json()["emotion"] == "happy"


def test_a_broken_recording_gets_one_line(client):
    from conftest import encode_recorder_format

    buffer = io.BytesIO()
    buffer.name = "clip.m4a"
    data = encode_recorder_format(buffer, make_tone(sr=48000), 48000).getvalue()
    response = client.post("/v1/predict", files={"file": ("clip.m4a", data[: len(data) // 2], "audio/mp4")})
    assert_error(response, 422, "invalid_audio", "upload: not readable as audio (format not recognised, or a broken file)")


def test_public_description_says_what_an_adapted_model_was_trained_on():
    from serkit.service.routers.info import public_description

    description = {
        "model": "logreg",
        "corpus": {"name": "ravdess+nemo", "n_clips": 3276, "n_speakers": 29, "corpora": {
            "ravdess": {"root": "/srv/data/ravdess", "n_clips": 1200, "n_speakers": 20, "emotions": ["angry", "calm"]},
            "nemo": {"root": "/srv/data/nemo", "n_clips": 2076, "n_speakers": 9, "emotions": ["angry"]}}},
        "adaptation": {"train_grain": "speaker", "min_clips": 16, "spread_floor": 0.6,
                       "statistics": {"source": "16 recordings in /home/user/calls", "n_clips": 16}},
    }
    shown = public_description(description)
    assert shown["corpus"]["corpora"]["nemo"] == {"n_clips": 2076, "n_speakers": 9, "emotions": ["angry"]}
    assert shown["adaptation"] == {"train_grain": "speaker", "min_clips": 16, "spread_floor": 0.6, "n_clips": 16}
    assert "/srv" not in str(shown) and "/home" not in str(shown)  # no paths of the server or the user
