"""``serkit predict``: the emotion of each utterance of speech in audio files (or "no speech")."""

from __future__ import annotations

import argparse

HELP = "Predict the emotion of each utterance in audio files (the bundled model unless --model); 'no speech' where none."
EXAMPLE = ("serkit predict clip.wav recordings/ --json; serkit predict talk.wav -o talk.vtt\n  serkit predict meeting.wav --speakers auto; "
           "serkit predict call.wav --speakers channels")


FORMATS = ("table", "json", "csv", "vtt", "textgrid")
SUFFIXES = {".json": "json", ".csv": "csv", ".vtt": "vtt", ".textgrid": "textgrid"}
"""Output file suffix (lower case) → format."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="FILE_OR_DIR", help="audio files, or folders searched for them")
    parser.add_argument("--model", metavar="MODEL_DIR", help="a saved model directory, or a bundled model by name (cnn-ensemble-v1: the default before 0.2); default: the bundled one")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one object per file (= --format json)")
    parser.add_argument("--format", choices=FORMATS, help="table (default), json, csv (a row per utterance or window), "
                        "vtt (WebVTT subtitles) or textgrid (Praat); vtt and textgrid take one file")
    parser.add_argument("-o", "--output", metavar="FILE", help="write there instead of stdout; the format follows "
                        "the suffix (.json .csv .vtt .TextGrid) unless --format")
    parser.add_argument("--segment", choices=("vad", "fixed"), default="vad",
                        help="vad (default): utterances of the speech found by voice activity, 'no speech' without; "
                        "fixed: --window/--hop windows over the whole file, speech or not")
    parser.add_argument(
        "--runtime", choices=("auto", "export", "skops"), default="auto",
        help="run the model's numpy export (auto: when it has one) or its scikit-learn/PyTorch pipeline (skops)",
    )
    parser.add_argument("--window", type=float, metavar="S", help="with --segment fixed: timeline window in seconds, 0.5 to 60 (default 3)")
    parser.add_argument("--hop", type=float, metavar="S", help="with --segment fixed: timeline hop in seconds, 0.1 to the window (default 1.5)")
    parser.add_argument(
        "--speaker-from",
        metavar="folder|COLUMN",
        help="standardise features per speaker: the speaker is each file's folder, or COLUMN of --manifest",
    )
    parser.add_argument(
        "--adapt", action="store_true",
        help="adapt the model to these files: their own feature statistics replace the model's (each voice "
        "found among the files by its own, or each speaker with --speaker-from; a single file: its utterances; "
        "with --speakers auto|N, each speaker found in each file by their own); needs an adapted model such as "
        "the bundled one and enough clips (docs/adaptation.md)",
    )
    parser.add_argument(
        "--speakers", metavar="auto|N|channels",
        help="cluster each file's utterances (or --segment fixed windows) by voice into N speakers (auto: the "
             "number found, 2 to 6 or one when every piece sounds alike: it often splits one emotional voice, so "
             "give N when you know it; channels: each channel of a multi-channel file is one speaker, as a call recorded "
             "with each party on a channel of their own); segments and summaries per speaker; a "
             "speaker-normalised model standardises each speaker by their own statistics",
    )
    parser.add_argument("--manifest", metavar="CSV", help="a CSV with a 'path' column (relative to the CSV) naming the files")
    parser.epilog = (parser.epilog or "") + (
        "\n\nA voice-activity detector runs first: a file without speech gets 'no speech' and its reason,\n"
        "no emotion. Speech is cut at its pauses into utterances of 1-10 s, each with its emotion; the\n"
        "whole-file answer weights them by their seconds of speech (docs/predict.md).\n"
        "A file that fails gets a 'failed:' line and the others are still predicted.\n"
        "exit status: 0 when at least one file was predicted (no speech counts), 1 when none was or on an error."
    )


def collect_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """``(files, empty_folders)``: files as given, folders walked (sorted) for files with
    an audio suffix, and the folders that had none."""
    from pathlib import Path

    from serkit.corpora.base import AUDIO_EXTENSIONS

    files, empty_folders = [], []
    for path in paths:
        if Path(path).is_dir():
            found = sorted(
                p for p in Path(path).rglob("*")
                if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file() and not p.name.startswith(".")
            )
            if not found:
                empty_folders.append(path)
            files.extend(str(p) for p in found)
        else:
            files.append(path)  # missing files are reported per file, with the others predicted
    return files, empty_folders


def shown_names(files: list[str], paths: list[str]) -> list[str]:
    """How the table names each file: relative to the folder given that it was found in
    (``Actor_22/03-01-….wav`` for ``serkit predict ravdess-speech/``); a file given itself,
    or listed by a manifest, as given.

    >>> shown_names(["./Actor_22/a.wav", "b.wav"], [".", "b.wav"])  # "." is a folder, "b.wav" a file
    ['Actor_22/a.wav', 'b.wav']
    """
    import os

    folders = [path for path in paths if os.path.isdir(path)]
    given = set(paths)
    return [next((os.path.relpath(file, folder) for folder in folders
                  if file not in given and file.startswith(os.path.join(folder, ""))), file) for file in files]


def read_manifest(csv_path: str, speaker_column: str | None) -> tuple[list[str], list[str] | None]:
    """Files (resolved against the CSV's folder) and, with ``speaker_column``, their speakers."""
    import csv
    from pathlib import Path

    from serkit.core.exceptions import CorpusError

    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise CorpusError(f"{csv_path}: cannot read ({error.strerror})") from None
    columns = list(rows[0]) if rows else []
    for needed in ("path", speaker_column):
        if needed is not None and needed not in columns:
            raise CorpusError(f"{csv_path}: no column {needed!r} (columns: {', '.join(columns) or 'none'})")
    base = Path(csv_path).parent
    files = [str(base / row["path"]) for row in rows]
    return files, ([row[speaker_column] for row in rows] if speaker_column else None)


def format_table(items: list[dict], names: list[str] | None = None) -> str:
    """One line per file (emotion, its probability, the runner-up; or "no speech" and why),
    the timeline's runs beneath (neighbouring utterances or windows of one emotion joined,
    as the page draws them);
    each file is named by ``names`` (default: its path), cut from the left when longer than
    the terminal leaves room for."""
    import shutil

    names = names or [item["path"] for item in items]

    from serkit.inference.timeline import runs

    room = max(20, shutil.get_terminal_size().columns - 40)  # 40: the emotion, its share, the runner-up
    width = min(room, max(map(len, names)))
    lines = []
    for item, full_name in zip(items, names):
        name = full_name if len(full_name) <= width else "…" + full_name[-width + 1 :]
        if "error" in item:
            reason = item["error"].removeprefix(f"{item['path']}: ")  # the path is already on the line
            lines.append(f"{name:<{width}}  failed: {reason}")
            continue
        if item.get("no_speech"):
            lines.append(f"{name:<{width}}  {item['no_speech']}")
            continue
        ranked = sorted(item["probabilities"].items(), key=lambda kv: -kv[1])
        runner_up = f"  (then {ranked[1][0]} {ranked[1][1]:.0%})" if len(ranked) > 1 else ""
        speech = f"  {item['speech_seconds']:.1f} s of speech" if "speech_seconds" in item else ""
        voice = f"  voice {item['voice']}" if item.get("voice") else ""  # a folder adapted voice by voice
        lines.append(f"{name:<{width}}  {item['emotion']:<10} {ranked[0][1]:>4.0%}{runner_up}{speech}{voice}")
        if item.get("caution"):
            familiarity = f" (familiarity {item['familiarity']:.0%})" if item.get("familiarity") is not None else ""
            lines.append(f"{'':<{width}}  caution: {item['caution']}{familiarity}")
        unit = "utterances" if "speech_seconds" in item else "windows"
        for run in runs(item) if len(item.get("segments", [])) > 1 else []:
            joined = f"  ({run.count} {unit}, up to {run.probability:.0%})" if run.count > 1 else f" {run.probability:>4.0%}"
            who = f"  {run.speaker}" if run.speaker else ""
            lines.append(f"{'':<{width}}  {run.start:5.1f}–{run.end:5.1f} s{who}  {run.emotion:<10}{joined}")
        if item.get("summary") and len(item["segments"]) > 1:
            total = item.get("speech_seconds", item["duration"])
            lines.append(f"{'':<{width}}  {format_summary(item['summary'], total)}")
        for speaker, own in (item.get("speakers") or {}).items():
            lines.append(f"{'':<{width}}  {speaker}: {format_summary(own['summary'], own['seconds'])}")
        if item.get("speakers_caution"):
            lines.append(f"{'':<{width}}  caution: {item['speakers_caution']}")
    return "\n".join(lines)


def format_summary(summary: dict, duration: float) -> str:
    """``summary: mostly sad (62% of 60.0 s); sad 37.5 s, happy 22.5 s`` (emotions with time only;
    ``duration``: the seconds the shares are of, the speech's with utterances).

    >>> format_summary({"seconds": {"happy": 1.0, "sad": 3.0, "calm": 0.0}, "dominant": "sad"}, 4.0)
    'summary: mostly sad (75% of 4.0 s); sad 3.0 s, happy 1.0 s'
    """
    ranked = sorted(((s, e) for e, s in summary["seconds"].items() if s > 0), reverse=True)
    share = summary["seconds"][summary["dominant"]] / duration if duration else 0.0
    return f"summary: mostly {summary['dominant']} ({share:.0%} of {duration:.1f} s); " + ", ".join(
        f"{emotion} {seconds:.1f} s" for seconds, emotion in ranked
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from serkit.core.exceptions import ParameterError
    from serkit.core.threads import usable_cores

    output_format = choose_format(args)
    if args.speaker_from not in (None, "folder") and not args.manifest:
        raise ParameterError(f"--speaker-from {args.speaker_from!r} names a manifest column: give --manifest CSV")
    files, empty_folders = collect_files(args.paths)
    speakers = None
    if args.manifest:
        column = args.speaker_from if args.speaker_from not in (None, "folder") else None
        listed, speakers = read_manifest(args.manifest, column)
        files += listed
        if speakers is not None and args.paths:
            raise ParameterError("with --speaker-from COLUMN, the files come from --manifest only")
    if not files:
        raise ParameterError(f"no audio files in {', '.join(empty_folders)}" if empty_folders else "no audio files given")
    for folder in empty_folders:
        print(f"no audio files in {folder}", file=sys.stderr)  # the other paths are still predicted
    if args.speaker_from == "folder":
        speakers = [Path(f).parent.name for f in files]
    if output_format in ("vtt", "textgrid") and len(files) != 1:
        raise ParameterError(f"--format {output_format} writes one file's timeline; got {len(files)} files")

    from serkit.models.artifacts import load_model

    from serkit.inference.speakers import parse_speakers

    diarize = parse_speakers(args.speakers)
    if diarize == "channels" and args.segment != "vad":
        raise ParameterError("--speakers channels finds each channel's utterances: leave out --segment fixed")
    if args.segment == "vad":
        from serkit.inference.speech import vad_network

        vad_network.preload()  # built in a thread while the model loads (its errors come with the first file)
    predictor = load_model(args.model, runtime=args.runtime)
    if speakers is not None and diarize is not None:
        raise ParameterError("give --speaker-from (speakers known) or --speakers (speakers found), not both")
    grouped = predictor.speaker_norm or args.adapt
    if speakers is not None and not grouped:
        print("note: this model was trained without speaker normalisation; --speaker-from is ignored", file=sys.stderr)
    batch = predictor.predict_batch(
        files,
        speakers=speakers if grouped else None,
        adapt=args.adapt,
        window_s=args.window,
        hop_s=args.hop,
        progress=sys.stderr.isatty(),  # a folder's files, or one long recording's detection and utterances
        n_jobs=min(8, usable_cores()),
        segment=args.segment,
        diarize=diarize,
    )
    items = []
    for entry in batch:
        item = entry.to_dict()
        if "error" not in item and not item["segments"] and "speech_seconds" not in item:
            del item["segments"], item["summary"], item["speakers"]  # the whole-file answer is the result for short audio
            item.pop("speakers_caution", None)
        items.append(item)
    destination = args.output
    if output_format in ("vtt", "textgrid") and "error" in items[0]:
        output_format, destination = "table", None  # its 'failed:' line, not a subtitle file
    write_output(render(items, output_format, shown_names(files, args.paths)), destination)
    failed = sum("error" in item for item in items)
    silent = sum(bool(item.get("no_speech")) for item in items)
    if failed or silent:
        without = f", {silent} without speech" if silent else ""
        print(f"{len(items) - failed - silent} predicted, {failed} failed{without}", file=sys.stderr)
    return 0 if failed < len(items) else 1


def choose_format(args: argparse.Namespace) -> str:
    """--format, else --json, else the suffix of -o, else the table.

    >>> choose_format(argparse.Namespace(format=None, json=False, output="talk.TextGrid"))
    'textgrid'
    """
    from pathlib import Path

    from serkit.core.exceptions import ParameterError

    if args.format and args.json and args.format != "json":
        raise ParameterError(f"--json and --format {args.format} disagree; give one")
    if args.format or args.json:
        return args.format or "json"
    if args.output is None or args.output == "-":
        return "table"
    suffix = Path(args.output).suffix.lower()
    if suffix not in SUFFIXES:
        raise ParameterError(f"-o {args.output}: say the format with --format or a suffix ({', '.join(SUFFIXES)})")
    return SUFFIXES[suffix]


def render(items: list[dict], output_format: str, names: list[str] | None = None) -> str:
    """The results as text in ``output_format`` (vtt and textgrid: of the one file; ``names``:
    how the table names the files)."""
    import json

    from serkit.inference import timeline

    if output_format == "json":
        return json.dumps(items, indent=2)
    if output_format == "csv":
        return timeline.to_csv(items)
    if output_format in ("vtt", "textgrid"):
        return (timeline.to_webvtt if output_format == "vtt" else timeline.to_textgrid)(items[0])
    return format_table(items, names)


def write_output(text: str, destination: str | None) -> None:
    """Print ``text``, or write it to ``destination`` atomically."""
    from pathlib import Path

    from serkit.cli._common import write_atomically

    if destination in (None, "-"):
        print(text.rstrip("\n"))
        return
    write_atomically(Path(destination), lambda partial: partial.write_text(text, encoding="utf-8"))
