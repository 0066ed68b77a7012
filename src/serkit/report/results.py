"""Figures of evaluation results: confusion matrix, ROC curves, training curves, comparison.

Each takes the pieces of one run of the evaluation JSON (see
:mod:`serkit.evaluation`): ``confusion``, ``roc``, ``history``, ``summary``.

Examples
--------
>>> from serkit.report import confusion_figure
>>> figure = confusion_figure([[3, 1], [0, 4]], ["angry", "calm"])
>>> figure.axes[0].get_xlabel(), figure.axes[0].get_ylabel()
('Predicted emotion', 'True emotion')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from serkit.core.exceptions import ParameterError
from serkit.report.style import (
    HALF_WIDTH_IN,
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    emotion_colors,
    new_figure,
    plain_text,
    styled,
)


@styled
def confusion_figure(matrix, labels: Sequence[str], *, normalized: bool = False, title: str = "Confusion matrix") -> Figure:
    """Heat map of a confusion matrix (rows true, columns predicted), every cell annotated.

    Parameters
    ----------
    matrix : array-like [shape=(k, k)]
        Counts, or row-normalised rates with ``normalized=True``.
    labels : sequence of str [length k]
        Class names in matrix order.
    normalized : bool
        Cells are rates (shown in %, colour scale 0–1) rather than counts.
    title : str
        Axes title.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(labels):
        raise ParameterError(f"matrix of shape {matrix.shape} does not match {len(labels)} labels")
    k = len(labels)
    figure, ax = new_figure(height_in=max(3.2, 0.45 * k + 1.6), width_in=max(4.4, 0.5 * k + 2.2))
    image = ax.imshow(matrix, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1 if normalized else max(matrix.max(), 1))
    threshold = (1 if normalized else max(matrix.max(), 1)) * 0.6
    for (i, j), value in np.ndenumerate(matrix):
        text = f"{100 * value:.0f}" if normalized else f"{value:.0f}"
        # viridis is dark at the bottom: light text on dark cells, dark on light.
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color="black" if value > threshold else "white")
    tick_labels = [plain_text(label) for label in labels]
    ax.set_xticks(range(k), tick_labels, rotation=45, ha="right")
    ax.set_yticks(range(k), tick_labels)
    ax.set(title=plain_text(title), xlabel="Predicted emotion", ylabel="True emotion")
    ax.spines[:].set_visible(False)
    figure.colorbar(image, ax=ax, label="Share of the true class (%)" if normalized else "Clips", shrink=0.85,
                    format=(lambda v, _: f"{100 * v:.0f}") if normalized else None)
    return figure


@styled
def roc_figure(roc: Mapping[str, Mapping], *, title: str = "ROC curves (one emotion against the rest)") -> Figure:
    """ROC curve per class with its AUC in the legend, and the chance diagonal.

    Parameters
    ----------
    roc : mapping of class name → ``{"fpr": [...], "tpr": [...], "auc": float}``
    title : str
        Axes title.
    """
    if not roc:
        raise ParameterError("roc holds no curves")
    names = list(roc)
    figure, ax = new_figure(height_in=4.4, width_in=6.2)
    for color, name in zip(emotion_colors(names), names):
        curve = roc[name]
        ax.plot(curve["fpr"], curve["tpr"], color=color, linewidth=1.6, label=f"{plain_text(name)} (AUC {curve['auc']:.2f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="chance (AUC 0.50)")
    ax.set(title=plain_text(title), xlabel="False positive rate", ylabel="True positive rate", xlim=(0, 1), ylim=(0, 1.01))
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True)
    return figure


HISTORY_KEYS = {
    "loss": (("loss", "train_loss"), ("val_loss", "validation_loss")),
    "accuracy": (("accuracy", "train_accuracy"), ("val_accuracy", "validation_accuracy", "validation_ua")),
}
"""Per-epoch record keys each panel reads (training, validation), first found wins:
``dense`` records ``loss``/``val_loss``, the CNN ``train_loss``/``validation_loss`` and the
validation actors' unweighted accuracy ``validation_ua`` (its training batches are
augmented and mixed, so it records no training accuracy)."""


def _history_series(history: Sequence[Mapping], keys: Sequence[str]) -> list[float] | None:
    for key in keys:
        values = [row.get(key) for row in history]
        if any(v is not None for v in values):
            return [np.nan if v is None else float(v) for v in values]
    return None


@styled
def training_curves_figure(history: Sequence[Mapping], *, title: str = "Training curves") -> Figure:
    """Loss and accuracy per epoch, training and validation side by side.

    Parameters
    ----------
    history : sequence of mappings
        One per epoch: ``epoch``, ``loss``, ``accuracy`` and optionally ``val_loss``,
        ``val_accuracy`` (``None`` or missing when there was no validation data);
        the CNN's ``train_loss``/``validation_loss`` names work too.
    title : str
        Figure title.
    """
    if not history:
        raise ParameterError("history holds no epochs")
    epochs = [row.get("epoch", index + 1) for index, row in enumerate(history)]
    figure, (loss_ax, accuracy_ax) = new_figure(1, 2, height_in=3.3)
    panels = ((loss_ax, "loss", "Loss (cross-entropy)"), (accuracy_ax, "accuracy", "Accuracy"))
    for ax, metric, label in panels:
        for keys, name, color in zip(HISTORY_KEYS[metric], ("training", "validation"), (OKABE_ITO[0], OKABE_ITO[3])):
            values = _history_series(history, keys)
            if values is not None:
                ax.plot(epochs, values, color=color, label=name)
        ax.set(title=metric.capitalize(), xlabel="Epoch", ylabel=label)
        ax.grid(True)
        if ax.lines:
            ax.legend()
        else:
            ax.text(0.5, 0.5, f"no {metric} recorded", transform=ax.transAxes, ha="center", color="grey")
    accuracy_ax.set_ylim(0, 1)
    accuracy_ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    figure.suptitle(plain_text(title), fontweight="bold")
    return figure


@styled
def model_comparison_figure(
    models: Sequence[str],
    series: Mapping[str, Sequence],
    *,
    chance: float | None = None,
    ylabel: str = "Accuracy",
    title: str = "Model comparison",
) -> Figure:
    """Grouped bars: one group per model, one bar per series (protocol or source).

    Parameters
    ----------
    models : sequence of str
        Model names, one group each.
    series : mapping of series name → sequence aligned with ``models``
        Each entry a float, a ``(mean, std)`` pair (drawn with an error bar) or
        ``None`` (no bar), e.g. ``{"speaker-independent": [(0.45, 0.03), ...],
        "random split": [...], "reference": [0.70, None, ...]}``.
    chance : float or None
        Draw the chance level (e.g. 1/8 for eight balanced emotions).
    """
    if not models or not series:
        raise ParameterError("nothing to compare: no models or no series")
    for name, values in series.items():
        if len(values) != len(models):
            raise ParameterError(f"series {name!r} has {len(values)} values for {len(models)} models")
    n_series = len(series)
    width = 0.8 / n_series
    x = np.arange(len(models))
    figure, ax = new_figure(height_in=3.6, width_in=max(6.0, 1.1 * len(models) + 2.5))
    hatches = ["", "//", "..", "xx"]
    for index, (color, (name, values)) in enumerate(zip(OKABE_ITO, series.items())):
        means = [np.nan if v is None else (v[0] if isinstance(v, (tuple, list)) else v) for v in values]
        errors = [v[1] if isinstance(v, (tuple, list)) and v[1] is not None else 0.0 for v in values]
        bars = ax.bar(
            x + (index - (n_series - 1) / 2) * width, means, width, yerr=errors, capsize=3,
            color=color, edgecolor="black", linewidth=0.5, hatch=hatches[index % len(hatches)], label=plain_text(name),
        )
        ax.bar_label(bars, labels=["" if np.isnan(m) else f"{100 * m:.0f}" for m in means], padding=2, fontsize=7.5)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1.2, label=f"chance ({100 * chance:.1f} %)")
    ax.set_xticks(x, [plain_text(model) for model in models])
    ax.set(title=plain_text(title), ylabel=plain_text(f"{ylabel} (%)"), ylim=(0, 1.05))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, symbol=""))
    ax.grid(True, axis="y")
    figure.legend(loc="outside lower center", ncols=n_series + (chance is not None), fontsize=8)
    return figure


@styled
def reliability_figure(
    reliability: Mapping[str, Sequence],
    *,
    before: Mapping[str, Sequence] | None = None,
    ece: float | None = None,
    ece_before: float | None = None,
    title: str = "Reliability diagram",
) -> Figure:
    """Accuracy against top probability per bin, the diagonal of perfect calibration,
    and below it how many clips each bin holds.

    Parameters
    ----------
    reliability : mapping
        A run's ``calibration["reliability"]``: ``edges`` (``n_bins + 1``), and per bin
        ``count``, ``confidence`` and ``accuracy`` (``None`` for an empty bin).
    before : mapping or None
        The same bins before temperature scaling (``uncalibrated["calibration"]["reliability"]``).
    ece, ece_before : float or None
        Shown in the legend.
    title : str
        Figure title.

    Examples
    --------
    >>> bins = {"edges": [0, 0.5, 1], "count": [4, 6], "confidence": [0.4, 0.8], "accuracy": [0.25, 0.5]}
    >>> reliability_figure(bins, ece=0.2).axes[0].get_ylabel()
    'Accuracy'
    """
    edges = np.asarray(reliability["edges"], dtype=float)
    if len(edges) < 2 or any(len(reliability[key]) != len(edges) - 1 for key in ("count", "confidence", "accuracy")):
        raise ParameterError("reliability needs n_bins + 1 edges and n_bins counts, confidences and accuracies")
    centres, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    figure, (ax, count_ax) = new_figure(2, 1, height_in=5.0, width_in=5.2, sharex=True,
                                        gridspec_kw={"height_ratios": (3, 1)})
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1.2, label="perfect calibration")
    series = [(reliability, "calibrated" if before is not None else "model", ece, OKABE_ITO[0])]
    if before is not None:
        series.insert(0, (before, "before calibration", ece_before, OKABE_ITO[1]))
    for index, (bins, name, value, color) in enumerate(series):
        accuracy = np.array([np.nan if a is None else a for a in bins["accuracy"]])
        label = name + ("" if value is None else f" (ECE {100 * value:.1f} %)")
        ax.bar(centres, accuracy, widths * (0.9 if index == len(series) - 1 else 1.0), color=color,
               alpha=0.85 if index == len(series) - 1 else 0.35, edgecolor="black", linewidth=0.4, label=label)
        count_ax.bar(centres, bins["count"], widths * 0.9, color=color, alpha=0.85 if index == len(series) - 1 else 0.35)
    ax.set(ylabel="Accuracy", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True)
    count_ax.set(xlabel="Top probability (confidence)", ylabel="Clips")
    figure.suptitle(title, fontweight="bold")
    return figure


@styled
def risk_coverage_figure(curves: Mapping[str, Mapping], *, title: str = "Risk-coverage: accuracy of the top k %") -> Figure:
    """Accuracy of the clips ranked highest by each score (familiarity, confidence), against
    the share kept: a score worth trusting rises as coverage falls.

    Parameters
    ----------
    curves : mapping
        Score name → ``{coverage: accuracy}``, coverages in (0, 1] (``"50%"`` strings too).
    title : str

    Examples
    --------
    >>> risk_coverage_figure({"most familiar": {1.0: 0.7, 0.5: 0.8}}).axes[0].get_xlabel()
    'Coverage (share of clips kept)'
    """
    if not curves or not all(len(curve) >= 2 for curve in curves.values()):
        raise ParameterError("risk-coverage needs at least two coverages per curve")
    figure, ax = new_figure(1, 1, height_in=3.6, width_in=HALF_WIDTH_IN)
    for index, (name, curve) in enumerate(curves.items()):
        points = sorted((float(str(k).rstrip("%")) / (100 if str(k).endswith("%") else 1), v) for k, v in curve.items())
        ax.plot(*zip(*points), marker="o", color=OKABE_ITO[index % len(OKABE_ITO)], label=plain_text(name))
    ax.set(xlabel="Coverage (share of clips kept)", ylabel="Accuracy", xlim=(1.02, 0.0))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    # A score worth trusting rises towards the right (fewer clips kept): the upper left stays free.
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True)
    ax.set_title(title, fontweight="bold")
    return figure


@styled
def cross_corpus_figure(matrix: Mapping, *, title: str | None = None) -> Figure:
    """Heat map of a cross-corpus matrix: UA (%) per training set (rows) and test corpus
    (columns), every cell annotated with its UA and its chance level; for a source-adapted
    matrix (``serkit evaluate --adapt``) the colour and first figure are the adapted UA and
    the plain one (the plain head a single clip gets, ``unweighted_accuracy_fallback``) is beside.

    Parameters
    ----------
    matrix : mapping
        One matrix of ``serkit evaluate --train … --json`` (:meth:`serkit.evaluation.crosscorpus.CrossCorpusResult.to_dict`):
        ``model``, ``train_sets``, ``test_sets`` and ``cells`` (each ``train``, ``test``,
        ``unweighted_accuracy``, ``chance``; a cell without UA is drawn blank with a dash).
    title : str or None
        Axes title (default: the model's name).

    Examples
    --------
    >>> cells = [{"train": "a", "test": "b", "unweighted_accuracy": 0.5, "chance": 0.25}]
    >>> figure = cross_corpus_figure({"model": "logreg", "train_sets": ["a"], "test_sets": ["b"], "cells": cells})
    >>> figure.axes[0].texts[0].get_text()
    '50.0\\nchance 25'
    """
    rows, columns = list(matrix["train_sets"]), list(matrix["test_sets"])
    if not rows or not columns:
        raise ParameterError("the cross-corpus matrix has no training sets or no test corpora")
    cells = {(cell["train"], cell["test"]): cell for cell in matrix["cells"]}
    values = np.full((len(rows), len(columns)), np.nan)
    for (i, train), (j, test) in ((r, c) for r in enumerate(rows) for c in enumerate(columns)):
        ua = cells.get((train, test), {}).get("unweighted_accuracy")
        values[i, j] = np.nan if ua is None else ua
    figure, ax = new_figure(height_in=max(2.6, 0.7 * len(rows) + 1.6), width_in=max(4.4, 1.3 * len(columns) + 2.6))
    image = ax.imshow(values, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(values):
        chance = cells.get((rows[i], columns[j]), {}).get("chance")
        text = "–" if np.isnan(value) else f"{100 * value:.1f}"
        plain = cells.get((rows[i], columns[j]), {}).get("unweighted_accuracy_fallback")
        if plain is not None and not np.isnan(value):
            text = f"adapted {text}\nplain {100 * plain:.1f}"
        if chance is not None:
            text += f"\nchance {100 * chance:.3g}"
        # viridis is dark at the bottom: light text on dark cells; a blank cell is white.
        light = not np.isnan(value) and value <= 0.6
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if light else "black")
    ax.set_xticks(range(len(columns)), [plain_text(name) for name in columns], rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), [plain_text(name) for name in rows])
    adapted = f", adapted per {matrix['adapt']}" if matrix.get("adapt", "none") != "none" else ""
    ax.set(title=plain_text(title or f"{matrix.get('model', 'model')}: cross-corpus UA (%){adapted}"),
           xlabel="Test corpus", ylabel="Training set")
    ax.spines[:].set_visible(False)
    figure.colorbar(image, ax=ax, label="Unweighted accuracy (%)", shrink=0.85, format=lambda v, _: f"{100 * v:.0f}")
    return figure


@styled
def slice_figure(slices: Mapping[str, Mapping[str, Mapping]], *, overall: float | None = None,
                 title: str = "Unweighted accuracy by slice") -> Figure:
    """Horizontal bars of UA per slice value, one panel per column (gender, speaker …),
    the overall UA as a dashed line.

    Parameters
    ----------
    slices : mapping
        A run's ``slices`` (:func:`serkit.evaluation.slices.slice_scores`): ``{column: {value:
        {"n", "unweighted_accuracy", …}}}``.
    overall : float or None
        The UA over every clip, drawn in each panel.
    title : str
        Figure title.

    Examples
    --------
    >>> scores = {"gender": {"female": {"n": 4, "unweighted_accuracy": 0.5}, "male": {"n": 4, "unweighted_accuracy": 0.75}}}
    >>> [float(bar.get_width()) for bar in slice_figure(scores, overall=0.6).axes[0].patches]
    [0.5, 0.75]
    """
    columns = [column for column, groups in slices.items() if groups]
    if not columns:
        raise ParameterError("slices hold no groups")
    counts = [len(slices[column]) for column in columns]
    figure, axes = new_figure(len(columns), 1, squeeze=False, sharex=True, width_in=HALF_WIDTH_IN + 1,
                              height_in=0.22 * sum(counts) + 0.5 * len(columns) + 1.0,
                              gridspec_kw={"height_ratios": counts})
    for ax, column in zip(axes[:, 0], columns):
        groups = slices[column]
        names = list(groups)
        ua = [np.nan if groups[name].get("unweighted_accuracy") is None else groups[name]["unweighted_accuracy"]
              for name in names]
        y = np.arange(len(names))
        ax.barh(y, ua, height=0.7, color=OKABE_ITO[0])
        ax.set_yticks(y, [plain_text(f"{name} ({groups[name].get('n', '?')})") for name in names], fontsize=8)
        ax.invert_yaxis()
        ax.set_ylabel(plain_text(column))
        if overall is not None:
            ax.axvline(overall, color=OKABE_ITO[3], linestyle="--", linewidth=1.2)
        ax.grid(True, axis="x")
    last = axes[-1, 0]
    last.set(xlim=(0, 1), xlabel="Unweighted accuracy (%)" + ("" if overall is None else f"; dashed: all clips, {100 * overall:.1f}"))
    last.xaxis.set_major_formatter(PercentFormatter(xmax=1, symbol=""))
    figure.suptitle(plain_text(title), fontweight="bold")
    return figure
