"""The web page end to end in a real Chromium (Debian's, driven by Playwright), server on 127.0.0.1.

Screenshots go to ``$SERKIT_SCREENSHOTS`` (e.g. ``docs/images``) when set, else to pytest's tmp dir.
"""

from __future__ import annotations

import os
import re
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
    from serkit.models.artifacts import load_model
    from serkit.core.exceptions import ArtifactError

    try:
        return load_model()
    except ArtifactError:
        from test_inference import make_predictor

        return make_predictor()


@pytest.fixture(scope="module")
def server_url():
    import uvicorn

    from serkit.service import create_app
    from serkit.service.settings import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        # Fixed windows: the fake microphone plays a synthetic voice that voice activity rightly refuses.
        uvicorn.Config(create_app(settings=Settings(segment="fixed"), predictor=serving_predictor()),
                       host="127.0.0.1", port=port, log_level="warning")
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
    """A fresh page; the test fails if the server's Content-Security-Policy blocked anything of
    the server's own on it (blocking other hosts' files, such as ReDoc's logo, is its job)."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    opened = context.new_page()
    blocked = []

    def on_console(message):
        elsewhere = re.search(r"'https?://(?!127\.0\.0\.1)", message.text)
        if "Content Security Policy" in message.text and not elsewhere:
            blocked.append(message.text)

    opened.on("console", on_console)
    yield opened
    context.close()
    assert blocked == []


def expect_prediction(page, *, state="done", timeout=30_000):
    """Wait for the result card's own ``data-state``, then read the headline and every bar in
    one script run, so that a live update cannot change them half-way through the reading."""
    sync_api.expect(page.locator("#result")).to_have_attribute("data-state", state, timeout=timeout)
    shown = page.evaluate("""() => ({
        emotion: document.getElementById("emotion").innerText.trim(),
        widths: [...document.querySelectorAll(".bar .fill")].map((el) => parseFloat(el.style.width)),
        top: [...document.querySelectorAll(".bar.top .name")].map((el) => el.innerText.trim()),
    })""")
    assert len(shown["widths"]) >= 2
    assert sum(shown["widths"]) == pytest.approx(100, abs=1.5)
    assert shown["top"] == [shown["emotion"]]
    return shown["emotion"]


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
    page.set_input_files("#file", str(EXAMPLES / "calm-happy-angry-sad--long-mixed.ogg"))
    expect_prediction(page)
    sync_api.expect(page.locator("#timeline-box")).to_be_visible()
    drawn = page.evaluate("""() => ({
        cells: [...document.querySelectorAll("#timeline > div")].map((el) => ({
            text: el.textContent, emotion: el.dataset.emotion, title: el.title,
            fits: el.scrollWidth <= el.clientWidth + 1 })),
        ticks: [...document.querySelectorAll("#axis span")].map((el) => el.textContent),
        legend: [...document.querySelectorAll("#legend span")].map((el) => el.dataset.emotion),
        summary: document.getElementById("timeline-summary").textContent,
    })""")
    cells = drawn["cells"]
    assert cells
    # Neighbouring windows of one emotion are one run; a label is whole or left to the tooltip.
    assert all(a["emotion"] != b["emotion"] for a, b in zip(cells, cells[1:]))
    assert all(cell["fits"] and cell["text"] in ("", cell["emotion"]) and cell["title"] for cell in cells)
    # calm-happy-angry-sad--long-mixed.ogg lasts 13.4 s: a tick every 2 s, then the end.
    assert drawn["ticks"] == ["0 s", "2 s", "4 s", "6 s", "8 s", "10 s", "12 s", "13.4 s"]
    assert {cell["emotion"] for cell in cells} == set(drawn["legend"])
    assert drawn["summary"].startswith("Mostly ")
    page.screenshot(path=str(shots / "service-timeline.png"), full_page=True)


def test_timeline_of_a_minute_with_the_servers_summary(page, server_url, tmp_path, shots):
    """A 60 s answer with many windows (the page's drawing, with the server's reply fixed)."""
    import json

    emotions = ["neutral", "happy", "happy", "sad", "angry"] * 8
    segments = [{"start": 1.5 * i, "end": 1.5 * i + 3, "emotion": e, "probabilities": {e: 0.6, "calm": 0.4}}
                for i, e in enumerate(emotions)]
    reply = {"emotion": "happy", "probabilities": {"happy": 0.5, "sad": 0.3, "neutral": 0.2}, "duration": 60.0,
             "segments": segments, "summary": {"dominant": "happy", "seconds": {"happy": 24.0, "neutral": 12.0,
                                                                               "sad": 12.0, "angry": 12.0, "calm": 0.0}}}
    page.route("**/v1/predict", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(reply)))
    page.goto(server_url)
    clip = tmp_path / "minute.wav"
    sf.write(clip, make_voice_like(duration_s=1.0, sr=16000, f0_hz=150, seed=0), 16000)
    page.set_input_files("#file", str(clip))
    expect_prediction(page)
    ticks = page.locator("#axis span").all_inner_texts()
    assert ticks == ["0:00", "0:10", "0:20", "0:30", "0:40", "0:50", "1:00"]
    cells = page.locator("#timeline > div")
    assert cells.count() == 32  # happy, happy joined in each of the eight repeats
    assert all(cells.nth(i).evaluate("el => el.scrollWidth <= el.clientWidth + 1") for i in range(cells.count()))
    assert page.locator("#legend").inner_text().split("\n")[:2] == ["Happy", "24.0 s · 40%"]
    assert page.locator("#legend > span").count() == 4  # calm, with no time, is left out
    assert page.locator("#timeline-summary").inner_text() == "Mostly happy: 24.0 s of 60.0 s, then neutral 12.0 s."
    page.locator("#result").screenshot(path=str(shots / "service-timeline-minute.png"))


def upload_with_speakers(page, server_url, tmp_path, speakers: str, reply: dict) -> list[str]:
    """Upload a short clip with the page's Speakers choice set to ``speakers``, the server answering
    ``reply``; wait for the result and return the URLs the page asked."""
    import json

    asked = []
    page.route("**/v1/predict*", lambda route: asked.append(route.request.url) or route.fulfill(
        status=200, content_type="application/json", body=json.dumps(reply)))
    page.goto(server_url)
    page.select_option("#speakers", speakers)
    clip = tmp_path / "talk.wav"
    sf.write(clip, make_voice_like(duration_s=1.0, sr=16000, f0_hz=150, seed=0), 16000)
    page.set_input_files("#file", str(clip))
    expect_prediction(page)
    return asked


def test_a_call_by_channel_asks_for_channels_and_stays_on_the_time_axis(page, server_url, tmp_path):
    """Two parties talking at once (speakers=channels): the strip still spans the recording's seconds."""
    segments = [{"start": start, "end": end, "emotion": emotion, "probabilities": {emotion: 0.7, "calm": 0.3}, "speaker": who}
                for start, end, emotion, who in ((0.5, 3.0, "angry", "channel 1"), (2.5, 4.0, "sad", "channel 2"),
                                                 (5.0, 6.0, "happy", "channel 1"))]
    own = {"seconds": 1.5, "emotion": "sad", "probabilities": {"sad": 0.7, "calm": 0.3}, "summary": None}
    reply = {"emotion": "angry", "probabilities": {"angry": 0.6, "sad": 0.4}, "duration": 8.0, "speech_seconds": 5.0,
             "segments": segments, "summary": None, "speakers": {"channel 1": {**own, "emotion": "angry", "seconds": 3.5},
                                                                  "channel 2": own}}
    asked = upload_with_speakers(page, server_url, tmp_path, "channels", reply)
    assert asked and asked[0].endswith("/v1/predict?speakers=channels")
    flex = page.evaluate("() => [...document.querySelectorAll('#timeline > div')].map((el) => parseFloat(el.style.flex))")
    assert sum(flex) == pytest.approx(8.0)
    titles = page.locator("#timeline > div[data-emotion]").evaluate_all("els => els.map((el) => el.title)")
    assert titles == ["0.5–3.0 s: channel 1 angry 70%", "2.5–4.0 s: channel 2 sad 70%", "5.0–6.0 s: channel 1 happy 70%"]
    assert "channel 2: mostly sad (1.5 s)." in page.locator("#timeline-summary").inner_text()


def test_speakers_found_in_noise_show_their_caution_beside_the_emotions(page, server_url, tmp_path):
    own = {"seconds": 2.0, "emotion": "sad", "probabilities": {"sad": 0.7, "calm": 0.3}, "summary": None}
    segments = [{"start": start, "end": end, "emotion": "sad", "probabilities": {"sad": 0.7, "calm": 0.3}, "speaker": who}
                for start, end, who in ((0.5, 2.5, "S1"), (3.0, 5.0, "S2"))]
    reply = {"emotion": "sad", "probabilities": {"sad": 0.7, "calm": 0.3}, "familiarity": 0.05,
             "caution": "this recording is unlike the training data; treat the emotion with caution",
             "duration": 6.0, "speech_seconds": 4.0, "segments": segments, "summary": None,
             "speakers": {"S1": own, "S2": own}, "speakers_caution": "this recording is noisy (its speech 12 dB over the noise between words)"}
    upload_with_speakers(page, server_url, tmp_path, "auto", reply)
    assert page.locator("#caution").inner_text() == (
        "Caution: this recording is unlike the training data; treat the emotion with caution (familiarity 5%). "
        "Speakers: this recording is noisy (its speech 12 dB over the noise between words).")


def test_api_docs_render_offline(page, server_url):
    """Swagger UI from the server's own files: every request to another host is refused."""
    external = []

    def only_this_server(route):
        if route.request.url.startswith(server_url):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(server_url + "/docs")
    sync_api.expect(page.locator(".swagger-ui .info .title")).to_contain_text("serkit", timeout=20_000)
    sync_api.expect(page.locator(".opblock-summary-path", has_text="/v1/predict").first).to_be_visible()
    assert external == []


def test_redoc_renders_under_the_content_security_policy(page, server_url):
    page.goto(server_url + "/redoc")
    sync_api.expect(page.locator("h1", has_text="serkit")).to_be_visible(timeout=20_000)
    sync_api.expect(page.get_by_text("/v1/predict").first).to_be_attached()


def test_server_error_is_shown_and_clears_the_previous_result(page, server_url, tmp_path):
    garbage = tmp_path / "notes.wav"
    garbage.write_bytes(b"this is not audio " * 200)
    page.goto(server_url)
    page.set_input_files("#file", str(EXAMPLES / "happy--fast-high.ogg"))
    expect_prediction(page)
    page.set_input_files("#file", str(garbage))
    status = page.locator("#status.error")
    sync_api.expect(status).to_be_visible(timeout=15_000)
    sync_api.expect(status).to_contain_text("notes.wav")
    sync_api.expect(page.locator("#result")).to_be_hidden()  # not the clip before's answer under the error


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
        expect_prediction(page, state="live")
        page.screenshot(path=str(shots / "service-live.png"), full_page=True)
        page.click("#record")  # stop: the whole recording is predicted
        expect_prediction(page, state="done")
        sync_api.expect(page.locator("#live-badge")).to_be_hidden()
        sync_api.expect(page.locator("#player")).to_be_visible()
    finally:
        browser.close()
