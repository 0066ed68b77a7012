"""``serkit explore FILE``: what the reference printed on load, and every single-clip figure."""

from __future__ import annotations

import argparse
import json

HELP = "Describe one audio clip and draw its waveform, spectrograms and feature tracks."
EXAMPLE = "serkit explore Actor_01/03-01-05-01-01-01-01.wav -o out/ --html"
EXTRAS = ("train", "report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="audio file (WAV, FLAC, OGG, MP3, ...; any rate, stereo mixed to mono)")
    parser.add_argument("-o", "--out", metavar="DIR", help="write one PNG per figure into DIR (created if needed)")
    parser.add_argument("--html", action="store_true", help="also write DIR/<name>.html with every figure in one page")
    parser.add_argument(
        "--sr", default="22050", metavar="HZ",
        help="sample rate to load at, as librosa.load (default 22050); 'native' keeps the file's rate",
    )
    parser.add_argument("--json", action="store_true", help="print the description as JSON")


def _parse_rate(text: str) -> int | None:
    from serkit.core.exceptions import ParameterError

    if text == "native":
        return None
    try:
        rate = int(text)
    except ValueError:
        rate = 0
    if rate <= 0:
        raise ParameterError(f"--sr={text!r} must be a positive integer (Hz) or 'native'")
    return rate


def run(args: argparse.Namespace) -> int:
    from serkit.core.exceptions import ParameterError
    from serkit.report.exploration import explore, format_description

    if args.html and not args.out:
        raise ParameterError("--html needs -o DIR to write the page into")
    result = explore(args.file, args.out, sr=_parse_rate(args.sr), html=args.html, progress=not args.json)
    if args.json:
        info = dict(result.info)
        info["figures"] = [str(p) for p in result.figure_paths]
        info["html"] = str(result.html_path) if result.html_path else None
        print(json.dumps(info, indent=2))
        return 0
    width = max(len(label) for label, _ in format_description(result.info))
    for label, text in format_description(result.info):
        print(f"{label:<{width}}  {text}")
    if result.figure_paths:
        print(f"\n{len(result.figure_paths)} figures in {args.out}: " + ", ".join(p.name for p in result.figure_paths))
    if result.html_path:
        print(f"page: {result.html_path}")
    return 0
