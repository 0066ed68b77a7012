"""Audio input with the bundled model: files that lie, silence, and what phones and browsers record.

Prints the figures of issue 22 (items 1 and 6) and issue 20 (item 2):

- an MP3 of 3.8 s whose Xing header claims 288 s: windows analysed and whether
  5 runs answer the same; the same MP3 claiming 160 hours at ``--window 60 --hop 60``:
  seconds to the answer;
- a 299 s silent FLAC (about 14 KB): CPU seconds to its refusal, at the default
  hop and at ``--hop 0.1``;
- m4a/AAC, MP4, WebM/Opus and ALAC clips predicted through ``serkit predict --json``
  (a child process) and ``POST /v1/predict`` (FastAPI's TestClient), and the line
  a broken m4a gets;
- ``dc``: shared corpus clips (every 20th RAVDESS clip, every 35th nEMO clip) with a recorder's
  constant offset added: the share whose emotion stays that of the clip without it, and the
  median familiarity (needs ``../shared``; the bundled model heard these clips in training, so
  the figure is agreement, not accuracy);
- ``quiet``: the same clips scaled to a peak of -30 to -60 dBFS and stored as 16-bit: agreement,
  and how many are called speechless;
- ``rooms`` and ``voices`` (measured, not solved): the same clips in three synthetic rooms of
  realistic direct-to-reverberant ratios, and with their pitch shifted (librosa's phase vocoder) or
  played faster or slower (another voice, roughly; ±3 semitones both ways): agreement, median
  familiarity and speechless calls;
- ``mics`` (measured): the same clips through the frequency responses of microphones a user
  records with (a laptop's, a phone's hands-free one, a headset close to the mouth, a dull and a
  bright one, and seeded random seven-band equalisers of ±6 and ±12 dB), and as a stereo file from
  two capsules with one channel in opposite polarity, as many laptops record, and under a mains
  hum or buzz: agreement, median familiarity and speechless calls;
- ``transients``: the same clips with a plug-in pop, a tap or a thump on the microphone added, or
  a recorder's beep before the speech: agreement, median familiarity, speechless calls and the
  clipping caution;
- ``sounds`` (measured): the same clips with what else a recording made outside a studio carries:
  a speakerphone's echo, a phone's automatic gain, a music bed, a voice message's Opus, a call's
  lost packets, wind on the microphone;
- ``clipping``: clips driven 2-16 times past full scale and cut there, stored as 16-bit FLAC, MP3
  or AAC (as a recorder would), then read as ``serkit predict`` reads a file. First the choice of
  :data:`serkit.core.level.CLIPPED_ABOVE` on development speakers only (RAVDESS actors 01-10,
  nEMO's first 5 speakers: the scores of their utterances as stored), then, on the other speakers,
  how often the caution comes, on clean and clipped audio, and how often the emotion stays.

All files are synthesised into a temporary folder (PyAV encodes the recorder formats).

Usage::

    nice -n 10 python3 benchmarks/bench_audio_input.py
    PYTHONPATH=OLD/src python3 benchmarks/bench_audio_input.py --parts lying,silence   # another checkout
    python3 benchmarks/bench_audio_input.py --parts dc,quiet
    python3 benchmarks/bench_audio_input.py --parts clipping
    python3 benchmarks/bench_audio_input.py --parts rooms,voices
    python3 benchmarks/bench_audio_input.py --parts mics,transients
    python3 benchmarks/bench_audio_input.py --parts sounds
    python3 benchmarks/bench_audio_input.py --parts voices --model /tmp/candidate   # another model directory
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

RECORDER_FORMATS = {"m4a/AAC": ("clip.m4a", "mp4", "aac"), "MP4": ("clip.mp4", "mp4", "aac"),
                    "WebM/Opus": ("clip.webm", "webm", "libopus"), "ALAC": ("clip.alac.m4a", "ipod", "alac")}


def voice_like(seconds: float, sr: int) -> np.ndarray:
    """A gliding harmonic tone with syllable-rate modulation: enough for the model to answer."""
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(140 + 40 * np.sin(2 * np.pi * 0.7 * t)) / sr
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    return (0.25 * envelope * (np.sin(phase) + 0.5 * np.sin(2 * phase))).astype(np.float32)


def lying_mp3(path: Path, claimed_s: float, sr: int = 22050) -> Path:
    sf.write(path, voice_like(3.8, sr), sr, format="MP3")
    data = bytearray(path.read_bytes())
    xing = max(data.find(b"Xing"), data.find(b"Info"))
    data[xing + 8 : xing + 12] = struct.pack(">I", int(claimed_s * sr / 576))  # MPEG-2 Layer III: 576 samples a frame
    path.write_bytes(bytes(data))
    return path


def encode(path: Path, container: str, codec: str, y: np.ndarray, sr: int = 48000) -> Path:
    """Mono float ``y`` at ``sr`` encoded by FFmpeg (PyAV) into ``path``."""
    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=sr, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.asarray(y, dtype=np.float32)[None, :], format="flt", layout="mono")
        frame.rate = sr
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


def counting(predictor) -> list:
    """Count the clips and windows whose features ``predictor`` computes."""
    count = [0]
    extract = predictor._extract

    def counted(pieces, name, mapper):
        count[0] += len(pieces)
        return extract(pieces, name, mapper)

    predictor._extract = counted
    return count


def answer(predictor, path: Path, **options) -> str:
    """The prediction as JSON, or the refusal."""
    from serkit.core.exceptions import SerkitError

    try:
        return json.dumps(predictor.predict_file(path, **options), sort_keys=True)
    except SerkitError as error:
        return f"refused: {error}"


def lying_mp3_figures(predictor, folder: Path) -> None:
    count = counting(predictor)
    path = lying_mp3(folder / "lying-288s.mp3", 288)
    answers = [answer(predictor, path) for _ in range(5)]
    refusals = sum(text.startswith("refused") for text in answers)
    print(f"MP3 claiming 288 s (real 3.8 s): {count[0] / 5:.0f} windows analysed per run; "
          f"answers over 5 runs: {'identical' if len(set(answers)) == 1 else 'differ'} ({refusals} refused)")


def lying_160h_figures(predictor, folder: Path) -> None:
    path = lying_mp3(folder / "lying-160h.mp3", 160 * 3600)
    start = time.perf_counter()
    result = predictor.predict_file(path, window_s=60, hop_s=60)
    print(f"MP3 claiming 160 h, --window 60 --hop 60: answered in {time.perf_counter() - start:.2f} s "
          f"({result['duration']} s analysed)")


def silence_figures(predictor, folder: Path) -> None:
    from serkit.core.exceptions import AudioError

    path = folder / "silence.flac"
    sf.write(path, np.zeros(299 * 16000, dtype=np.int16), 16000, subtype="PCM_16")
    for hop in (None, 0.1):
        start = time.process_time()
        try:
            predictor.predict_file(path, hop_s=hop)
            outcome = "answered"
        except AudioError as error:
            outcome = str(error).rsplit(": ", 1)[-1]
        label = "default hop" if hop is None else f"hop {hop}"
        print(f"299 s silent FLAC ({path.stat().st_size / 1024:.0f} KB), {label}: "
              f"{time.process_time() - start:.2f} s CPU ({outcome})")


def format_figures(predictor, folder: Path) -> None:
    from fastapi.testclient import TestClient

    from serkit.service import create_app
    from serkit.service.settings import Settings

    files = {label: encode(folder / name, container, codec, voice_like(4.0, 48000))
             for label, (name, container, codec) in RECORDER_FORMATS.items()}
    broken = folder / "broken.m4a"
    broken.write_bytes(files["m4a/AAC"].read_bytes()[:20000])
    cli = subprocess.run([sys.executable, "-m", "serkit", "predict", *map(str, files.values()), str(broken), "--json"],
                         capture_output=True, text=True)
    by_path = {item["path"]: item for item in json.loads(cli.stdout)}
    print("| format | CLI | REST |\n| --- | --- | --- |")
    cli_ok = rest_ok = 0
    with TestClient(create_app(settings=Settings(), predictor=predictor)) as client:
        for label, path in files.items():
            cli_answer = by_path[str(path)].get("emotion") or by_path[str(path)]["error"]
            response = client.post("/v1/predict", files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
            rest_answer = response.json().get("emotion") if response.status_code == 200 else f"{response.status_code}"
            cli_ok += "emotion" in by_path[str(path)]
            rest_ok += response.status_code == 200
            print(f"| {label} | {cli_answer} | {rest_answer} |")
        response = client.post("/v1/predict", files={"file": ("broken.m4a", broken.read_bytes(), "audio/mp4")})
    print(f"predicted: CLI {cli_ok} of {len(files)}, REST {rest_ok} of {len(files)}")
    print(f"broken m4a: CLI {by_path[str(broken)]['error']!r}; REST {response.status_code} {response.json()['detail']!r}")


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DC_OFFSETS = (0.001, 0.005, 0.02, 0.05)
"""Constant offsets, in full scale: 0.001-0.02 is what cheap microphones and sound cards leave."""


PEAKS_DBFS = (-30.0, -40.0, -50.0, -60.0)
"""Peak levels of the quiet copies (the shared RAVDESS clips peak at -42 to -1 dBFS, median -25)."""


def shared_clips() -> list[Path]:
    """Every 20th RAVDESS clip and every 35th nEMO clip of ``../shared`` (none without it)."""
    return sorted((SHARED / "ravdess-speech").glob("Actor_*/*.flac"))[::20] + sorted((SHARED / "nemo").rglob("*.flac"))[::35]


def agreement_table(predictor, title: str, changes: dict) -> None:
    """For each change (label → function of the samples and their rate), the share of shared clips whose emotion
    stays that of the clip as stored, the median familiarity, the clips called speechless, those called clipped
    and those called reverberant."""
    from serkit.inference.predictor import CLIPPING_CAUTION, REVERBERATION_CAUTION

    clips = [sf.read(path, dtype="float32") for path in shared_clips()]
    if not clips:
        print(f"{title}: no shared corpus under {SHARED}; skipped")
        return
    answers = {}
    for label, change in {"as stored": lambda y, sr: y, **changes}.items():
        answers[label] = []
        for y, sr in clips:
            result = predictor.predict_audio(change(y, sr), sr, segment="vad")
            answers[label].append((result["emotion"], result.get("familiarity"), result.get("caution")))
    print(f"| {title} ({len(clips)} shared clips) | same emotion as stored | median familiarity | no speech | clipping caution "
          "| reverberation caution |\n| --- | --- | --- | --- | --- | --- |")
    for label, found in answers.items():
        same = np.mean([a[0] == b[0] for a, b in zip(found, answers["as stored"])])
        familiarity = np.median([a[1] for a in found if a[1] is not None])
        cautions = [a[2] for a in found]
        print(f"| {label} | {100 * same:.0f} % | {familiarity:.2f} | {sum(a[0] is None for a in found)} | "
              f"{cautions.count(CLIPPING_CAUTION)} | {cautions.count(REVERBERATION_CAUTION)} |")


def dc_figures(predictor, folder: Path) -> None:
    changes = {f"{offset:g} ({20 * np.log10(offset):.0f} dBFS)": lambda y, sr, o=offset: y + np.float32(o) for offset in DC_OFFSETS}
    agreement_table(predictor, "DC offset", changes)


def quiet_figures(predictor, folder: Path) -> None:
    def at_peak(y, peak_dbfs):  # scaled, then stored as 16-bit as a recorder would
        return (np.round(y / np.max(np.abs(y)) * 10 ** (peak_dbfs / 20) * 32767) / 32767).astype(np.float32)

    changes = {f"{peak:g} dBFS": lambda y, sr, p=peak: at_peak(y, p) for peak in PEAKS_DBFS}
    agreement_table(predictor, "peak level, 16-bit", changes)


ROOMS = ((0.4, 5.0), (0.6, 0.0), (0.9, -5.0))
"""(RT60 s, direct-to-reverberant ratio dB): a small room near the microphone, a living room at a
metre or two, a large room from across it."""


def training_reverb_drr_db(sr: int, rt60: float) -> float:
    """The direct-to-reverberant ratio of the training augmentation's room (``augment.room_response``)."""
    from serkit.features.augment import room_response

    response = room_response(sr, rt60, np.random.default_rng(0))
    return float(10 * np.log10(response[0] ** 2 / np.sum(response[1:] ** 2)))


def room_figures(predictor, folder: Path) -> None:
    from serkit.features.augment import reverberate

    changes = {f"RT60 {rt60:g} s, DRR {drr:+g} dB":
               lambda y, sr, r=rt60, d=drr: reverberate(y, sr, rt60=r, rng=np.random.default_rng(0), drr_db=d) for rt60, drr in ROOMS}
    agreement_table(predictor, "room", changes)
    print("the training augmentation's reverb (augment.room_response) has a direct-to-reverberant ratio of "
          + ", ".join(f"{training_reverb_drr_db(sr, rt60):+.0f} dB at RT60 {rt60:g} s, {sr} Hz" for sr in (16000, 22050) for rt60 in (0.2, 0.8)))


def voice_figures(predictor, folder: Path) -> None:
    import librosa

    from serkit.features.augment import speed

    def pitch(y, sr, steps):  # librosa's phase vocoder, then resampling: pitch and formants move, the timing stays
        return librosa.effects.pitch_shift(y, sr=sr, n_steps=steps).astype(np.float32)

    def tempo(y, sr, rate):  # the same phase vocoder without the resampling: the timing moves, the spectrum stays
        return librosa.effects.time_stretch(y, rate=rate).astype(np.float32)

    # Played faster, pitch and formants rise together, as a shorter vocal tract's would, and the speech is
    # faster; at 2^(±3/12) the spectrum moves as far as the phase vocoder's ±3 semitones, without its smearing.
    # The vocoder's tempo alone at the same rates tells its smearing and the tempo from the spectrum's move.
    changes = {**{f"pitch {steps:+d} semitones": lambda y, sr, n=steps: pitch(y, sr, n) for steps in (-3, 3, 6)},
               **{f"played at {factor:.3g}×": lambda y, sr, f=factor: speed(y, sr, factor=f)
                  for factor in (0.9, 1.1, 2 ** (-3 / 12), 2 ** (3 / 12))},
               **{f"tempo {rate:.3g}× (phase vocoder)": lambda y, sr, r=rate: tempo(y, sr, r)
                  for rate in (2 ** (-3 / 12), 2 ** (3 / 12))}}
    agreement_table(predictor, "voice", changes)


def microphones() -> dict:
    """Label → audiomentations filter chain: the frequency responses of microphones a user records with.

    Fixed responses (every parameter's range is one value) and, last, seeded random seven-band
    equalisers (audiomentations draws with ``random`` and ``numpy.random``, both seeded per clip by its samples)."""
    from audiomentations import (Compose, HighPassFilter, HighShelfFilter, LowPassFilter, LowShelfFilter,
                                 PeakingFilter, SevenBandParametricEQ)

    def high_pass(hz):
        return HighPassFilter(min_cutoff_freq=hz, max_cutoff_freq=hz, min_rolloff=12, max_rolloff=12, p=1.0)

    def low_pass(hz):
        return LowPassFilter(min_cutoff_freq=hz, max_cutoff_freq=hz, min_rolloff=12, max_rolloff=12, p=1.0)

    def peak(hz, db):
        return PeakingFilter(min_center_freq=hz, max_center_freq=hz, min_gain_db=db, max_gain_db=db, min_q=1.0, max_q=1.0, p=1.0)

    def shelf(kind, hz, db):
        return kind(min_center_freq=hz, max_center_freq=hz, min_gain_db=db, max_gain_db=db, min_q=0.707, max_q=0.707, p=1.0)

    return {"laptop: high-pass 200 Hz, +6 dB at 4 kHz, low-pass 8 kHz": Compose([high_pass(200), peak(4000, 6), low_pass(8000)]),
            "phone hands-free: high-pass 300 Hz, +6 dB at 2.5 kHz, low-pass 7 kHz": Compose([high_pass(300), peak(2500, 6), low_pass(7000)]),
            "headset at the mouth: +10 dB under 250 Hz (proximity)": Compose([shelf(LowShelfFilter, 250, 10)]),
            "dull: −12 dB over 2 kHz": Compose([shelf(HighShelfFilter, 2000, -12)]),
            "bright: +8 dB over 4 kHz": Compose([shelf(HighShelfFilter, 4000, 8)]),
            "random seven-band EQ, ±6 dB": SevenBandParametricEQ(min_gain_db=-6, max_gain_db=6, p=1.0),
            "random seven-band EQ, ±12 dB": SevenBandParametricEQ(min_gain_db=-12, max_gain_db=12, p=1.0)}


def microphone_figures(predictor, folder: Path) -> None:
    import random
    import zlib

    def through(chain, y, sr):
        random.seed(zlib.crc32(y.tobytes()))  # a clip's own draw, whatever the order (audiomentations draws from both)
        np.random.seed(zlib.crc32(y.tobytes()))
        coloured = chain(samples=y, sample_rate=sr)
        return (coloured * np.sqrt(np.mean(y ** 2) / max(np.mean(coloured ** 2), 1e-20))).astype(np.float32)

    def array_pair(y, sr, inverted):  # two capsules 2 cm apart, a talker 30° off axis, their own hiss 50 dB down
        from serkit.core.audio import load_audio

        delay = int(round(0.02 * np.sin(np.pi / 6) / 343 * sr))
        hiss = np.random.default_rng(zlib.crc32(y.tobytes())).standard_normal((len(y), 2)) * 10 ** (-50 / 20) * np.std(y)
        pair = np.stack([y, np.r_[np.zeros(delay, y.dtype), y[:len(y) - delay]] * (-1 if inverted else 1)], axis=1) + hiss
        path = folder / "pair.wav"
        sf.write(path, pair, sr, subtype="PCM_16")
        return load_audio(path, sr=None)[0]

    def mains(y, sr, under_db, harmonics, hz):  # a ground loop: the mains alone (hum) or with its harmonics at 1/k (buzz)
        from bench_speech import mains_buzz

        tone = mains_buzz(np.arange(len(y)) / sr, hz=hz, harmonics=harmonics)
        return (y + tone * np.std(y) / np.std(tone) * 10 ** (-under_db / 20)).astype(np.float32)

    changes = {label: lambda y, sr, c=chain: through(c, y, sr)
               for label, chain in microphones().items()}
    changes |= {"a stereo pair of capsules, as a file": lambda y, sr: array_pair(y, sr, inverted=False),
                "the same, one channel inverted (many laptops' internal microphones)": lambda y, sr: array_pair(y, sr, inverted=True)}
    # 59.93 Hz: a 60 Hz grid running slow, as grids drift (the removal measures the frequency, it does not assume it)
    changes |= {f"mains {name} {under} dB under the clip": lambda y, sr, u=under, h=harmonics, f=hz: mains(y, sr, u, h, f)
                for name, harmonics, hz, unders in (("hum (50 Hz)", 1, 50.0, (10, 20)),
                                                    ("buzz (50 Hz and 39 harmonics)", 39, 50.0, (10, 20, 30)),
                                                    ("buzz (59.93 Hz and 39 harmonics)", 39, 59.93, (10, 20)),
                                                    # a transformer's, a ballast's or a rectifier's: twice the mains, no mains
                                                    ("buzz on twice the mains (100 Hz and 19 harmonics)", 19, 100.0, (10, 20)),
                                                    ("buzz on twice the mains (119.9 Hz and 16 harmonics)", 16, 119.9, (10,)))
                for under in unders}
    agreement_table(predictor, "microphone (at the clip's level)", changes)


def click(y: np.ndarray, sr: int, *, at_s: float, ms: float, peak: float = 1.0, hz: float | None = None) -> np.ndarray:
    """``y`` with a transient added at ``at_s``: a Hann-shaped burst of ``ms`` at ``peak``, alternating
    samples (a pop's broadband edge) or, with ``hz``, a low tone (a thump on the microphone)."""
    n, start = int(ms / 1000 * sr), int(at_s * sr)
    carrier = np.sin(2 * np.pi * hz * np.arange(n) / sr) if hz else np.sign(np.sin(np.arange(n)))
    out = y.copy()
    out[start:start + n] += (peak * np.hanning(n) * carrier)[: len(out) - start]
    return out


def transient_figures(predictor, folder: Path) -> None:
    changes = {"a pop (5 ms at full scale) 0.1 s in, in the pause": lambda y, sr: click(y, sr, at_s=0.1, ms=5),
               "the same at −6 dBFS": lambda y, sr: click(y, sr, at_s=0.1, ms=5, peak=0.5),
               "a pop in the middle of the clip": lambda y, sr: click(y, sr, at_s=len(y) / sr / 2, ms=5),
               "a tap (20 ms at full scale)": lambda y, sr: click(y, sr, at_s=0.1, ms=20),
               "a thump (30 ms of 60 Hz at full scale)": lambda y, sr: click(y, sr, at_s=0.1, ms=30, hz=60.0),
               "two pops, 0.1 s in and in the middle": lambda y, sr: click(click(y, sr, at_s=0.1, ms=5), sr,
                                                                            at_s=len(y) / sr / 2, ms=5),
               **{f"a recorder's start beep (1 kHz, 0.3 s) at {peak} dBFS":
                  lambda y, sr, p=peak: beep(y, sr, peak=10 ** (p / 20)) for peak in (-6, -20)}}
    agreement_table(predictor, "transient", changes)


def beep(y: np.ndarray, sr: int, *, peak: float, hz: float = 1000.0, at_s: float = 0.05, seconds: float = 0.3) -> np.ndarray:
    """``y`` with a tone added at ``at_s`` (10 ms fades), as a recorder or a voicemail beeps before the speech."""
    t = np.arange(int(seconds * sr)) / sr
    tone = peak * np.sin(2 * np.pi * hz * t) * np.minimum(1.0, np.minimum(t, seconds - t) / 0.01)
    start = int(at_s * sr)
    out = y.copy()
    out[start:start + tone.size] += tone[: len(out) - start]
    return out


CLIP_DRIVES = (1.0, 2.0, 4.0, 8.0, 16.0)
"""How far past full scale the copies were driven (0, 6, 12, 18 and 24 dB; 0 dB: the peak at full
scale, nothing cut, so that row is what the coding alone changes)."""

CODINGS = ("FLAC", "MP3", "AAC")
"""How a clipped recording is stored: 16-bit lossless, or a phone's or a browser's lossy codec."""

CHOICE_GRID = (0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1)
MAX_CLEAN_FLAGGED = 0.005
MAX_AGREEMENT = 0.9
MIN_BAND = 20
"""The rule fixed before the choice: the lowest threshold of the grid that (a) flags at most 0.5 % of
the development speakers' utterances as stored, in every coding (the bound on speech wrongly
refused), and (b) above which the emotion stays that of the clip as stored for at most 90 % of the
driven development copies in every band of the grid holding at least 20 of them: the caution then
means that at this much clipping at least one answer in ten moves."""


def echoed(y: np.ndarray, sr: int, *, delay_s: float = 0.15, db: float = -6.0) -> np.ndarray:
    """``y`` with one copy of itself ``delay_s`` later, ``db`` down: a speakerphone's echo."""
    delay = int(delay_s * sr)
    out = y.copy()
    out[delay:] += np.float32(10 ** (db / 20)) * y[:-delay]
    return out


def automatic_gain(y: np.ndarray, sr: int, *, target_dbfs: float = -20.0, most_db: float = 30.0) -> np.ndarray:
    """``y`` through a phone's automatic gain control: a gain that follows the 10 ms envelope towards
    ``target_dbfs`` (10 ms to come down, 300 ms to rise again, at most ``most_db``), so pauses rise."""
    frame = int(0.01 * sr)
    n = y.size // frame * frame
    rms = np.sqrt(np.mean(np.square(y[:n].reshape(-1, frame), dtype=np.float64), axis=1) + 1e-12)
    envelope, level = np.empty_like(rms), rms[0]
    for i, value in enumerate(rms):
        level += (value - level) * (1 - np.exp(-0.01 / (0.01 if value > level else 0.3)))
        envelope[i] = level
    gain = np.repeat(np.minimum(10 ** (target_dbfs / 20) / envelope, 10 ** (most_db / 20)), frame)
    return (y * np.r_[gain, np.full(y.size - n, gain[-1])]).astype(np.float32)


def music_bed(y: np.ndarray, sr: int, *, under_db: float) -> np.ndarray:
    """``y`` over chords that change every half second (four notes, five partials each), ``under_db`` under it."""
    rng = np.random.default_rng(zlib.crc32(y.tobytes()))
    t = np.arange(y.size) / sr
    bed = np.zeros(y.size)
    for start in range(0, y.size, sr // 2):
        root, span = 110 * 2 ** (rng.integers(0, 12) / 12), slice(start, start + sr // 2)
        bed[span] = sum(np.sin(2 * np.pi * root * ratio * k * t[span]) / k ** 1.5 for ratio in (1, 1.26, 1.5, 2) for k in range(1, 6))
    return (y + bed * np.std(y) / np.std(bed) * 10 ** (-under_db / 20)).astype(np.float32)


def lost_frames(y: np.ndarray, sr: int, *, share: float = 0.05) -> np.ndarray:
    """``y`` with ``share`` of its 20 ms frames zeroed: a call's lost packets, not concealed."""
    frame = int(0.02 * sr)
    lost = np.random.default_rng(zlib.crc32(y.tobytes())).random(y.size // frame) < share
    out = y.copy()
    out[: lost.size * frame].reshape(-1, frame)[lost] = 0
    return out


def wind(y: np.ndarray, sr: int, *, over_db: float) -> np.ndarray:
    """``y`` under gusts of wind on the microphone: integrated (brown) noise above about 20 Hz, swelling
    and falling at 0.7 Hz, ``over_db`` over the clip."""
    rng = np.random.default_rng(zlib.crc32(y.tobytes()))
    rumble = np.cumsum(rng.standard_normal(y.size))
    rumble -= np.convolve(rumble, np.ones(sr // 20 + 1) / (sr // 20 + 1), mode="same")  # its drift below about 20 Hz out
    rumble *= 0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * np.arange(y.size) / sr + rng.uniform(0, 2 * np.pi))
    return (y + rumble * np.std(y) / np.std(rumble) * 10 ** (over_db / 20)).astype(np.float32)


def sound_figures(predictor, folder: Path) -> None:
    from serkit.features.augment import compress

    changes = {"echo: itself 150 ms later, 6 dB down (a speakerphone)": echoed,
               "a phone's automatic gain (pauses raised by up to 30 dB)": automatic_gain,
               **{f"a music bed {under} dB under the clip": lambda y, sr, u=under: music_bed(y, sr, under_db=u) for under in (15, 25)},
               "Opus at 12 kbit/s (a voice message)": lambda y, sr: compress(y, sr, kbps=12, codec="opus"),
               "5 % of the 20 ms frames lost (a call's packets)": lost_frames,
               **{f"wind {over:+d} dB against the clip": lambda y, sr, o=over: wind(y, sr, over_db=o) for over in (0, -10)}}
    agreement_table(predictor, "other sounds", changes)


def driven(y: np.ndarray, drive: float) -> np.ndarray:
    """``y`` with its peak ``drive`` times full scale, cut at full scale (``drive`` 1: the peak at full scale)."""
    return np.clip(y / np.max(np.abs(y)) * drive, -1.0, 1.0).astype(np.float32)


def stored(y: np.ndarray, sr: int, coding: str, folder: Path) -> np.ndarray:
    """``y`` written as ``coding`` and read back at 16 kHz the way ``serkit predict`` reads a file."""
    from serkit.core.audio import load_audio

    if coding == "AAC":
        import soxr

        path = encode(folder / "clip.m4a", "mp4", "aac", soxr.resample(y, sr, 48000))
    else:
        path = folder / f"clip.{coding.lower()}"
        sf.write(path, y, sr, format=coding, **({"subtype": "PCM_16"} if coding == "FLAC" else {}))
    return load_audio(path, sr=16000)[0]


def utterance_scores(y16: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The clipping score of each utterance as the predictor hears it (its span with up to 1 s of
    pause) and its seconds of speech, the weights of the file's score."""
    from serkit.core.level import clipping_score
    from serkit.inference.speech import find_speech, heard_spans

    speech = find_speech(y16, 16000)
    scores = [clipping_score(y16[round(start * 16000):round(end * 16000)])
              for start, end in heard_spans(speech.utterances, speech.duration_s)]
    return np.array(scores), np.array([u.speech_s for u in speech.utterances])


def split_clips(development: bool) -> list[Path]:
    """The shared clips of the development speakers (RAVDESS actors 01-10, nEMO's first 5) or of the others."""
    ravdess = [p for p in sorted((SHARED / "ravdess-speech").glob("Actor_*/*.flac")) if (int(p.parent.name[-2:]) <= 10) == development]
    speakers = sorted({p.name.split("_")[0] for p in (SHARED / "nemo").rglob("*.flac")})
    nemo = [p for p in sorted((SHARED / "nemo").rglob("*.flac")) if (p.name.split("_")[0] in speakers[:5]) == development]
    return ravdess + nemo


def as_stored_scores(clips: list[Path], folder: Path) -> dict[str, np.ndarray]:
    """Per coding, the clipping score of every utterance of ``clips`` as stored."""
    return {coding: np.concatenate([utterance_scores(stored(*sf.read(path, dtype="float32"), coding, folder))[0] for path in clips])
            for coding in CODINGS}


def driven_copies(predictor, clips: list[Path], folder: Path) -> list[tuple]:
    """``(drive, coding, file score, same emotion as stored, clipping caution)`` of every copy of ``clips``."""
    from serkit.inference.predictor import CLIPPING_CAUTION

    copies = []
    for path in clips:
        y, sr = sf.read(path, dtype="float32")
        clean = predictor.predict_audio(y, sr, segment="vad")["emotion"]
        for drive in CLIP_DRIVES:
            for coding in CODINGS:
                y16 = stored(driven(y, drive), sr, coding, folder)
                result = predictor.predict_audio(y16, 16000, segment="vad")
                scores, seconds = utterance_scores(y16)
                score = float(scores @ seconds / seconds.sum()) if seconds.sum() else 0.0
                copies.append((drive, coding, score, result["emotion"] == clean, result["caution"] == CLIPPING_CAUTION))
    return copies


def clipping_choice(predictor, folder: Path) -> None:
    """The threshold by the rule of :data:`MAX_CLEAN_FLAGGED` on the development speakers."""
    from serkit.core.level import CLIPPED_ABOVE

    clips = split_clips(development=True)
    clean = as_stored_scores(clips, folder)
    copies = driven_copies(predictor, clips[::4], folder)
    score, same = np.array([c[2] for c in copies]), np.array([c[3] for c in copies])
    print(f"clipping, the choice ({len(clips)} development clips as stored; {len(clips[::4])} of them driven 0-24 dB past "
          "full scale and stored as each coding):")
    print("| threshold | utterances as stored above it: " + " | ".join(CODINGS) + " | driven copies from it to the next | "
          "their emotion as stored |\n| --- |" + " --- |" * (len(CODINGS) + 2))
    bands = {}
    for low, high in zip(CHOICE_GRID, (*CHOICE_GRID[1:], np.inf)):
        inside = (score > low) & (score <= high)
        bands[low] = same[inside].mean() if inside.sum() >= MIN_BAND else None
        print(f"| {low:g} | " + " | ".join(f"{100 * np.mean(clean[c] > low):.2f} %" for c in CODINGS) +
              f" | {inside.sum()} | {'–' if not inside.sum() else f'{100 * same[inside].mean():.0f} %'} |")
    allowed = [t for t in CHOICE_GRID if all(np.mean(clean[c] > t) <= MAX_CLEAN_FLAGGED for c in CODINGS)
               and all(bands[b] is None or bands[b] <= MAX_AGREEMENT for b in CHOICE_GRID if b >= t)]
    print(f"the rule's choice: {min(allowed, default=CHOICE_GRID[-1]):g}; in use: CLIPPED_ABOVE = {CLIPPED_ABOVE:g}")


def clipping_figures(predictor, folder: Path) -> None:
    """On the speakers the choice never saw: the caution on every clip as stored, then on a sample
    driven past full scale, with the share whose emotion stays that of the clip as stored."""
    from serkit.core.level import CLIPPED_ABOVE

    if not (SHARED / "nemo").is_dir():
        print(f"clipping: no shared corpus under {SHARED}; skipped")
        return
    clipping_choice(predictor, folder)
    clips = split_clips(development=False)
    for coding, scores in as_stored_scores(clips, folder).items():
        print(f"the other speakers' {len(clips)} clips as stored, {coding}: {100 * np.mean(scores > CLIPPED_ABOVE):.2f} % "
              "of their utterances get the clipping caution")
    copies = driven_copies(predictor, clips[::5], folder)
    print(f"| driven past full scale ({len(clips[::5])} clips of the other speakers) | coding | clipping caution | "
          "same emotion as stored | same emotion, copies with the caution | without |\n| --- | --- | --- | --- | --- | --- |")
    for drive in CLIP_DRIVES:
        for coding in CODINGS:
            mine = [c for c in copies if c[:2] == (drive, coding)]
            same, flagged = np.array([c[3] for c in mine]), np.array([c[4] for c in mine])
            print(f"| {20 * np.log10(drive):.0f} dB ({drive:g}×) | {coding} | {100 * flagged.mean():.0f} % | {100 * same.mean():.0f} % | "
                  f"{_share(same[flagged])} | {_share(same[~flagged])} |")


def _share(values: np.ndarray) -> str:
    return f"{100 * values.mean():.0f} % of {values.size}" if values.size else "–"


PARTS = {"lying": lying_mp3_figures, "lying-160h": lying_160h_figures, "silence": silence_figures, "formats": format_figures,
         "dc": dc_figures, "quiet": quiet_figures, "clipping": clipping_figures, "rooms": room_figures, "voices": voice_figures,
         "mics": microphone_figures, "transients": transient_figures, "sounds": sound_figures}


def main() -> None:
    from serkit.models.artifacts import load_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--model", default=None, help="a model directory or registered name (default: the bundled model)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for part in args.parts.split(","):
            PARTS[part](load_model(args.model), Path(folder))


if __name__ == "__main__":
    main()
