"""A room heard from across it: the reverberation caution's threshold, chosen on development
speakers, then how often it comes and how right the cautioned answers are on held-out speakers.

Each clip goes through the changes a recording may bring: as stored; noise 10 dB under the
speech (white, pink, babble of every 9th clip of the stage, which may hold the clip's own
speaker); a telephone band; MP3 at 16 kbit/s and Opus at 12 kbit/s; a phone's automatic gain;
a music bed 15 dB down; 20 dB quieter; and three rooms
(``bench_audio_input.ROOMS``: RT60 0.4 s at a direct-to-reverberant ratio of +5 dB, 0.6 s at
0 dB, 0.9 s at -5 dB).

- ``--stage dev``: RAVDESS actors 01-12 (every 4th clip) and nEMO's first 5 speakers (every 6th):
  :func:`serkit.core.reverb.decay_rate` of each (and its cost per clip), and the rule's threshold: the largest on a grid
  of 150-300 dB/s at which at most 1 % of the clips of every change that is not a room fall under
  it. No model is involved.
- ``--stage test``: RAVDESS actors 13-20 (every 2nd clip) and nEMO's MP0, SM0, TP0, WR0 (every
  4th), through ``Predictor.predict_audio(segment="vad")`` of a model trained without them
  (``bench_speech.held_out_model``: the bundled recipe and copies; kept in ``--model-dir``):
  the share cautioned "reverberant" under each change, and the user-visible UA of the cautioned
  clips against the others.

    nice -n 10 python3 benchmarks/bench_reverberation.py --stage dev
    nice -n 10 python3 benchmarks/bench_reverberation.py --stage test --model-dir /tmp/held-out   # ~10 min the first time, then ~8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_audio_input import ROOMS, automatic_gain, music_bed  # noqa: E402
from bench_speech import CORPORA, HELD_OUT, unweighted_accuracy  # noqa: E402

SR = 16000
GRID = np.arange(150.0, 301.0, 10.0)
MOST_CAUTIONED = 0.01
"""The rule: at most this share of any change that is not a room is cautioned."""
DEV_SPEAKERS = {"ravdess": 12, "nemo": 5}
"""The first N speakers of each corpus (sorted) choose; the bundled model's held-out ones are reported on."""
EVERY = {"dev": {"ravdess": 4, "nemo": 6}, "test": {"ravdess": 2, "nemo": 4}}


def changes(pool: list[np.ndarray]) -> dict:
    """Label → function of 16 kHz samples (seeded, so every run hears the same)."""
    from serkit.features import augment

    def rng():
        return np.random.default_rng(0)

    listed = {
        "as stored": lambda y: y,
        "white noise 10 dB": lambda y: augment.add_noise(y, augment.white_noise(len(y), rng()), snr_db=10),
        "pink noise 10 dB": lambda y: augment.add_noise(y, augment.pink_noise(len(y), rng()), snr_db=10),
        "babble 10 dB": lambda y: augment.add_noise(y, augment.babble(pool, len(y), rng()), snr_db=10),
        "telephone band": lambda y: augment.telephone(y, SR),
        "MP3 16 kbit/s": lambda y: augment.compress(y, SR, kbps=16),
        "Opus 12 kbit/s": lambda y: augment.compress(y, SR, kbps=12, codec="opus"),
        "a phone's automatic gain": lambda y: automatic_gain(y, SR),
        "a music bed 15 dB down": lambda y: music_bed(y, SR, under_db=15),
        "20 dB quieter": lambda y: augment.gain(y, -20),
    }
    for rt60, drr in ROOMS:
        listed[room_label(rt60, drr)] = lambda y, r=rt60, d=drr: augment.reverberate(y, SR, rt60=r, rng=rng(), drr_db=d)
    return listed


def room_label(rt60: float, drr: float) -> str:
    return f"room: RT60 {rt60:g} s, DRR {drr:+g} dB"


def clips(stage: str) -> list[tuple[str, str, np.ndarray]]:
    """``(corpus, label, 16 kHz samples)`` of the stage's speakers."""
    from serkit.core.audio import load_audio
    from serkit.corpora import read_corpus

    chosen = []
    for corpus, root in CORPORA.items():
        if not root.is_dir():
            continue
        table = read_corpus(corpus, root).table
        speakers = sorted(set(table["speaker"].astype(str)))
        keep = speakers[: DEV_SPEAKERS[corpus]] if stage == "dev" else speakers[-HELD_OUT[corpus]:]
        rows = table[table["speaker"].astype(str).isin(keep)].iloc[:: EVERY[stage][corpus]]
        chosen += [(corpus, str(label), load_audio(root / path, sr=SR, warn_silent=False)[0])
                   for path, label in zip(rows["path"], rows["label"])]
    return chosen


def dev_stage() -> None:
    from serkit.core.reverb import decay_rate

    material = clips("dev")
    if not material:
        print(f"no shared corpora under {CORPORA}; skipped")
        return
    pool = [y for _, _, y in material[::9]]
    started = time.perf_counter()
    for _, _, y in material:
        decay_rate(y, SR)
    seconds = sum(y.size for _, _, y in material) / SR
    print(f"cost: {1000 * (time.perf_counter() - started) / len(material):.2f} ms per clip as stored "
          f"(mean {seconds / len(material):.1f} s of audio at {SR} Hz)")
    rates = {label: np.array([decay_rate(change(y), SR) for _, _, y in material]) for label, change in changes(pool).items()}
    print(f"development clips: {len(material)}; decay rate, dB/s (median, 1st and 5th percentile; nan: no decay)")
    for label, values in rates.items():
        print(f"  {label:34s} {np.nanmedian(values):5.0f}  {np.nanquantile(values, 0.01):5.0f}  "
              f"{np.nanquantile(values, 0.05):5.0f}  nan {int(np.isnan(values).sum())}")
    rooms = {room_label(*room) for room in ROOMS}
    allowed = [t for t in GRID if all(np.mean(values < t) <= MOST_CAUTIONED for label, values in rates.items() if label not in rooms)]
    threshold = max(allowed) if allowed else None
    print(f"rule: the largest threshold with at most {MOST_CAUTIONED:.0%} of every change that is not a room under it: {threshold}")
    if threshold is not None:
        print("  cautioned at it: " + ", ".join(f"{label} {100 * np.mean(values < threshold):.1f} %" for label, values in rates.items()))


def test_stage(model_dir: Path) -> None:
    from bench_speech import held_out_model

    from serkit.core.reverb import REVERBERANT_BELOW
    from serkit.inference.predictor import REVERBERATION_CAUTION
    from serkit.models.artifacts import load_model

    predictor = load_model(model_dir) if (model_dir / "manifest.json").exists() else held_out_model(str(model_dir), "all;pause;gate")[0]
    material = clips("test")
    if not material:
        print(f"no shared corpora under {CORPORA}; skipped")
        return
    pool = [y for _, _, y in material[::9]]
    print(f"held-out clips: {len(material)} (threshold {REVERBERANT_BELOW:g} dB/s); user-visible UA of each corpus's clips")
    print("| change | cautioned: RAVDESS / nEMO | UA, all: RAVDESS / nEMO | UA of the cautioned / the others (pooled corpora, per corpus then mean) |\n"
          "| --- | --- | --- | --- |")
    for label, change in changes(pool).items():
        answers = {corpus: ([], [], []) for corpus in CORPORA}
        for corpus, truth, y in material:
            result = predictor.predict_audio(change(y), SR, segment="vad")
            found, cautioned, labels = answers[corpus]
            found.append(result["emotion"])
            cautioned.append(result.get("caution") == REVERBERATION_CAUTION)
            labels.append(truth)
        shares, uas, split = [], [], {True: [], False: []}
        for corpus, (found, cautioned, labels) in answers.items():
            cautioned = np.array(cautioned)
            shares.append(f"{100 * cautioned.mean():.0f} %")
            uas.append(f"{100 * unweighted_accuracy(labels, found):.1f} %")
            for side in (True, False):
                if (cautioned == side).sum() >= 20:
                    split[side].append(unweighted_accuracy(list(np.array(labels)[cautioned == side]),
                                                           list(np.array(found, dtype=object)[cautioned == side])))
        sides = " / ".join(f"{100 * np.mean(split[side]):.1f} %" if split[side] else "–" for side in (True, False))
        print(f"| {label} | {' / '.join(shares)} | {' / '.join(uas)} | {sides} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", choices=("dev", "test"), default="dev")
    parser.add_argument("--model-dir", type=Path, default=Path("/tmp/serkit-held-out-model"),
                        help="with --stage test: the held-out model's directory (trained there when missing)")
    args = parser.parse_args()
    dev_stage() if args.stage == "dev" else test_stage(args.model_dir)


if __name__ == "__main__":
    main()
