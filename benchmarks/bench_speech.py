"""Speech presence and utterances against issue 19's targets, with the bundled model.

Prints one line per target:

- ``nonspeech``: synthesised non-speech clips (white, pink and brown noise, mains hums,
  tones, chirps, clicks, music-like chords, silence with a noise floor; at several
  levels) answered "no speech" (target ≥ 95 %);
- ``corpora``: the shared corpora's speech clips (RAVDESS 1200, nEMO 2076) wrongly
  refused as "no speech" (target ≤ 0.5 %);
- ``conversations``: synthetic conversations (``conversations.py``: 2–4 speakers of one
  corpus, pauses of 0.2–2 s, 1–5 min): utterance boundaries, F1 at 200 ms (target ≥ 0.90),
  and the utterance-level UA against the same clips predicted alone (target: within
  2 points), and against each turn alone as the conversation holds it (trimmed, on its
  floor: :func:`turns_as_placed`), which tells the segmentation's share from the trimming's; the pauses
  hold a noise gate's floor, or with ``--floor room`` the clips' own room tone. Every speaker of both corpora is in the bundled model's training, so with
  ``--held-out`` the conversations draw only from the last speakers of each corpus
  (:data:`HELD_OUT`) and are predicted by the bundled recipe trained without them;
- ``agreement``: the voice activity as serkit runs it against Silero run chunk after chunk
  (segment boundaries within 64 ms, on the same conversations);
- ``hour``: an hour of conversation through ``serkit predict`` (wall time and peak RSS,
  targets ≤ 60 s and ≤ 500 MB) and the voice activity's own share of it (target ≤ 10 %);
- ``calls``: the RAVDESS conversations recorded as calls, each speaker on a channel of their own
  with the others leaking in 30, 20 or 12 dB down (or not at all): the speaker confusion (DER with
  the turns given) of ``speakers="channels"`` against ``"auto"`` on the channels' mix, and the
  utterances found on the wrong channel;
- ``mains``: the conversations in a room's tone as recorded and under a mains buzz 20 or 10 dB
  under their speech: utterance boundaries and the speakers found with their number given;
- ``speakers``: ``--speakers auto`` on conversations and monologues of each corpus's speakers that
  no speaker constant was chosen on (RAVDESS actors 13-20, every nEMO speaker; seed 3, both
  floors): the speaker confusion (DER with the turns given) and how often the count is right.

Usage::

    nice -n 10 python3 benchmarks/bench_speech.py                         # all parts
    nice -n 10 python3 benchmarks/bench_speech.py --parts nonspeech conversations --conversations 4
    nice -n 10 python3 benchmarks/bench_speech.py --parts conversations --held-out --augment "all;pause;gate"   # speakers the model never heard
    nice -n 10 python3 benchmarks/bench_speech.py --parts conversations --held-out --augment "all;pause;gate" --floor gate room
    python3 benchmarks/bench_speech.py --parts calls --conversations 6
    python3 benchmarks/bench_speech.py --parts mains
    python3 benchmarks/bench_speech.py --parts speakers --conversations 8
    python3 benchmarks/bench_speech.py --parts hour --buzz 20        # the hour under a mains buzz
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
from conversations import FLOORS, build_conversations  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = {"ravdess": DATA / "ravdess-speech", "nemo": DATA / "nemo"}
TOLERANCE_S = 0.2
NONSPEECH_S = 4.0
HELD_OUT = {"ravdess": 8, "nemo": 4}
"""``--held-out``: the last N speakers (sorted) of each corpus, left out of the model's training."""
LEVELS_DBFS = (-45.0, -30.0, -15.0)
"""RMS levels of the non-speech clips (quiet room to loud)."""


# -- non-speech ---------------------------------------------------------------------------


def coloured_noise(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise with power ∝ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    return np.fft.irfft(spectrum / f ** (exponent / 2), n)


def chord(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Music-like: a new three- or four-note chord of harmonic tones every 0.4–1 s, each note decaying."""
    y, start = np.zeros_like(t), 0.0
    while start < t[-1]:
        length = rng.uniform(0.4, 1.0)
        inside = (t >= start) & (t < start + length)
        local = t[inside] - start
        for semitone in rng.choice(np.arange(-12, 13), size=rng.integers(3, 5), replace=False):
            f0 = 261.6 * 2 ** (semitone / 12)
            y[inside] += sum(np.sin(2 * np.pi * k * f0 * local) / k for k in range(1, 5)) * np.exp(-3 * local)
        start += length
    return y


def nonspeech_clips(sr: int, seed: int = 0):
    """``(kind, level, samples)`` for every kind of non-speech at every level, a few variants each."""
    rng = np.random.default_rng(seed)
    n = int(NONSPEECH_S * sr)
    t = np.arange(n) / sr
    for variant in range(4):
        kinds = {
            "white noise": rng.standard_normal(n),
            "pink noise": coloured_noise(n, rng, 1.0),
            "brown noise": coloured_noise(n, rng, 2.0),
            "hum": sum(np.sin(2 * np.pi * k * (50 + 10 * (variant % 2)) * t) / k for k in range(1, 8)),
            "tone": np.sin(2 * np.pi * rng.uniform(100, 3000) * t),
            "chirp": np.sin(2 * np.pi * np.cumsum(np.geomspace(rng.uniform(80, 300), rng.uniform(2000, 8000), n)) / sr),
            "clicks": (rng.random(n) < rng.uniform(2, 20) / sr).astype(float) * rng.choice([-1, 1], n),
            "chords": chord(t, rng),
        }
        for kind, y in kinds.items():
            for level in LEVELS_DBFS:
                yield kind, level, (y / np.sqrt(np.mean(y ** 2)) * 10 ** (level / 20)).astype(np.float32)
        floor = rng.uniform(-80, -60)
        yield "silence with a noise floor", floor, (10 ** (floor / 20) * rng.standard_normal(n)).astype(np.float32)


def bench_nonspeech(predictor) -> None:
    answered, missed = 0, {}
    clips = list(nonspeech_clips(predictor.sr))
    for kind, level, y in clips:
        result = predictor.predict_audio(y, predictor.sr, segment="vad")
        if result.get("no_speech"):
            answered += 1
        else:
            missed.setdefault(kind, []).append(f"{level:.0f} dBFS")
    print(f"nonspeech: {answered}/{len(clips)} non-speech clips answered 'no speech' ({answered / len(clips):.1%}; "
          f"target >= 95 %)" + (f"; given an emotion: {missed}" if missed else ""))


# -- corpora --------------------------------------------------------------------------------


DEVELOPMENT_SPEAKERS = {f"Actor_{i:02d}" for i in range(1, 11)} | {f"nemo:{s}" for s in ("EB0", "IC0", "KD0", "KS0", "MK0")}
"""Speakers whose clips chose the voice activity's thresholds (RAVDESS actors 1–10, nEMO's first 5)."""


def bench_corpora(predictor, limit: int | None, vad_only: bool = False) -> None:
    """Refused speech clips (development speakers apart), and the UA of whole clips against their
    speech only (the bundled model never saw nEMO: a held-out corpus; it was trained on all of
    RAVDESS). ``vad_only``: the refusals alone (voice activity, no emotion)."""
    from serkit.core.audio import load_audio
    from serkit.inference.speech import find_speech

    from conversations import corpus_clips

    for corpus, root in CORPORA.items():
        if not root.is_dir():
            print(f"corpora: {root} not found, {corpus} skipped")
            continue
        table = corpus_clips(corpus, root)[:limit]
        refused, whole, speech_only, vad_s = [], [], [], 0.0
        for path, speaker in zip(table["path"], table["speaker"]):
            y, _ = load_audio(path, sr=predictor.sr, warn_silent=False)
            started = time.perf_counter()
            if vad_only:
                no_speech = not find_speech(y, predictor.sr).utterances
            else:
                result = predictor.predict_audio(y, predictor.sr, segment="vad")
                no_speech = bool(result.get("no_speech"))
                speech_only.append(result["emotion"])
                whole.append(predictor.predict_audio(y, predictor.sr, segment="fixed")["emotion"])
            vad_s += time.perf_counter() - started
            if no_speech:
                refused.append((Path(path).name, speaker in DEVELOPMENT_SPEAKERS))
        development = int(table["speaker"].isin(DEVELOPMENT_SPEAKERS).sum())
        n_dev = sum(dev for _, dev in refused)
        line = (f"corpora: {corpus}: {len(refused)}/{len(table)} speech clips refused as 'no speech' "
                f"({len(refused) / len(table):.2%}; target <= 0.5 %; development speakers {n_dev}/{development}, "
                f"others {len(refused) - n_dev}/{len(table) - development})"
                + (f" ({', '.join(name for name, _ in refused[:16])})" if refused else ""))
        if not vad_only:
            truth = list(table["label"])
            line += (f"; UA {unweighted_accuracy(truth, whole):.1%} on whole clips, "
                     f"{unweighted_accuracy(truth, speech_only):.1%} on their speech only")
        print(line + f"; {vad_s / len(table) * 1000:.0f} ms per clip{' (voice activity alone)' if vad_only else ''}")


# -- conversations --------------------------------------------------------------------------


def boundary_f1(truth: list[tuple[float, float]], found: list[tuple[float, float]]) -> tuple[int, int, int]:
    """Matched boundaries (starts with starts, ends with ends, one-to-one, within the
    tolerance), true boundaries, found boundaries."""
    matched = 0
    for side in (0, 1):
        taken = set()
        for point in (span[side] for span in truth):
            candidates = [(abs(span[side] - point), j) for j, span in enumerate(found)
                          if j not in taken and abs(span[side] - point) <= TOLERANCE_S]
            if candidates:
                taken.add(min(candidates)[1])
                matched += 1
    return matched, 2 * len(truth), 2 * len(found)


def unweighted_accuracy(truth: list[str], predicted: list[str | None]) -> float:
    recalls = [np.mean([p == t for p, t in zip(predicted, truth) if t == label]) for label in sorted(set(truth))]
    return float(np.mean(recalls))


def utterance_emotions(turns, segments, key: str = "emotion") -> list[str | None]:
    """For each true turn, the emotion (or another ``key``) of the found utterance overlapping it most (None: none does)."""
    emotions = []
    for turn in turns:
        overlaps = [(min(turn.end, s["end"]) - max(turn.start, s["start"]), s[key]) for s in segments]
        best = max(overlaps, default=(0.0, None))
        emotions.append(best[1] if best[0] > 0 else None)
    return emotions


def found_speakers_confusion(turns, segments) -> float:
    """The diarisation error (speaker confusion) of the found ``segments``' speakers over the true
    ``turns``, each turn taking the speaker of the segment overlapping it most."""
    from serkit.inference.speakers import diarization_error_rate

    speakers = [str(s) for s in utterance_emotions(turns, segments, "speaker")]
    return diarization_error_rate([t.end - t.start for t in turns], [t.speaker for t in turns], speakers)


def held_out_model(folder: str, augment: str | None = None):
    """The bundled recipe (``bench_adaptation.CHOSEN``, with the copies of ``augment`` as
    ``build_bundled_model.py --augment`` makes them; no temperatures, which move no argmax)
    trained without the :data:`HELD_OUT` speakers, saved in ``folder``; returns
    ``(predictor, {corpus: held-out speakers})``."""
    from bench_adaptation import CHOSEN, FEATURE_SET

    from serkit.corpora import read_corpus
    from serkit.evaluation import dataset_from_extraction
    from serkit.evaluation.augmented import augmented_dataset
    from serkit.features import extract_corpus
    from serkit.models.artifacts import load_model
    from serkit.training import train_model

    datasets, copies, held, feature_set = {}, {}, {}, None
    for corpus, root in CORPORA.items():
        table = read_corpus(corpus, root)
        speakers = sorted(set(table.table["speaker"].astype(str)))
        held[corpus] = speakers[-HELD_OUT[corpus]:]
        table.table = table.table[~table.table["speaker"].astype(str).isin(held[corpus])].reset_index(drop=True)
        extraction = extract_corpus(table, FEATURE_SET, n_jobs=1)
        datasets[corpus], feature_set = dataset_from_extraction(table, extraction)
        if augment:  # of the training speakers' clips only, babble too (so not the build's copies: its own folder)
            copies[corpus] = augmented_dataset(table, augment, feature_set, out_dir=Path(folder) / "copies" / corpus)
    adapt, balance, C, plain_C = CHOSEN
    train_model("logreg", datasets, feature_set, folder, balance=balance, adapt=adapt, params={"C": C},
                plain_params={"C": plain_C}, cross_validate=False, progress=False, augment=copies)
    return load_model(folder), held


def bench_conversations(predictor, count: int, vad_only: bool = False, held: dict | None = None,
                        floor: str = "gate") -> None:
    """Utterance boundaries and utterance-level UA on the conversations (``vad_only``: the boundaries
    alone; ``held``: draw each corpus's speakers from these only; ``floor``: the pauses on a noise
    gate's floor or in the clips' own room tone); an adapted model also answers each conversation
    adapted to its own utterances (``serkit predict FILE --adapt``)."""
    from serkit.inference.speech import find_speech

    for corpus, root in CORPORA.items():
        if not root.is_dir():
            continue
        matched = n_true = n_found = 0
        truth, together, alone, placed, adapted, by_speaker, seconds = [], [], [], [], [], [], 0.0
        # At the model's rate: RAVDESS resampled to 16 kHz would lose the band above 8 kHz its features use.
        for conversation in build_conversations(corpus, root, count=count, seed=1, sr=predictor.sr,
                                                speakers=None if held is None else held[corpus], floor=floor):
            if vad_only:
                found = [(u.start, u.end) for u in find_speech(conversation.audio, conversation.sr).utterances]
            else:
                result = predictor.predict_audio(conversation.audio, conversation.sr, segment="vad")
                found = [(s["start"], s["end"]) for s in result["segments"]]
                together += utterance_emotions(conversation.turns, result["segments"])
                alone += [predictor.predict_file(turn.path, segment="vad")["emotion"] for turn in conversation.turns]
                placed += [predictor.predict_audio(piece, conversation.sr, segment="vad")["emotion"]
                           for piece in turns_as_placed(conversation)]
                if predictor.adaptation is not None:
                    adapted += utterance_emotions(conversation.turns, own_utterances_adapted(predictor, conversation))
                    by_speaker += utterance_emotions(conversation.turns, own_utterances_adapted(predictor, conversation, "auto"))
            m, t, f = boundary_f1([(turn.start, turn.end) for turn in conversation.turns], found)
            matched, n_true, n_found = matched + m, n_true + t, n_found + f
            truth += [turn.emotion for turn in conversation.turns]
            seconds += len(conversation.audio) / conversation.sr
        precision, recall = matched / max(n_found, 1), matched / max(n_true, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        line = (f"conversations ({floor} floor): {corpus}: {count} conversations, {seconds / 60:.1f} min, {len(truth)} utterances: "
                f"boundary F1 at {TOLERANCE_S * 1000:.0f} ms {f1:.3f} (precision {precision:.3f}, recall {recall:.3f}; "
                f"target >= 0.90)")
        if not vad_only:
            ua_together, ua_alone = unweighted_accuracy(truth, together), unweighted_accuracy(truth, alone)
            ua_placed = unweighted_accuracy(truth, placed)
            line += (f"; utterance-level UA {ua_together:.1%} in the conversations vs {ua_alone:.1%} alone "
                     f"({100 * (ua_together - ua_alone):+.1f} points; target within 2), {ua_placed:.1%} alone as "
                     f"placed in the conversation ({100 * (ua_together - ua_placed):+.1f})")
            if adapted:
                line += (f"; adapted to each conversation's own utterances (--adapt) {unweighted_accuracy(truth, adapted):.1%}, "
                         f"each speaker found by their own (--adapt --speakers auto) {unweighted_accuracy(truth, by_speaker):.1%}")
        print(line)


BUZZES = (None, (50.0, 20.0), (50.0, 10.0), (100.0, 10.0))
"""``(fundamental Hz, dB under the speech)`` of the buzzes the ``mains`` part lays under its conversations
(None: as recorded): a ground loop's on the mains, and a transformer's on twice it."""
"""How far under a conversation's speech a mains buzz (:func:`mains_buzz`) lies (None: none)."""


def mains_buzz(t: np.ndarray, *, hz: float = 50.0, harmonics: int = 39) -> np.ndarray:
    """A ground loop's buzz at the times ``t`` (s): the mains ``hz`` and its harmonics at 1/k (1: a hum)."""
    return sum(np.sin(2 * np.pi * hz * k * t + k) / k for k in range(1, harmonics + 1))


def with_buzz(conversation, under_db: float | None, *, hz: float = 50.0) -> np.ndarray:
    """The conversation's audio with a buzz on ``hz`` (and its harmonics up to 2 kHz) ``under_db`` under
    its speech (as it is for None)."""
    if under_db is None:
        return conversation.audio
    sr, audio = conversation.sr, conversation.audio
    speech = np.concatenate([audio[round(turn.start * sr):round(turn.end * sr)] for turn in conversation.turns])
    buzz = mains_buzz(np.arange(len(audio)) / sr, hz=hz, harmonics=int(2000 // hz) - 1)
    return (audio + buzz * np.std(speech) / np.std(buzz) * 10 ** (-under_db / 20)).astype(np.float32)


def bench_mains(predictor, count: int) -> None:
    """Utterance boundaries and the speakers found with their number given, on the conversations in
    a room's tone as recorded and under a mains buzz (:data:`BUZZES`)."""
    import soundfile as sf

    from serkit.inference.speech import find_speech

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conversation.wav"
        for corpus, root in CORPORA.items():
            if not root.is_dir():
                continue
            conversations = list(build_conversations(corpus, root, count=count, seed=1, sr=predictor.sr, floor="room"))
            for buzz in BUZZES:
                matched = n_true = n_found = 0
                rates = []
                for conversation in conversations:
                    hz, under_db = buzz or (None, None)
                    audio, turns = with_buzz(conversation, under_db, hz=hz), conversation.turns
                    found = [(u.start, u.end) for u in find_speech(audio, conversation.sr).utterances]
                    m, t, f = boundary_f1([(turn.start, turn.end) for turn in turns], found)
                    matched, n_true, n_found = matched + m, n_true + t, n_found + f
                    sf.write(path, audio, conversation.sr, subtype="FLOAT")
                    segments = predictor.predict_file(path, segment="vad", diarize=len(conversation.speakers))["segments"]
                    rates.append(found_speakers_confusion(turns, segments))
                print(f"mains: {corpus}: {count} conversations in a room's tone, "
                      f"{'no buzz' if buzz is None else f'a {buzz[0]:g} Hz buzz {buzz[1]:g} dB under the speech'}: boundary F1 "
                      f"{2 * matched / max(n_true + n_found, 1):.3f}, DER with the true count {np.mean(rates):.1%}", flush=True)


UNCHOSEN_SPEAKERS = {"ravdess": [f"Actor_{actor:02d}" for actor in range(13, 21)], "nemo": None}
"""Each corpus's speakers no speaker constant was chosen on (``None``: all of them): the clustering's
constants came from conversations of RAVDESS actors 01-12 (``benchmarks/bench_speakers.py``)."""


def bench_speakers(predictor, count: int) -> None:
    """``--speakers auto`` through the speech detection on ``count`` conversations and as many
    monologues of each corpus's :data:`UNCHOSEN_SPEAKERS`, on each floor: the DER (the turns given)
    and the share of recordings whose number of speakers it finds."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recording.wav"
        for corpus, root in CORPORA.items():
            if not root.is_dir():
                continue
            for floor in FLOORS:
                for kind, n_speakers in (("conversations", None), ("monologues", 1)):
                    rates, counts = [], []
                    for recording in build_conversations(corpus, root, count=count, seed=3, sr=predictor.sr, floor=floor,
                                                         speakers=UNCHOSEN_SPEAKERS[corpus], n_speakers=n_speakers):
                        sf.write(path, recording.audio, recording.sr, subtype="FLOAT")
                        segments = predictor.predict_file(path, segment="vad", diarize="auto")["segments"]
                        rates.append(found_speakers_confusion(recording.turns, segments))
                        counts.append((len(recording.speakers), len({segment["speaker"] for segment in segments})))
                    print(f"speakers: {corpus}: {len(counts)} {kind} on the {floor} floor: DER with 'auto' {np.mean(rates):.1%}, "
                          f"count right in {sum(true == found for true, found in counts)} of {len(counts)} "
                          f"({', '.join(f'{true} → {found}' for true, found in counts)})", flush=True)


LEAKS_DB = (None, -30.0, -20.0, -12.0)
"""How far down the other parties leak into a call's channel (None: not at all)."""


def bench_calls(predictor, count: int) -> None:
    """The conversations as multi-channel calls: ``speakers="channels"`` against ``"auto"`` on the mix."""
    import soundfile as sf

    from serkit.inference.speakers import diarization_error_rate

    root = CORPORA["ravdess"]
    if not root.is_dir():
        return
    conversations = list(build_conversations("ravdess", root, count=count, seed=1, sr=predictor.sr))
    with tempfile.TemporaryDirectory() as folder:
        for leak_db in LEAKS_DB:
            durations, truth, channels_found, auto_found, wrong, n_found = [], [], [], [], 0, 0
            for k, conversation in enumerate(conversations):
                parties = sorted({turn.speaker for turn in conversation.turns})
                own = np.zeros((len(conversation.audio), len(parties)), np.float32)
                sr = conversation.sr
                for turn in conversation.turns:  # each turn on its speaker's channel, the pauses' floor on every one
                    span = slice(round(turn.start * sr), round(turn.end * sr))
                    own[span, parties.index(turn.speaker)] = conversation.audio[span]
                floor = conversation.audio - own.sum(axis=1)
                leak = 0.0 if leak_db is None else 10 ** (leak_db / 20)
                call = own + leak * (own.sum(axis=1, keepdims=True) - own) + floor[:, None]
                path = Path(folder) / f"call{k}.wav"
                sf.write(path, call, sr, subtype="FLOAT")
                by_channel = predictor.predict_file(path, diarize="channels")["segments"]
                by_voice = []
                if leak_db is None:
                    sf.write(Path(folder) / "mix.wav", call.mean(axis=1), sr, subtype="FLOAT")
                    by_voice = predictor.predict_file(Path(folder) / "mix.wav", segment="vad", diarize="auto")["segments"]
                durations += [turn.end - turn.start for turn in conversation.turns]
                truth += [f"{k}/{turn.speaker}" for turn in conversation.turns]
                channels_found += [f"{k}/{label}" for label in utterance_emotions(conversation.turns, by_channel, "speaker")]
                auto_found += [f"{k}/{label}" for label in utterance_emotions(conversation.turns, by_voice, "speaker")]
                n_found += len(by_channel)
                wrong += sum(all(min(t.end, s["end"]) - max(t.start, s["start"]) <= 0 or f"channel {parties.index(t.speaker) + 1}" != s["speaker"]
                                 for t in conversation.turns) for s in by_channel)
            line = (f"calls: {len(conversations)} RAVDESS conversations as calls, leak "
                    f"{'none' if leak_db is None else f'{leak_db:g} dB'}: DER with speakers='channels' "
                    f"{diarization_error_rate(durations, truth, channels_found):.1%}, {wrong} of {n_found} utterances "
                    f"on no true turn of their channel")
            if auto_found and leak_db is None:
                line += f"; 'auto' on the channels' mix {diarization_error_rate(durations, truth, auto_found):.1%}"
            print(line, flush=True)


def turns_as_placed(conversation) -> list[np.ndarray]:
    """Each turn's audio as the conversation holds it (trimmed, on the conversation's floor), from
    the middle of the pause before it to the middle of the pause after: what a perfect segmentation
    would let the model hear, so that conversation against this measures the segmentation and the
    neighbours, and this against the clip file the builder's trimming."""
    from serkit.inference.speech import heard_spans

    sr = conversation.sr
    spans = heard_spans(conversation.turns, len(conversation.audio) / sr, context_s=float("inf"))  # whole pauses' halves
    return [conversation.audio[round(start * sr): round(end * sr)] for start, end in spans]


def own_utterances_adapted(predictor, conversation, diarize=None) -> list[dict]:
    """The segments of ``serkit predict FILE --adapt`` on the conversation: its utterances
    standardised by their own statistics (``diarize``: each speaker found by their own, as with
    ``--speakers``; none where it has too few utterances)."""
    with tempfile.TemporaryDirectory(prefix="serkit-bench-") as folder:
        path = os.path.join(folder, "conversation.wav")
        sf.write(path, conversation.audio, conversation.sr)
        [item] = predictor.predict_batch([path], adapt=True, segment="vad", diarize=diarize)
    return [] if item.error else item.result["segments"]


def bench_agreement(count: int) -> None:
    """The voice activity as serkit runs it (the network's feed-forward part on many chunks per
    call, long silences skipped) against the vendored file run one chunk per call, on the benchmark conversations: the segment
    boundaries within two chunks (64 ms) of the sequential run's, and the time of each."""
    from serkit.inference.speech import FRAME_S, sequential_probabilities, speech_probabilities, speech_segments

    for corpus, root in CORPORA.items():
        if not root.is_dir():
            continue
        near = total = 0
        fast_s = slow_s = 0.0
        for conversation in build_conversations(corpus, root, count=count, seed=1):
            started = time.perf_counter()
            ours = speech_probabilities(conversation.audio)
            fast_s += time.perf_counter() - started
            started = time.perf_counter()
            reference = sequential_probabilities(conversation.audio)
            slow_s += time.perf_counter() - started
            duration = len(conversation.audio) / conversation.sr
            found = speech_segments(ours, duration_s=duration)
            for side in (0, 1):
                points = np.array([segment[side] for segment in found])
                for segment in speech_segments(reference, duration_s=duration):
                    near += bool(points.size) and np.min(np.abs(points - segment[side])) <= 2 * FRAME_S + 1e-9
                    total += 1
        print(f"agreement: {corpus}: {count} conversations: {near}/{total} segment boundaries ({near / max(total, 1):.1%}) "
              f"within two chunks of Silero run chunk after chunk; {fast_s:.1f} s against {slow_s:.1f} s sequential "
              f"({slow_s / max(fast_s, 1e-9):.1f}x)")


# -- an hour --------------------------------------------------------------------------------


def write_hour(path: str, minutes: float) -> None:
    """Conversations of both corpora, one after another, until ``minutes`` of audio."""
    written, seed = 0, 0
    with sf.SoundFile(path, "w", samplerate=16000, channels=1, subtype="PCM_16") as out:
        while written < minutes * 60 * 16000:
            for corpus, root in CORPORA.items():
                for conversation in build_conversations(corpus, root, count=1, seed=100 + seed):
                    audio = conversation.audio[: int(minutes * 60 * 16000) - written]
                    out.write(audio)
                    written += len(audio)
            seed += 1


def bench_hour(predictor, minutes: float, model: str | None = None, buzz_db: float | None = None) -> None:
    """The hour through ``serkit predict``; ``buzz_db``: under a mains buzz that far under the hour's RMS."""
    import soundfile as sf

    from serkit.core.audio import AudioStream
    from serkit.inference.speech import SpeechDetector

    with tempfile.TemporaryDirectory(prefix="serkit-bench-") as folder:
        path = os.path.join(folder, "hour.wav")
        write_hour(path, minutes)
        if buzz_db is not None:  # a minute at a time: this process stays small (a child forked from it counts its size)
            info = sf.info(path)
            rms = np.sqrt(np.mean([np.mean(np.square(block, dtype=np.float64)) for block in sf.blocks(path, blocksize=info.samplerate * 60)]))
            buzzed = os.path.join(folder, "buzzed.wav")
            with sf.SoundFile(buzzed, "w", info.samplerate, 1) as out:
                for k, block in enumerate(sf.blocks(path, blocksize=info.samplerate * 60, dtype="float32")):
                    buzz = mains_buzz((np.arange(len(block)) + k * info.samplerate * 60) / info.samplerate)
                    buzz /= np.sqrt(np.sum(0.5 / np.arange(1, 40) ** 2))  # unit RMS, the same in every minute
                    out.write((block + buzz * rms * 10 ** (-buzz_db / 20)).astype(np.float32))
            os.replace(buzzed, path)
        started = time.perf_counter()
        detector = SpeechDetector(predictor.sr)
        with AudioStream(path, sr=predictor.sr) as stream:
            for block in stream.blocks():
                detector.feed(block)
        speech = detector.finish()
        vad_s = time.perf_counter() - started
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "serkit", "predict", path, "--json", *(["--model", model] if model else [])],
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"serkit predict failed: {done.stderr[-2000:]}")
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"hour: {minutes:g} min of conversation{'' if buzz_db is None else f' under a buzz {buzz_db:g} dB down'} "
          f"through serkit predict: wall {wall:.1f} s (target <= 60 s), "
          f"peak RSS {rss:.0f} MiB (target <= 500 MB), {len(speech.utterances)} utterances, "
          f"{speech.speech_s / 60:.1f} min of speech; voice activity and segmentation alone {vad_s:.1f} s = "
          f"{vad_s / wall:.0%} of the prediction's wall time (target <= 10 %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["nonspeech", "corpora", "conversations", "hour"],
                        choices=["nonspeech", "corpora", "conversations", "agreement", "hour", "calls", "mains", "speakers"])
    parser.add_argument("--conversations", type=int, default=3, help="conversations per corpus")
    parser.add_argument("--limit", type=int, default=None, help="at most this many clips per corpus")
    parser.add_argument("--vad-only", action="store_true", help="corpora, conversations: voice activity alone (refusals, boundaries), no emotion")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the 'hour'")
    parser.add_argument("--buzz", type=float, metavar="DB", help="hour: under a mains buzz DB under its RMS")
    parser.add_argument("--model", help="a model directory or bundled name (default: the bundled one)")
    parser.add_argument("--held-out", action="store_true",
                        help="conversations: only the last speakers of each corpus, predicted by the recipe trained without them")
    parser.add_argument("--augment", metavar="MIX[;MIX]",
                        help="--held-out: the recipe's copies of its training clips, as build_bundled_model.py --augment")
    parser.add_argument("--floor", nargs="+", choices=FLOORS, default=["gate"],
                        help="conversations: pauses on a noise gate's floor (default), in the clips' own room tone, or both in turn")
    args = parser.parse_args()
    from serkit.models.artifacts import load_model

    predictor, held = load_model(args.model), None
    if args.held_out:
        folder = tempfile.mkdtemp(prefix="serkit-held-out-")
        predictor, held = held_out_model(folder, args.augment)
        print(f"held out of training: {'; '.join(f'{c}: {len(s)} speakers' for c, s in held.items())} (model in {folder})")
    print(f"machine: {os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.2f} at the start")
    for part in args.parts:
        started = time.perf_counter()
        if part == "nonspeech":
            bench_nonspeech(predictor)
        elif part == "corpora":
            bench_corpora(predictor, args.limit, args.vad_only)
        elif part == "conversations":
            for floor in args.floor:
                bench_conversations(predictor, args.conversations, args.vad_only, held, floor)
        elif part == "agreement":
            bench_agreement(args.conversations)
        elif part == "calls":
            bench_calls(predictor, args.conversations)
        elif part == "mains":
            bench_mains(predictor, args.conversations)
        elif part == "speakers":
            bench_speakers(predictor, args.conversations)
        else:
            bench_hour(predictor, args.minutes, args.model, args.buzz)
        print(f"  ({part}: {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f} at the end)", flush=True)


if __name__ == "__main__":
    main()
