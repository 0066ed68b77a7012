"""The corpus-and-models report: evaluation results, corpus and features → one HTML file.

:func:`build_report` takes the evaluation results (the dict ``serkit evaluate --json``
writes, see :mod:`serkit.evaluation`) and, optionally, the corpus table and the
feature table, and renders ``templates/report.html.j2``. Every figure is embedded as
a base64 PNG and the style sheet is inline: the file has no external link.

Examples
--------
>>> from serkit.report.build import label_encoding
>>> label_encoding(["sad", "angry", "calm", "angry"])
[('angry', 0), ('calm', 1), ('sad', 2)]
"""

from __future__ import annotations

import datetime
import functools
import platform
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from serkit.core.exceptions import ParameterError
from serkit.report import corpus as corpus_figures
from serkit.report import distributions, results as result_figures
from serkit.report.html import figure_uri, render

PROTOCOL_NAMES = {
    "speaker": "speaker-independent",
    "loso": "leave one speaker out",
    "random": "random split",
}
"""How each evaluation protocol is named in the report."""
HONEST_PROTOCOLS = ("speaker", "loso")
"""Protocols that keep every test speaker out of training: the report's headline."""
REFERENCE_ROLLOFF_CAP_HZ = 3000.0
"""The reference capped the spectral roll-off column at 3000 (Hz)."""
METRICS = ("accuracy", "unweighted_accuracy", "macro_f1", "roc_auc")
LIBRARIES = ("numpy", "scipy", "librosa", "soundfile", "scikit-learn", "torch", "pandas", "matplotlib", "jinja2")

SECTIONS = (
    ("summary", "Summary"),
    ("data", "The data"),
    ("features", "The features"),
    ("labels", "Label encoding"),
    ("comparison", "Model comparison"),
    ("models", "Per model"),
    ("reproduce", "How to reproduce"),
)
"""Section ids and titles, in page order, of a report of evaluation runs."""
CROSS_CORPUS_SECTION = ("cross-corpus", "Cross-corpus")
"""Added after the model comparison when the report is given a cross-corpus matrix."""
SLICE_METRICS = ("unweighted_accuracy", "accuracy", "ece")


def label_encoding(labels: Iterable[str]) -> list[tuple[str, int]]:
    """Emotion → number as scikit-learn's ``LabelEncoder`` assigns it (sorted names)."""
    from sklearn.preprocessing import LabelEncoder

    encoder = LabelEncoder().fit(list(labels))
    return [(str(name), int(code)) for code, name in enumerate(encoder.classes_)]


def library_versions() -> dict[str, str]:
    """Versions of serkit, Python and the libraries that shape the numbers."""
    from serkit import __version__

    versions = {"serkit": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def clip_durations(paths: Sequence[Path], progress: bool = False) -> np.ndarray:
    """Duration in seconds of each file, read from its header (no decoding)."""
    import soundfile as sf
    from tqdm.auto import tqdm

    durations = np.full(len(paths), np.nan)
    for index, path in enumerate(tqdm(paths, desc="durations", unit="clip", disable=not progress)):
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, OSError):
            continue  # an unreadable file stays NaN and is left out of the figure
        durations[index] = info.frames / info.samplerate
    return durations


def _summary_cell(run: Mapping, metric: str) -> tuple[float, float | None] | None:
    """``(mean, std)`` of a metric over the run's folds; std ``None`` for a single split."""
    value = run["summary"].get(metric)
    if not value or value.get("mean") is None:
        return None
    spread = float(value.get("std") or 0.0) if len(run.get("folds") or ()) > 1 else None
    return float(value["mean"]), spread


def model_label(run: Mapping) -> str:
    """A run's model as the report names it; speaker-normalised runs are told apart."""
    return f"{run['model']} + speaker norm" if run.get("speaker_norm") else str(run["model"])


def _runs_by_model(runs: Sequence[Mapping]) -> dict[str, dict[str, Mapping]]:
    """``{model label: {protocol: run}}`` in the order the models first appear."""
    grouped: dict[str, dict[str, Mapping]] = {}
    for run in runs:
        grouped.setdefault(model_label(run), {})[run["protocol"]] = run
    return grouped


def _headline_run(protocols: Mapping[str, Mapping]) -> tuple[str, Mapping]:
    """The run a model's details are drawn from: speaker-independent when there is one."""
    for protocol in (*HONEST_PROTOCOLS, *protocols):
        if protocol in protocols:
            return protocol, protocols[protocol]
    raise ParameterError("a model without runs")


REFERENCE_CORPUS = {"name": "ravdess", "n_speakers": 20}
"""What the reference analysis ran on (the 20 RAVDESS actors shared with the project): its
accuracies are shown beside a report on that corpus only."""


def reference_ran_on(corpus: Mapping | None) -> bool:
    """Whether ``corpus`` (a results' ``corpus`` summary) is the one the reference analysed.

    >>> reference_ran_on({"name": "ravdess", "n_speakers": 20}), reference_ran_on({"name": "ravdess", "n_speakers": 4})
    (True, False)
    """
    return all((corpus or {}).get(key) == value for key, value in REFERENCE_CORPUS.items())


def comparison_context(results: Mapping) -> dict:
    """Rows and figure of the model comparison, honest protocol first, reference beside (on
    the reference's corpus only)."""
    grouped = _runs_by_model(results["runs"])
    reference = (results.get("reference") or {}) if reference_ran_on(results.get("corpus")) else {}
    honest = next((p for p in HONEST_PROTOCOLS if any(p in runs for runs in grouped.values())), None)
    rows = []
    for model, protocols in grouped.items():
        honest_run = protocols.get(honest) if honest else None
        random_run = protocols.get("random")
        rows.append(
            {
                "model": model,
                "honest": {m: _summary_cell(honest_run, m) for m in METRICS} if honest_run else None,
                "n_folds": len(honest_run["folds"]) if honest_run else 0,
                "random": _summary_cell(random_run, "accuracy") if random_run else None,
                "reference": reference.get(model),
                "fit_seconds": sum(r.get("fit_seconds") or 0.0 for r in protocols.values()),
            }
        )
    scored = [row for row in rows if row["honest"] and row["honest"]["accuracy"]]
    best = max(scored, key=lambda row: row["honest"]["accuracy"][0])["model"] if scored else None
    for row in rows:
        row["best"] = row["model"] == best
    model_names = [row["model"] for row in rows]
    series = {}
    if honest:
        series[PROTOCOL_NAMES[honest]] = [row["honest"]["accuracy"] if row["honest"] else None for row in rows]
    if any(row["random"] for row in rows):
        series["random split"] = [row["random"] for row in rows]
    if any(row["reference"] is not None for row in rows):
        series["reference analysis"] = [row["reference"] for row in rows]
    labels = next(iter(results["runs"]), {}).get("labels") or []
    figure = None
    if model_names and series:
        figure = figure_uri(
            result_figures.model_comparison_figure(
                model_names, series, chance=1 / len(labels) if labels else None, title="Accuracy per model"
            )
        )
    # Runs of one protocol share the split (same seed), so one warning per split.
    leaks: dict[tuple, list[str]] = {}
    for run in results["runs"]:
        shared = (run.get("leakage") or {}).get("shared_speakers")
        if shared:
            key = (PROTOCOL_NAMES.get(run["protocol"], run["protocol"]), tuple(shared))
            leaks.setdefault(key, []).append(model_label(run))
    leakage = [
        {"protocol": protocol, "speakers": list(speakers), "models": models}
        for (protocol, speakers), models in leaks.items()
    ]
    return {
        "rows": rows,
        "best": best,
        "honest_name": PROTOCOL_NAMES.get(honest, honest) if honest else None,
        "figure": figure,
        "leakage": leakage,
    }


def model_context(model: str, protocols: Mapping[str, Mapping]) -> dict:
    """Everything the page shows for one model, from its headline run."""
    protocol, run = _headline_run(protocols)
    labels = list(run["labels"])
    confusion = np.asarray(run["confusion"], dtype=int)
    report = run.get("classification_report") or {}
    protocol_name = PROTOCOL_NAMES.get(protocol, protocol)
    context = {
        "model": model,
        "protocol": protocol_name,
        "summary": {m: _summary_cell(run, m) for m in METRICS},
        "labels": labels,
        "report_rows": [
            {"label": label, **report[label]} for label in labels if label in report
        ],
        "confusion": confusion.tolist(),
        "confusion_totals": confusion.sum(axis=1).tolist(),
        "folds": run["folds"],
        "warnings": list(run.get("warnings") or []),
        "confusion_figure": figure_uri(
            result_figures.confusion_figure(
                run.get("confusion_normalized") or _row_normalise(confusion), labels, normalized=True,
                title=f"{model}: confusion matrix ({protocol_name}, % of true class)",
            )
        ),
        "roc_figure": figure_uri(
            result_figures.roc_figure(run["roc"], title=f"{model}: ROC curves, one emotion against the rest")
        ) if run.get("roc") else None,
        "training_figure": figure_uri(
            result_figures.training_curves_figure(run["history"], title=f"{model}: training curves")
        ) if run.get("history") else None,
        # What the network's inner validation held out: "speakers", "clips" (too few speakers), or unknown.
        "validation_held_out": (run.get("history") or [{}])[0].get("val_held_out"),
        **_calibration_context(model, run),
        "risk_coverage": _risk_coverage_context(model, run),
        "slices": _slices_context(model, run),
    }
    return context


def _risk_coverage_context(model: str, run: Mapping) -> dict | None:
    """The run's risk-coverage curves (an embedded figure) and their accuracy at 100 % and
    50 %; None for results saved before serkit measured them."""
    curves = run.get("risk_coverage") or {}
    coverage = [float(c) for c in curves.get("coverage") or []]
    drawn = {key: dict(zip(coverage, curves[key])) for key in ("confident", "familiar")
             if curves.get(key) and len(curves[key]) == len(coverage)}
    if len(coverage) < 2 or not drawn:
        return None
    figure = result_figures.risk_coverage_figure({f"most {key}": curve for key, curve in drawn.items()},
                                                 title=f"{model}: accuracy of the top k % (test folds pooled)")
    return {"figure": figure_uri(figure), "all": drawn["confident" if "confident" in drawn else "familiar"].get(1.0),
            "half": {key: curve.get(0.5) for key, curve in drawn.items()}}


def _pooled_unweighted_accuracy(run: Mapping) -> float | None:
    """Mean recall of the emotions present, test folds pooled (as each slice is scored)."""
    report = run.get("classification_report") or {}
    recalls = [row["recall"] for row in report.values() if row.get("support")]
    return float(np.mean(recalls)) if recalls else None


def _slices_context(model: str, run: Mapping) -> dict | None:
    """Per slice column, a row per value (clips, UA, accuracy, ECE) and one bar figure;
    ``None`` for a run evaluated without the corpus metadata."""
    slices = {column: groups for column, groups in (run.get("slices") or {}).items() if groups}
    if not slices:
        return None
    overall = _pooled_unweighted_accuracy(run)
    tables = [
        {"column": column,
         "rows": [{"value": value, "n": scores.get("n"), **{m: scores.get(m) for m in SLICE_METRICS}}
                  for value, scores in groups.items()]}
        for column, groups in slices.items()
    ]
    figure = result_figures.slice_figure(slices, overall=overall, title=f"{model}: unweighted accuracy by slice")
    return {"tables": tables, "overall": overall, "figure": figure_uri(figure)}


def cross_corpus_matrices(data) -> list[dict]:
    """The cross-corpus matrices in ``data``: what ``serkit evaluate --train … --json``
    writes (``{"cross_corpus": [matrix, …]}``), one matrix, or a list of them."""
    if isinstance(data, Mapping):
        data = data.get("cross_corpus", [data] if data.get("kind") == "cross-corpus" else [])
    matrices = list(data or [])
    for matrix in matrices:
        if not isinstance(matrix, Mapping) or not {"train_sets", "test_sets", "cells"} <= set(matrix):
            raise ParameterError("a cross-corpus matrix needs train_sets, test_sets and cells "
                                 "(the JSON of 'serkit evaluate --train … --json')")
    return matrices


def cross_corpus_context(matrices: Sequence[Mapping]) -> list[dict]:
    """Per model: its heat map, the shared emotions of each pair, and how it was run."""
    return [
        {
            "model": str(matrix.get("model", "model")) + (" + speaker norm" if matrix.get("speaker_norm") else ""),
            "figure": figure_uri(result_figures.cross_corpus_figure(matrix)),
            "pairs": [
                {"train": cell["train"], "test": cell["test"], "protocol": cell.get("protocol"),
                 "emotions": list(cell.get("emotions") or []), "n_test": cell.get("n_test"),
                 "note": cell.get("note")}
                for cell in matrix["cells"]
            ],
            "balance": matrix.get("balance"),
            "command": matrix.get("command"),
        }
        for matrix in matrices
    ]


def _calibration_context(model: str, run: Mapping) -> dict:
    """ECE and Brier score (after and, for a temperature-scaled model, before scaling),
    the fitted temperatures and the reliability diagram; nothing for results saved
    before serkit measured calibration."""
    calibration = run.get("calibration")
    if not calibration:
        return {"calibration": None}
    before = (run.get("uncalibrated") or {}).get("calibration")
    figure = result_figures.reliability_figure(
        calibration["reliability"], before=before and before["reliability"], ece=calibration["ece"],
        ece_before=before and before["ece"], title=f"{model}: reliability (test folds pooled)",
    )
    return {"calibration": {
        "ece": calibration["ece"], "brier": calibration["brier"],
        "ece_before": before and before["ece"], "brier_before": before and before["brier"],
        "temperatures": run.get("temperatures"), "figure": figure_uri(figure),
    }}


def _row_normalise(confusion: np.ndarray) -> list[list[float]]:
    totals = confusion.sum(axis=1, keepdims=True)
    return (confusion / np.maximum(totals, 1)).tolist()


def data_context(corpus, durations_s: np.ndarray) -> dict:
    """Clips per emotion, per speaker and gender, and durations (figures + tables)."""
    table = corpus.table
    labels = table["label"].astype(str).tolist()
    genders = table["gender"].astype(str).tolist() if "gender" in table else None
    known = np.isfinite(durations_s)
    label_counts = table["label"].value_counts()
    order = corpus_figures.ordered_labels(labels)
    return {
        "n_clips": len(table),
        "n_speakers": int(table["speaker"].nunique()),
        "genders": (
            table.groupby("gender")["speaker"].nunique().astype(int).to_dict() if genders is not None else {}
        ),
        "label_counts": [(name, int(label_counts[name])) for name in order],
        "duration": {
            "min": float(np.min(durations_s[known])) if known.any() else None,
            "median": float(np.median(durations_s[known])) if known.any() else None,
            "max": float(np.max(durations_s[known])) if known.any() else None,
            "total_min": float(np.sum(durations_s[known]) / 60) if known.any() else None,
        },
        "skipped": len(corpus.skipped),
        "class_figure": figure_uri(corpus_figures.class_counts_figure(labels)),
        "speaker_figure": figure_uri(corpus_figures.speaker_counts_figure(table["speaker"].tolist(), genders)),
        "duration_figure": figure_uri(
            corpus_figures.duration_figure(durations_s[known], [l for l, k in zip(labels, known) if k])
        ) if known.any() else None,
    }


def features_context(features, columns: Sequence[str], quantiles: tuple[float, float]) -> dict:
    """Histograms with skewness readings, box plots with outliers, and what capping changed."""
    values = {column: np.asarray(features[column], dtype=float) for column in columns}
    rows = []
    for column, column_values in values.items():
        low, high = np.quantile(column_values, quantiles)
        rows.append(
            {
                "column": column,
                "mean": float(np.mean(column_values)),
                "median": float(np.median(column_values)),
                "min": float(np.min(column_values)),
                "max": float(np.max(column_values)),
                "skewness": distributions.skewness(column_values),
                "reading": distributions.skewness_reading(column_values),
                "outliers": int(distributions.tukey_outliers(column_values).sum()),
                "capped": int(np.sum((column_values < low) | (column_values > high))),
            }
        )
    capping = None
    if "rolloff" in values:
        rolloff = values["rolloff"]
        low, high = np.quantile(rolloff, quantiles)
        reference_cap = np.minimum(rolloff, REFERENCE_ROLLOFF_CAP_HZ)
        quantile_cap = np.clip(rolloff, low, high)
        capping = {
            "n": int(rolloff.size),
            "reference_changed": int(np.sum(rolloff > REFERENCE_ROLLOFF_CAP_HZ)),
            "reference_cap": REFERENCE_ROLLOFF_CAP_HZ,
            "quantile_changed": int(np.sum((rolloff < low) | (rolloff > high))),
            "quantile_bounds": (float(low), float(high)),
            "before": {"mean": float(rolloff.mean()), "std": float(rolloff.std()), "max": float(rolloff.max()),
                       "median": float(np.median(rolloff))},
            "after_reference": {"mean": float(reference_cap.mean()), "std": float(reference_cap.std()), "max": float(reference_cap.max())},
            "after_quantile": {"mean": float(quantile_cap.mean()), "std": float(quantile_cap.std()), "max": float(quantile_cap.max())},
            "figure": figure_uri(
                distributions.capping_figure(
                    rolloff,
                    {f"cap {REFERENCE_ROLLOFF_CAP_HZ:g} Hz": reference_cap,
                     f"{quantiles[0]:.0%}–{quantiles[1]:.0%} quantiles": quantile_cap},
                    column="rolloff", unit="Hz",
                )
            ),
        }
    readings = {}
    for row in rows:
        readings.setdefault(row["reading"], []).append(row["column"])
    return {
        "rows": rows,
        "readings": readings,
        "quantiles": quantiles,
        "histogram_figure": figure_uri(distributions.feature_histograms_figure(values, columns)),
        "boxplot_figure": figure_uri(distributions.feature_boxplots_figure(values, columns)),
        "capping": capping,
    }


def _cross_corpus_summary(matrix: Mapping) -> dict:
    """The page heading's data line for a report of a cross-corpus matrix only."""
    corpora = matrix.get("corpora") or {}
    if not corpora:
        return {}
    return {"name": " · ".join(corpora), "n_clips": sum(c.get("n_clips") or 0 for c in corpora.values()),
            "n_speakers": sum(c.get("n_speakers") or 0 for c in corpora.values())}


def build_report(
    results: Mapping,
    *,
    corpus=None,
    features=None,
    feature_columns: Sequence[str] | None = None,
    command: str | None = None,
    cross_corpus=None,
    capping_quantiles: tuple[float, float] = (0.01, 0.99),
    progress: bool = False,
) -> str:
    """Render the whole report as one self-contained HTML string.

    Parameters
    ----------
    results : mapping
        Evaluation results as :meth:`serkit.evaluation.EvaluationResult.to_dict`
        (or ``serkit evaluate --json``) gives them: ``runs`` with ``model``,
        ``protocol``, ``labels``, ``folds``, ``summary``, ``confusion``, ``roc``,
        ``history``, ``leakage``; plus ``reference``, ``corpus``, ``feature_set``,
        ``seed``, ``command``; runs with ``slices`` get a slice table and figure.
        The JSON of ``serkit evaluate --train … --json`` (``{"cross_corpus": […]}``,
        no runs) is accepted too: the report then holds the cross-corpus section only.
    corpus : CorpusTable or None
        The corpus (:func:`serkit.corpora.read_corpus`) for the data section;
        ``None`` says in that section that it was not given.
    features : DataFrame or mapping of column → values, or None
        Per-clip feature table for the features section.
    feature_columns : sequence of str or None
        Columns of ``features`` to describe (default: every numeric column).
    command : str or None
        The command that made this report, shown under "How to reproduce".
    cross_corpus : mapping, list of mappings or None
        Cross-corpus matrices (see :func:`cross_corpus_matrices`) for a "Cross-corpus"
        section with one heat map per model.
    capping_quantiles : (float, float)
        Quantiles of the per-column capping shown beside the reference's fixed cap
        (the models' ``QuantileClipper`` default).
    progress : bool
        Show a progress bar over the report's steps on stderr.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    ParameterError
        ``results`` has neither runs nor a cross-corpus matrix, or names columns
        missing from ``features``.
    """
    from tqdm.auto import tqdm

    from serkit import __version__

    if not isinstance(results, Mapping):
        raise ParameterError("results must be a mapping (the JSON of 'serkit evaluate --json')")
    matrices = cross_corpus_matrices(results) + cross_corpus_matrices(cross_corpus)
    runs = results.get("runs") or []
    if not runs and not matrices:
        raise ParameterError("results hold no runs: nothing to report (expected the JSON of 'serkit evaluate --json')")
    grouped = _runs_by_model(runs)
    if features is not None:
        if feature_columns is None:
            feature_columns = [c for c in features.keys() if np.issubdtype(np.asarray(features[c]).dtype, np.number)]
        missing = [c for c in feature_columns if c not in features]
        if missing:
            raise ParameterError(f"feature columns not in the feature table: {missing}")
    steps: list[tuple[str, Callable[[], dict]]] = []
    if corpus is not None:
        steps.append(("data", lambda: data_context(corpus, clip_durations(corpus.absolute_paths(), progress))))
    if features is not None:
        steps.append(("features", lambda: features_context(features, feature_columns, capping_quantiles)))
    if runs:
        steps.append(("comparison", lambda: comparison_context(results)))
    if matrices:
        steps.append(("cross-corpus", lambda: cross_corpus_context(matrices)))
    steps += [(f"model {model}", functools.partial(model_context, model, protocols)) for model, protocols in grouped.items()]
    done: dict[str, dict] = {}
    with tqdm(steps, desc="report", unit="step", disable=not progress) as bar:
        for name, step in bar:
            bar.set_postfix_str(name)
            done[name] = step()
    labels = corpus.table["label"].astype(str).tolist() if corpus is not None else list(runs[0]["labels"]) if runs else []
    sections = SECTIONS if runs else (("reproduce", "How to reproduce"),)
    if matrices:
        at = next((i + 1 for i, (section, _) in enumerate(sections) if section == "comparison"), 0)
        sections = (*sections[:at], CROSS_CORPUS_SECTION, *sections[at:])
    first = matrices[0] if matrices else {}
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = {
        "serkit_version": __version__,
        "created": created,
        "sections": sections,
        "results": results,
        "corpus_summary": results.get("corpus") or (corpus.summary() if corpus is not None else {})
        or _cross_corpus_summary(first),
        "feature_set": results.get("feature_set") or first.get("feature_set") or {},
        "data": done.get("data"),
        "features": done.get("features"),
        "encoding": label_encoding(labels) if labels else [],
        "comparison": done.get("comparison"),
        "cross_corpus": done.get("cross-corpus"),
        "models": [done[f"model {model}"] for model in grouped],
        "command": command,
        # The command of results drawn --from elsewhere; a report that evaluated is one command.
        "evaluate_command": None if (results.get("command") or first.get("command")) == command
        else results.get("command") or first.get("command"),
        "seed": results.get("seed", first.get("seed")),
        "versions": library_versions(),
        "results_versions": {"serkit": results.get("serkit_version"), "created": results.get("created")},
        "platform": f"{platform.system()} {platform.machine()}, Python {sys.version.split()[0]}",
    }
    return render("report.html.j2", page)
