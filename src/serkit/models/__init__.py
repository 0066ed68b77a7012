"""Models by name: scikit-learn classifiers with their own preprocessing.

:func:`make_model` builds a fresh, unfitted classifier. Every vector model is a
:class:`~sklearn.pipeline.Pipeline` of three named steps:

1. ``clip`` — :class:`~serkit.models.preprocessing.QuantileClipper`, per-column
   outlier caps learned on the training data (the reference capped rolloff at
   3000), or ``"passthrough"`` with ``clip_quantiles=None``;
2. ``scale`` — :class:`~sklearn.preprocessing.StandardScaler`;
3. the estimator, under the model's name (``dense``, ``svm``, …).

So scaling and capping are always learned on the training part of a split. Models
take ``X`` of shape (n_clips, n_features); ``classes_`` are emotion names.

The reference's four: ``dense`` (PyTorch dense net), ``mlp``, ``logreg``, ``kmeans``.
Stronger ones: ``svm``, ``forest``, ``boosting``, ``logreg-tuned``, and ``ensemble``
(soft voting, :mod:`serkit.models.ensemble`: on a ``logmel,functionals+egemaps``
bundle, the ``cnn`` beside ``logreg-tuned``). Other modules add models with
:func:`register_model`.

Examples
--------
>>> import numpy as np
>>> from serkit.models import make_model
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-1, 1, (30, 4)), rng.normal(1, 1, (30, 4))]
>>> y = np.array(["sad"] * 30 + ["happy"] * 30)
>>> model = make_model("logreg").fit(X, y)
>>> model.classes_.tolist(), model.predict_proba(X[:1]).shape
(['happy', 'sad'], (1, 2))
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from serkit.exceptions import ParameterError
from serkit.runtime import align_probabilities

DEFAULT_CLIP_QUANTILES = (0.01, 0.99)
"""Per-column caps learned on training data; ``None`` turns capping off."""

CALIBRATED_SUFFIX = "+calibrated"
"""Appended to any model name (``"logreg-tuned+calibrated"``): the model temperature-scaled
on held-out training speakers (:mod:`serkit.models.calibration`)."""


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: how to build it, the feature-set kinds it takes
    (``"vector"``, ``"frames"``, ``"bundle"``) and the set it uses when none is named."""

    name: str
    factory: Callable
    input_kinds: tuple[str, ...] = ("vector",)
    description: str = ""
    default_set: str | None = None
    in_all: bool = True


_REGISTRY: dict[str, ModelSpec] = {}
_ESTIMATORS: dict[str, Callable] = {}


def register_model(name: str, *, input_kind: str | tuple[str, ...] = "vector", description: str = "",
                   default_set: str | None = None, in_all: bool = True):
    """Decorator: register ``factory(*, random_state=0, **params) -> classifier`` as ``name``.

    ``input_kind`` is the feature-set kind (or kinds) the model takes (``"vector"``,
    ``"frames"``, ``"bundle"``); ``--model all`` picks the models matching the
    feature set. ``default_set`` is the set ``serkit evaluate``/``train`` use for
    this model when ``--set`` is not given (``None``: ``seed26``). ``in_all=False``
    keeps a model that needs a particular layout of its input (``layer-weighted``)
    out of ``--model all``.
    """
    kinds = (input_kind,) if isinstance(input_kind, str) else tuple(input_kind)

    def decorator(factory: Callable) -> Callable:
        _REGISTRY[name] = ModelSpec(name, factory, kinds, description, default_set, in_all)
        return factory

    return decorator


def _register_estimator(name: str, description: str):
    """Register a bare estimator builder as a vector model wrapped in clip + scale."""

    def decorator(build: Callable) -> Callable:
        _ESTIMATORS[name] = build

        def factory(*, random_state=0, clip_quantiles=DEFAULT_CLIP_QUANTILES, **params):
            return _pipeline(name, _build_estimator(name, random_state, params), clip_quantiles)

        register_model(name, description=description)(factory)
        return build

    return decorator


def _build_estimator(name: str, random_state: int, params: dict):
    build = _ESTIMATORS[name]
    try:
        return build(random_state=random_state, **params)
    except TypeError as error:
        raise ParameterError(f"model {name!r}: bad parameters {params!r} ({error})") from None


def _pipeline(name: str, estimator, clip_quantiles):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from serkit.models.preprocessing import QuantileClipper

    clip = "passthrough" if clip_quantiles is None else QuantileClipper(quantiles=clip_quantiles)
    return Pipeline([("clip", clip), ("scale", StandardScaler()), (name, estimator)])


def _with_defaults(cls, defaults: dict, params: dict):
    return cls(**{**defaults, **params})


@_register_estimator("dense", "PyTorch dense net with dropout (the reference's Keras model)")
def _dense(*, random_state=0, **params):
    from serkit.models.dense import DenseNetClassifier

    return DenseNetClassifier(random_state=random_state, **params)


@_register_estimator("mlp", "scikit-learn MLPClassifier (the reference's 72 %)")
def _mlp(*, random_state=0, **params):
    from sklearn.neural_network import MLPClassifier

    # max_iter above the default 200 so training converges instead of warning.
    return _with_defaults(MLPClassifier, {"max_iter": 1000, "random_state": random_state}, params)


@_register_estimator("logreg", "logistic regression")
def _logreg(*, random_state=0, **params):
    from sklearn.linear_model import LogisticRegression

    return _with_defaults(
        LogisticRegression, {"max_iter": 2000, "random_state": random_state}, params
    )


@_register_estimator("kmeans", "8 k-means clusters mapped to emotions (Hungarian, training part)")
def _kmeans(*, random_state=0, **params):
    from serkit.models.kmeans import KMeansClassifier

    return KMeansClassifier(random_state=random_state, **params)


@_register_estimator("svm", "RBF support vector machine with probabilities")
def _svm(*, random_state=0, **params):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    # Probabilities by Platt scaling on internal folds of the training data (what
    # SVC(probability=True) did before scikit-learn 1.9 deprecated it).
    svc = _with_defaults(SVC, {"kernel": "rbf", "C": 10.0, "gamma": "scale"}, params)
    return CalibratedClassifierCV(svc, method="sigmoid", cv=5, ensemble=False)


@_register_estimator("forest", "random forest")
def _forest(*, random_state=0, **params):
    from sklearn.ensemble import RandomForestClassifier

    return _with_defaults(
        RandomForestClassifier,
        {"n_estimators": 300, "n_jobs": 1, "random_state": random_state},
        params,
    )


@_register_estimator("boosting", "histogram gradient boosting")
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


def available_models(input_kind: str | None = None) -> list[str]:
    """Registered model names in display order (the reference's four first).

    ``input_kind`` (``"vector"``/``"frames"``/``"bundle"``) keeps only models taking that input.
    """
    _load_plugin_models()
    return [
        name for name, spec in _REGISTRY.items()
        if input_kind is None or input_kind in spec.input_kinds
    ]


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered as ``name`` (a calibrated name: its model's);
    :class:`ParameterError` if unknown."""
    _load_plugin_models()
    try:
        return _REGISTRY[name.removesuffix(CALIBRATED_SUFFIX)]
    except KeyError:
        raise ParameterError(
            f"unknown model {name!r}; available: {', '.join(_REGISTRY)}"
        ) from None


def make_model(name: str, *, random_state: int = 0, calibrate: bool = False, **params):
    """A fresh, unfitted classifier registered as ``name``.

    Parameters
    ----------
    name : str
        One of :func:`available_models`, optionally with :data:`CALIBRATED_SUFFIX`
        (the same as ``calibrate=True``).
    random_state : int
        Seeds everything random in the model.
    calibrate : bool
        Wrap the model in :class:`~serkit.models.calibration.TemperatureScaled`:
        its probabilities temperature-scaled, ``T`` fitted on held-out training
        speakers (``fit`` then needs ``groups``).
    **params
        Passed to the estimator (e.g. ``C=3.0`` for ``svm``, ``members=("svm",
        "forest")`` for ``ensemble``); ``clip_quantiles=None`` turns capping off
        (vector models).

    Raises
    ------
    ParameterError
        Unknown name or parameter.
    """
    if name.endswith(CALIBRATED_SUFFIX):
        name, calibrate = name.removesuffix(CALIBRATED_SUFFIX), True
    factory = model_spec(name).factory
    try:
        # Factories only construct estimators, so a TypeError is a parameter the
        # estimator does not take.
        model = factory(random_state=random_state, **params)
    except TypeError as error:
        raise ParameterError(f"model {name!r}: bad parameters {params!r} ({error})") from None
    if not calibrate:
        return model
    from serkit.models.calibration import TemperatureScaled

    return TemperatureScaled(model=name, params=params or None, random_state=random_state)


def resolve_model_names(spec: str, input_kind: str = "vector") -> list[str]:
    """``"all"`` → every model taking ``input_kind`` (but those registered with
    ``in_all=False``); ``"svm,mlp"`` → ``["svm", "mlp"]``.

    Raises :class:`ParameterError` for an unknown name or a model not taking the
    feature set's kind (``"vector"``, ``"frames"`` or ``"bundle"``).
    """
    if spec.strip() == "all":
        return [name for name in available_models(input_kind) if model_spec(name).in_all]
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if not names:
        raise ParameterError(f"--model {spec!r} names no model")
    for name in names:
        if input_kind not in model_spec(name).input_kinds:
            raise ParameterError(
                f"model {name!r} takes {'/'.join(model_spec(name).input_kinds)} features, not "
                f"{input_kind}; models for {input_kind} sets: "
                f"{', '.join(available_models(input_kind))}"
            )
    return names


def fit_model(model, X, y, groups=None, sample_weight=None):
    """``model.fit(X, y)``, passing the speakers to the estimator when it can use them.

    Models such as ``dense`` split their training data internally (validation curve,
    early stopping); with ``groups`` that split is by speaker too. ``sample_weight``
    (one weight per clip, e.g. :func:`serkit.multicorpus.balance_weights`) goes to the
    final estimator; a model that cannot take weights is a :class:`ParameterError`
    (:func:`accepts_sample_weight`).
    """
    import numpy as np
    from sklearn.pipeline import Pipeline
    from threadpoolctl import threadpool_limits

    step_name, estimator = model.steps[-1] if isinstance(model, Pipeline) else (None, model)
    prefix = f"{step_name}__" if step_name else ""
    accepted = inspect.signature(estimator.fit).parameters
    fit_params = {}
    if groups is not None and "groups" in accepted:
        fit_params[f"{prefix}groups"] = groups
    if sample_weight is not None:
        require_sample_weight(model)
        fit_params[f"{prefix}sample_weight"] = np.asarray(sample_weight, dtype=float)
    # Corpus-sized data is small: multi-threaded BLAS/OpenMP mostly spins, and on a
    # busy machine it collapses (HistGradientBoosting on RAVDESS: 73 s with all
    # threads vs 3 s with one, measured under load).
    with threadpool_limits(limits=1):
        return model.fit(X, y, **fit_params)


def accepts_sample_weight(model) -> bool:
    """Whether :func:`fit_model` can weight the clips of ``model`` (its final step's
    ``fit`` takes ``sample_weight``).

    >>> accepts_sample_weight(make_model("logreg")), accepts_sample_weight(make_model("kmeans"))
    (True, False)
    """
    from sklearn.pipeline import Pipeline

    estimator = model.steps[-1][1] if isinstance(model, Pipeline) else model
    return "sample_weight" in inspect.signature(estimator.fit).parameters


def require_sample_weight(model) -> None:
    """:class:`ParameterError` (one line, naming the models that can) unless
    :func:`accepts_sample_weight`."""
    if not accepts_sample_weight(model):
        raise ParameterError(
            f"model {model_name(model)!r} cannot weight its training clips (--balance corpus); models that can: "
            f"{', '.join(weighted_models())}; or --balance none")


def weighted_models() -> list[str]:
    """The registered models that accept sample weights, in display order."""
    return [name for name in available_models() if accepts_sample_weight(make_model(name))]


def model_name(model) -> str:
    """The registry name of a model built by :func:`make_model` (its last step's name)."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return model.steps[-1][0]
    # Models registered as classes of their own carry their registry name.
    return getattr(model, "registry_name", type(model).__name__)


def _load_plugin_models() -> None:
    # Models defined in their own modules register on import; a module whose
    # optional dependencies are missing is simply not offered.
    from importlib import import_module

    for module in ("cnn", "frame_head", "layers"):
        try:
            import_module(f"serkit.models.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"serkit.models.{module}":
                raise
