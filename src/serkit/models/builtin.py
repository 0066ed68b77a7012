"""The built-in models: the reference's four, the stronger scikit-learn ones, the ensemble,
``logreg-tuned`` and the temperature-scaled wrapper of any of them.

Each registers here, on import, with :mod:`serkit.models.registry` (which imports this
module by name when a model is first asked for), and imports its estimator's module only
when it is built, so that listing the models imports no scikit-learn or torch.

>>> from serkit.models import available_models
>>> available_models()[:4]
['dense', 'mlp', 'logreg', 'kmeans']
"""

from __future__ import annotations

from serkit.models.registry import CALIBRATED_SUFFIX, register_estimator, register_model, register_wrapper


def _with_defaults(cls, defaults: dict, params: dict):
    return cls(**{**defaults, **params})


@register_estimator("dense", "PyTorch dense net with dropout (the reference's Keras model)")
def _dense(*, random_state=0, **params):
    from serkit.models.dense import DenseNetClassifier

    return DenseNetClassifier(random_state=random_state, **params)


@register_estimator("mlp", "scikit-learn MLPClassifier (the reference's 72 %)")
def _mlp(*, random_state=0, **params):
    from sklearn.neural_network import MLPClassifier

    # max_iter above the default 200 so training converges instead of warning.
    return _with_defaults(MLPClassifier, {"max_iter": 1000, "random_state": random_state}, params)


@register_estimator("logreg", "logistic regression")
def _logreg(*, random_state=0, **params):
    from sklearn.linear_model import LogisticRegression

    return _with_defaults(
        LogisticRegression, {"max_iter": 2000, "random_state": random_state}, params
    )


@register_estimator("kmeans", "8 k-means clusters mapped to emotions (Hungarian, training part)")
def _kmeans(*, random_state=0, **params):
    from serkit.models.kmeans import KMeansClassifier

    return KMeansClassifier(random_state=random_state, **params)


@register_estimator("svm", "RBF support vector machine with probabilities")
def _svm(*, random_state=0, **params):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    # Probabilities by Platt scaling on internal folds of the training data (what
    # SVC(probability=True) did before scikit-learn 1.9 deprecated it).
    svc = _with_defaults(SVC, {"kernel": "rbf", "C": 10.0, "gamma": "scale"}, params)
    return CalibratedClassifierCV(svc, method="sigmoid", cv=5, ensemble=False)


@register_estimator("forest", "random forest")
def _forest(*, random_state=0, **params):
    from sklearn.ensemble import RandomForestClassifier

    return _with_defaults(
        RandomForestClassifier,
        {"n_estimators": 300, "n_jobs": 1, "random_state": random_state},
        params,
    )


@register_estimator("boosting", "histogram gradient boosting")
def _boosting(*, random_state=0, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return _with_defaults(
        HistGradientBoostingClassifier,
        {"max_iter": 100, "learning_rate": 0.1, "random_state": random_state},
        params,
    )


@register_model(
    "ensemble",
    input_kind=("vector", "frames", "bundle"),
    default_set="logmel,functionals+egemaps",
    description="soft vote: cnn + logreg-tuned on a logmel,functionals+egemaps bundle; svm + mlp + logreg on a vector set",
)
def _ensemble(*, random_state=0, members=None, weights=None):
    from serkit.models.ensemble import SoftVoteClassifier, parse_members

    if members is not None:
        parse_members(members)  # unknown names fail when the model is made, not after the first fold
    return SoftVoteClassifier(members=members, weights=weights, random_state=random_state)


@register_model("logreg-tuned", description="logistic regression, C chosen by speaker-grouped inner CV on training clips")
def _logreg_tuned(*, random_state=0, **params):
    from serkit.models.tuned import InnerCVTuned

    return InnerCVTuned(model="logreg", param="C", random_state=random_state, **params)


@register_estimator("lda", "linear discriminant analysis, shrunk covariance (weighted by resampling)")
def _lda(*, random_state=0, **params):
    from serkit.models.discriminant import ResampledDiscriminant

    return ResampledDiscriminant(random_state=random_state, **params)


@register_wrapper(CALIBRATED_SUFFIX)
def _temperature_scaled(*, model, params, random_state):
    from serkit.models.calibration import TemperatureScaled

    return TemperatureScaled(model=model, params=params, random_state=random_state)
