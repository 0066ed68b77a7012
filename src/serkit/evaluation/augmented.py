"""Augmented training data: features of corrupted copies of a corpus's clips, beside its own.

:func:`augmented_dataset` writes corrupted copies of (a share of) a corpus's clips with
:func:`serkit.features.augment.augment_corpus` and extracts their features through
:func:`serkit.features.extract_corpus` and its cache; the :class:`Dataset` it returns has the
clips' labels and speakers, and ``corpus["augment"]`` says how it was made.
:func:`add_copies` appends such copies to a pooled training set (only to the final fit:
serkit's cross-validated figures are computed without them, so no corrupted copy of a
held-out speaker's clip is ever in training).

Examples
--------
>>> import numpy as np
>>> copies = Dataset(np.ones((2, 1)), np.array(["sad", "calm"]), np.array(["1", "1"]), ["x"],
...                  {"augment": {"mix": "white", "fraction": 1.0, "copies": 1, "seed": 0}})
>>> X, y, groups, corpus = add_copies((np.zeros((1, 1)), np.array(["sad"]), np.array(["a/0"]), np.array(["a"])),
...                                   {"a": copies}, ["sad"])
>>> y.tolist(), groups.tolist(), corpus.tolist()
(['sad', 'sad'], ['a/0', 'a/1'], ['a', 'a'])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from serkit.core.exceptions import ParameterError
from serkit.evaluation.dataset import Dataset, dataset_from_extraction


def check_fraction(fraction: float) -> None:
    """A :class:`ParameterError` unless ``0 < fraction <= 1``.

    >>> check_fraction(1.5)
    Traceback (most recent call last):
    serkit.core.exceptions.ParameterError: augment fraction 1.5: must be more than 0 and at most 1
    """
    if not 0.0 < fraction <= 1.0:
        raise ParameterError(f"augment fraction {fraction}: must be more than 0 and at most 1")


def select_clips(table, fraction: float, seed: int = 0):
    """The clips of corpus table ``table`` that get copies: each with probability ``fraction``,
    decided by its path and ``seed`` alone (a smaller share is a subset of a larger one).

    >>> import pandas as pd
    >>> from serkit.corpora import CorpusTable
    >>> table = CorpusTable("manifest", Path("."), pd.DataFrame({"path": list("abcdefgh"), "label": "sad", "speaker": "1"}))
    >>> len(select_clips(table, 1.0).table), set(select_clips(table, 0.3).table["path"]) <= set(select_clips(table, 0.6).table["path"])
    (8, True)
    """
    from serkit.corpora import CorpusTable
    from serkit.features.augment import clip_rng

    check_fraction(fraction)
    keep = np.array([fraction >= 1.0 or clip_rng(seed, "copy", str(path)).random() < fraction for path in table.table["path"]])
    return CorpusTable(table.name, table.root, table.table[keep].reset_index(drop=True))


def augmented_dataset(table, mix, feature_set, *, out_dir=None, fraction: float = 1.0, copies: int = 1, seed: int = 0,
                      n_jobs: int = 1, cache_dir=None, use_cache: bool = True, progress: bool = False) -> Dataset:
    """Features of ``copies`` corrupted copies (``mix``: a :class:`~serkit.features.augment.CorruptionMix`
    or its text) of a ``fraction`` of corpus table ``table``'s clips, written under ``out_dir``
    (default: the feature cache's ``augmented/<corpus>``) at the feature set's rate; ``meta["corruption"]``
    is each copy's kind (:func:`serkit.features.augment.copy_kinds`).

    Several mixes separated by ``;`` (``"all;pause"``) give each chosen clip copies from each
    mix: a corrupted one and, separately, one with new pauses (vector sets only).
    """
    from serkit.features import get_feature_set
    from serkit.features.augment import CorruptionMix
    from serkit.features.batch import default_cache_dir

    mixes = [CorruptionMix.parse(text) for text in mix.split(";")] if isinstance(mix, str) else [mix]
    feature_set = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
    out_dir = Path(out_dir) if out_dir is not None else Path(cache_dir or default_cache_dir()) / "augmented" / table.name
    chosen = select_clips(table, fraction, seed)
    parts = [_copies_of(chosen, table, one, feature_set, out_dir, copies=copies, seed=seed, n_jobs=n_jobs,
                        cache_dir=cache_dir, use_cache=use_cache, progress=progress) for one in mixes]
    data = parts[0] if len(parts) == 1 else _joined(parts)
    data.corpus["augment"] = {"mix": ";".join(one.name for one in mixes), "fraction": float(fraction),
                              "copies": int(copies), "seed": int(seed), "n_clips": int(len(data.y))}
    return data


def _copies_of(chosen, table, mix, feature_set, out_dir, *, copies, seed, **extraction) -> Dataset:
    """The copies of ``chosen``'s clips from one mix, with their kinds."""
    from serkit.features import extract_corpus
    from serkit.features.augment import augment_corpus, copy_kinds

    written = augment_corpus(chosen, mix, out_dir, sr=feature_set.sr, copies=copies, seed=seed, pool_corpus=table)
    data, _ = dataset_from_extraction(written, extract_corpus(written, feature_set, **extraction))
    # Each copy's kind, so a caller may hold one kind of corruption out of training.
    kinds = dict(zip(written.table["path"], copy_kinds(chosen, mix, copies=copies, seed=seed)))
    data.meta["corruption"] = data.meta["path"].map(kinds).to_numpy()
    return data


def _joined(parts: list[Dataset]) -> Dataset:
    """One :class:`Dataset` of several mixes' copies of the same clips, one after the other."""
    import pandas as pd

    if not all(isinstance(part.X, np.ndarray) for part in parts):
        raise ParameterError("copies from several mixes (MIX;MIX) need a vector feature set")
    return Dataset(np.concatenate([part.X for part in parts]), np.concatenate([part.y for part in parts]),
                   np.concatenate([part.groups for part in parts]), parts[0].columns, dict(parts[0].corpus),
                   pd.concat([part.meta for part in parts], ignore_index=True))


def add_copies(pooled, augment: dict | None, emotions):
    """``(X, y, groups, corpus)`` of :func:`serkit.evaluation.pooling.pool` with the clips of
    ``augment`` (corpus name → copies' :class:`Dataset`) of ``emotions`` appended, speakers and
    corpus named as the originals'. Unchanged when ``augment`` is empty."""
    if not augment:
        return pooled
    X, y, groups, corpus = pooled
    names = set(corpus.tolist())
    parts = [(name, data, np.isin(data.y.astype(str), list(emotions))) for name, data in augment.items()]
    unknown = sorted(name for name, _, _ in parts if name not in names)
    if unknown:
        raise ParameterError(f"augmented copies of {', '.join(unknown)}: not among the training corpora {', '.join(sorted(names))}")
    return (np.concatenate([X, *(data.X[keep] for _, data, keep in parts)]),
            np.concatenate([y, *(data.y[keep].astype(str) for _, data, keep in parts)]),
            np.concatenate([groups, *(np.char.add(f"{name}/", data.groups[keep].astype(str)) for name, data, keep in parts)]),
            np.concatenate([corpus, *(np.full(int(keep.sum()), name) for name, _, keep in parts)]))


def copy_rows(copies: Dataset, speakers) -> np.ndarray:
    """Indices of the copies (a :class:`Dataset` of :func:`augmented_dataset`, each copy with its
    source clip's speaker) whose speaker is among ``speakers``: the copies a training part holding
    those speakers' clips may take (never one of a held-out speaker's clip; speaker-grouped folds
    keep a speaker's clips, and so their copies, on one side).

    >>> copies = Dataset(np.ones((3, 1)), np.array(["sad"] * 3), np.array(["1", "2", "1"]), ["x"])
    >>> copy_rows(copies, ["1"]).tolist()
    [0, 2]
    """
    if copies.groups is None:
        raise ParameterError("augmented copies without speakers: each copy needs its source clip's speaker")
    return np.flatnonzero(np.isin(copies.groups.astype(str), np.asarray(speakers).astype(str)))


def augment_metadata(augment: dict | None) -> dict | None:
    """The ``augment`` block of a model's metadata: per corpus, how its copies were made.

    >>> augment_metadata({"a": Dataset(np.ones((1, 1)), np.array(["sad"]), None, ["x"], {"augment": {"mix": "white"}})})
    {'corpora': {'a': {'mix': 'white'}}, 'n_copies': 1, 'cross_validated': 'without the copies (final fit only)'}
    """
    if not augment:
        return None
    return {"corpora": {name: dict(data.corpus.get("augment", {})) for name, data in augment.items()},
            "n_copies": int(sum(len(data.y) for data in augment.values())),
            "cross_validated": "without the copies (final fit only)"}
