"""``serkit predict``: the emotion of each audio file, with a timeline for long audio."""

from __future__ import annotations

import argparse

HELP = "Predict the emotion of audio files (the bundled model unless --model), with a timeline for long audio."
EXAMPLE = "serkit predict clip.wav recordings/ --json\n  serkit predict meeting.wav --speakers auto"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="FILE_OR_DIR", help="audio files, or folders searched for them")
    parser.add_argument("--model", metavar="MODEL_DIR", help="a saved model directory, or a bundled model by name (cnn-ensemble-v1: the default before 0.2); default: the bundled one")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one object per file")
    parser.add_argument(
        "--runtime", choices=("auto", "export", "skops"), default="auto",
        help="run the model's numpy export (auto: when it has one) or its scikit-learn/PyTorch pipeline (skops)",
    )
    parser.add_argument("--window", type=float, metavar="S", help="timeline window in seconds, 0.5 to 60 (default 3)")
    parser.add_argument("--hop", type=float, metavar="S", help="timeline hop in seconds, 0.1 to the window (default 1.5)")
    parser.add_argument(
        "--speaker-from",
        metavar="folder|COLUMN",
        help="standardise features per speaker: the speaker is each file's folder, or COLUMN of --manifest",
    )
    parser.add_argument(
        "--speakers", metavar="auto|N",
        help="cluster each file's timeline by voice into N speakers (auto: the number found); segments and "
             "summaries per speaker; a speaker-normalised model standardises each speaker by their own statistics",
    )
    parser.add_argument("--manifest", metavar="CSV", help="a CSV with a 'path' column (relative to the CSV) naming the files")
    parser.epilog = (parser.epilog or "") + (
        "\n\nA file that fails gets a 'failed:' line and the others are still predicted.\n"
        "Audio of at least window + hop seconds gets a timeline, a summary (seconds per emotion)\n"
        "and a whole-file answer made from its windows (docs/service-limits.md).\n"
        "exit status: 0 when at least one file was predicted, 1 when none was or on an error."
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

    >>> shown_names(["corpus/Actor_22/a.wav", "b.wav"], ["corpus", "b.wav"])  # doctest: +SKIP (corpus: a folder)
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
    """One line per file (emotion, its probability, the runner-up), timeline lines beneath;
    each file is named by ``names`` (default: its path), cut from the left when longer than
    the terminal leaves room for."""
    import shutil

    names = names or [item["path"] for item in items]
    room = max(20, shutil.get_terminal_size().columns - 40)  # 40: the emotion, its share, the runner-up
    width = min(room, max(map(len, names)))
    lines = []
    for item, full_name in zip(items, names):
        name = full_name if len(full_name) <= width else "…" + full_name[-width + 1 :]
        if "error" in item:
            reason = item["error"].removeprefix(f"{item['path']}: ")  # the path is already on the line
            lines.append(f"{name:<{width}}  failed: {reason}")
            continue
        ranked = sorted(item["probabilities"].items(), key=lambda kv: -kv[1])
        runner_up = f"  (then {ranked[1][0]} {ranked[1][1]:.0%})" if len(ranked) > 1 else ""
        lines.append(f"{name:<{width}}  {item['emotion']:<10} {ranked[0][1]:>4.0%}{runner_up}")
        if item.get("caution"):
            lines.append(f"{'':<{width}}  caution: {item['caution']} (familiarity {item['familiarity']:.0%})")
        for segment in item.get("segments", []):
            p = segment["probabilities"][segment["emotion"]]
            span = f"{segment['start']:5.1f}–{segment['end']:5.1f} s"
            who = f"  {segment['speaker']}" if segment.get("speaker") else ""
            lines.append(f"{'':<{width}}  {span}{who}  {segment['emotion']:<10} {p:>4.0%}")
        if item.get("summary"):
            lines.append(f"{'':<{width}}  {format_summary(item['summary'], item['duration'])}")
        for speaker, own in (item.get("speakers") or {}).items():
            lines.append(f"{'':<{width}}  {speaker}: {format_summary(own['summary'], own['seconds'])}")
    return "\n".join(lines)


def format_summary(summary: dict, duration: float) -> str:
    """``summary: mostly sad (62% of 60.0 s); sad 37.5 s, happy 22.5 s`` (emotions with time only).

    >>> format_summary({"seconds": {"happy": 1.0, "sad": 3.0, "calm": 0.0}, "dominant": "sad"}, 4.0)
    'summary: mostly sad (75% of 4.0 s); sad 3.0 s, happy 1.0 s'
    """
    ranked = sorted(((s, e) for e, s in summary["seconds"].items() if s > 0), reverse=True)
    share = summary["seconds"][summary["dominant"]] / duration if duration else 0.0
    return f"summary: mostly {summary['dominant']} ({share:.0%} of {duration:.1f} s); " + ", ".join(
        f"{emotion} {seconds:.1f} s" for seconds, emotion in ranked
    )


def run(args: argparse.Namespace) -> int:
    import json
    import os
    import sys
    from pathlib import Path

    from serkit.core.exceptions import ParameterError

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

    from serkit.models.artifacts import load_model

    from serkit.inference.speakers import parse_speakers

    diarize = parse_speakers(args.speakers)
    predictor = load_model(args.model, runtime=args.runtime)
    if speakers is not None and diarize is not None:
        raise ParameterError("give --speaker-from (speakers known) or --speakers (speakers found), not both")
    if speakers is not None and not predictor.speaker_norm:
        print("note: this model was trained without speaker normalisation; --speaker-from is ignored", file=sys.stderr)
    batch = predictor.predict_batch(
        files,
        speakers=speakers if predictor.speaker_norm else None,
        window_s=args.window,
        hop_s=args.hop,
        progress=len(files) > 1 and sys.stderr.isatty(),
        n_jobs=min(8, os.cpu_count() or 1),
        diarize=diarize,
    )
    items = []
    for entry in batch:
        item = entry.to_dict()
        if "error" not in item and not item["segments"]:
            del item["segments"], item["summary"], item["speakers"]  # the whole-file answer is the result for short audio
        items.append(item)
    if args.json:
        print(json.dumps(items, indent=2))
    else:
        print(format_table(items, shown_names(files, args.paths)))
    failed = sum("error" in item for item in items)
    if failed:
        print(f"{len(items) - failed} predicted, {failed} failed", file=sys.stderr)
    return 0 if failed < len(items) else 1
