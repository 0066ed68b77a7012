"""Synthetic conversations from corpus clips, with their ground truth: a reusable builder.

Two to four speakers of one corpus take turns, one clip per turn (never the same
speaker twice in a row), with pauses of 0.2–2 s between turns, until the
conversation is 1–5 minutes long. Each clip is first trimmed to its speech by an
energy rule (frames within :data:`TRIM_DB` of the clip's loudest, independent of
any voice-activity detector), so the truth is exact: a turn's ``start``/``end`` are
where its trimmed audio lies. Pauses hold a faint noise floor (:data:`FLOOR_DBFS`),
not digital silence, as a noise gate leaves them (``floor="gate"``, the default); with
``floor="room"`` they hold the clips' own room tone instead, as one microphone in one room
would record the turns: the first half of a pause is the end of the clip before it (what
followed its speech), the second half the start of the clip after it (what preceded it),
each extended by mirroring where the clip holds less. The turns and their times are the same
either way.

Used by ``bench_speech.py`` (utterance boundaries, utterance-level accuracy) and the
speaker benchmarks (diarisation error rate); speakers can be chosen, or drawn with
``genders="mixed"`` (at least one of each) or ``"same"`` (one gender).

Usage::

    from conversations import build_conversations
    for conversation in build_conversations("ravdess", "../shared/data/ravdess-speech", count=5, seed=0):
        conversation.audio, conversation.sr, conversation.turns   # samples, rate, list of Turn
        conversation.write("conv.wav")                             # audio + conv.json (the truth)

    python3 benchmarks/conversations.py nemo ../shared/data/nemo -n 2 -o /tmp/conversations
    python3 benchmarks/conversations.py ravdess ../shared/data/ravdess-speech --speakers 1 -o /tmp/monologues
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
PAUSE_S = (0.2, 2.0)
MINUTES = (1.0, 5.0)
SPEAKERS = (2, 4)
TRIM_DB = 35.0
"""A clip's speech: from its first to its last 20 ms frame within this many dB of its loudest."""
FLOOR_DBFS = -90.0
"""Level of the noise under the whole conversation: dither, not digital silence, and far below
the clips' own room noise (a louder white floor, -65 dBFS, moved the bundled model towards "calm"
on quiet clips: a confound, not an effect of the conversation)."""
FRAME_S = 0.02
FLOORS = ("gate", "room")


@dataclass(frozen=True)
class Turn:
    """One utterance of a conversation: where it lies (s) and what it is."""

    start: float
    end: float
    speaker: str
    gender: str
    emotion: str
    path: str


@dataclass
class Conversation:
    audio: np.ndarray
    sr: int
    turns: list[Turn]

    @property
    def speakers(self) -> list[str]:
        return sorted({turn.speaker for turn in self.turns})

    def write(self, path: str | Path) -> None:
        """The audio (any format soundfile writes, from the suffix) and ``PATH.json`` with the turns."""
        path = Path(path)
        sf.write(path, self.audio, self.sr)
        truth = {"sr": self.sr, "duration": len(self.audio) / self.sr, "turns": [asdict(t) for t in self.turns]}
        path.with_suffix(".json").write_text(json.dumps(truth, indent=1))


def speech_bounds(y: np.ndarray, sr: int) -> tuple[int, int]:
    """``(start, end)`` samples of ``y``'s first and last frame within :data:`TRIM_DB` of its loudest frame.

    >>> speech_bounds(np.r_[np.zeros(8000), np.ones(4000), np.zeros(8000)].astype(np.float32), 16000)
    (8000, 12160)
    """
    hop = int(FRAME_S * sr)
    frames = len(y) // hop
    energy = (y[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1)
    level = 10 * np.log10(energy + 1e-12)
    loud = np.flatnonzero(level >= level.max() - TRIM_DB)
    return int(loud[0] * hop), int(min(len(y), (loud[-1] + 1) * hop))


def trim_to_speech(y: np.ndarray, sr: int) -> np.ndarray:
    """``y`` from its first to its last frame within :data:`TRIM_DB` of its loudest frame.

    >>> y = np.r_[np.zeros(8000), np.ones(4000), np.zeros(8000)].astype(np.float32)
    >>> len(trim_to_speech(y, 16000))
    4160
    """
    start, end = speech_bounds(y, sr)
    return y[start:end]


def room_tone(tone: np.ndarray, n: int, *, near_speech: str) -> np.ndarray:
    """``n`` samples of a clip's room tone ``tone`` (what lies before or after its speech), the part
    next to the speech kept (``near_speech``: ``"start"`` of ``tone`` after the speech, ``"end"``
    before it) and mirrored on where ``tone`` is shorter; silence where the clip has none.

    >>> room_tone(np.array([1.0, 2.0, 3.0]), 5, near_speech="start").tolist()
    [1.0, 2.0, 3.0, 3.0, 2.0]
    >>> room_tone(np.array([1.0, 2.0, 3.0]), 2, near_speech="end").tolist()
    [2.0, 3.0]
    """
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    if len(tone) == 0:
        return np.zeros(n, dtype=np.float32)
    if near_speech == "start":
        return np.pad(tone[:n], (0, max(0, n - len(tone))), mode="symmetric").astype(np.float32)
    return np.pad(tone[-n:], (max(0, n - len(tone)), 0), mode="symmetric").astype(np.float32)


def corpus_clips(corpus: str, root: str | Path):
    """The corpus table (path made absolute) from :func:`serkit.corpora.read_corpus`."""
    from serkit.corpora import read_corpus

    table = read_corpus(corpus, root).table.copy()
    table["path"] = [str(Path(root) / p) for p in table["path"]]
    return table


def choose_speakers(table, rng: np.random.Generator, n: int, genders: str = "any") -> list[str]:
    """``n`` speakers of ``table``: any, ``"mixed"`` (both genders present) or ``"same"`` (one gender)."""
    gender_of = table.groupby("speaker")["gender"].first()
    if genders == "same":
        pools = [list(g.index) for _, g in gender_of.groupby(gender_of) if len(g) >= n]
        pool = pools[rng.integers(len(pools))]
        return list(rng.choice(pool, n, replace=False))
    while True:
        chosen = list(rng.choice(list(gender_of.index), n, replace=False))
        if genders != "mixed" or gender_of[chosen].nunique() > 1:
            return chosen


def build_conversation(table, speakers: list[str], rng: np.random.Generator, *, minutes: float,
                       sr: int = SR, floor: str = "gate") -> Conversation:
    """A conversation of ``speakers`` (ids of ``table``) lasting about ``minutes``; its pauses on
    a noise gate's floor (``"gate"``) or in the clips' own room tone (``"room"``)."""
    from serkit.core.audio import load_audio

    if floor not in FLOORS:
        raise ValueError(f"floor={floor!r}: one of {', '.join(FLOORS)}")
    by_speaker = {speaker: table[table["speaker"] == speaker] for speaker in speakers}
    pieces, turns, tones, t, previous = [], [], [], 0.0, None
    pieces.append(np.zeros(int(rng.uniform(*PAUSE_S) * sr), dtype=np.float32))
    t = len(pieces[0]) / sr
    while t < minutes * 60:
        speaker = rng.choice([s for s in speakers if s != previous] or speakers)  # one speaker: a monologue
        row = by_speaker[speaker].iloc[rng.integers(len(by_speaker[speaker]))]
        y, _ = load_audio(row["path"], sr=sr, warn_silent=False)
        start, end = speech_bounds(y, sr)
        tones.append((y[:start], y[end:]))
        y = y[start:end]
        turns.append(Turn(round(t, 3), round(t + len(y) / sr, 3), str(speaker), str(row["gender"]),
                          str(row["label"]), str(row["path"])))
        pause = np.zeros(int(rng.uniform(*PAUSE_S) * sr), dtype=np.float32)
        pieces += [y, pause]
        t += (len(y) + len(pause)) / sr
        previous = speaker
    if floor == "room":
        _fill_pauses(pieces, tones)
    audio = np.concatenate(pieces)
    audio += (10 ** (FLOOR_DBFS / 20) * rng.standard_normal(len(audio))).astype(np.float32)
    return Conversation(audio.astype(np.float32), sr, turns)


def _fill_pauses(pieces: list[np.ndarray], tones: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Fill the pauses of ``pieces`` (pause, turn, pause, …, turn, pause) in place with the room tone
    of the turns on either side (``tones``: each turn's audio before and after its speech)."""
    silence = np.zeros(0, dtype=np.float32)
    last = len(tones)
    for j in range(last + 1):  # pause j lies between turns j - 1 and j: the first and last have one neighbour
        n = len(pieces[2 * j])
        first = 0 if j == 0 else n if j == last else n // 2
        after = tones[j - 1][1] if j > 0 else silence
        before = tones[j][0] if j < last else silence
        pieces[2 * j] = np.concatenate([room_tone(after, first, near_speech="start"),
                                        room_tone(before, n - first, near_speech="end")])


def build_conversations(corpus: str, root: str | Path, *, count: int, seed: int = 0, genders: str = "any",
                        speakers: list[str] | None = None, sr: int = SR, floor: str = "gate",
                        n_speakers: int | None = None):
    """``count`` conversations of ``corpus`` (a generator): 2–4 speakers (``n_speakers`` if
    given; 1: a monologue), 1–5 minutes each.

    ``speakers``: draw only from these (e.g. speakers held out of a model's training); ``floor``:
    the pauses on a noise gate's floor (``"gate"``) or in the clips' own room tone (``"room"``).
    """
    rng = np.random.default_rng(seed)
    table = corpus_clips(corpus, root)
    if speakers is not None:
        table = table[table["speaker"].isin(speakers)]
    for _ in range(count):
        n = n_speakers or int(rng.integers(SPEAKERS[0], SPEAKERS[1] + 1))
        n = min(n, table["speaker"].nunique())
        chosen = choose_speakers(table, rng, n, genders)
        yield build_conversation(table, chosen, rng, minutes=rng.uniform(*MINUTES), sr=sr, floor=floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="a serkit corpus reader name (ravdess, nemo, ...)")
    parser.add_argument("root", help="the corpus folder")
    parser.add_argument("-n", "--count", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--genders", choices=("any", "mixed", "same"), default="any")
    parser.add_argument("--floor", choices=FLOORS, default="gate", help="the pauses: a noise gate's floor, or the clips' own room tone")
    parser.add_argument("--speakers", type=int, metavar="N", help="N speakers in each (1: a monologue; default: 2-4 drawn)")
    parser.add_argument("-o", "--out", default="conversations", help="folder for NAME.wav + NAME.json")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for index, conversation in enumerate(build_conversations(args.corpus, args.root, count=args.count,
                                                             seed=args.seed, genders=args.genders, floor=args.floor,
                                                             n_speakers=args.speakers)):
        conversation.write(out / f"{args.corpus}-{index:02d}.wav")
        print(f"{out / f'{args.corpus}-{index:02d}.wav'}: {len(conversation.audio) / conversation.sr:.0f} s, "
              f"{len(conversation.turns)} turns, speakers {', '.join(conversation.speakers)}")


if __name__ == "__main__":
    main()
