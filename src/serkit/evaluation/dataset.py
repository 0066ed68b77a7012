"""The features, labels and speakers that every protocol evaluates: :class:`Dataset`.

Examples
--------
>>> import numpy as np
>>> data = Dataset(np.zeros((2, 1)), np.array(["sad", "neutral"]), np.array(["a", "b"]), ["x"])
>>> ordered_labels(data.y)
['neutral', 'sad']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from serkit.core.exceptions import ParameterError
from serkit.core.labels import EMOTIONS
from serkit.features.bundle import take_rows


@dataclass
class Dataset:
    """Features ready for evaluation: ``X``, labels, speakers.

    ``X`` is ``(n_clips, n_features)`` for a vector feature set, a list of
    ``(n_bands, n_frames)`` matrices for a frame set, or
    :class:`~serkit.features.bundle.BundleFeatures` for a bundle (``columns`` is
    then empty).
    ``corpus`` describes where they came from (name, root, counts) for the results;
    ``meta``, the corpus table's other columns (gender, intensity, …), one row per
    clip, gives the slices of :mod:`serkit.evaluation.slices`.
    """

    X: np.ndarray | list
    y: np.ndarray
    groups: np.ndarray | None
    columns: list[str]
    corpus: dict = field(default_factory=dict)
    meta: object = None

    @classmethod
    def from_table(cls, table, columns: Sequence[str], corpus: dict | None = None,
                   rows: list | None = None) -> "Dataset":
        """From a feature table (the feature CSV contract: ``speaker``, feature columns,
        ``label``), or from the table of a frame set or bundle and the features of its
        ``rows`` (matrices, or ``BundleFeatures``). Rows without a label are dropped."""
        missing = [c for c in ("label", *columns) if c not in table.columns]
        if missing:
            raise ParameterError(f"feature table lacks column(s) {missing[:5]}")
        labelled = table["label"].notna().to_numpy()
        table = table[labelled]
        if table.empty:
            raise ParameterError("feature table has no labelled rows")
        groups = table["speaker"].astype(str).to_numpy() if "speaker" in table else None
        if rows is None:
            X = table[list(columns)].to_numpy(dtype=np.float64)
        else:
            X = take_rows(rows, np.flatnonzero(labelled))
        info = {
            "n_clips": int(len(table)),
            "n_speakers": None if groups is None else int(len(np.unique(groups))),
            **(corpus or {}),
        }
        meta = table.drop(columns=list(columns)).reset_index(drop=True)
        return cls(X, table["label"].astype(str).to_numpy(), groups, list(columns), info, meta)

    def take(self, rows) -> "Dataset":
        """The clips ``rows`` (indices or a boolean mask), with their speakers and ``meta`` rows.

        >>> data = Dataset(np.arange(6.0).reshape(3, 2), np.array(["sad", "calm", "sad"]), np.array(["1", "2", "1"]), ["a", "b"])
        >>> data.take(data.groups == "1").y.tolist()
        ['sad', 'sad']
        """
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=int)
        meta = None if self.meta is None else self.meta.iloc[rows].reset_index(drop=True)
        return Dataset(take_rows(self.X, rows), self.y[rows], None if self.groups is None else self.groups[rows],
                       self.columns, self.corpus, meta)


def dataset_from_corpus(root, *, corpus="ravdess", feature_set="seed26", n_jobs=1,
                        cache_dir=None, progress=True):
    """Read a corpus, extract (cached) features; return ``(Dataset, FeatureSet)``.

    Clips that fail to load are left out and counted in ``dataset.corpus["failures"]``.
    """
    from serkit.corpora import read_corpus
    from serkit.features import extract_corpus

    table = read_corpus(corpus, root)
    extraction = extract_corpus(table, feature_set, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress)
    return dataset_from_extraction(table, extraction)


def dataset_from_extraction(table, extraction):
    """The ``(Dataset, FeatureSet)`` of a corpus table's extracted features."""
    fs = extraction.feature_set
    info = {
        "name": table.name,
        "root": str(table.root),
        "skipped": len(table.skipped),
        "failures": len(extraction.failures),
    }
    if fs.kind == "vector":
        return Dataset.from_table(extraction.table, fs.columns, info), fs
    rows = extraction.bundle if fs.kind == "bundle" else extraction.frames
    return Dataset.from_table(extraction.table, [], info, rows=rows), fs


def ordered_labels(y) -> list:
    """The labels present in ``y``: those of :data:`serkit.core.labels.EMOTIONS` in its
    order, then any others sorted."""
    present = set(np.asarray(y).tolist())
    return [e for e in EMOTIONS if e in present] + sorted(present - set(EMOTIONS))
