"""How well a model does: protocols, metrics, cross-corpus matrices, slices.

- :mod:`serkit.evaluation.dataset`: :class:`Dataset`, what every protocol evaluates;
- :mod:`serkit.evaluation.metrics`: UA, accuracy, macro F1, ROC AUC, ECE, Brier score;
- :mod:`serkit.evaluation.protocols`: speaker folds, leave-one-speaker-out, the random
  split (:func:`evaluate`, :func:`compare`, :func:`format_table`);
- :mod:`serkit.evaluation.pooling`: several corpora as one training set (the emotions
  kept, balance weights);
- :mod:`serkit.evaluation.crosscorpus`: train on some corpora, test on another
  (leave-one-corpus-out);
- :mod:`serkit.evaluation.slices`: the bias check by gender, intensity, corpus, speaker.

This package imports the estimators (:mod:`serkit.models`); they never import it.
The names below are the public API, re-exported from those modules.

>>> from serkit.evaluation import PROTOCOLS
>>> PROTOCOLS
('speaker', 'loso', 'random')
"""

from serkit.evaluation.dataset import Dataset, dataset_from_corpus, dataset_from_extraction, ordered_labels
from serkit.evaluation.metrics import (
    CALIBRATION_METRICS,
    METRICS,
    brier_score,
    calibration_metrics,
    expected_calibration_error,
    fold_metrics,
    macro_roc_auc,
    reliability_bins,
    risk_coverage,
)
from serkit.evaluation.protocols import (
    PROTOCOLS,
    EvaluationResult,
    FoldWarning,
    LeakageWarning,
    RunResult,
    compare,
    evaluate,
    format_table,
    split_indices,
)

__all__ = [
    "CALIBRATION_METRICS", "METRICS", "PROTOCOLS", "Dataset", "EvaluationResult", "FoldWarning",
    "LeakageWarning", "RunResult", "brier_score", "calibration_metrics", "compare", "dataset_from_corpus",
    "dataset_from_extraction", "evaluate", "expected_calibration_error", "fold_metrics", "format_table",
    "macro_roc_auc", "ordered_labels", "reliability_bins", "risk_coverage", "split_indices",
]
