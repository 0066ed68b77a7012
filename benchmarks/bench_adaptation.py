"""Source adaptation and the multi-corpus model on RAVDESS + nEMO: evidence, choice, headline.

Four parts, each printing its figures (``--part``):

- ``clips``: how the user-visible UA (argmax over all the model's emotions) varies with
  the number of clips whose statistics adapt a held-out corpus (random draws of k clips
  of the test corpus, 10 draws each): the evidence for :data:`serkit.features.adaptation.MIN_CLIPS`.
- ``spread``: the :func:`serkit.features.adaptation.spread` of every speaker holding all their
  emotions against the spread of each speaker's clips of one emotion: how often the
  one-emotion batches fall under the floor (the least all-emotion speaker's spread).
- ``select``: the candidates (adaptation grain; then C and the balance at the best grain)
  scored on a development split only: RAVDESS actors 01-10 and nEMO's first 5 speakers.
  The score is the mean of four user-visible UAs: each corpus's inner speaker folds (2,
  the other corpus's development speakers in training) and the two leave-one-corpus-out
  cells between the development halves. The other speakers are never looked at.
- ``families``: classifier families the inference export can ship (logistic regression, shrunk
  LDA, MLPs, soft votes of them) for each head, on ``select``'s development cells and score, and
  the one a fixed rule adopts (:data:`ADOPT_GAIN`); ``--families`` gives ``headline`` another.
- ``copies``: the mixes of training copies in :data:`COPY_CANDIDATES` (the shipped recipe's, then with
  a ``speed`` copy: other voices) on ``select``'s development cells, both heads, and the one a rule fixed
  before the run adopts (:func:`adopted_copies`).
- ``plain``: each adaptation grain's single-clip (plain) UA beside its adapted ones, on the
  development split only: trained on its nEMO speakers and RAVDESS actors 01-08, tested on
  actors 09-10 (the mode the ``select`` score left out).
- ``featsets``: issue 18's feature sets (:data:`FEATURE_SET_CANDIDATES`), both heads at their C
  grids, scored like ``select`` on the development speakers only (the others are never extracted),
  and which set, if any, replaces :data:`FEATURE_SET` for each head by a rule fixed beforehand
  (:func:`beats_baseline`).
- ``robust``: held-out RAVDESS speakers (the first of the 5 actor folds, ``--robust-actors``
  of them) clean, with white noise at 10 dB SNR and through a telephone band (8 kHz,
  300-3400 Hz), predicted by the chosen configuration trained on everything else.
- ``transfer-calibration``: a temperature per head fitted on the training corpus alone (on its
  inner speaker folds: clean, their corrupted copies, both, or copies of a kind the fold trained
  without; or a temperature per clip growing with its familiarity distance) and the ECE it gives
  on the held-out corpus; chosen on the development split, then the chosen candidate on the
  test halves and the full corpora (needs ``--augment``; about 20 minutes on two busy cores).
- ``voices``: a folder adapted voice by voice (the voices CAM++ finds among its clips, each
  standardised by its own statistics pulled toward the folder's) against the folder as one
  source, the adapted head on ``select``'s development cells, and whether it passes
  :func:`improves` (the rule fixed before the run; needs ``--augment``).
- ``headline``: the chosen configuration's figures, the issue's table: RAVDESS 5 actor
  folds and nEMO 3 speaker folds with the other corpus in training; RAVDESS→nEMO and
  nEMO→RAVDESS with the argmax over all the model's emotions beside the argmax over the
  test corpus's; ECE on the held-out corpus; the same on the test halves only (speakers
  the selection never saw).

Adapted figures standardise each test source by its own statistics (a held-out corpus,
or a fold's held-out speakers, as one source) and, in the ``by voice`` column, voice by voice
as ``serkit predict DIR --adapt`` standardises a folder (the test side's clips embedded by CAM++,
cached under ``voices/`` in serkit's cache); "plain" standardises it by the pooled
training statistics, as a single clip without source statistics is.

    nice -n 10 python benchmarks/bench_adaptation.py --part clips spread select headline

``--augment all`` (calibrate, voices, headline, transfer-calibration) adds one corrupted copy of every training clip to
every fit, as ``build_bundled_model.py --augment all`` trains the shipped model: in each fold
or cell only the copies of its training speakers' clips (never a held-out speaker's, never the
test corpus's across corpora); the test clips stay clean.

    nice -n 10 python benchmarks/bench_adaptation.py --part calibrate headline --augment all
    nice -n 10 python benchmarks/bench_adaptation.py --part transfer-calibration --augment all

``--feature-set`` (default :data:`FEATURE_SET`) evaluates another registered set than the bundled
model's (extracted for all 3276 clips on first use); ``featsets`` compares issue 18's candidates:

    nice -n 10 python benchmarks/bench_adaptation.py --part featsets
    nice -n 10 python benchmarks/bench_adaptation.py --part headline --feature-set functionals+egemaps

Features come through serkit's cache (``$SERKIT_CACHE_DIR`` or the user cache): the
first run extracts :data:`FEATURE_SET` for both corpora (3276 clips).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = {"ravdess": SHARED / "ravdess-speech", "nemo": SHARED / "nemo"}
FEATURE_SET = "whisper-speech+functionals"
"""The bundled model's features: every hidden state of Whisper tiny.en (``--part layers`` chose them),
pooled over the clip's speech only (since 7 December 2026; every frame, ``whisper-layers+functionals``,
before), beside the functionals; ``whisper+functionals`` (the encoder's output only) before 6 December 2026."""
MODEL = "logreg"
C_VALUES = (0.003, 0.01, 0.03, 0.1)
"""The adapted head's C: chosen on the development split with its grain."""
PLAIN_C_VALUES = (0.003, 0.01, 0.03, 0.1)
"""The plain head's C: chosen on the development split by the single-clip UA."""
CHOSEN = ("corpus", "corpus", 0.003, 0.003)
"""(adapt, balance, C of the adapted head, C of the plain head) as ``--part select`` chose them."""
TEMPERATURE = {"plain": "loco", "adapted": "loco"}
"""Each head's temperature in the bundled model, as ``--part calibrate --augment "all;pause;gate"`` kept it
on the development split (the plain head's was ``inner`` with fewer copies): ``loco`` (fitted leave-one-corpus-out between its training corpora), ``inner``
(on inner speaker folds of the training clips) or ``none``."""
DEV_SPEAKERS = {"ravdess": 10, "nemo": 5}
"""The first N speakers (sorted) of each corpus form the development split."""
FEATURE_SET_CANDIDATES = ("whisper+functionals", "whisper", "whisper+egemaps", "whisper+functionals+egemaps",
                          "egemaps", "functionals")
"""Issue 18's feature sets for the bundled model, the baseline (:data:`FEATURE_SET`) first;
``--part featsets`` kept the baseline for both heads (no candidate met :func:`beats_baseline`)."""
FEATURE_SOURCES = ("whisper+functionals", "egemaps")
"""The extracted (cached) sets the candidates' parts are cut from: no part is extracted twice."""
OPENSMILE_SETS = ("egemaps",)
"""Parts computed by openSMILE: a set with one adds a dependency to the prediction path."""


def load(cache_dir=None, augment=None, fraction=1.0, feature_set=FEATURE_SET):
    """``(datasets, copies)``: each corpus's Dataset and, with ``augment`` (a corruption mix),
    its corrupted copies as ``build_bundled_model.py --augment`` makes them (same seed, same
    cache); ``copies`` is ``{}`` without ``augment``."""
    from serkit.corpora import read_corpus
    from serkit.evaluation import dataset_from_extraction
    from serkit.evaluation.augmented import augmented_dataset
    from serkit.features import extract_corpus

    datasets, copies = {}, {}
    for name, root in CORPORA.items():
        table = read_corpus(name, root)
        extraction = extract_corpus(table, feature_set, n_jobs=1, cache_dir=cache_dir, progress=sys.stderr.isatty())
        datasets[name], extracted = dataset_from_extraction(table, extraction)
        if augment:
            copies[name] = augmented_dataset(table, augment, extracted, fraction=fraction, cache_dir=cache_dir,
                                             progress=sys.stderr.isatty())
    return datasets, copies


def split_speakers(datasets):
    """``(development, test)`` datasets: the first :data:`DEV_SPEAKERS` speakers of each corpus, the rest."""
    dev, test = {}, {}
    for name, data in datasets.items():
        speakers = sorted(set(data.groups.astype(str)))
        inside = np.isin(data.groups.astype(str), speakers[: DEV_SPEAKERS[name]])
        dev[name], test[name] = data.take(inside), data.take(~inside)
    return dev, test


def head_model(head, config, families=None) -> tuple[str, dict]:
    """``(model, params)`` of a head (``plain`` or ``adapted``): its family in ``families`` (head →
    a one-member :data:`FAMILIES` label; default :data:`HEAD_FAMILIES`), ``logreg`` at the config's C for that head.

    >>> head_model("plain", ("corpus", "corpus", 0.003, 0.01), {"plain": "logreg", "adapted": "lda-0.8"})
    ('logreg', {'C': 0.01})
    >>> head_model("adapted", ("corpus", "corpus", 0.003, 0.01), {"plain": "logreg", "adapted": "lda-0.8"})
    ('lda', {'shrinkage': 0.8})
    """
    family = (families or HEAD_FAMILIES)[head]
    if family == "logreg":
        return MODEL, {"C": config[3] if head == "plain" and len(config) > 3 else config[2]}
    [member] = FAMILIES[family]  # a vote of several members has no training path to the bundled model
    return FAMILY_MEMBERS[member][0], dict(FAMILY_MEMBERS[member][1])


def matrix(datasets, train_sets, test_sets, config, n_splits=5, test_grain=None, copies=None, families=None, voices=None):
    """The cells of :func:`serkit.evaluation.crosscorpus.cross_corpus_matrix` for ``config``
    (adapt, balance, C[, the plain head's C]) and each head's family (:func:`head_model`), by
    ``train→test``; ``copies`` (corpus name → corrupted copies) join each fold's training speakers;
    ``voices`` (corpus name → its clips' speaker embeddings) add the ``_voice`` figures."""
    from serkit.evaluation.crosscorpus import cross_corpus_matrix

    adapt, balance = config[:2]
    (model, params), (plain_model, plain_params) = (head_model(head, config, families) for head in ("adapted", "plain"))
    result = cross_corpus_matrix(model, datasets, train_sets, test_sets, n_splits=n_splits, adapt=adapt,
                                 balance=balance, params=params, plain_params=plain_params, plain_model=plain_model,
                                 progress=False, test_grain=test_grain, augment=copies, voices=voices)
    return {f"{c['train']}→{c['test']}": c for c in result.cells}


def loco(datasets, config, test_grain=None, copies=None, families=None, voices=None):
    """The two leave-one-corpus-out cells."""
    return {**matrix(datasets, [["ravdess"]], ["nemo"], config, test_grain=test_grain, copies=copies, families=families,
                     voices=voices),
            **matrix(datasets, [["nemo"]], ["ravdess"], config, test_grain=test_grain, copies=copies, families=families,
                     voices=voices)}


def clip_voices(data, root: Path, cache_name: str, cache_dir=None) -> np.ndarray:
    """The speaker embedding of each of ``data``'s clips (paths under ``root``; compensated CAM++, as
    the predictor embeds a folder's files), in its order; cached by path in ``voices/<cache_name>.npz``
    in serkit's cache."""
    from bench_speakers import embed_clips

    from serkit.features.batch import default_cache_dir
    from serkit.inference.speakers import compensate

    cache = Path(cache_dir or default_cache_dir()) / "voices" / f"{cache_name}.npz"
    cache.parent.mkdir(parents=True, exist_ok=True)
    paths = np.array([str(root / path) for path in data.meta["path"]])
    return compensate(embed_clips(paths, list(range(len(paths))), cache))


def voice_embeddings(datasets, cache_dir=None) -> dict:
    """Each corpus's :func:`clip_voices`, by name."""
    return {name: clip_voices(data, CORPORA[name], name, cache_dir) for name, data in datasets.items()}


def part_voices(datasets, config, copies, cache_dir=None) -> dict:
    """The adapted head on ``select``'s development cells with each test side adapted as one source
    and voice by voice (:func:`serkit.evaluation.crosscorpus.standardise_voices`), and the rule,
    fixed before the run: voice by voice replaces one source for a folder if :func:`improves` holds."""
    dev, _ = split_speakers(datasets)
    voices = voice_embeddings(dev, cache_dir)
    found = {**matrix(dev, [["ravdess", "nemo"]], ["ravdess", "nemo"], config, n_splits=2, test_grain="corpus",
                      copies=copies, voices=voices),
             **loco(dev, config, test_grain="corpus", copies=copies, voices=voices)}
    table = {grain: {key: cell[f"unweighted_accuracy_all{suffix}"] for key, cell in found.items()}
             for grain, suffix in (("one source", ""), ("by voice", "_voice"))}
    for grain, cells in table.items():
        print(f"adapted head, {grain:<10} " + "  ".join(f"{key} {100 * ua:.1f}" for key, ua in cells.items())
              + f"  → mean {100 * np.mean(list(cells.values())):.1f}", flush=True)
    adopted = improves(table["by voice"], table["one source"])
    print(f"a folder adapted {'voice by voice' if adopted else 'as one source'} (improves: {adopted})")
    return {**table, "adopted": "by voice" if adopted else "one source"}


def part_clips(datasets, config, draws=10) -> dict:
    """User-visible UA of a held-out corpus adapted by the statistics of k of its clips."""
    from serkit.features.adaptation import SourceStatistics, adapt_training
    from serkit.evaluation.crosscorpus import _all_emotions_ua
    from serkit.models import fit_model, make_model

    rng = np.random.default_rng(0)
    table = {}
    for train, test in (("ravdess", "nemo"), ("nemo", "ravdess")):
        source, target = datasets[train], datasets[test]
        X, pooled = adapt_training(source.X, config[0], np.full(len(source.y), train), source.groups)
        model = fit_model(make_model(MODEL, C=config[2]), X, source.y.astype(str), source.groups.astype(str))
        classes = [str(c) for c in model.classes_]
        shared = np.isin(target.y.astype(str), classes)
        X_test, y_test = target.X[shared], target.y[shared].astype(str)
        row = {"plain (pooled training statistics)": _all_emotions_ua(y_test, model.predict_proba(pooled["pooled"].apply(X_test)), classes)}
        for k in (2, 4, 8, 16, 32, 64, len(y_test)):
            scores = []
            for _ in range(draws if k < len(y_test) else 1):
                stats = SourceStatistics.of(X_test[rng.choice(len(y_test), size=k, replace=False)])
                scores.append(_all_emotions_ua(y_test, model.predict_proba(stats.apply(X_test)), classes))
            row[f"k={k}"] = (float(np.mean(scores)), float(np.std(scores)))
        table[f"{train}→{test}"] = row
    for cell, row in table.items():
        print(f"\n{cell}: user-visible UA (%) with the statistics of k random test clips ({draws} draws)")
        for key, value in row.items():
            text = f"{100 * value:.1f}" if isinstance(value, float) else f"{100 * value[0]:.1f} ± {100 * value[1]:.1f}"
            print(f"  {key:<36} {text}")
    return table


def part_spread(datasets) -> dict:
    """Spread of all-emotion speakers vs one-emotion batches of a speaker, against the pooled scale."""
    from serkit.features.adaptation import SourceStatistics, spread

    X = np.concatenate([data.X for data in datasets.values()])
    reference = SourceStatistics.of(X).scale
    full, single = [], []
    for name, data in datasets.items():
        for speaker in np.unique(data.groups.astype(str)):
            rows = data.groups.astype(str) == speaker
            full.append(spread(data.X[rows], reference))
            for emotion in np.unique(data.y[rows]):
                single.append(spread(data.X[rows & (data.y == emotion)], reference))
    floor = min(full)
    flagged = float(np.mean(np.array(single) < floor))
    print(f"\nspread against the pooled scale: {len(full)} all-emotion speakers {min(full):.3f}–{max(full):.3f} "
          f"(median {np.median(full):.3f}); {len(single)} one-emotion speaker batches {min(single):.3f}–{max(single):.3f} "
          f"(median {np.median(single):.3f}); under the floor {floor:.3f}: {100 * flagged:.0f} % of the one-emotion batches")
    return {"all_emotion": full, "one_emotion": single, "floor": floor, "flagged": flagged}


def part_select(datasets) -> dict:
    """The two heads' candidates on the development split, and the choice.

    A dual-path model (:mod:`serkit.models.dualpath`) answers a clip without source
    statistics with its *plain* head (trained on the clips as recorded) and one with
    them with its *adapted* head. Each head is chosen by the mean, over the development
    cells (two pooled speaker folds per corpus, both leave-one-corpus-out cells), of the
    user-visible UA of the mode it serves: the plain head's C by the single-clip mean,
    the adapted head's grain and C by the adapted mean, each test side adapted as one source
    (a folder or a recording has no speaker ids; a model trained per speaker adapted per test
    speaker would score higher than the product serves). Within half a point of the best,
    the smaller C (the stronger regularisation). Balance: each corpus and emotion equal.
    """
    dev, _ = split_speakers(datasets)
    scores = {}

    def score(config):
        # The adapted head as the product uses it: each test side adapted as one source (a folder,
        # a recording, a saved adaptation), whatever the training grain.
        found = {**matrix(dev, [["ravdess", "nemo"]], ["ravdess", "nemo"], config, n_splits=2, test_grain="corpus"),
                 **loco(dev, config, test_grain="corpus")}
        ua = float(np.mean([cell["unweighted_accuracy_all"] for cell in found.values()]))
        ece = float(np.mean([cell["ece_all"] for cell in found.values()]))
        scores[config] = (ua, ece)
        head = "plain" if config[0] == "none" else f"adapted ({config[0]})"
        print(f"{head:<20} C {config[2]:<6} "
              + "  ".join(f"{key} {100 * cell['unweighted_accuracy_all']:.1f} (ECE {100 * cell['ece_all']:.1f})"
                          for key, cell in found.items())
              + f"  → mean {100 * ua:.1f} (ECE {100 * ece:.1f})", flush=True)

    def chosen(candidates):
        top = max(scores[c][0] for c in candidates)
        return min((c for c in candidates if scores[c][0] >= top - 0.005), key=lambda c: c[2])

    for C in PLAIN_C_VALUES:
        score(("none", "corpus", C))
    plain = chosen([c for c in scores if c[0] == "none"])
    for grain in ("corpus", "speaker"):
        for C in C_VALUES:
            score((grain, "corpus", C))
    adapted = chosen([c for c in scores if c[0] != "none"])
    print(f"chosen: plain head C {plain[2]} (single clip {100 * scores[plain][0]:.1f}); adapted head: adapt {adapted[0]}, "
          f"C {adapted[2]} (adapted {100 * scores[adapted][0]:.1f}); balance corpus")
    return {"scores": {" ".join(map(str, key)): value for key, value in scores.items()},
            "chosen": (adapted[0], "corpus", adapted[2], plain[2])}


def development_table(name: str):
    """Corpus ``name``'s table of its development speakers (the first :data:`DEV_SPEAKERS`, sorted)."""
    from serkit.corpora import read_corpus

    corpus = read_corpus(name, CORPORA[name])
    speakers = corpus.table["speaker"].astype(str)
    inside = speakers.isin(sorted(set(speakers))[: DEV_SPEAKERS[name]])
    return dataclasses.replace(corpus, table=corpus.table[inside].reset_index(drop=True))


def load_development(feature_set, cache_dir=None, n_jobs=1):
    """Each corpus's development speakers (:data:`DEV_SPEAKERS`) with ``feature_set``, as
    :func:`split_speakers` would give them: the other speakers' clips are never extracted.

    >>> dev = load_development("egemaps")  # doctest: +SKIP
    >>> sorted(dev), len(set(dev["nemo"].groups))  # doctest: +SKIP
    (['nemo', 'ravdess'], 5)
    """
    from serkit.evaluation import dataset_from_extraction
    from serkit.features import extract_corpus

    dev = {}
    for name in CORPORA:
        corpus = development_table(name)
        extraction = extract_corpus(corpus, feature_set, n_jobs=n_jobs, cache_dir=cache_dir, progress=sys.stderr.isatty())
        dev[name], _ = dataset_from_extraction(corpus, extraction)
    return dev


def cut_feature_set(sources, candidate):
    """``candidate``'s datasets ('+'-joined parts), each part's columns cut from the source
    set that holds them: the same values as extracting ``candidate`` (every part analyses
    the clip at 16 kHz, level-normalised alike), without extracting anything again.

    ``sources``: source set name → corpus name → Dataset, the same clips in the same order.

    >>> dev = cut_feature_set({s: load_development(s) for s in FEATURE_SOURCES}, "whisper")  # doctest: +SKIP
    >>> dev["ravdess"].X.shape[1]  # doctest: +SKIP
    768
    """
    from serkit.evaluation import Dataset
    from serkit.features import get_feature_set

    datasets = {}
    for name in CORPORA:
        first = sources[FEATURE_SOURCES[0]][name]
        blocks, columns = [], []
        for part in candidate.split("+"):
            wanted = get_feature_set(part).columns
            source = next(data[name] for data in sources.values() if set(wanted) <= set(data[name].columns))
            if not np.array_equal(source.meta["path"], first.meta["path"]):
                raise ValueError(f"{name}: the source sets hold different clips; extract both on the same corpus")
            position = {column: i for i, column in enumerate(source.columns)}
            blocks.append(source.X[:, [position[column] for column in wanted]])
            columns += wanted
        datasets[name] = Dataset(np.hstack(blocks), first.y, first.groups, columns, first.corpus, first.meta)
    return datasets


def development_scores(dev, config, copies=None):
    """Both heads' user-visible UA on the four development cells of ``select`` for ``config``
    (adapt, balance, C, plain C): ``{"adapted": {cell: UA}, "plain": {cell: UA}}``, the adapted
    head with each test side adapted as one source, the plain head on each clip alone; ``copies``
    (corpus name → copies) join each fit's training speakers."""
    found = {**matrix(dev, [["ravdess", "nemo"]], ["ravdess", "nemo"], config, n_splits=2, test_grain="corpus", copies=copies),
             **loco(dev, config, test_grain="corpus", copies=copies)}
    return {head: {key: cell[metric] for key, cell in found.items()}
            for head, metric in (("adapted", "unweighted_accuracy_all"), ("plain", "unweighted_accuracy_all_fallback"))}


def beats_baseline(candidate, cells, baseline):
    """Issue 18's rule, fixed before any result: ``candidate`` (its head's dev ``cells``) replaces
    the baseline (``baseline``: its cells) if its dev mean is higher by 1.5 points (3 with an
    openSMILE part: a dependency more on the prediction path) and no cell is worse by over 2 points.

    >>> beats_baseline("whisper", {"a": 0.54, "b": 0.50}, {"a": 0.50, "b": 0.50})
    True
    >>> beats_baseline("whisper", {"a": 0.60, "b": 0.47}, {"a": 0.50, "b": 0.50})
    False
    >>> beats_baseline("whisper+egemaps", {"a": 0.54, "b": 0.50}, {"a": 0.50, "b": 0.50})
    False
    """
    return improves(cells, baseline, margin=0.03 if set(candidate.split("+")) & set(OPENSMILE_SETS) else 0.015)


def improves(cells, baseline, *, margin=0.015, max_loss=0.02) -> bool:
    """Whether ``cells`` (cell → UA) beat ``baseline``'s mean by ``margin`` with no cell worse by over ``max_loss``.

    >>> improves({"a": 0.54, "b": 0.50}, {"a": 0.50, "b": 0.50}), improves({"a": 0.51, "b": 0.50}, {"a": 0.50, "b": 0.50})
    (True, False)
    """
    gain = np.mean(list(cells.values())) - np.mean(list(baseline.values()))
    return bool(gain >= margin - 1e-9 and min(cells[key] - baseline[key] for key in baseline) >= -max_loss - 1e-9)


COPY_CANDIDATES = ("all;pause;gate", "all;pause;gate;speed")
"""The training copies ``--part copies`` compares, the shipped recipe's first: with a ``speed`` copy
(:func:`serkit.features.augment.speed`, 0.85-1.15×) of every clip besides, other voices."""


def adopted_copies(table: dict) -> str:
    """``--part copies``' rule, fixed before its first run: a candidate replaces the shipped copies
    (the first of ``table``: mix → head → cell → UA) if for one head it :func:`improves` the
    development cells (1.5 points on the mean, no cell 2 points worse) and the other head's mean
    loses at most half a point; the first such candidate, else the shipped copies.

    >>> base = {"plain": {"a": 0.5, "b": 0.5}, "adapted": {"a": 0.6, "b": 0.6}}
    >>> adopted_copies({"x": base, "y": {"plain": {"a": 0.53, "b": 0.5}, "adapted": {"a": 0.6, "b": 0.597}}})
    'y'
    >>> adopted_copies({"x": base, "y": {"plain": {"a": 0.53, "b": 0.5}, "adapted": {"a": 0.6, "b": 0.58}}})
    'x'
    """
    [baseline, *candidates] = table

    def mean(mix, head):
        return float(np.mean(list(table[mix][head].values())))

    for mix in candidates:
        for head, other in (("plain", "adapted"), ("adapted", "plain")):
            if improves(table[mix][head], table[baseline][head]) and mean(mix, other) >= mean(baseline, other) - 0.005:
                return mix
    return baseline


def part_copies(datasets, config, candidates=COPY_CANDIDATES, cache_dir=None) -> dict:
    """Each mix of training copies (:data:`COPY_CANDIDATES`) scored on ``select``'s development cells
    (both heads, the configuration's C; copies of the training speakers' clips only, the test clips as
    recorded), and the one :func:`adopted_copies` keeps. The other speakers are never looked at."""
    dev, _ = split_speakers(datasets)
    table = {}
    for mix in candidates:
        _, copies = load(cache_dir, mix)
        table[mix] = development_scores(dev, config, copies)
        for head, cells in table[mix].items():
            print(f"copies {mix:<24} {head:<8} " + "  ".join(f"{key} {100 * ua:.1f}" for key, ua in cells.items())
                  + f"  → mean {100 * np.mean(list(cells.values())):.1f}", flush=True)
    chosen = adopted_copies(table)
    print(f"adopted: {chosen}", flush=True)
    return {"table": table, "adopted": chosen}


HEAD_GRIDS = {"plain": PLAIN_C_VALUES, "adapted": C_VALUES}


def head_choices(dev, label: str) -> dict:
    """Both heads on the development split ``dev``, each at the C ``select``'s rule picks from
    its grid (:data:`HEAD_GRIDS`: best dev mean, within half a point the smaller C), printed
    on a line per head: ``{head: {"C", "cells", "mean", "means_by_C"}}``."""
    by_C = {C: development_scores(dev, (CHOSEN[0], CHOSEN[1], C, C)) for C in sorted(set(C_VALUES) | set(PLAIN_C_VALUES))}
    found = {}
    for head, grid in HEAD_GRIDS.items():
        means = {C: float(np.mean(list(by_C[C][head].values()))) for C in grid}
        C = min(c for c in grid if means[c] >= max(means.values()) - 0.005)
        found[head] = {"C": C, "cells": by_C[C][head], "mean": means[C], "means_by_C": means}
        print(f"{label:<28} {head:<8} C {C:<6} "
              + "  ".join(f"{key} {100 * ua:.1f}" for key, ua in by_C[C][head].items())
              + f"  → mean {100 * means[C]:.1f}  (by C: " + ", ".join(f"{c} {100 * m:.1f}" for c, m in means.items()) + ")",
              flush=True)
    return found


LAYER_CANDIDATES = (0, 1, 2, 3, "all")
"""Hidden states of the default encoder tried for the bundled model (``--part layers``,
``whisper-layers``): after 0 … 3 of its 4 transformer layers, and every state pooled side by side
(the embedding, after each layer, the output); the output alone is the baseline."""
LAYER_BASELINE = "whisper+functionals"
"""The bundled model's features before ``--part layers`` chose: the encoder's output (CTranslate2, int8)."""


def part_layers(cache_dir=None, n_jobs=1) -> dict:
    """Which hidden state of the default encoder the bundled model hears, on the development
    split: ``whisper-middle+functionals`` at each of :data:`LAYER_CANDIDATES` against the
    encoder's output (:data:`LAYER_BASELINE`), both heads at their C grids (:func:`head_choices`).

    The rule, fixed before the pooled alternatives were scored (see docs/results.md): one
    candidate serves both heads (a clip is encoded once); of those that pass
    :func:`beats_baseline` for both heads, the highest average of the heads' dev means, and
    within half a point of it the one that runs the fewest layers. The test speakers are
    neither extracted nor looked at.
    """
    from serkit.features import get_feature_set

    def label(layer):
        return "every state" if layer == "all" else f"state after {layer} layers"

    def layers_run(layer):
        return 4 if layer == "all" else layer

    print(f"\ndevelopment split, user-visible UA (%) per cell; adapted head: adapt {CHOSEN[0]}, balance {CHOSEN[1]}")
    table = {LAYER_BASELINE: head_choices(load_development(LAYER_BASELINE, cache_dir, n_jobs), LAYER_BASELINE)}
    for layer in LAYER_CANDIDATES:
        feature_set = get_feature_set("whisper-layers+functionals", whisper={"layer": layer})
        table[layer] = head_choices(load_development(feature_set, cache_dir, n_jobs), label(layer))
    passing = [layer for layer in LAYER_CANDIDATES
               if all(beats_baseline("whisper", table[layer][head]["cells"], table[LAYER_BASELINE][head]["cells"])
                      for head in HEAD_GRIDS)]
    average = {layer: float(np.mean([table[layer][head]["mean"] for head in HEAD_GRIDS])) for layer in passing}
    chosen = min((layer for layer in passing if average[layer] >= max(average.values()) - 0.005), key=layers_run, default=None)
    print(f"passing the rule for both heads: {passing or 'none'}; average of the heads' means: "
          + ", ".join(f"{label(layer)} {100 * mean:.1f}" for layer, mean in average.items()) + " → "
          + (f"{label(chosen)} (" + ", ".join(f"{head} C {table[chosen][head]['C']}" for head in HEAD_GRIDS) + ")"
             if chosen is not None else f"{LAYER_BASELINE} kept"))
    return {"table": {str(key): value for key, value in table.items()}, "chosen": chosen}


def part_feature_sets(cache_dir=None, n_jobs=1) -> dict:
    """Issue 18: each of :data:`FEATURE_SET_CANDIDATES` with both heads on the development
    split, each head's C chosen as ``select`` chooses it (best dev mean, within half a point
    the smaller C; the adapted head at :data:`CHOSEN`'s grain and balance), then per head
    the set :func:`beats_baseline` keeps (the highest dev mean of those that pass), else the
    baseline. The test speakers are neither extracted nor looked at."""
    sources = {source: load_development(source, cache_dir, n_jobs) for source in FEATURE_SOURCES}
    table = {}
    print(f"\ndevelopment split, user-visible UA (%) per cell; adapted head: adapt {CHOSEN[0]}, balance {CHOSEN[1]}")
    for candidate in FEATURE_SET_CANDIDATES:
        table[candidate] = head_choices(cut_feature_set(sources, candidate), candidate)
    baseline = FEATURE_SET_CANDIDATES[0]
    chosen = {}
    for head in HEAD_GRIDS:
        passing = [c for c in FEATURE_SET_CANDIDATES[1:] if beats_baseline(c, table[c][head]["cells"], table[baseline][head]["cells"])]
        chosen[head] = max(passing, key=lambda c: table[c][head]["mean"], default=baseline)
        print(f"{head} head: passing the rule {passing or 'none'} → {chosen[head]} (C {table[chosen[head]][head]['C']})")
    return {"table": table, "chosen": chosen}


def _rows(datasets, parts):
    """``(X, y, speakers, corpus)`` of ``parts`` (corpus name → row indices), speakers kept apart per corpus."""
    X = np.concatenate([datasets[name].X[rows] for name, rows in parts.items()])
    y = np.concatenate([datasets[name].y[rows] for name, rows in parts.items()]).astype(str)
    speakers = np.concatenate([np.char.add(f"{name}/", datasets[name].groups[rows].astype(str)) for name, rows in parts.items()])
    corpus = np.concatenate([np.full(len(rows), name) for name, rows in parts.items()])
    return X, y, speakers, corpus


def with_copies(rows, copies):
    """``rows`` (``(X, y, speakers, corpus)`` of :func:`_rows`) with the copies (corpus name →
    corrupted copies' Dataset) of its speakers appended: never a copy of a speaker not in ``rows``."""
    from serkit.evaluation.augmented import copy_rows

    if not copies:
        return rows
    speakers, corpus = rows[2], rows[3]
    parts = {name: copy_rows(data, [str(s).partition("/")[2] for s in speakers[corpus == name]])
             for name, data in copies.items()}
    return tuple(np.concatenate([a, b]) for a, b in zip(rows, _rows(copies, parts)))


def fit_head(X, y, speakers, corpus, head, config, copies=None, families=None):
    """One head of ``config`` (adapt, balance, C, plain C) and ``families`` (:func:`head_model`) fitted
    on the rows (and the ``copies`` of their speakers); a function giving the probabilities (over
    the model's classes) of test rows, the adapted head standardising each test corpus as one
    source (the corpus grain) or each speaker."""
    X, y, speakers, corpus = with_copies((X, y, speakers, corpus), copies)
    grain = "none" if head == "plain" else config[0]
    return fit_grain(X, y, speakers, corpus, grain, config[1], *head_model(head, config, families))


def fit_grain(X, y, speakers, corpus, grain, balance, model_name, params, seed=0):
    """``model_name`` (``params``, seeded by ``seed``) fitted on the rows standardised at ``grain``
    (``none``: the plain head) with the ``balance`` weights, as :func:`fit_head` returns it."""
    from serkit.evaluation.pooling import training_weights
    from serkit.features.adaptation import SourceAdapter, adapt_training, training_groups
    from serkit.models import fit_model, make_model

    X_fit, _ = adapt_training(X, grain, corpus, speakers)
    model = fit_model(make_model(model_name, random_state=seed, **params), X_fit, y, speakers,
                      sample_weight=training_weights(corpus, y, balance))
    classes = [str(c) for c in model.classes_]

    def predict(X_test, speakers_test, corpus_test):
        if grain != "none":
            X_test = SourceAdapter().fit_transform(X_test, training_groups(grain, corpus_test, speakers_test))
        return model.predict_proba(X_test)

    return classes, predict


FAMILY_MEMBERS = {
    "logreg": ("logreg", {"C": 0.003}, 0),
    "lda-auto": ("lda", {"shrinkage": "auto"}, 0),
    "lda-0.2": ("lda", {"shrinkage": 0.2}, 0),
    "lda-0.5": ("lda", {"shrinkage": 0.5}, 0),
    "lda-0.8": ("lda", {"shrinkage": 0.8}, 0),
    "mlp64-a0.1": ("mlp", {"hidden_layer_sizes": (64,), "alpha": 0.1}, 0),
    "mlp64-a0.1-seed1": ("mlp", {"hidden_layer_sizes": (64,), "alpha": 0.1}, 1),
    "mlp64-a1": ("mlp", {"hidden_layer_sizes": (64,), "alpha": 1.0}, 0),
    "mlp64-a1-seed1": ("mlp", {"hidden_layer_sizes": (64,), "alpha": 1.0}, 1),
    "mlp256-a1": ("mlp", {"hidden_layer_sizes": (256,), "alpha": 1.0}, 0),
}
"""The fitted members of ``--part families``: (registered model, parameters, seed) by label."""
FAMILIES = {
    "logreg": {"logreg": 1.0},
    **{name: {name: 1.0} for name in ("lda-auto", "lda-0.2", "lda-0.5", "lda-0.8", "mlp64-a0.1")},
    "mlp64-a0.1-x2": {"mlp64-a0.1": 0.5, "mlp64-a0.1-seed1": 0.5},
    "mlp64-a1": {"mlp64-a1": 1.0},
    "mlp64-a1-x2": {"mlp64-a1": 0.5, "mlp64-a1-seed1": 0.5},
    "mlp256-a1": {"mlp256-a1": 1.0},
    "vote-logreg-mlp64-a0.1-x2": {"logreg": 0.5, "mlp64-a0.1": 0.25, "mlp64-a0.1-seed1": 0.25},
    "vote-logreg-mlp64-a1-x2": {"logreg": 0.5, "mlp64-a1": 0.25, "mlp64-a1-seed1": 0.25},
    "vote-logreg-lda-auto": {"logreg": 0.5, "lda-auto": 0.5},
}
"""The candidates of ``--part families``, simplest first: each a soft vote (the weighted mean of its
members' probabilities, what the export's ``soft-vote`` step runs; one member: the model itself;
``x2``: two seeds). Logistic regression (C 0.003, the bundled model's) first: the others are compared with it.
``lda``: shrinkage (``auto``: Ledoit-Wolf); ``mlp``: one hidden layer of 64 or 256, ``a``: its alpha."""
HEAD_FAMILIES = {"plain": "logreg", "adapted": "logreg"}
"""Each head's family (a one-member :data:`FAMILIES` label) in ``headline`` and the bundled model;
``logreg`` takes its C from the configuration (:data:`CHOSEN`). ``--part families``' rule picks
``lda-0.8`` for the plain head (development mean +1.55 points, at the threshold), not carried here:
with resampling seeds 1 and 2 the same candidate gains +1.25 and +0.93 (under the rule) and its
ECE is 57 % against 24 % (issue 18's report)."""
ADOPT_GAIN, ADOPT_MAX_LOSS, ADOPT_TIE = 0.015, 0.02, 0.005
"""The ``families`` rule, fixed before the table: a candidate is adopted for a head if its development
mean beats the baseline's by ``ADOPT_GAIN`` and it loses at most ``ADOPT_MAX_LOSS`` on every cell;
among those, the simplest (first listed) within ``ADOPT_TIE`` of the best."""


def development_folds(dev) -> dict:
    """The ``select`` score's fits on the development split, by cell: ``{cell: [(train rows, test rows), …]}``,
    each a :func:`_rows` part (corpus name → indices): each corpus's 2 pooled speaker folds (the other
    corpus whole in training) and the two leave-one-corpus-out cells."""
    from serkit.evaluation import split_indices

    cells = {}
    for name, other in (("ravdess", "nemo"), ("nemo", "ravdess")):
        data = dev[name]
        folds = split_indices("speaker", data.y, data.groups, n_splits=2, random_state=0)
        cells[f"ravdess+nemo→{name}"] = [({other: np.arange(len(dev[other].y)), name: train}, {name: test})
                                         for train, test in folds]
    for train, test in (("ravdess", "nemo"), ("nemo", "ravdess")):
        keep = np.flatnonzero(np.isin(dev[test].y.astype(str), np.unique(dev[train].y.astype(str))))
        cells[f"{train}→{test}"] = [({train: np.arange(len(dev[train].y))}, {test: keep})]
    return cells


def member_probabilities(dev, member, grain="corpus") -> dict:
    """One member of :data:`FAMILY_MEMBERS` on the development cells: ``{head: {cell: [(y, proba,
    classes), …]}}``, the plain head on each test clip as recorded, the adapted head (trained at ``grain``)
    with each test side standardised as one source; ``"seconds"``: the time its fits took."""
    from time import perf_counter

    model_name, params, seed = member
    out, start = {"plain": {}, "adapted": {}}, perf_counter()
    for cell, fits in development_folds(dev).items():
        for train, test in fits:
            X, y, speakers, corpus = _rows(dev, train)
            X_t, y_t, s_t, c_t = _rows(dev, test)
            for head, head_grain in (("plain", "none"), ("adapted", grain)):
                classes, predict = fit_grain(X, y, speakers, corpus, head_grain, "corpus", model_name, params, seed)
                out[head].setdefault(cell, []).append((y_t, predict(X_t, s_t, c_t), classes))
    out["seconds"] = perf_counter() - start
    return out


def family_scores(members: dict, weights: dict, head: str) -> dict:
    """A soft vote's user-visible UA and ECE per development cell (a corpus's speaker folds averaged)
    from its members' :func:`member_probabilities` (``members``, by label) and ``weights`` (label → weight)."""
    from serkit.evaluation.crosscorpus import _all_emotions_ua
    from serkit.evaluation.metrics import calibration_metrics

    scores = {}
    first = members[next(iter(weights))][head]
    for cell, fits in first.items():
        ua, ece = [], []
        for index, (y, _, classes) in enumerate(fits):
            proba = sum(weight * members[label][head][cell][index][1] for label, weight in weights.items())
            ua.append(_all_emotions_ua(y, proba, classes))
            ece.append(calibration_metrics(y, proba, classes)["ece"])
        scores[cell] = (float(np.mean(ua)), float(np.mean(ece)))
    return scores


def adopted_family(table: dict, baseline: str) -> str:
    """The candidate the :data:`ADOPT_GAIN` rule adopts from ``table`` (candidate → {cell: (UA, ECE)}),
    or ``baseline`` when none qualifies.

    >>> adopted_family({"a": {"x": (0.50, 0), "y": (0.50, 0)}, "b": {"x": (0.54, 0), "y": (0.49, 0)},
    ...                 "c": {"x": (0.56, 0), "y": (0.48, 0)}}, "a")
    'b'
    """
    def mean(name):
        return float(np.mean([ua for ua, _ in table[name].values()]))

    qualified = [name for name in table if name != baseline and mean(name) >= mean(baseline) + ADOPT_GAIN
                 and all(table[name][cell][0] >= ua - ADOPT_MAX_LOSS for cell, (ua, _) in table[baseline].items())]
    if not qualified:
        return baseline
    best = max(mean(name) for name in qualified)
    return next(name for name in qualified if mean(name) >= best - ADOPT_TIE)


def part_families(datasets, members=None) -> dict:
    """Classifier families the export can ship, per head, on the development split (``select``'s
    cells and score; the adapted head trained per corpus, balance corpus), and the rule's choice.
    ``members``: already computed :func:`member_probabilities` by label (computed here if absent)."""
    dev, _ = split_speakers(datasets)
    members = dict(members or {})
    for label, member in FAMILY_MEMBERS.items():
        if label not in members:
            members[label] = member_probabilities(dev, member)
            print(f"  fitted {label} ({members[label]['seconds']:.0f} s)", file=sys.stderr, flush=True)
    baseline = next(iter(FAMILIES))
    results = {}
    for head, mode in (("plain", "single clip"), ("adapted", "adapted")):
        table = {name: family_scores(members, weights, head) for name, weights in FAMILIES.items()}
        base_mean = np.mean([ua for ua, _ in table[baseline].values()])
        print(f"\n{head} head ({mode}): user-visible UA % (ECE %) on the development cells; Δ: the mean's gain over "
              f"the baseline; worst: the largest loss on a cell; s: its members' fits (both heads, 12 each)")
        for name, cells in table.items():
            mean_ua, mean_ece = (np.mean([v[i] for v in cells.values()]) for i in (0, 1))
            worst = min(ua - table[baseline][cell][0] for cell, (ua, _) in cells.items())
            seconds = sum(members[label]["seconds"] for label in FAMILIES[name])
            print(f"  {name:<26} " + "  ".join(f"{cell} {100 * ua:.1f} ({100 * ece:.1f})" for cell, (ua, ece) in cells.items())
                  + f"  → mean {100 * mean_ua:.1f} ({100 * mean_ece:.1f})  Δ {100 * (mean_ua - base_mean):+.1f}"
                  + f"  worst {100 * worst:+.1f}  {seconds:.0f} s", flush=True)
        chosen = adopted_family(table, baseline)
        print(f"  adopted for the {head} head: {chosen}")
        results[head] = {"table": table, "adopted": chosen}
    return results


def inner_temperature(X, y, speakers, corpus, head, config, n_folds=3, copies=None, families=None) -> float:
    """The temperature of a head fitted on out-of-fold probabilities of its own training speakers
    (``n_folds`` speaker folds): what a cell may use without looking at its test corpus."""
    from serkit.evaluation import split_indices
    from serkit.inference.runtime import align_probabilities, log_probabilities
    from serkit.models.calibration import fit_temperature

    labels = sorted(set(y))
    proba = np.zeros((len(y), len(labels)))
    for train, test in split_indices("speaker", y, speakers, n_splits=n_folds, random_state=0):
        classes, predict = fit_head(X[train], y[train], speakers[train], corpus[train], head, config, copies, families)
        proba[test] = align_probabilities(predict(X[test], speakers[test], corpus[test]), classes, labels)
    return fit_temperature(log_probabilities(proba), np.searchsorted(labels, y))


def loco_probabilities(datasets, head, config, *, inner=True, copies=None, families=None) -> dict:
    """``{"ravdess→nemo": (y, proba, classes, T), …}``: each corpus predicted by a head trained on the
    other (its clips of the model's emotions), with the training side's inner-fold temperature
    ``T`` (None without ``inner``)."""
    out = {}
    for train, test in (("ravdess", "nemo"), ("nemo", "ravdess")):
        X, y, speakers, corpus = _rows(datasets, {train: np.arange(len(datasets[train].y))})
        classes, predict = fit_head(X, y, speakers, corpus, head, config, copies, families)
        keep = np.flatnonzero(np.isin(datasets[test].y.astype(str), classes))
        X_test, y_test, s_test, c_test = _rows(datasets, {test: keep})
        out[f"{train}→{test}"] = (y_test, predict(X_test, s_test, c_test), classes,
                                  inner_temperature(X, y, speakers, corpus, head, config, copies=copies, families=families)
                                  if inner else None)
    return out


def joint_temperature(cells) -> float:
    """One temperature for several ``(y, proba, classes, …)`` sets at once, of models with different
    classes (a set's missing columns are ``-inf`` logits: they weigh nothing at any temperature)."""
    from serkit.inference.runtime import log_probabilities
    from serkit.models.calibration import fit_temperature

    width = max(len(cell[2]) for cell in cells)
    logits = [np.pad(log_probabilities(cell[1]), ((0, 0), (0, width - len(cell[2]))), constant_values=-np.inf)
              for cell in cells]
    return fit_temperature(np.concatenate(logits), np.concatenate([np.searchsorted(cell[2], cell[0]) for cell in cells]))


def loco_temperature(datasets, head, config, copies=None, families=None) -> float:
    """The temperature of a head fitted on both leave-one-corpus-out directions' probabilities
    (what the bundled model may use: its two training corpora, each held out of the other; each
    direction trained with the ``copies`` of its training corpus, as the model is)."""
    return joint_temperature(list(loco_probabilities(datasets, head, config, inner=False, copies=copies,
                                                     families=families).values()))


def part_calibrate(datasets, config, copies=None) -> dict:
    """Whether a temperature per head helps, on the development split only.

    Cells: both leave-one-corpus-out directions and the pooled model's two speaker folds per
    corpus. Candidates: no temperature; the bundled model's (fitted on leave-one-corpus-out
    probabilities between the training corpora: for a leave-one-corpus-out cell only the
    other direction's, cross-fitted, so the cell's own test corpus is never used); a cell's
    inner speaker folds (a leave-one-corpus-out cell's training corpus only). A temperature
    is kept if it lowers the mean ECE (argmax over all the model's emotions) of the four cells.
    """
    from serkit.evaluation import split_indices
    from serkit.evaluation.metrics import calibration_metrics
    from serkit.inference.runtime import log_probabilities, scale_probabilities
    from serkit.models.calibration import fit_temperature

    dev, _ = split_speakers(datasets)
    results = {}
    for head in ("plain", "adapted"):
        loco_cells = loco_probabilities(dev, head, config, copies=copies)
        fitted = {key: fit_temperature(log_probabilities(p), np.searchsorted(c, y)) for key, (y, p, c, _) in loco_cells.items()}
        both = joint_temperature(list(loco_cells.values()))
        rows = {}
        for key, (y, p, c, inner) in loco_cells.items():
            other = fitted[next(k for k in fitted if k != key)]
            rows[key] = {T_name: calibration_metrics(y, scale_probabilities(p, T), c)["ece"]
                         for T_name, T in (("none", 1.0), ("leave-one-corpus-out", other), ("inner folds", inner))}
        for name in ("ravdess", "nemo"):
            other = next(n for n in dev if n != name)
            data = dev[name]
            for fold, (train, test) in enumerate(split_indices("speaker", data.y, data.groups, n_splits=2, random_state=0), 1):
                X, y, speakers, corpus = _rows(dev, {other: np.arange(len(dev[other].y)), name: train})
                classes, predict = fit_head(X, y, speakers, corpus, head, config, copies)
                X_t, y_t, s_t, c_t = _rows(dev, {name: test})
                p = predict(X_t, s_t, c_t)
                inner = inner_temperature(X, y, speakers, corpus, head, config, copies=copies)
                rows[f"ravdess+nemo→{name} fold {fold}"] = {
                    T_name: calibration_metrics(y_t, scale_probabilities(p, T), classes)["ece"]
                    for T_name, T in (("none", 1.0), ("leave-one-corpus-out", both), ("inner folds", inner))}
        means = {T_name: float(np.mean([row[T_name] for row in rows.values()])) for T_name in ("none", "leave-one-corpus-out", "inner folds")}
        # Speaker folds count as much as a leave-one-corpus-out cell: one mean per corpus's folds.
        cells = {key: row for key, row in rows.items() if "fold" not in key}
        for name in ("ravdess", "nemo"):
            folds = [row for key, row in rows.items() if key.startswith(f"ravdess+nemo→{name} fold")]
            cells[f"ravdess+nemo→{name}"] = {T: float(np.mean([row[T] for row in folds])) for T in means}
        means = {T: float(np.mean([row[T] for row in cells.values()])) for T in means}
        kept = min(means, key=means.get)
        print(f"\n{head} head: ECE (%) on the development split, argmax over all the model's emotions "
              f"(leave-one-corpus-out temperature on both dev directions: {both:.2f}, per direction "
              + ", ".join(f"{k} {v:.2f}" for k, v in fitted.items()) + ")")
        for key, row in cells.items():
            print(f"  {key:<24} " + "  ".join(f"{T} {100 * v:.1f}" for T, v in row.items()))
        print(f"  {'mean':<24} " + "  ".join(f"{T} {100 * v:.1f}" for T, v in means.items()) + f"  → kept: {kept}", flush=True)
        results[head] = {"cells": cells, "mean": means, "kept": kept, "loco_temperature_dev": both}
    return results


HELD_OUT_KINDS = (("white", "pink", "babble"), ("reverb",), ("telephone", "mp3"))
"""``unseen condition``: inner speaker fold i also leaves these corruption kinds out of training
(noise, room, channel) and is scored on its held-out speakers' copies of them."""
TRANSFER_CANDIDATES = ("none", "clean", "copies", "clean+copies", "unseen condition", "familiarity")
"""How a head's temperature is fitted on its training corpus alone (``--part transfer-calibration``):
none (T 1); one T on inner-fold held-out sets: the held-out speakers' clips, their corrupted copies
(as their own source), both, their copies of a kind the fold trained without; or a T per clip
growing with its log familiarity distance from the training clips (fitted on all three sets)."""


def _without_kinds(copies, kinds):
    """``copies`` (corpus name → copies' Dataset) less the copies of corruption ``kinds``."""
    return {name: data.take(~np.isin(data.meta["corruption"], kinds)) for name, data in copies.items()}


def _copies_of(copies, speakers, corpus, classes, kinds=None):
    """``(X, y, speakers, corpus)`` of the copies of ``speakers`` (of :func:`_rows`), of the model's
    ``classes``, only of corruption ``kinds`` if given."""
    from serkit.evaluation.augmented import copy_rows

    parts = {}
    for name, data in copies.items():
        rows = copy_rows(data, [str(s).partition("/")[2] for s in speakers[corpus == name]])
        keep = np.isin(data.y[rows].astype(str), classes)
        if kinds is not None:
            keep &= np.isin(data.meta["corruption"][rows], kinds)
        parts[name] = rows[keep]
    return _rows(copies, parts)


def shift_of(X, y, speakers):
    """A function giving rows' log familiarity distance from the clean training rows ``X``, less the
    median of the training speakers' own (out-of-fold) distances: 0 is a typical new speaker."""
    from serkit.inference.familiarity import fit_familiarity

    familiarity = fit_familiarity(X, speakers, y)
    typical = np.log(np.median(familiarity.reference))
    return lambda rows: np.log(familiarity.distances(rows)) - typical


def inner_folds(X, y, speakers, n_folds=3) -> list:
    """``[(train, test, shift), …]``: the speaker folds of the rows and the :func:`shift_of` each
    fold's training rows (computed once, shared by both heads)."""
    from serkit.evaluation import split_indices

    return [(train, test, shift_of(X[train], y[train], speakers[train]))
            for train, test in split_indices("speaker", y, speakers, n_splits=n_folds, random_state=0)]


def inner_sets(X, y, speakers, corpus, head, config, copies, folds) -> dict:
    """``{set: (y, log-probabilities, shift)}``: out-of-fold predictions of a head on its own training
    speakers (``folds`` of :func:`inner_folds`, each fit with its training speakers' copies) and their
    shift from the fold's training rows: the held-out speakers' clips (``clean``), their copies
    (``copies``), their copies of a kind the fold trained without (``unseen condition``), all over
    the head's classes (sorted ``y``)."""
    from serkit.inference.runtime import align_probabilities, log_probabilities

    labels = sorted(set(y))
    found = {name: [] for name in ("clean", "copies", "unseen condition")}
    for fold, (train, test, shift) in enumerate(folds):
        kinds = HELD_OUT_KINDS[fold % len(HELD_OUT_KINDS)]
        for name, fold_copies in (("clean", copies), ("unseen condition", _without_kinds(copies, kinds))):
            classes, predict = fit_head(X[train], y[train], speakers[train], corpus[train], head, config, fold_copies)
            if name == "clean":
                held = (X[test], y[test], speakers[test], corpus[test])
                # A separate call: the copies are their own source, as a new recording condition would be.
                sets = {"clean": held, "copies": _copies_of(copies, speakers[test], corpus[test], classes)}
            else:
                sets = {name: _copies_of(copies, speakers[test], corpus[test], classes, kinds)}
            for key, (X_s, y_s, s_s, c_s) in sets.items():
                proba = align_probabilities(predict(X_s, s_s, c_s), classes, labels)
                found[key].append((y_s, log_probabilities(proba), shift(X_s)))
    return {name: tuple(np.concatenate(parts) for parts in zip(*entries)) for name, entries in found.items()}


def transfer_temperatures(X, y, speakers, corpus, head, config, copies, folds) -> tuple[dict, tuple]:
    """``({candidate: function shift → temperature}, (y, log-probabilities, shift) of the clean
    inner folds)`` for one head trained on the rows (:data:`TRANSFER_CANDIDATES`)."""
    from serkit.models.calibration import fit_shift_temperature, fit_temperature, shift_temperature

    sets = inner_sets(X, y, speakers, corpus, head, config, copies, folds)
    sets["clean+copies"] = tuple(np.concatenate(parts) for parts in zip(sets["clean"], sets["copies"]))
    labels = sorted(set(y))

    def constant(T):
        return lambda shift: np.full(len(shift), T)

    found = {"none": constant(1.0)}
    for name in ("clean", "copies", "clean+copies", "unseen condition"):
        y_set, logp, _ = sets[name]
        found[name] = constant(fit_temperature(logp, np.searchsorted(labels, y_set)))
    y_all, logp_all, shift_all = (np.concatenate(parts) for parts in
                                  zip(*(sets[name] for name in ("clean", "copies", "unseen condition"))))
    a, b = fit_shift_temperature(logp_all, np.searchsorted(labels, y_all), shift_all)
    found["familiarity"] = lambda shift: shift_temperature(shift, a, b)
    return found, sets["clean"]


def transfer_table(datasets, config, copies, candidates=TRANSFER_CANDIDATES) -> dict:
    """``{(head, "train→test"): {candidate: (mean T, held-out corpus ECE, in-domain ECE)}}``: each
    direction's temperatures from its training corpus alone; the in-domain ECE is that of the
    training corpus's clean inner speaker folds. ``none`` (T 1) is always shown."""
    from serkit.evaluation.metrics import calibration_metrics
    from serkit.inference.runtime import scale_probabilities

    table = {}
    cells = {head: loco_probabilities(datasets, head, config, inner=False, copies=copies) for head in ("plain", "adapted")}
    for key in cells["plain"]:
        train, _, test = key.partition("→")
        X, y, speakers, corpus = _rows(datasets, {train: np.arange(len(datasets[train].y))})
        folds, shift = inner_folds(X, y, speakers), shift_of(X, y, speakers)
        for head in cells:
            y_test, proba, classes, _ = cells[head][key]
            temperatures, (y_in, logp_in, shift_in) = transfer_temperatures(X, y, speakers, corpus, head, config,
                                                                            copies, folds)
            # The rows loco_probabilities predicted: the held-out corpus's clips of the model's emotions.
            shift_test = shift(datasets[test].X[np.isin(datasets[test].y.astype(str), classes)])
            row = {}
            for name in dict.fromkeys(("none", *candidates)):
                T_test, T_in = temperatures[name](shift_test), temperatures[name](shift_in)
                row[name] = (float(np.mean(T_test)),
                             calibration_metrics(y_test, scale_probabilities(proba, T_test[:, None]), classes)["ece"],
                             calibration_metrics(y_in, scale_probabilities(np.exp(logp_in), T_in[:, None]), classes)["ece"])
            table[head, key] = row
            _print_transfer(head, key, row)
    return table


def _print_transfer(head, key, row) -> None:
    print(f"  {head:<8} {key:<16} " + "  ".join(f"{name} T {T:.2f} ECE {100 * ece:.1f} (in {100 * inside:.1f})"
                                               for name, (T, ece, inside) in row.items()), flush=True)


def part_transfer_calibration(datasets, config, copies) -> dict:
    """A temperature fitted on the training corpus alone that holds on a corpus the model never saw.

    Each leave-one-corpus-out direction's heads get each candidate's temperature from their own
    training corpus's inner speaker folds (:func:`transfer_temperatures`). Rule, fixed before the
    test figures: on the development split (R-dev→N-dev, N-dev→R-dev), the candidate with the
    lowest mean held-out-corpus ECE (argmax over all the model's emotions) over both directions
    and heads, among those whose in-domain ECE (clean inner folds) stays <= 15 % in all four
    (``none`` if no candidate does); then the chosen one only, once, on the test halves and on
    the full corpora.
    """
    dev, test = split_speakers(datasets)
    print("\ntransfer calibration, development split: mean T, held-out corpus ECE % (in-domain ECE %)")
    table = transfer_table(dev, config, copies)
    means = {name: float(np.mean([row[name][1] for row in table.values()])) for name in TRANSFER_CANDIDATES}
    worst_inside = {name: max(row[name][2] for row in table.values()) for name in TRANSFER_CANDIDATES}
    allowed = [name for name in TRANSFER_CANDIDATES if worst_inside[name] <= 0.15]
    chosen = min(allowed, key=means.get) if allowed else "none"
    print("  mean held-out ECE: " + "  ".join(f"{name} {100 * v:.1f} (in-domain at most {100 * worst_inside[name]:.1f})"
                                            for name, v in means.items()) + f"  → chosen: {chosen}")
    results = {"dev": {f"{head} {key}": row for (head, key), row in table.items()}, "dev_mean": means,
               "dev_worst_in_domain": worst_inside, "chosen": chosen}
    for title, data in (("test halves", test), ("full corpora", datasets)):
        print(f"\ntransfer calibration, {title}, {chosen}: mean T, held-out corpus ECE % (in-domain ECE %)")
        results[title] = {f"{head} {key}": row for (head, key), row in transfer_table(data, config, copies, (chosen,)).items()}
    return results


def part_headline(datasets, config, copies=None, feature_set=FEATURE_SET, families=None, cache_dir=None) -> dict:
    """The issue's table for the chosen configuration: the adapted head with each test side
    adapted as one source and voice by voice (a folder, :func:`part_voices`), the plain head on
    each clip alone; ECE on the held-out corpus as the heads give it, with a temperature from
    the cell's training corpus's inner speaker folds (all a cross-corpus cell may use), and with
    the bundled model's kind of temperature cross-fitted (:func:`other_direction_temperature`;
    both temperatures on the test side as one source)."""
    voices = voice_embeddings(datasets, cache_dir)
    test_voices = voice_embeddings(split_speakers(datasets)[1], cache_dir)
    ravdess5 = matrix(datasets, [["ravdess", "nemo"]], ["ravdess"], config, n_splits=5, test_grain="corpus",
                      copies=copies, families=families, voices=voices)["ravdess+nemo→ravdess"]
    nemo3 = matrix(datasets, [["ravdess", "nemo"]], ["nemo"], config, n_splits=3, test_grain="corpus",
                   copies=copies, families=families, voices=voices)["ravdess+nemo→nemo"]
    found = loco(datasets, config, test_grain="corpus", copies=copies, families=families, voices=voices)
    halves = loco(split_speakers(datasets)[1], config, test_grain="corpus", copies=copies, families=families,
                  voices=test_voices)
    rows = [("RAVDESS speaker-independent UA (5 actor folds, nEMO in training)", ravdess5, "unweighted_accuracy"),
            ("nEMO speaker-independent UA (3 speaker folds, RAVDESS in training)", nemo3, "unweighted_accuracy"),
            ("RAVDESS → nEMO, user-visible UA (argmax over all the model's emotions)", found["ravdess→nemo"], "unweighted_accuracy_all"),
            ("RAVDESS → nEMO, UA (argmax over nEMO's emotions)", found["ravdess→nemo"], "unweighted_accuracy"),
            ("nEMO → RAVDESS, user-visible UA", found["nemo→ravdess"], "unweighted_accuracy_all"),
            ("nEMO → RAVDESS, UA (argmax over RAVDESS's emotions)", found["nemo→ravdess"], "unweighted_accuracy"),
            ("ECE on the held-out corpus, RAVDESS → nEMO", found["ravdess→nemo"], "ece_all"),
            ("ECE on the held-out corpus, nEMO → RAVDESS", found["nemo→ravdess"], "ece_all"),
            ("test halves only: RAVDESS → nEMO, user-visible UA", halves["ravdess→nemo"], "unweighted_accuracy_all"),
            ("test halves only: nEMO → RAVDESS, user-visible UA", halves["nemo→ravdess"], "unweighted_accuracy_all")]
    (model, params), (plain_model, plain_params) = (head_model(head, config, families) for head in ("adapted", "plain"))
    print(f"\n{feature_set}, balance {config[1]}: adapted head {model} {params}, adapt {config[0]}; "
          f"plain head {plain_model} {plain_params}; "
          + (f"training with {sum(len(d.y) for d in copies.values())} corrupted copies "
             f"({next(iter(copies.values())).corpus['augment']['mix']}) of the training speakers' clips"
             if copies else "no corrupted copies"))
    print(f"{'figure':<76} {'adapted':>14} {'by voice':>14} {'plain':>14}")
    table = {}
    for title, cell, key in rows:
        shown = []
        for suffix in ("", "_voice", "_fallback"):
            spread = ""
            if key == "unweighted_accuracy" and "folds" in cell:
                spread = f" ± {100 * np.std([fold[key + suffix] for fold in cell['folds']]):.1f}"
            shown.append(f"{100 * cell.get(key + suffix, cell[key]):.1f}{spread} %")
        print(f"{title:<76} {shown[0]:>14} {shown[1]:>14} {shown[2]:>14}")
        table[title] = {"adapted": cell[key], "by voice": cell[f"{key}_voice"], "plain": cell.get(f"{key}_fallback", cell[key])}
    heads = {head: loco_probabilities(datasets, head, config, copies=copies, families=families)
             for head in ("adapted", "plain")}
    table.update(held_out_ece(heads, "inner-fold temperature", lambda cells, key: cells[key][3]))
    table.update(held_out_ece(heads, "temperature of the other direction", other_direction_temperature))
    return table


def held_out_ece(heads: dict, label: str, temperature) -> dict:
    """ECE on each held-out corpus, each head's probabilities scaled by ``temperature(cells, key)``
    (``heads``: head → :func:`loco_probabilities`' cells); printed, and returned as
    title → head → ``{"ece", "temperature"}``."""
    from serkit.evaluation.metrics import calibration_metrics
    from serkit.inference.runtime import scale_probabilities

    table = {}
    for key in OTHER_DIRECTION:
        values = {}
        for head, cells in heads.items():
            y, proba, classes, _ = cells[key]
            T = temperature(cells, key)
            values[head] = (calibration_metrics(y, scale_probabilities(proba, T), classes)["ece"], T)
        title = f"ECE on the held-out corpus, {key.replace('ravdess', 'RAVDESS').replace('nemo', 'nEMO')}, {label}"
        adapted, plain = (f"{f'{100 * e:.1f} % (T {T:.2f})':>14}" for e, T in values.values())
        print(f"{title:<76} {adapted} {'–':>14} {plain}")  # the temperatures are fitted on one source's probabilities
        table[title] = {head: {"ece": e, "temperature": T} for head, (e, T) in values.items()}
    return table


OTHER_DIRECTION = {"ravdess→nemo": "nemo→ravdess", "nemo→ravdess": "ravdess→nemo"}


def other_direction_temperature(cells: dict, key: str) -> float:
    """The bundled model's kind of temperature (fitted on leave-one-corpus-out probabilities) for the
    cell ``key``, cross-fitted: fitted on the other direction only, so no probability of the scored
    cell is used. An estimate with two corpora: the other direction was trained on the scored cell's
    test corpus (its labels shaped that model, never the temperature's fit on this cell)."""
    return joint_temperature([cells[OTHER_DIRECTION[key]]])


def part_plain(datasets, balance="corpus", C=0.01) -> dict:
    """Single-clip and adapted UA of two held-out development actors, per training grain."""
    from serkit.evaluation.crosscorpus import _all_emotions_ua
    from serkit.evaluation.pooling import training_weights
    from serkit.features.adaptation import SourceAdapter, adapt_training
    from serkit.models import fit_model, make_model

    dev, _ = split_speakers(datasets)
    rav, nemo = dev["ravdess"], dev["nemo"]
    held = np.isin(rav.groups.astype(str), sorted(set(rav.groups.astype(str)))[-2:])
    X = np.concatenate([rav.X[~held], nemo.X])
    y = np.concatenate([rav.y[~held], nemo.y]).astype(str)
    speakers = np.concatenate([np.char.add("ravdess/", rav.groups[~held].astype(str)), np.char.add("nemo/", nemo.groups.astype(str))])
    corpus = np.array(["ravdess"] * int((~held).sum()) + ["nemo"] * len(nemo.y))
    X_test, y_test, g_test = rav.X[held], rav.y[held].astype(str), rav.groups[held].astype(str)
    table = {}
    print("\ntwo held-out development actors, user-visible UA (%): plain / as one source / per speaker")
    for grain in ("none", "corpus", "speaker"):
        X_fit, adaptation = adapt_training(X, grain, corpus, speakers)
        model = fit_model(make_model(MODEL, C=C), X_fit, y, speakers, sample_weight=training_weights(corpus, y, balance))
        classes = [str(c) for c in model.classes_]
        ua = {"plain": _all_emotions_ua(y_test, model.predict_proba(adaptation["pooled"].apply(X_test) if adaptation else X_test), classes)}
        if adaptation:
            ua["as one source"] = _all_emotions_ua(y_test, model.predict_proba(SourceAdapter().fit_transform(X_test)), classes)
            ua["per speaker"] = _all_emotions_ua(y_test, model.predict_proba(SourceAdapter().fit_transform(X_test, g_test)), classes)
        table[grain] = ua
        print(f"  trained per {grain:<8} " + " / ".join(f"{100 * v:.1f}" for v in ua.values()), flush=True)
    return table


def corrupt(y, sr, condition, rng):
    """``y`` with white noise at 10 dB SNR, or through a telephone band (:mod:`serkit.features.augment`;
    ``benchmarks/bench_robust.py`` measures every corruption on a whole held-out fold)."""
    from serkit.features.augment import Condition

    name = {"clean": "clean", "noise 10 dB": "white@10", "telephone": "telephone"}[condition]
    return Condition.parse(name).apply(y, sr, rng)


def part_robust(datasets, config, n_actors=4, feature_set=FEATURE_SET) -> dict:
    """UA of held-out RAVDESS actors, clean and corrupted, trained on everything else."""
    from serkit.features.adaptation import SourceAdapter, adapt_training
    from serkit.core.audio import load_audio
    from serkit.evaluation.crosscorpus import _all_emotions_ua
    from serkit.evaluation import split_indices
    from serkit.features import get_feature_set
    from serkit.models import fit_model, make_model
    from serkit.evaluation.pooling import training_weights

    rav, nemo = datasets["ravdess"], datasets["nemo"]
    train, test = split_indices("speaker", rav.y, rav.groups, n_splits=5, random_state=0)[0]
    actors = sorted(set(rav.groups[test].astype(str)))[:n_actors]
    test = test[np.isin(rav.groups[test].astype(str), actors)]
    adapt, balance, C = config
    X = np.concatenate([rav.X[train], nemo.X])
    y = np.concatenate([rav.y[train], nemo.y]).astype(str)
    speakers = np.concatenate([np.char.add("ravdess/", rav.groups[train].astype(str)), np.char.add("nemo/", nemo.groups.astype(str))])
    corpus = np.array(["ravdess"] * len(train) + ["nemo"] * len(nemo.y))
    X_fit, adaptation = adapt_training(X, adapt, corpus, speakers)
    model = fit_model(make_model(MODEL, C=C), X_fit, y, speakers, sample_weight=training_weights(corpus, y, balance))
    classes = [str(c) for c in model.classes_]
    feature_set = get_feature_set(feature_set)
    rng = np.random.default_rng(0)
    y_test = rav.y[test].astype(str)
    results = {}
    print(f"\nheld-out RAVDESS actors {', '.join(actors)} ({len(test)} clips); trained on the other actors and nEMO")
    for condition in ("clean", "noise 10 dB", "telephone"):
        rows = []
        for index in test:
            audio, _ = load_audio(CORPORA["ravdess"] / str(rav.meta["path"].iloc[index]), sr=feature_set.sr)
            rows.append(feature_set.from_audio(corrupt(audio, feature_set.sr, condition, rng), feature_set.sr))
        X_test = np.array(rows)
        figures = {"plain": _all_emotions_ua(y_test, model.predict_proba(
            adaptation["pooled"].apply(X_test) if adaptation else X_test), classes)}
        if adaptation:
            figures["adapted"] = _all_emotions_ua(y_test, model.predict_proba(SourceAdapter().fit_transform(X_test)), classes)
        results[condition] = figures
        print(f"  {condition:<12} " + "  ".join(f"{k} {100 * v:.1f}%" for k, v in figures.items()), flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+", choices=("spread", "select", "featsets", "layers", "families", "copies", "calibrate", "plain", "clips",
                                                     "voices", "headline", "robust", "transfer-calibration"),
                        default=["spread", "select", "clips", "headline"])
    parser.add_argument("--config", nargs="+", metavar="ADAPT BALANCE C [PLAIN_C]",
                        help="clips/robust/headline: the configuration, the plain head's C last (default: the one "
                             f"select chose, else {' '.join(map(str, CHOSEN))})")
    parser.add_argument("--families", nargs=2, metavar=("PLAIN", "ADAPTED"),
                        choices=[name for name, members in FAMILIES.items() if len(members) == 1],
                        help="headline: each head's family, a one-member FAMILIES label (default: "
                             f"{HEAD_FAMILIES['plain']} {HEAD_FAMILIES['adapted']}, the bundled model's)")
    parser.add_argument("--robust-actors", type=int, default=4, help="robust: held-out actors (of the first fold's 4)")
    parser.add_argument("--feature-set", default=FEATURE_SET,
                        help=f"the features every part but featsets uses (default: {FEATURE_SET}, the bundled model's)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, help="write every part's figures here")
    parser.add_argument("--augment", metavar="KIND[,KIND…]",
                        help="calibrate/voices/headline: one corrupted copy of every training clip in each fit (the copies of "
                             "the fit's training speakers only), as build_bundled_model.py --augment trains with")
    parser.add_argument("--augment-fraction", type=float, default=1.0, help="share of the clips that get a copy (default: 1)")
    parser.add_argument("--copy-mixes", nargs="+", default=list(COPY_CANDIDATES), metavar="MIX",
                        help="copies: the mixes compared, the baseline first (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.augment and set(args.part) - {"calibrate", "voices", "headline", "transfer-calibration"}:
        parser.error("--augment applies to --part calibrate, voices, headline and transfer-calibration only")
    if "transfer-calibration" in args.part and not args.augment:
        parser.error("--part transfer-calibration needs --augment (its candidates score corrupted copies)")
    from serkit.core.exceptions import SerkitError

    warnings.filterwarnings("ignore", category=UserWarning)
    try:
        datasets, copies = load(args.cache_dir, args.augment, args.augment_fraction, args.feature_set)
    except SerkitError as error:
        parser.error(str(error))
    results = {}
    if args.config is not None and len(args.config) not in (3, 4):
        parser.error("--config takes ADAPT BALANCE C [PLAIN_C]")
    chosen = CHOSEN if args.config is None else (*args.config[:2], *map(float, args.config[2:]))
    if "spread" in args.part:
        results["spread"] = part_spread(datasets)
    if "select" in args.part:
        results["select"] = part_select(datasets)
        chosen = results["select"]["chosen"] if args.config is None else chosen
    if "featsets" in args.part:
        results["featsets"] = part_feature_sets(args.cache_dir)
    if "layers" in args.part:
        results["layers"] = part_layers(args.cache_dir, n_jobs=2)
    if "families" in args.part:
        results["families"] = part_families(datasets)
    if "copies" in args.part:
        results["copies"] = part_copies(datasets, chosen, args.copy_mixes, cache_dir=args.cache_dir)
    if "calibrate" in args.part:
        results["calibrate"] = part_calibrate(datasets, chosen, copies)
    if "transfer-calibration" in args.part:
        results["transfer-calibration"] = part_transfer_calibration(datasets, chosen, copies)
    if "plain" in args.part:
        results["plain"] = part_plain(datasets)
    if "clips" in args.part:
        results["clips"] = part_clips(datasets, chosen)
    if "voices" in args.part:
        results["voices"] = part_voices(datasets, chosen, copies, args.cache_dir)
    if "headline" in args.part:
        families = None if args.families is None else dict(zip(("plain", "adapted"), args.families))
        results["headline"] = part_headline(datasets, chosen, copies, args.feature_set, families, args.cache_dir)
    if "robust" in args.part:
        results["robust"] = part_robust(datasets, chosen, args.robust_actors, args.feature_set)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
