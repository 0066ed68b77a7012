"""The web page end to end in a real Chromium (Debian's, driven by Playwright), server on 127.0.0.1.

Screenshots go to ``$SERKIT_SCREENSHOTS`` (e.g. ``docs/images``) when set, else to pytest's tmp dir.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import make_voice_like

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "serkit" / "data" / "examples"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api")


def serving_predictor():
    """The bundled model when it is installed, else the tiny test model (the page is the same)."""
    from serkit.artifacts import load_model
    from serkit.exceptions import ArtifactError

    try:
        return load_model()
    except ArtifactError:
        from test_inference import make_predictor

        return make_predictor()


@pytest.fixture(scope="module")
def server_url():
    import uvicorn

    from serkit.service import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(predictor=serving_predictor()), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SERKIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def playwright():
    with sync_api.sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright):
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    yield context.new_page()
    context.close()


def expect_prediction(page, *, timeout=30_000):
    sync_api.expect(page.locator("#result")).to_be_visible(timeout=timeout)
    sync_api.expect(page.locator("#emotion")).not_to_have_text("–", timeout=timeout)
    emotion = page.locator("#emotion").inner_text().strip()
    bars = page.locator(".bar")
    widths = [float(bars.nth(i).locator(".fill").evaluate("el => parseFloat(el.style.width)")) for i in range(bars.count())]
    assert bars.count() >= 2
    assert sum(widths) == pytest.approx(100, abs=1.5)
    assert page.locator(".bar.top .name").inner_text().strip() == emotion
    return emotion


def test_upload_a_ravdess_file_shows_emotion_and_bars(page, server_url, ravdess_48k_actor, shots):
    page.goto(server_url)
    sync_api.expect(page.locator("#model-info")).not_to_have_text("Loading the model…")
    clip = ravdess_48k_actor / "03-01-05-02-01-01-01.wav"  # angry, strong intensity: an original 48 kHz file
    page.set_input_files("#file", str(clip))
    emotion = expect_prediction(page)
    assert emotion in page.locator("#bars").inner_text()
    sync_api.expect(page.locator("#player")).to_be_visible()
    sync_api.expect(page.locator("#timeline-box")).to_be_hidden()
    page.screenshot(path=str(shots / "service.png"), full_page=True)


def test_long_file_shows_a_timeline(page, server_url, shots):
    page.goto(server_url)
    page.set_input_files("#file", str(EXAMPLES / "long-mixed.ogg"))
    expect_prediction(page)
    sync_api.expect(page.locator("#timeline-box")).to_be_visible()
    assert page.locator("#timeline > div").count() >= 5
    page.screenshot(path=str(shots / "service-timeline.png"), full_page=True)


def test_server_error_is_shown(page, server_url, tmp_path):
    garbage = tmp_path / "notes.wav"
    garbage.write_bytes(b"this is not audio " * 200)
    page.goto(server_url)
    page.set_input_files("#file", str(garbage))
    status = page.locator("#status.error")
    sync_api.expect(status).to_be_visible(timeout=15_000)
    sync_api.expect(status).to_contain_text("notes.wav")


def test_refused_microphone_is_explained(page, server_url):
    page.goto(server_url)  # no permission granted, no fake UI: Chromium refuses the microphone
    page.click("#record")
    status = page.locator("#status.error")
    sync_api.expect(status).to_be_visible(timeout=15_000)
    sync_api.expect(status).to_contain_text("microphone", ignore_case=True)


def test_fake_microphone_live_then_final_prediction(playwright, server_url, tmp_path, shots):
    voice = tmp_path / "voice.wav"
    y = np.concatenate([make_voice_like(duration_s=2.0, sr=48000, f0_hz=f0, seed=i) for i, f0 in enumerate((140, 220, 180))])
    sf.write(voice, y, 48000, subtype="PCM_16")
    args = [*BROWSER_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={voice}", "--autoplay-policy=no-user-gesture-required"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        context.grant_permissions(["microphone"], origin=server_url)
        page = context.new_page()
        page.goto(server_url)
        page.click("#record")
        sync_api.expect(page.locator("#live-badge")).to_be_visible(timeout=20_000)  # a live prediction arrived
        expect_prediction(page)
        page.screenshot(path=str(shots / "service-live.png"), full_page=True)
        page.click("#record")  # stop: the whole recording is predicted
        sync_api.expect(page.locator("#live-badge")).to_be_hidden(timeout=20_000)
        sync_api.expect(page.locator("#player")).to_be_visible()
        expect_prediction(page)
    finally:
        browser.close()
