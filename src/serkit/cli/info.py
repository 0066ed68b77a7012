"""``serkit info``: what an audio file holds, as stored."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "show sample rate, channels, duration, format, peak, RMS, any mains hum and the decay rate (a room) of audio files"
EXAMPLE = "serkit info clip.wav --json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="audio files (any format libsndfile reads)")
    parser.add_argument("--json", action="store_true", help="print a JSON array instead of text")


def run(args: argparse.Namespace) -> int:
    import sys

    from serkit.core.audio import audio_info
    from serkit.cli._common import write_json
    from serkit.core.exceptions import AudioError

    described, failed = [], 0
    for path in args.files:
        try:
            described.append(audio_info(path).to_dict())
        except AudioError as error:
            failed += 1
            described.append({"path": str(path), "error": str(error)})
            print(f"serkit info: error: {error}", file=sys.stderr)
    if args.json:
        write_json(described, None)
    else:
        for item in described:
            if "error" in item:
                continue
            print(
                f"{item['path']}\n"
                f"  format       {item['format']} ({item['subtype']})\n"
                f"  sample rate  {item['sample_rate']} Hz\n"
                f"  channels     {item['channels']}\n"
                f"  duration     {item['duration_s']:.3f} s ({item['frames']} samples per channel)\n"
                f"  dtype/shape  float32 after loading, ({item['frames']}, {item['channels']}) as stored\n"
                f"  peak         {item['peak']:.4f} ({_db(item['peak'])} dBFS)\n"
                f"  RMS          {item['rms']:.4f} ({item['rms_db']:.1f} dBFS)"
                + ("\n  note         silent" if item["silent"] else "")
                + _hum_line(item)
                + _decay_line(item)
            )
    return 1 if failed == len(args.files) else 0


def _hum_line(item: dict) -> str:
    from serkit.core.hum import HUM_SHARE_DB

    if item["mains_hum_hz"] is None:
        return ""
    kept = "taken out before the speech detection and the features" if item["mains_hum_db"] >= HUM_SHARE_DB else "too faint to matter, left in"
    return f"\n  mains hum    {item['mains_hum_hz']:.2f} Hz, {item['mains_hum_db']:.1f} dB of the power ({kept})"


def _decay_line(item: dict) -> str:
    from serkit.core.reverb import REVERBERANT_BELOW

    if item["decay_rate"] is None:
        return ""
    verdict = (f"under {REVERBERANT_BELOW:g}, as in a room heard from some way off the microphone: speech in it gets a caution"
               if item["decay_rate"] < REVERBERANT_BELOW else "its sound dies away as it does close to the microphone")
    return f"\n  decay rate   {item['decay_rate']:.0f} dB/s ({verdict})"


def _db(amplitude: float) -> str:
    import math

    return f"{20 * math.log10(amplitude):.1f}" if amplitude > 0 else "-inf"
