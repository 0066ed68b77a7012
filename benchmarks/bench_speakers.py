"""Speakers on synthetic conversations: clustering error, and per-speaker standardisation from the speakers found.

Conversations are built from the shared RAVDESS clips: two to four actors take turns
(each turn one of their clips, the next speaker another actor), with pauses of 0.2-2 s,
1-5 minutes long. Mixed-gender conversations have at least one actor of each gender;
same-gender ones, one gender only. Each turn is one utterance with its boundaries given
(the utterance segmentation is measured on its own), so the diarisation error rate is
the speaker confusion: the share of speech time given to the wrong speaker under the
best mapping of found to true speakers.

Actors are split three ways, and nothing reported is chosen on:

- development actors 01-08 (every other clip): their conversations chose the
  clustering (centred speaker embeddings, spectral clustering, the count and the one-speaker
  rule of ``auto``, how many emotion directions to remove); there the directions are
  learnt on actors 09-12 only (:data:`CHOOSING_ACTORS`); the table shows them beside
  the test figures;
- model actors 01-12: the emotion models are trained on them, and the shipped emotion
  directions learnt on them (``--learn``);
- test actors 13-20 (4 female, 4 male): the reported conversations.

Two emotion models (``logreg-tuned`` on the bundled model's features,
``whisper-speech+functionals``; ``--feature-set`` takes another) are trained on the model actors: one on plain features, one on
per-speaker standardised features. On the test conversations the table gives the
utterance-level unweighted accuracy of the plain model, of the normalised one with
each found speaker (``--speakers auto``) standardised by its own statistics, and with
the true speakers (what a labelled recording gives). Beside each diarisation error it
gives the share of conversations whose number of speakers ``auto`` finds right.

    python benchmarks/bench_speakers.py                       # the table
    python benchmarks/bench_speakers.py --embeddings emb.npz  # keep the speaker embeddings between runs
    python benchmarks/bench_speakers.py --embeddings emb.npz --learn src/serkit/data/speakers/emotion_directions.npy
    python benchmarks/bench_speakers.py --embeddings emb.npz --choose-prior   # the shrinkage of the speakers found
    python benchmarks/bench_speakers.py --end-to-end                          # through the speech detection (~15 min)
    python benchmarks/bench_speakers.py --end-to-end --choose-prior           # the shrinkage, chosen that way (~10 min)

``--choose-prior`` chooses how far each speaker's statistics are pulled toward the whole
recording's (``SourceAdapter(prior_clips=m)``, ``adaptation.SPEAKER_PRIOR_CLIPS``): utterance UA on
the development conversations with models trained on actors 09-12 only (no development actor),
for the speakers found (``auto``) and the true ones; the rule, fixed before the run, takes the
best mean of the two (ties: the smaller prior). ``m = 0`` is the rule before: each speaker's own
statistics, a lone utterance the recording's.

``--end-to-end`` measures the same as a recording gets it: the two models are trained
with the bundled recipe's copies of every training clip (``--augment``, default
``all;pause;gate``), saved and loaded as a user's, and conversations of the test actors
(``benchmarks/conversations.py``: each turn trimmed to its speech, on a noise gate's floor
and in the clips' own room tone) go through ``predict_file(segment="vad")``: the plain
model alone, the normalised one with ``diarize="auto"`` and with the true count; and as many
monologues (one test actor's clips in turns, the same pauses), where ``auto`` should find one
speaker. Each true
turn takes the emotion and the speaker of the found utterance overlapping it most; the
diarisation error is the speaker confusion over the turns' seconds.

``--end-to-end --choose-prior`` chooses the shrinkage the same way a recording is predicted:
development recordings (conversations and monologues of actors 01-08, seed
:data:`END_TO_END_DEV_SEED`, both floors) through the speech detection, models of actors 09-12;
each candidate standardises the speakers ``auto`` finds (the embeddings compensated with the
shipped directions, which actors 01-12 shaped). The rule, fixed before its run: the best mean
utterance UA over the four cells, ties to the smaller prior.

Features come through serkit's cache; the speaker embeddings (~0.05-0.1 s per clip on a shared
2-core machine) are computed once per clip.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

SHARED_RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech"
DEV_ACTORS = tuple(range(1, 9))
MODEL_ACTORS = tuple(range(1, 13))
CHOOSING_ACTORS = tuple(range(9, 13))
"""Actors whose speaker embeddings give the emotion directions the development conversations are scored with."""
TEST_ACTORS = tuple(range(13, 21))
FEATURE_SET = "whisper-speech+functionals"
PRIOR_CANDIDATES = (0, 1, 2, 3, 4, 5, 6, 8, 16)
PAUSE_S = (0.2, 2.0)
LENGTH_S = (60.0, 300.0)
END_TO_END_SEED = 3
"""The seed of ``--end-to-end``'s conversations (``conversations.build_conversations``)."""
END_TO_END_DEV_SEED = 7
"""The seed of ``--end-to-end --choose-prior``'s development recordings (actors 01-08)."""
END_TO_END_PRIORS = (0, 1, 2, 4, 8, 16, 32, float("inf"))
"""``prior_clips`` candidates through the speech detection (inf: the whole recording's statistics)."""
END_TO_END_MIX = "all;pause;gate"
"""The copies the bundled model learns from (``build_bundled_model.py --augment``)."""


def actor_number(speaker: str) -> int:
    """``Actor_07`` → 7."""
    return int(str(speaker).rsplit("_", 1)[-1])


def is_female(actor: int) -> bool:
    """RAVDESS: even-numbered actors are female."""
    return actor % 2 == 0


def conversation(rng, clips_by_actor: dict, actors: list[int], durations) -> list[tuple[int, int, float]]:
    """One conversation: ``(actor, clip row, duration)`` per turn, speakers alternating at random.

    Its length is drawn from :data:`LENGTH_S` (pauses of :data:`PAUSE_S` included); each
    actor's clips are used in a shuffled order, again from the start when all are used.
    """
    target = rng.uniform(*LENGTH_S)
    queues = {actor: [] for actor in actors}
    turns, elapsed, speaker = [], 0.0, rng.choice(actors)
    while elapsed < target:
        if not queues[speaker]:
            queues[speaker] = list(rng.permutation(clips_by_actor[speaker]))
        row = queues[speaker].pop()
        turns.append((int(speaker), int(row), float(durations[row])))
        elapsed += durations[row] + rng.uniform(*PAUSE_S)
        speaker = rng.choice([a for a in actors if a != speaker])
    return turns


def conversations(rng, clips_by_actor: dict, actors, durations, *, mixed: bool, per_size: int) -> list:
    """``per_size`` conversations of 2, 3 and 4 speakers drawn from ``actors``, of mixed or one gender."""
    female = [a for a in actors if is_female(a)]
    male = [a for a in actors if not is_female(a)]
    built = []
    for size in (2, 3, 4):
        for _ in range(per_size):
            if mixed:
                first = [rng.choice(female), rng.choice(male)]
                rest = [a for a in actors if a not in first]
                chosen = first + list(rng.choice(rest, size - 2, replace=False))
            else:
                pool = female if rng.random() < 0.5 else male
                chosen = list(rng.choice(pool, size, replace=False))
            built.append(conversation(rng, clips_by_actor, [int(a) for a in chosen], durations))
    return built


def diarization_rates(convs, embeddings, *, given_count: bool = False) -> list[float]:
    """The diarisation error rate of each conversation, ``auto`` speakers or the true count."""
    from serkit.inference.speakers import cluster_speakers, diarization_error_rate

    rates = []
    for turns in convs:
        rows = [row for _, row, _ in turns]
        count = len({actor for actor, _, _ in turns}) if given_count else "auto"
        labels = cluster_speakers(embeddings[rows], count)
        rates.append(diarization_error_rate([d for _, _, d in turns], [a for a, _, _ in turns], labels))
    return rates


def count_right(convs, embeddings) -> float:
    """Share of ``convs`` whose number of speakers ``auto`` finds right.

    The diarisation error alone hides whether the count or the grouping erred; with the
    true count given, only the grouping can.

    >>> rng = np.random.default_rng(0)
    >>> voices = np.repeat(rng.normal(size=(2, 256)), 4, axis=0) + 0.1 * rng.normal(size=(8, 256))
    >>> count_right([[(1, 0, 1.0), (2, 4, 1.0), (1, 1, 1.0), (2, 5, 1.0)]], voices)
    1.0
    """
    from serkit.inference.speakers import cluster_speakers

    right = [len(set(cluster_speakers(embeddings[[row for _, row, _ in turns]], "auto").tolist()))
             == len({actor for actor, _, _ in turns}) for turns in convs]
    return float(np.mean(right))


def embed_clips(paths, rows, cache: Path | None) -> np.ndarray:
    """Uncompensated speaker embeddings of the clips ``rows`` of ``paths`` (others left at zero), kept in
    ``cache`` with the encoder weights' SHA-256 (a cache of another encoder is not read)."""
    import soundfile as sf
    from tqdm.auto import tqdm

    from serkit.inference.speakers import EMBEDDING_SIZE, ENCODER_SHA256, SpeakerEmbedder

    recipe = np.array([ENCODER_SHA256])
    embeddings = np.zeros((len(paths), EMBEDDING_SIZE), dtype=np.float32)
    known = {}
    if cache is not None and cache.exists():
        stored = np.load(cache)
        if "recipe" in stored.files and np.array_equal(stored["recipe"], recipe):
            known = dict(zip(stored["paths"].tolist(), stored["embeddings"]))
        else:
            print(f"{cache}: embeddings of another encoder, made again", file=sys.stderr)
    embedder = SpeakerEmbedder()
    for row in tqdm(rows, desc="speaker embeddings", unit="clip", file=sys.stderr, disable=not sys.stderr.isatty()):
        path = str(paths[row])
        if path not in known:
            y, sr = sf.read(path, dtype="float32", always_2d=True)
            known[path] = embedder.embed([y.mean(axis=1)], sr, compensated=False)[0]
        embeddings[row] = known[path]
    if cache is not None:
        np.savez(cache, paths=np.array(list(known)), embeddings=np.array(list(known.values())), recipe=recipe)
    return embeddings


def learn_directions(embeddings, actors, chosen) -> np.ndarray:
    """Emotion directions learnt on the speaker embeddings of every clip of the actors ``chosen``."""
    from serkit.inference.speakers import nuisance_directions

    rows = np.flatnonzero(np.isin(actors, chosen))
    return nuisance_directions(embeddings[rows], actors[rows])


def emotion_models(dataset, train_rows):
    """``(plain, normalised)``: the recipe's model on the rows' features, and on each speaker's
    features standardised by its own statistics."""
    from serkit.models.registry import fit_model, make_model
    from serkit.features.adaptation import SourceAdapter

    X, y, groups = dataset.X[train_rows], dataset.y[train_rows], np.asarray(dataset.groups, dtype=str)[train_rows]
    return (fit_model(make_model("logreg-tuned", random_state=0), X, y, groups),
            fit_model(make_model("logreg-tuned", random_state=0), SourceAdapter().fit_transform(X, groups), y, groups))


def prior_table(convs, dataset, train_rows, embeddings) -> dict:
    """``{m: (UA with the speakers found, UA with the true speakers)}`` over every turn of
    ``convs``, the normalised model's input standardised with ``prior_clips=m``."""
    from sklearn.metrics import balanced_accuracy_score

    from serkit.inference.speakers import cluster_speakers

    X, y, groups = dataset.X, dataset.y, np.asarray(dataset.groups, dtype=str)
    _, normed = emotion_models(dataset, train_rows)
    truth = np.concatenate([y[[row for _, row, _ in turns]] for turns in convs])
    table = {}
    for prior in PRIOR_CANDIDATES:
        predicted = {"found": [], "true": []}
        for turns in convs:
            rows = np.array([row for _, row, _ in turns])
            for name, labels in (("found", np.asarray(cluster_speakers(embeddings[rows], "auto"))), ("true", groups[rows])):
                predicted[name].extend(normed.predict(standardised(X[rows], labels, prior)))
        table[prior] = tuple(float(balanced_accuracy_score(truth, predicted[name])) for name in ("found", "true"))
    return table


def _own_statistics(X, labels):
    """The rule before the prior: each speaker's own statistics, a lone utterance the recording's."""
    from serkit.features.adaptation import SourceAdapter

    out = SourceAdapter().fit_transform(X)
    shared = np.array([np.count_nonzero(labels == label) > 1 for label in labels])
    if shared.any():
        out[shared] = SourceAdapter().fit_transform(X[shared], labels[shared])
    return out


def chosen_prior(table: dict) -> float:
    """The prior with the best mean of its UAs (ties: the smaller).

    >>> chosen_prior({0: (0.60, 0.70), 2: (0.62, 0.71), 4: (0.63, 0.70)})
    2
    """
    return max(table, key=lambda prior: (round(sum(table[prior]) / 2, 6), -prior))


def utterance_accuracy(convs, dataset, train_rows, embeddings, raw_embeddings) -> dict:
    """UA over every turn of ``convs``: plain model, normalised by found speakers (compensated
    embeddings, and uncompensated), by true speakers."""
    from sklearn.metrics import balanced_accuracy_score

    from serkit.features.adaptation import GIVEN_SPEAKER_PRIOR_CLIPS, SPEAKER_PRIOR_CLIPS
    from serkit.inference.predictor import _normalise_by_speaker  # as prediction standardises
    from serkit.inference.speakers import cluster_speakers

    X, y, groups = dataset.X, dataset.y, np.asarray(dataset.groups, dtype=str)
    plain, normed = emotion_models(dataset, train_rows)
    truth, predicted = [], {"plain": [], "found speakers": [], "found speakers, uncompensated": [], "true speakers": []}
    for turns in convs:
        rows = np.array([row for _, row, _ in turns])
        truth.extend(y[rows])
        predicted["plain"].extend(plain.predict(X[rows]))
        for name, labels, prior in (("found speakers", cluster_speakers(embeddings[rows], "auto"), SPEAKER_PRIOR_CLIPS),
                                    ("found speakers, uncompensated", cluster_speakers(raw_embeddings[rows], "auto"),
                                     SPEAKER_PRIOR_CLIPS),
                                    ("true speakers", groups[rows], GIVEN_SPEAKER_PRIOR_CLIPS)):
            predicted[name].extend(normed.predict(_normalise_by_speaker(X[rows], np.asarray(labels), prior)))
    return {name: float(balanced_accuracy_score(truth, values)) for name, values in predicted.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=SHARED_RAVDESS)
    parser.add_argument("--per-size", type=int, default=8, help="conversations per number of speakers and condition (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--feature-set", default=FEATURE_SET, help=f"the emotion models' features (default: the bundled model's, {FEATURE_SET})")
    parser.add_argument("--embeddings", type=Path, help="an .npz keeping the clips' speaker embeddings between runs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--learn", type=Path, help="write the emotion directions learnt on actors 01-12 here (.npy) and stop")
    parser.add_argument("--choose-prior", action="store_true",
                        help="print the development table of the speakers' prior_clips and the rule's choice, and stop "
                             "(with --end-to-end: through the speech detection)")
    parser.add_argument("--end-to-end", type=int, nargs="?", const=8, metavar="N",
                        help="the figures through the speech detection on N conversations per floor (default 8), and stop")
    parser.add_argument("--augment", default=END_TO_END_MIX,
                        help=f"with --end-to-end: the copies the models learn from ('none': the clips alone; default {END_TO_END_MIX})")
    args = parser.parse_args(argv)
    if args.end_to_end:
        mix = None if args.augment == "none" else args.augment
        if args.choose_prior:
            _print_end_to_end_priors(end_to_end_priors(args.root, args.end_to_end, args.feature_set, mix))
            return 0
        figures = end_to_end(args.root, args.end_to_end, args.feature_set, mix)
        _print_end_to_end(figures, mix)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1) + "\n")
        return 0

    from serkit.evaluation.dataset import dataset_from_corpus

    dataset, _ = dataset_from_corpus(args.root, corpus="ravdess", feature_set=args.feature_set,
                                     progress=sys.stderr.isatty())
    paths = np.array([str(args.root / path) for path in dataset.meta["path"]])
    actors = np.array([actor_number(g) for g in dataset.groups])
    durations = np.array([_duration(p) for p in paths])
    rng = np.random.default_rng(args.seed)
    # Development actors lend every other clip (the rest stay unseen by the tuning).
    dev_clips = {a: np.flatnonzero(actors == a)[::2] for a in DEV_ACTORS}
    test_clips = {a: np.flatnonzero(actors == a) for a in TEST_ACTORS}
    dev = {c: conversations(rng, dev_clips, list(DEV_ACTORS), durations, mixed=c == "mixed", per_size=args.per_size)
           for c in ("mixed", "same")}
    test = {c: conversations(rng, test_clips, list(TEST_ACTORS), durations, mixed=c == "mixed", per_size=args.per_size)
            for c in ("mixed", "same")}
    if args.learn:
        return _learn(args.learn, embed_clips(paths, np.flatnonzero(np.isin(actors, MODEL_ACTORS)), args.embeddings), actors)
    rows = sorted({row for convs in (*dev.values(), *test.values()) for turns in convs for _, row, _ in turns})
    rows = sorted(set(rows) | set(np.flatnonzero(np.isin(actors, CHOOSING_ACTORS))))
    raw = embed_clips(paths, rows, args.embeddings)
    from serkit.inference.speakers import compensate

    compensated = {"development": compensate(raw, learn_directions(raw, actors, CHOOSING_ACTORS)),
                   "test": compensate(raw)}  # the shipped directions, learnt on actors 01-12
    if args.choose_prior:
        table = prior_table(dev["mixed"] + dev["same"], dataset, np.flatnonzero(np.isin(actors, CHOOSING_ACTORS)),
                            compensated["development"])
        print("development conversations, models of actors 09-12: utterance UA with each speaker's statistics "
              "pulled toward the recording's by prior_clips")
        for prior, (found, true) in table.items():
            print(f"  prior_clips {prior:>2}: speakers found {100 * found:.2f} %, true speakers {100 * true:.2f} %, "
                  f"mean {50 * (found + true):.2f} %")
        print(f"chosen: prior_clips {chosen_prior(table)}")
        return 0
    figures = {}
    for split, built in (("development", dev), ("test", test)):
        for condition, convs in built.items():
            figures[f"der_{split}_{condition}"] = {
                "auto": float(np.mean(diarization_rates(convs, compensated[split]))),
                "given": float(np.mean(diarization_rates(convs, compensated[split], given_count=True))),
                "auto_uncompensated": float(np.mean(diarization_rates(convs, raw))),
                "given_uncompensated": float(np.mean(diarization_rates(convs, raw, given_count=True))),
                "count_right": count_right(convs, compensated[split]),
                "conversations": len(convs), "minutes": round(sum(d for t in convs for *_, d in t) / 60, 1)}
    print(json.dumps(figures), file=sys.stderr)
    train_rows = np.flatnonzero(np.isin(actors, MODEL_ACTORS))
    figures["utterance_ua"] = utterance_accuracy(test["mixed"] + test["same"], dataset, train_rows, compensated["test"], raw)
    _print(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


def end_to_end_models(root: Path, feature_set: str, mix: str | None, folder: Path, actors=MODEL_ACTORS) -> tuple:
    """``(plain, normalised)`` predictors: ``logreg-tuned`` trained on the clips of ``actors`` (the
    model actors) and, with ``mix``, their copies (never another actor's), the second on each speaker's
    features standardised by its own statistics; saved in ``folder`` and loaded as a user's."""
    from serkit.corpora import read_corpus
    from serkit.evaluation import dataset_from_extraction
    from serkit.evaluation.augmented import augmented_dataset, copy_rows
    from serkit.features import extract_corpus
    from serkit.models.artifacts import load_model
    from serkit.training import train_model

    table = read_corpus("ravdess", root)
    data, feature_set = dataset_from_extraction(table, extract_corpus(table, feature_set, n_jobs=1,
                                                                      progress=sys.stderr.isatty()))
    train = data.take(np.isin([actor_number(g) for g in data.groups], actors))
    copies = None
    if mix:
        every = augmented_dataset(table, mix, feature_set, progress=sys.stderr.isatty())
        copies = {"ravdess": every.take(copy_rows(every, np.unique(train.groups.astype(str))))}
    models = []
    for norm in (False, True):
        train_model("logreg-tuned", {"ravdess": train}, feature_set, folder / f"speaker-norm-{norm}",
                    speaker_norm=norm, cross_validate=False, progress=False, augment=copies)
        models.append(load_model(folder / f"speaker-norm-{norm}"))
    return tuple(models)


def recording_cells(root: Path, actors, *, count: int, seed: int, sr: int):
    """``(cell, recordings)`` per floor: ``"<floor>, conversations"`` (2-4 of ``actors``) and
    ``"<floor>, one speaker"`` (monologues), ``count`` recordings each (generators)."""
    from conversations import FLOORS, build_conversations

    speakers = [f"Actor_{a:02d}" for a in actors]
    for floor in FLOORS:
        for kind, n_speakers in (("conversations", None), ("one speaker", 1)):
            yield f"{floor}, {kind}", build_conversations("ravdess", root, count=count, seed=seed, sr=sr,
                                                          speakers=speakers, floor=floor, n_speakers=n_speakers)


def end_to_end(root: Path, count: int, feature_set: str, mix: str | None) -> dict:
    """Utterance UA and diarisation error of :func:`end_to_end_models` through the speech
    detection, on ``count`` conversations of the test actors and ``count`` monologues (one test
    actor each) per floor: cell (:func:`recording_cells`) → figure → value."""
    import tempfile

    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        models = end_to_end_models(root, feature_set, mix, Path(folder))
        for cell, recordings in recording_cells(root, TEST_ACTORS, count=count, seed=END_TO_END_SEED, sr=models[0].sr):
            figures[cell] = through_detection(*models, recordings, Path(folder))
            print(json.dumps({cell: figures[cell]}), file=sys.stderr, flush=True)
    return figures


def through_detection(plain, normalised, conversations, folder: Path) -> dict:
    """Utterance UA of the ``plain`` model, and of the ``normalised`` one with ``diarize="auto"``
    and with the true count, over every turn of ``conversations`` (each written to a file in
    ``folder`` and predicted from it); the diarisation errors; ``auto``'s counts."""
    import soundfile as sf
    from bench_speech import found_speakers_confusion, unweighted_accuracy, utterance_emotions

    found = {"plain": [], "auto": [], "true count": []}
    truth, rates, counts = [], {"auto": [], "true count": []}, []
    for conversation in conversations:
        path = folder / "conversation.wav"
        sf.write(path, conversation.audio, conversation.sr, subtype="FLOAT")
        turns, n = conversation.turns, len(conversation.speakers)
        truth += [turn.emotion for turn in turns]
        found["plain"] += utterance_emotions(turns, plain.predict_file(path, segment="vad")["segments"])
        for name, diarize in (("auto", "auto"), ("true count", n)):
            segments = normalised.predict_file(path, segment="vad", diarize=diarize)["segments"]
            found[name] += utterance_emotions(turns, segments)
            rates[name].append(found_speakers_confusion(turns, segments))
            if name == "auto":
                counts.append((n, len({segment["speaker"] for segment in segments})))
    return {**{f"ua_{name}": unweighted_accuracy(truth, values) for name, values in found.items()},
            **{f"der_{name}": float(np.mean(values)) for name, values in rates.items()},
            "count_right": float(np.mean([true == got for true, got in counts])), "counts": counts,
            "conversations": len(counts), "turns": len(truth)}


def end_to_end_priors(root: Path, count: int, feature_set: str, mix: str | None) -> dict:
    """Utterance UA of the speakers ``auto`` finds, standardised with each of
    :data:`END_TO_END_PRIORS`, and of the true speakers (each utterance's: the turn overlapping it
    most), through the speech detection: models of actors 09-12, ``count`` conversations and
    ``count`` monologues of the development actors 01-08 per floor (seed :data:`END_TO_END_DEV_SEED`);
    ``{speakers: {cell: {prior: UA}}}`` (speakers ``found`` or ``true``), ``"plain"`` the plain model's."""
    import tempfile

    import soundfile as sf
    from bench_speech import unweighted_accuracy, utterance_emotions

    table = {"found": {}, "true": {}}
    with tempfile.TemporaryDirectory() as folder:
        plain, normalised = end_to_end_models(root, feature_set, mix, Path(folder), actors=CHOOSING_ACTORS)
        path = Path(folder) / "recording.wav"
        for cell, recordings in recording_cells(root, DEV_ACTORS, count=count, seed=END_TO_END_DEV_SEED, sr=plain.sr):
            truth, found = [], {key: [] for key in ("plain", *((speakers, prior) for speakers in table
                                                               for prior in END_TO_END_PRIORS))}
            for recording in recordings:
                sf.write(path, recording.audio, recording.sr, subtype="FLOAT")
                X, labels, spans = speaker_rows(normalised, path)
                truth += [turn.emotion for turn in recording.turns]
                answers = {"plain": plain.answering().predict_proba(X)}
                for speakers, grouping in (("found", labels), ("true", _true_speakers(recording.turns, spans))):
                    for prior in END_TO_END_PRIORS:
                        Z = standardised(X, grouping, prior)
                        answers[speakers, prior] = normalised.answering(source=True).predict_proba(Z)
                for key, probabilities in answers.items():
                    segments = [{"start": start, "end": end, "emotion": normalised.emotions[int(np.argmax(p))]}
                                for (start, end), p in zip(spans, probabilities)]
                    found[key] += utterance_emotions(recording.turns, segments)
            accuracy = {key: unweighted_accuracy(truth, values) for key, values in found.items()}
            for speakers in table:
                table[speakers][cell] = {"plain": accuracy["plain"],
                                         **{prior: accuracy[speakers, prior] for prior in END_TO_END_PRIORS}}
            print(json.dumps({cell: {str(key): value for key, value in accuracy.items()}}), file=sys.stderr, flush=True)
    return table


def _true_speakers(turns, spans) -> np.ndarray:
    """The speaker of the turn overlapping each utterance (``spans``) most."""
    speakers = []
    for start, end in spans:
        overlap, speaker = max((min(end, t.end) - max(start, t.start), t.speaker) for t in turns)
        speakers.append(speaker if overlap > 0 else "none")
    return np.array(speakers)


def speaker_rows(predictor, path: Path) -> tuple:
    """``(features, speakers, spans)`` of the utterances ``predict_file(path, segment="vad",
    diarize="auto")`` finds and clusters: the rows a speaker-normalised model standardises."""
    seen = {}
    answer = predictor._answer_speakers

    def keep(features, clipping, spans, labels, weights, **keywords):
        seen.update(X=predictor.feature_set.collate(features), labels=np.asarray(labels), spans=list(spans))
        return answer(features, clipping, spans, labels, weights, **keywords)

    predictor._answer_speakers = keep  # this instance only, for one call
    try:
        predictor.predict_file(path, segment="vad", diarize="auto")
    finally:
        del predictor._answer_speakers
    return seen["X"], seen["labels"], seen["spans"]


def standardised(X, labels, prior: float):
    """``X`` standardised per speaker with ``prior_clips=prior`` as prediction does it (0:
    :func:`_own_statistics`; inf: the recording's)."""
    from serkit.features.adaptation import SourceAdapter
    from serkit.inference.predictor import _normalise_by_speaker

    if prior == 0:
        return _own_statistics(X, labels)
    if np.isinf(prior):
        return SourceAdapter().fit_transform(X)
    return _normalise_by_speaker(X, labels, prior)


def _print_end_to_end_priors(table: dict) -> None:
    names = ["plain", *END_TO_END_PRIORS]
    for speakers, title in (("found", "the speakers `auto` finds (SPEAKER_PRIOR_CLIPS)"),
                            ("true", "the true speakers, as `--speakers channels` gives them (GIVEN_SPEAKER_PRIOR_CLIPS)")):
        print(f"development recordings (actors 01-08), models of actors 09-12: utterance UA, {title} "
              "standardised with prior_clips (plain: the plain model)")
        print("| recordings | " + " | ".join(str(name) for name in names) + " |")
        print("|" + " --- |" * (len(names) + 1))
        for cell, row in table[speakers].items():
            print(f"| {cell} | " + " | ".join(f"{100 * row[name]:.1f}" for name in names) + " |")
        means = {name: float(np.mean([row[name] for row in table[speakers].values()])) for name in names}
        print("| mean | " + " | ".join(f"{100 * means[name]:.2f}" for name in names) + " |")
        print(f"chosen: prior_clips {chosen_prior({p: (means[p],) for p in END_TO_END_PRIORS})}\n")


def _print_end_to_end(figures: dict, mix: str | None) -> None:
    print(f"end to end: models of actors 01-12 with copies {mix or 'none'}; conversations of actors 13-20 and "
          f"monologues of one of them (seed {END_TO_END_SEED}) through predict_file(segment='vad')")
    print("| recordings | turns | UA plain | speakers `auto` (gain) | true count (gain) | DER `auto` / true count "
          "| count right (true → found) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for cell, f in figures.items():
        print(f"| {cell} | {f['turns']} ({f['conversations']} recordings) | {f['ua_plain']:.1%} | "
              f"{f['ua_auto']:.1%} ({100 * (f['ua_auto'] - f['ua_plain']):+.1f}) | "
              f"{f['ua_true count']:.1%} ({100 * (f['ua_true count'] - f['ua_plain']):+.1f}) | "
              f"{f['der_auto']:.1%} / {f['der_true count']:.1%} | {f['count_right']:.0%} "
              f"({', '.join(f'{true} → {found}' for true, found in f['counts'])}) |")


def _learn(out: Path, embeddings, actors) -> int:
    """Write the emotion directions learnt on the model actors to ``out`` and print its SHA-256."""
    from serkit.core.files import sha256_file

    directions = learn_directions(embeddings, actors, MODEL_ACTORS).astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, directions, allow_pickle=False)
    print(f"{out}: {directions.shape[0]} directions of {directions.shape[1]}, {out.stat().st_size} bytes, SHA-256 {sha256_file(out)}")
    return 0


def _duration(path) -> float:
    import soundfile as sf

    return sf.info(str(path)).duration


def _print(figures: dict) -> None:
    print("| figure | value | target |")
    print("| --- | --- | --- |")
    for split in ("test", "development"):
        for condition, target in (("mixed", "≤ 10 %"), ("same", "≤ 25 %")):
            der = figures[f"der_{split}_{condition}"]
            print(f"| diarisation error rate, {condition} gender, {split} actors ({der['conversations']} conversations, "
                  f"{der['minutes']} min of speech) | auto {der['auto']:.1%}, true count given {der['given']:.1%} "
                  f"(uncompensated {der['auto_uncompensated']:.1%}, {der['given_uncompensated']:.1%}) | "
                  f"{target if split == 'test' else '(chosen on)'} |")
            print(f"| `auto`'s count right, {condition} gender, {split} actors | {der['count_right']:.0%} | |")
    ua = figures["utterance_ua"]
    gain = ua["found speakers"] - ua["plain"]
    print(f"| utterance UA, plain model | {ua['plain']:.1%} | |")
    print(f"| utterance UA, per-speaker standardisation from `--speakers auto` | {ua['found speakers']:.1%} "
          f"({gain * 100:+.1f} points) | ≥ +5 points |")
    raw_gain = ua["found speakers, uncompensated"] - ua["plain"]
    print(f"| utterance UA, the same from uncompensated embeddings | {ua['found speakers, uncompensated']:.1%} "
          f"({raw_gain * 100:+.1f} points) | |")
    print(f"| utterance UA, per-speaker standardisation with the true speakers | {ua['true speakers']:.1%} | |")


if __name__ == "__main__":
    sys.exit(main())
