"""Honest evaluation: speaker-independent folds first, the reference's random split beside.

Protocols
---------
``speaker`` (default)
    Speakers grouped into ``n_splits`` stratified folds (``StratifiedGroupKFold``):
    no speaker is ever on both sides of a split.
``loso``
    Leave one speaker out (``LeaveOneGroupOut``).
``random``
    The reference analysis's stratified 80/20 split with a fixed seed. The same
    speakers end up on both sides; the result says so (a :class:`LeakageWarning`
    and ``leakage`` in the JSON).

Every model carries its own preprocessing (clipping, scaling) in its pipeline, so it
is learned on the training part of each split only; models that tune something
(``dense``'s early stopping) do it on an inner, speaker-grouped split of the training
part. Nothing is ever selected on a test fold.

Metrics per fold and mean ± std: accuracy, unweighted accuracy (balanced accuracy,
the mean of per-emotion recalls), macro F1 and one-vs-rest macro ROC AUC, and how
well the probabilities are calibrated: expected calibration error (ECE, 15 bins of
the top probability) and the multi-class Brier score. Pooled over the out-of-fold
predictions: classification report, confusion matrix (counts and row-normalised),
per-emotion ROC curves, ECE, Brier score and the reliability diagram's bins. A
temperature-scaled model (``"logreg-tuned+calibrated"``, :mod:`serkit.models.calibration`)
also reports the same model's ECE and Brier score before scaling.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.repeat(["calm", "angry"], 40)
>>> X = rng.normal(size=(80, 3)) + (y == "angry")[:, None] * 3.0
>>> speakers = np.tile(np.arange(8), 10)
>>> result = evaluate("logreg", X, y, speakers, n_splits=4, progress=False)
>>> run = result.runs[0]
>>> run.protocol, len(run.folds), run.summary["unweighted_accuracy"]["mean"] > 0.9
('speaker', 4, True)
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence, Union

import numpy as np

from serkit.core.exceptions import ParameterError
from serkit.evaluation.dataset import ordered_labels
from serkit.evaluation.metrics import (
    COVERAGES,
    METRICS,
    calibration_metrics,
    fold_metrics,
    fold_summary,
    pooled_calibration,
    pooled_metrics,
    risk_coverage,
)
from serkit.features.bundle import BundleFeatures, take_rows

PROTOCOLS = ("speaker", "loso", "random")

REFERENCE_ACCURACY = {"dense": 0.70, "mlp": 0.72, "logreg": 0.50, "kmeans": 0.13}
"""The reference analysis's accuracies, all on its random 80/20 split."""

RANDOM_TEST_SIZE = 0.2
"""The reference's split: 80 % training, 20 % test."""

ModelLike = Union[str, Callable[[], object]]


class LeakageWarning(UserWarning):
    """A split put the same speaker on both sides: the score is not speaker-independent."""


class FoldWarning(UserWarning):
    """Fewer speakers than the folds asked for: one fold per speaker instead."""


# --------------------------------------------------------------------------- splits


def split_indices(protocol, y, groups, *, n_splits=5, random_state=0):
    """``[(train_idx, test_idx), ...]`` for ``protocol`` (see the module docstring)."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, train_test_split

    if protocol not in PROTOCOLS:
        raise ParameterError(f"protocol={protocol!r}; choose from {', '.join(PROTOCOLS)}")
    y = np.asarray(y)
    indices = np.arange(len(y))
    if protocol == "random":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            raise ParameterError("the random split needs at least 2 clips of every emotion")
        train, test = train_test_split(
            indices, test_size=RANDOM_TEST_SIZE, stratify=y, random_state=random_state
        )
        return [(np.sort(train), np.sort(test))]
    if groups is None:
        raise ParameterError(
            f"protocol {protocol!r} needs the speaker of each clip; use protocol='random' "
            "only if the speakers are unknown (and the score is then not speaker-independent)"
        )
    speakers = np.unique(groups)
    if len(speakers) < 2:
        raise ParameterError(
            f"{len(speakers)} speaker ({', '.join(map(str, speakers))}): a speaker-independent figure needs "
            "clips of 2 or more speakers (protocol 'random' scores this corpus, not speaker-independently)"
        )
    if protocol == "loso":
        return list(LeaveOneGroupOut().split(indices, y, groups))
    if n_splits < 2:
        raise ParameterError(f"n_splits={n_splits} must be 2 or more")
    if n_splits > len(speakers):
        warnings.warn(f"{len(speakers)} speakers, fewer than {n_splits} folds: "
                      f"{len(speakers)} folds instead, one speaker out in each", FoldWarning, stacklevel=2)
        return list(LeaveOneGroupOut().split(indices, y, groups))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(splitter.split(indices, y, groups))


# ---------------------------------------------------------------------------- results


@dataclass
class RunResult:
    """One model under one protocol: per-fold metrics, their summary, pooled details."""

    model: str
    protocol: str
    speaker_norm: bool
    labels: list
    folds: list
    summary: dict
    confusion: list
    confusion_normalized: list
    classification_report: dict
    roc: dict
    history: list | None
    leakage: dict | None
    fit_seconds: float
    warnings: list
    predict_seconds: float | None = None
    """Time the fitted models took to predict every test clip (features excluded)."""
    members: dict | None = None
    """For an ensemble, each member's ``summary`` and ``folds`` (scalar metrics) on
    the same folds, keyed by member (``cnn``, ``logreg-tuned``; ``cnn#2`` for a
    repeated name)."""
    calibration: dict | None = None
    """ECE, Brier score and reliability bins of the pooled out-of-fold probabilities."""
    uncalibrated: dict | None = None
    """For a temperature-scaled model, the same model before scaling: ``summary`` and
    ``folds`` (ECE, Brier score) and pooled ``calibration``."""
    temperatures: list | None = None
    """For a temperature-scaled model, the temperature fitted in each fold."""
    slices: dict | None = None
    """Out-of-fold scores per gender, intensity, statement, corpus, language and
    speaker (:func:`serkit.evaluation.slices.slice_scores`), when the corpus metadata was given."""
    risk_coverage: dict | None = None
    """Accuracy of the most confident and the most familiar k % of the out-of-fold clips
    (:func:`risk_coverage_of`); ``familiar`` is None for frame sets and bundles."""

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class EvaluationResult:
    """Runs (model × protocol) plus what they were run on; ``to_dict()`` is JSON-safe
    (NaN, e.g. an ROC AUC of a fold without both classes, becomes ``None``)."""

    runs: list
    corpus: dict = field(default_factory=dict)
    feature_set: dict = field(default_factory=dict)
    seed: int = 0
    command: str | None = None
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def to_dict(self) -> dict:
        from serkit import __version__

        return json_safe({
            "serkit_version": __version__,
            "created": self.created,
            "command": self.command,
            "corpus": self.corpus,
            "feature_set": self.feature_set,
            "seed": self.seed,
            "runs": [run.to_dict() for run in self.runs],
            "reference": dict(REFERENCE_ACCURACY),
        })

    def save_json(self, path) -> Path:
        """Write :meth:`to_dict` as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict) -> "EvaluationResult":
        """Rebuild from :meth:`to_dict` output (e.g. a JSON file read back)."""
        runs = [RunResult(**run) for run in data["runs"]]
        return cls(runs, data.get("corpus", {}), data.get("feature_set", {}),
                   data.get("seed", 0), data.get("command"), data.get("created", ""))

    def run(self, model: str, protocol: str, speaker_norm: bool = False) -> RunResult:
        """The run of ``model`` under ``protocol``; :class:`KeyError` if absent."""
        for run in self.runs:
            if (run.model, run.protocol, run.speaker_norm) == (model, protocol, speaker_norm):
                return run
        raise KeyError((model, protocol, speaker_norm))


def json_safe(value):
    """``value`` with every non-finite float (NaN, ±inf) as ``None``, through dicts and lists,
    so that it writes as strict JSON.

    >>> json_safe({"auc": float("nan"), "folds": [1.0, float("inf")]})
    {'auc': None, 'folds': [1.0, None]}
    """
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


# ------------------------------------------------------------------------- evaluate


def _check_features(X):
    """A finite 2-D float array (vector sets), a list of finite matrices (frame sets),
    or finite :class:`BundleFeatures` (bundles)."""
    if isinstance(X, BundleFeatures):
        return X.check_finite()
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 2:
        X = X.astype(np.float64, copy=False)
        if not np.isfinite(X).all():
            raise ParameterError("X holds NaN or infinite values; drop or repair those clips first")
        return X
    if isinstance(X, np.ndarray) and X.dtype != object:
        raise ParameterError(f"X must be 2-D (n_clips, n_features), got shape {X.shape}")
    X = list(X)
    if not X or not all(np.all(np.isfinite(matrix)) for matrix in X):
        raise ParameterError("X holds no clips, or frames with NaN or infinite values")
    return X


def _predict_fold(model, X, labels) -> tuple[np.ndarray, dict, np.ndarray | None]:
    """The model's probabilities with columns in ``labels`` order (0 for classes unseen in
    training), for an ensemble each member's, and for a temperature-scaled model its
    probabilities before scaling (else ``None``), all from the same single pass."""
    from serkit.models import align_probabilities

    calibrated = hasattr(model, "temperature_")
    voter = model.estimator_ if calibrated else model
    if hasattr(voter, "member_probabilities"):
        members = voter.member_probabilities(X)
        raw = voter.vote(members)
    else:
        members, raw = {}, voter.predict_proba(X)
    raw = align_probabilities(raw, voter.classes_, model.classes_)
    proba = model.calibrate(raw) if calibrated else raw
    return (
        align_probabilities(proba, model.classes_, labels),
        {member: align_probabilities(p, voter.classes_, labels) for member, p in members.items()},
        align_probabilities(raw, model.classes_, labels) if calibrated else None,
    )


def fold_familiarity(X_train, y_train, groups_train, X_test) -> np.ndarray | None:
    """How familiar each test clip is to the training part (negated distance: higher is more
    familiar, :mod:`serkit.inference.familiarity`); None for frame sets, bundles or too few clips.

    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(40, 3)), np.repeat(["a", "b"], 20)
    >>> familiar = fold_familiarity(X, y, None, np.array([[0.0, 0, 0], [9, 9, 9]]))
    >>> bool(familiar[0] > familiar[1])
    True
    """
    from serkit.inference.familiarity import MIN_REFERENCE, fit_familiarity

    if not isinstance(X_train, np.ndarray) or X_train.ndim != 2 or len(X_train) < MIN_REFERENCE:
        return None
    return -fit_familiarity(X_train, groups_train, y_train, n_folds=0).distances(X_test)


def risk_coverage_of(correct, confidence, familiarity=None) -> dict:
    """The run's ``risk_coverage``: per coverage, the accuracy of the most confident and
    (with ``familiarity``) the most familiar clips.

    >>> risk_coverage_of([1, 0], [0.9, 0.6])["confident"][-1]
    1.0
    """
    return {"coverage": list(COVERAGES), "confident": risk_coverage(correct, confidence),
            "familiar": None if familiarity is None else risk_coverage(correct, familiarity)}


def _model_factory(model: ModelLike, random_state: int):
    from serkit.models import make_model, model_name

    if isinstance(model, str):
        make_model(model)  # unknown names fail now, not after the first fold
        return model, lambda: make_model(model, random_state=random_state)
    if callable(model):
        return model_name(model()), model
    raise ParameterError(f"model={model!r} must be a model name or a zero-argument factory")


def _history(model) -> list | None:
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    history = getattr(estimator, "history_", None)
    return None if history is None else [dict(record) for record in history]


def _run(model: ModelLike, X, y, groups, *, protocol, n_splits, random_state, speaker_norm,
         progress, slice_by=None) -> RunResult:
    from tqdm.auto import tqdm

    from serkit.models import fit_model
    from serkit.features.adaptation import SourceAdapter

    X = _check_features(X)
    y = np.asarray(y).astype(str)
    groups = None if groups is None else np.asarray(groups).astype(str)
    if len(X) != len(y) or (groups is not None and len(groups) != len(y)):
        raise ParameterError(
            f"X ({len(X)} clips), y ({len(y)}) and groups must describe the same clips"
        )
    if speaker_norm and groups is None:
        raise ParameterError("speaker_norm=True needs the speaker of each clip")
    if speaker_norm and not isinstance(X, np.ndarray):
        raise ParameterError("speaker_norm applies to vector feature sets, not frames or bundles")
    name, factory = _model_factory(model, random_state)
    labels = ordered_labels(y)
    splits = split_indices(protocol, y, groups, n_splits=n_splits, random_state=random_state)

    notes, leakage = [], None
    if protocol == "random":
        if groups is None:
            notes.append("random split with unknown speakers: not speaker-independent")
        else:
            shared = sorted(set(groups[splits[0][0]]) & set(groups[splits[0][1]]))
            if shared:
                leakage = {"shared_speakers": shared}
                notes.append(
                    f"random split: {len(shared)} speaker(s) on both sides of the split; "
                    "this accuracy is not speaker-independent"
                )
    for note in notes:
        warnings.warn(note, LeakageWarning, stacklevel=3)

    # Inner splits (dense's validation curve, early stopping, inner CV) mirror the
    # outer protocol: by speaker under the grouped protocols; under the random one
    # every clip is its own group, so they are random too, as the reference's own
    # validation split was.
    inner_groups = np.arange(len(y)).astype(str) if protocol == "random" else groups
    folds, history, fit_seconds, predict_seconds, member_folds = [], None, 0.0, 0.0, {}
    pooled_true, pooled_proba, pooled_raw, raw_folds, temperatures, pooled_rows = [], [], [], [], [], []
    familiarity = []
    caught_messages = []
    for fold, (train, test) in enumerate(
        tqdm(splits, desc=f"{name} ({protocol})", disable=not progress, file=sys.stderr,
             leave=False), start=1
    ):
        X_train, X_test = take_rows(X, train), take_rows(X, test)
        if speaker_norm:
            # Each side normalised with its own speakers' statistics only.
            X_train = SourceAdapter().fit_transform(X_train, groups[train])
            X_test = SourceAdapter().fit_transform(X_test, groups[test])
        fitted = factory()
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit_model(fitted, X_train, y[train], inner_groups[train])
        fit_seconds += time.perf_counter() - started
        caught_messages += [f"{w.category.__name__}: {w.message}" for w in caught]
        started = time.perf_counter()
        proba, member_probas, raw_proba = _predict_fold(fitted, X_test, labels)
        predict_seconds += time.perf_counter() - started
        folds.append({
            "fold": fold,
            "test_speakers": [] if groups is None else sorted(set(groups[test].tolist())),
            "n_train": int(len(train)),
            "n_test": int(len(test)),
            **fold_metrics(y[test], proba, labels),
        })
        for member, member_proba in member_probas.items():
            member_folds.setdefault(member, []).append({"fold": fold, **fold_metrics(y[test], member_proba, labels)})
        if history is None:
            history = _history(fitted)
        pooled_true.append(y[test])
        pooled_proba.append(proba)
        familiarity.append(fold_familiarity(X_train, y[train], None if groups is None else groups[train], X_test))
        if raw_proba is not None:
            pooled_raw.append(raw_proba)
            raw_folds.append({"fold": fold, **calibration_metrics(y[test], raw_proba, labels)})
            temperatures.append(round(float(fitted.temperature_), 5))
        pooled_rows.append(test)

    pooled_true = np.concatenate(pooled_true)
    pooled = pooled_metrics(pooled_true, np.concatenate(pooled_proba), labels)
    stacked = np.concatenate(pooled_proba)
    pooled["risk_coverage"] = risk_coverage_of(
        np.asarray(labels)[stacked.argmax(axis=1)] == pooled_true, stacked.max(axis=1),
        None if any(f is None for f in familiarity) else np.concatenate(familiarity))
    uncalibrated = None
    if pooled_raw:
        uncalibrated = {"summary": fold_summary(raw_folds), "folds": raw_folds,
                        "calibration": pooled_calibration(pooled_true, np.concatenate(pooled_raw), labels)}
    if slice_by is not None:
        from serkit.evaluation.slices import slice_scores

        rows = np.concatenate(pooled_rows)
        pooled["slices"] = slice_scores(pooled_true, np.concatenate(pooled_proba), labels,
                                        slice_by.iloc[rows].reset_index(drop=True))
    return RunResult(
        model=name, protocol=protocol, speaker_norm=bool(speaker_norm), labels=labels,
        folds=folds, summary=fold_summary(folds), history=history, leakage=leakage,
        fit_seconds=round(fit_seconds, 3), predict_seconds=round(predict_seconds, 3),
        warnings=notes + sorted(set(caught_messages)),
        members={m: {"summary": fold_summary(f), "folds": f} for m, f in member_folds.items()} or None,
        uncalibrated=uncalibrated, temperatures=temperatures or None,
        **pooled,
    )


def evaluate(model: ModelLike, X, y, groups, *, protocol="speaker", n_splits=5, random_state=0,
             speaker_norm=False, progress=True, corpus=None, feature_set=None,
             command=None, slice_by=None) -> EvaluationResult:
    """Cross-validate one model under one protocol.

    Parameters
    ----------
    model : str or callable
        A name from :func:`serkit.models.available_models`, or a zero-argument
        factory returning a fresh unfitted classifier.
    X : np.ndarray [shape=(n_clips, n_features)]
    y : array-like of str [shape=(n_clips,)]
        Emotion of each clip.
    groups : array-like [shape=(n_clips,)] or None
        Speaker of each clip (needed for ``speaker``, ``loso`` and ``speaker_norm``;
        with ``random`` it reveals the leakage).
    protocol : {"speaker", "loso", "random"}
    n_splits : int >= 2
        Folds for ``speaker``.
    random_state : int
        Seeds the folds (or the random split) and the model.
    speaker_norm : bool
        Standardise each speaker with their own statistics (training and test sides
        separately, no labels). Reported as its own figure.
    progress : bool
        A progress bar per fold on stderr.
    corpus, feature_set : dict or FeatureSet, optional
        Recorded in the result.
    command : str, optional
        The command line that produced the result, recorded for reproduction.
    slice_by : pandas.DataFrame, optional
        Metadata of each clip (``Dataset.meta``): each run then has ``slices``, its
        out-of-fold scores per gender, intensity, statement, corpus, language, speaker.

    Returns
    -------
    EvaluationResult
        One run; ``result.runs[0].summary["unweighted_accuracy"]["mean"]`` etc.

    Raises
    ------
    ParameterError
        Bad protocol, too few speakers for the folds, mismatched shapes, NaN features.
    """
    return compare([model], X, y, groups, protocols=[protocol], n_splits=n_splits,
                   random_state=random_state, speaker_norm=speaker_norm, progress=progress,
                   corpus=corpus, feature_set=feature_set, command=command, slice_by=slice_by)


def compare(models: Sequence[ModelLike], X, y, groups, *, protocols=("speaker",), n_splits=5,
            random_state=0, speaker_norm=False, progress=True, corpus=None, feature_set=None,
            command=None, slice_by=None) -> EvaluationResult:
    """Evaluate every model under every protocol; one :class:`EvaluationResult`.

    Same parameters as :func:`evaluate`, with lists of models and protocols.
    """
    from tqdm.auto import tqdm

    runs = []
    jobs = [(model, protocol) for model in models for protocol in protocols]
    for model, protocol in tqdm(jobs, desc="models", disable=not progress or len(jobs) < 2,
                                file=sys.stderr):
        runs.append(_run(model, X, y, groups, protocol=protocol, n_splits=n_splits,
                         random_state=random_state, speaker_norm=speaker_norm,
                         progress=progress, slice_by=slice_by))
    return EvaluationResult(
        runs=runs,
        corpus=dict(corpus or {}),
        feature_set=feature_set_info(feature_set),
        seed=int(random_state),
        command=command,
    )


def feature_set_info(feature_set) -> dict:
    """What a result records of its feature set: its name and parameters (a dict is kept as it is).

    >>> feature_set_info(None)
    {}
    """
    if feature_set is None:
        return {}
    if isinstance(feature_set, dict):
        return dict(feature_set)
    return {"name": feature_set.name, "params": feature_set.params()}


# -------------------------------------------------------------------------- tables


def _pct(stat: dict) -> str:
    mean, std = stat["mean"], stat["std"]
    if mean is None or not np.isfinite(mean):
        return "-"
    return f"{100 * mean:5.1f} ± {100 * std:4.1f}"


def _render(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def _brier(stat: dict | None) -> str:
    if stat is None or stat["mean"] is None or not np.isfinite(stat["mean"]):
        return "-"
    return f"{stat['mean']:.3f} ± {stat['std']:.3f}"


def _calibration_cells(summary: dict) -> list[str]:
    """ECE (in %) and Brier score (0 … 2) of a run's or member's summary."""
    return [_pct(summary["ece"]) if "ece" in summary else "-", _brier(summary.get("brier"))]


def _fold_table(run: RunResult) -> str:
    header = ["fold", "test speakers", "n_test", "accuracy", "UA", "macro F1", "ROC AUC", "ECE", "Brier"]
    rows = []
    for fold in run.folds:
        speakers = ",".join(fold["test_speakers"])
        rows.append([
            str(fold["fold"]),
            speakers if len(speakers) <= 48 else f"{len(fold['test_speakers'])} speakers",
            str(fold["n_test"]),
            *(f"{100 * fold[m]:.1f}" if fold.get(m) is not None and np.isfinite(fold[m]) else "-"
              for m in (*METRICS, "ece")),
            f"{fold['brier']:.3f}" if fold.get("brier") is not None else "-",
        ])
    rows.append(["mean ± std", "", "", *(_pct(run.summary[m]) for m in METRICS), *_calibration_cells(run.summary)])
    if run.uncalibrated:
        rows.append(["  before calibration", "", "", *([""] * len(METRICS)),
                     *_calibration_cells(run.uncalibrated["summary"])])
    for member, scores in (run.members or {}).items():
        rows.append([f"  {member} alone", "", "", *(_pct(scores["summary"][m]) for m in METRICS),
                     *_calibration_cells(scores["summary"])])
    title = f"{run.model} — {run.protocol}" + (" + speaker norm" if run.speaker_norm else "")
    pooled = _pooled_calibration_line(run)
    return f"{title}\n{_render(header, rows)}" + (f"\n{pooled}" if pooled else "")


def _pooled_calibration_line(run: RunResult) -> str | None:
    """ECE and Brier score of the pooled out-of-fold probabilities (before calibration too):
    over every clip, the ECE's 15 bins are far less noisy than one fold's."""
    if not run.calibration:
        return None
    line = f"pooled out-of-fold: ECE {100 * run.calibration['ece']:.1f} %, Brier {run.calibration['brier']:.3f}"
    if run.uncalibrated:
        before = run.uncalibrated["calibration"]
        line += (f" (before calibration: ECE {100 * before['ece']:.1f} %, Brier {before['brier']:.3f}; "
                 f"temperature per fold {', '.join(f'{t:.2f}' for t in run.temperatures)})")
    return line


def format_table(result: EvaluationResult) -> str:
    """The result as text: per-fold tables for one model, else one comparison table.

    The comparison leads with the speaker-independent unweighted accuracy (mean ±
    std, then each fold), then the random split's accuracy and the reference's
    figure (also a random split). Leakage and other warnings follow the table.
    """
    models = list(dict.fromkeys((r.model, r.speaker_norm) for r in result.runs))
    if len(models) == 1:
        text = "\n\n".join(_fold_table(run) for run in result.runs)
    else:
        honest = next((p for p in ("speaker", "loso")
                       if any(r.protocol == p for r in result.runs)), None)
        has_random = any(r.protocol == "random" for r in result.runs)
        header = ["model"]
        if honest:
            header += [f"UA {honest}", "ECE", "Brier", f"acc {honest}", "macro F1", "ROC AUC", "UA per fold"]
        if has_random:
            header += ["acc random"]
        header += ["reference (random)"]
        rows = []
        for name, norm in models:
            row = [name + (" +spk-norm" if norm else "")]
            if honest:
                run = _find(result, name, honest, norm)
                row += ["-"] * 7 if run is None else [
                    _pct(run.summary["unweighted_accuracy"]), *_calibration_cells(run.summary),
                    _pct(run.summary["accuracy"]),
                    _pct(run.summary["macro_f1"]), _pct(run.summary["roc_auc"]),
                    " ".join(f"{100 * f['unweighted_accuracy']:.0f}" for f in run.folds),
                ]
            if has_random:
                run = _find(result, name, "random", norm)
                row.append("-" if run is None else f"{100 * run.summary['accuracy']['mean']:.1f}")
            reference = REFERENCE_ACCURACY.get(name)
            row.append("-" if reference is None else f"{100 * reference:.0f}")
            rows.append(row)
        text = _render(header, rows)
        text += "".join(
            f"\n{run.model}: {_pooled_calibration_line(run)}"
            for run in result.runs if run.uncalibrated and run.protocol == honest
        )
    text += ("\n(all figures in % but the Brier score; UA = unweighted accuracy, the mean of per-emotion "
             "recalls; ECE = expected calibration error, 15 bins, per test fold: the pooled out-of-fold "
             "ECE that serkit reports elsewhere bins every clip at once and reads lower)")
    # Every model shares the split, so each leakage note is printed once.
    notes = sorted({note for run in result.runs for note in run.warnings
                    if note.startswith("random split")})
    return "\n".join([text, *(f"warning: {note}" for note in notes)])


def _find(result, model, protocol, speaker_norm):
    try:
        return result.run(model, protocol, speaker_norm)
    except KeyError:
        return None
