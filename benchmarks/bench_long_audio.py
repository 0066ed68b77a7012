"""Memory and time of ``serkit predict`` on an hour of audio, with the bundled model.

Synthesises a speech-like file (voiced tones gliding in pitch, syllable-rate
amplitude modulation, pauses and noise; the level and pitch change every few
seconds) into a temporary folder, block by block, then runs ``serkit predict
--json`` on it in a child process and reports the child's wall time and peak RSS
(``getrusage(RUSAGE_CHILDREN).ru_maxrss``), beside the same figures for a 5 s clip:
the model's own footprint, paid whatever the audio.

Usage::

    nice -n 10 python3 benchmarks/bench_long_audio.py            # one hour at 44.1 kHz
    python3 benchmarks/bench_long_audio.py --minutes 5 --sr 16000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

BLOCK_S = 10


def speech_like(n: int, sr: int, rng: np.random.Generator, *, start: int) -> np.ndarray:
    """``n`` samples of voiced, modulated tone with pauses; changes character every 6 s."""
    t = (start + np.arange(n)) / sr
    phrase = np.floor(t / 6.0)
    pitch = 110 + 90 * ((phrase * 0.618) % 1) + 20 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    voiced = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.23 * t) > -0.6)
    level = 0.05 + 0.25 * ((phrase * 0.382) % 1)
    return (level * syllables * voiced + 0.003 * rng.standard_normal(n)).astype(np.float32)


def synthesise(path: str, *, minutes: float, sr: int) -> None:
    rng = np.random.default_rng(0)
    total = int(minutes * 60 * sr)
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as out:
        for start in range(0, total, BLOCK_S * sr):
            out.write(speech_like(min(BLOCK_S * sr, total - start), sr, rng, start=start))


def measure(path: str) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (MiB) and the JSON result of ``serkit predict PATH --json``."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "serkit", "predict", path, "--json"], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"serkit predict failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    return wall, peak_mib, json.loads(done.stdout)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--sr", type=int, default=44100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serkit-bench-") as folder:
        short, long = os.path.join(folder, "short.wav"), os.path.join(folder, "long.wav")
        synthesise(short, minutes=5 / 60, sr=args.sr)
        synthesise(long, minutes=args.minutes, sr=args.sr)
        base_wall, base_rss, _ = measure(short)
        wall, rss, result = measure(long)
        size_mib = os.path.getsize(long) / 2**20
    print(f"machine: {os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"5 s clip:          wall {base_wall:6.1f} s   peak RSS {base_rss:6.0f} MiB  (model load and first prediction)")
    print(
        f"{args.minutes:g} min at {args.sr} Hz ({size_mib:.0f} MiB WAV): wall {wall:6.1f} s   peak RSS {rss:6.0f} MiB   "
        f"{len(result['segments'])} windows"
    )
    print(f"whole file: {result['emotion']}; summary: dominant {result['summary']['dominant']}, "
          + ", ".join(f"{e} {s:.0f} s" for e, s in result["summary"]["seconds"].items()))


if __name__ == "__main__":
    main()
