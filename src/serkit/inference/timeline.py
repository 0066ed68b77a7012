"""A prediction's timeline as text: merged runs, CSV, WebVTT and a Praat TextGrid.

The functions take the result dicts of :meth:`serkit.inference.Predictor.predict_file`
(with ``"path"``, as ``BatchItem.to_dict`` gives them) and use only the standard library.

- :func:`intervals`: the timeline as non-overlapping ``Interval`` s: the utterances
  (voice activity), the fixed windows each cut to the span nearest its centre (as the
  page draws them), or the whole clip;
- :func:`runs`: neighbouring intervals of one emotion joined, as the CLI and the page show them;
- :func:`to_csv`, :func:`to_webvtt`, :func:`to_textgrid`: the export formats.

Examples
--------
>>> result = {"path": "a.wav", "emotion": "sad", "probabilities": {"sad": 0.7, "happy": 0.3},
...           "duration": 6.0, "speech_seconds": 3.0, "summary": None, "segments": [
...           {"start": 0.5, "end": 2.0, "emotion": "sad", "probabilities": {"sad": 0.8, "happy": 0.2}},
...           {"start": 3.0, "end": 4.5, "emotion": "sad", "probabilities": {"sad": 0.6, "happy": 0.4}}]}
>>> runs(result)
[Run(start=0.5, end=4.5, emotion='sad', probability=0.8, count=2, speaker=None)]
>>> print(to_webvtt(result).splitlines()[2:5])
['1', '00:00:00.500 --> 00:00:02.000', 'sad 80%']
"""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

class Interval(NamedTuple):
    start: float
    end: float
    emotion: str
    probability: float


class Run(NamedTuple):
    """Neighbouring intervals of one emotion (and one speaker, when speakers were found):
    their span, the highest probability, how many."""

    start: float
    end: float
    emotion: str
    probability: float
    count: int
    speaker: str | None = None


def by_utterance(result: dict) -> bool:
    """Whether the result's segments are utterances (voice activity) rather than fixed windows."""
    return "speech_seconds" in result


def intervals(result: dict) -> list[Interval]:
    """The timeline as intervals in time order (empty for "no speech" or a failure); they do not
    overlap, except two speakers' utterances when both talk at once (``speakers="channels"``)."""
    if result.get("emotion") is None:
        return []
    segments = result.get("segments") or []
    if not segments:
        return [Interval(0.0, result["duration"], result["emotion"], result["probabilities"][result["emotion"]])]
    if by_utterance(result):
        return [Interval(s["start"], s["end"], s["emotion"], s["probabilities"][s["emotion"]]) for s in segments]
    centres = [(s["start"] + s["end"]) / 2 for s in segments]
    bounds = [0.0] + [round((a + b) / 2, 3) for a, b in zip(centres, centres[1:])] + [result["duration"]]
    return [Interval(bounds[i], bounds[i + 1], s["emotion"], s["probabilities"][s["emotion"]])
            for i, s in enumerate(segments)]


def runs(result: dict) -> list[Run]:
    """Neighbouring intervals of the same emotion and speaker joined (what the CLI prints, what the page draws)."""
    joined: list[Run] = []
    for (start, end, emotion, probability), speaker in zip(intervals(result), of_each(result, "speaker")):
        if joined and (joined[-1].emotion, joined[-1].speaker) == (emotion, speaker):
            last = joined[-1]
            joined[-1] = Run(last.start, end, emotion, max(last.probability, probability), last.count + 1, speaker)
        else:
            joined.append(Run(start, end, emotion, probability, 1, speaker))
    return joined


def of_each(result: dict, key: str) -> list:
    """``key`` ("speaker", "caution") of each of :func:`intervals`' intervals: its segment's, or the
    whole clip's where there are no segments (a whole clip has no speaker: None).

    >>> of_each({"segments": [{"speaker": "S1"}, {"speaker": "S2"}]}, "speaker"), of_each({"segments": []}, "speaker")
    (['S1', 'S2'], [None])
    >>> of_each({"segments": [{"caution": None}, {"caution": "clipped"}]}, "caution"), of_each({"segments": [], "caution": "x"}, "caution")
    ([None, 'clipped'], ['x'])
    """
    return [segment.get(key) for segment in result.get("segments") or []] or [result.get(key)]


def to_csv(results: list[dict]) -> str:
    """One row per interval (a file without speech or that failed: one row saying why).

    Columns: path, start, end, emotion, probability, speech_seconds, note (why a file has no rows,
    or an interval's caution: clipped, reverberant, unlike the training data), speaker (empty unless
    speakers were found: a recording's, or the voice a folder adapted voice by voice found for the file).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "start", "end", "emotion", "probability", "speech_seconds", "note", "speaker"])
    for result in results:
        note = result.get("error") or result.get("no_speech") or ""
        rows = intervals(result) if not note else []
        for (start, end, emotion, probability), speaker, caution in zip(rows, of_each(result, "speaker"), of_each(result, "caution")):
            writer.writerow([result["path"], start, end, emotion, round(probability, 4), result.get("speech_seconds", ""),
                             caution or "", speaker or result.get("voice") or ""])
        if not rows:
            writer.writerow([result["path"], "", "", "", "", result.get("speech_seconds", ""), note, ""])
    return out.getvalue()


def _vtt_time(seconds: float) -> str:
    """``HH:MM:SS.mmm``.

    >>> _vtt_time(3725.5)
    '01:02:05.500'
    """
    millis = int(round(seconds * 1000))
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def to_webvtt(result: dict) -> str:
    """A WebVTT subtitle track: one cue per interval, "emotion NN%", behind its speaker's voice tag
    (``<v S1>``) where speakers were found (a note when there is no speech)."""
    lines = ["WEBVTT", ""]
    if result.get("no_speech"):
        lines += [f"NOTE {result['no_speech']}", ""]
    for index, ((start, end, emotion, probability), speaker) in enumerate(zip(intervals(result), of_each(result, "speaker")), 1):
        voice = "" if speaker is None else f"<v {speaker}>"
        lines += [str(index), f"{_vtt_time(start)} --> {_vtt_time(end)}", f"{voice}{emotion} {probability:.0%}", ""]
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def to_textgrid(result: dict) -> str:
    """A Praat TextGrid (long text format): one interval tier, ``emotion``, or where speakers were
    found one tier per speaker, named after them (two speakers may talk at once).

    Praat's intervals tile the whole recording: the stretches between a tier's intervals
    (pauses, the other speakers' turns, or the whole file without speech) are empty intervals.
    """
    duration, found, speakers = result["duration"], intervals(result), of_each(result, "speaker")
    names = list(dict.fromkeys(speakers)) if None not in speakers else ["emotion"]
    tiers = {name: [i for i, speaker in zip(found, speakers) if speaker in (name, None)] for name in names}
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {duration}",
             "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for number, (name, own) in enumerate(tiers.items(), 1):
        tiles = _tiles(own, duration)
        lines += [f"    item [{number}]:", '        class = "IntervalTier"', f"        name = {_quoted(name)}",
                  "        xmin = 0", f"        xmax = {duration}", f"        intervals: size = {len(tiles)}"]
        for index, (start, end, text) in enumerate(tiles, 1):
            lines += [f"        intervals [{index}]:", f"            xmin = {start}", f"            xmax = {end}",
                      f"            text = {_quoted(text)}"]
    return "\n".join(lines) + "\n"


def _tiles(found: list, duration: float) -> list[tuple[float, float, str]]:
    """``found``'s intervals with the empty stretches between them: the whole of ``[0, duration]``."""
    tiles, t = [], 0.0
    for start, end, emotion, probability in found:
        if start > t:
            tiles.append((t, start, ""))
        tiles.append((start, end, f"{emotion} {probability:.0%}"))
        t = end
    if t < duration or not tiles:
        tiles.append((t, duration, ""))
    return tiles
