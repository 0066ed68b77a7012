"""The model registry: names → factories, and what every model is fitted with.

:func:`register_model` (and :func:`register_estimator` for a bare scikit-learn
estimator wrapped in clip + scale) adds a model; :func:`make_model` builds one by name.
The built-in models register themselves in :mod:`serkit.models.builtin` and the
network modules; the registry imports them by name on first use, so that they may
use it (an ensemble or a calibrated model is made of models by name) without a circle.

>>> model_spec("logreg").input_kinds
('vector',)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from serkit.core.exceptions import ParameterError

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
_WRAPPERS: dict[str, Callable] = {}


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


def register_wrapper(suffix: str):
    """Decorator: register ``wrap(*, model, params, random_state) -> classifier``, what
    :func:`make_model` builds for a name ending in ``suffix`` (:data:`CALIBRATED_SUFFIX`)."""

    def decorator(wrap: Callable) -> Callable:
        _WRAPPERS[suffix] = wrap
        return wrap

    return decorator


def register_estimator(name: str, description: str):
    """Register a bare estimator builder as a vector model wrapped in clip + scale."""

    def decorator(build: Callable) -> Callable:
        _ESTIMATORS[name] = build

        def factory(*, random_state=0, clip_quantiles=DEFAULT_CLIP_QUANTILES, **params):
            return pipeline(name, build_estimator(name, random_state, params), clip_quantiles)

        register_model(name, description=description)(factory)
        return build

    return decorator


def build_estimator(name: str, random_state: int, params: dict):
    build = _ESTIMATORS[name]
    try:
        return build(random_state=random_state, **params)
    except TypeError as error:
        raise ParameterError(f"model {name!r}: bad parameters {params!r} ({error})") from None


def pipeline(name: str, estimator, clip_quantiles):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from serkit.models.preprocessing import QuantileClipper

    clip = "passthrough" if clip_quantiles is None else QuantileClipper(quantiles=clip_quantiles)
    return Pipeline([("clip", clip), ("scale", StandardScaler()), (name, estimator)])


def available_models(input_kind: str | None = None) -> list[str]:
    """Registered model names in display order (the reference's four first).

    ``input_kind`` (``"vector"``/``"frames"``/``"bundle"``) keeps only models taking that input.
    """
    _load_builtin_models()
    return [
        name for name, spec in _REGISTRY.items()
        if input_kind is None or input_kind in spec.input_kinds
    ]


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered as ``name`` (a calibrated name: its model's);
    :class:`ParameterError` if unknown."""
    _load_builtin_models()
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
    return _WRAPPERS[CALIBRATED_SUFFIX](model=name, params=params or None, random_state=random_state)


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
    (one weight per clip, e.g. :func:`serkit.evaluation.pooling.balance_weights`) goes to the
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


def _load_builtin_models() -> None:
    # Models register on import (builtin.py: the scikit-learn ones, the ensemble and the
    # calibrated wrapper; the networks in their own modules), looked up here by name so
    # that the registry imports none of them. A module whose optional dependencies are
    # missing is simply not offered.
    from importlib import import_module

    for module in ("builtin", "cnn", "frame_head", "layers"):
        try:
            import_module(f"serkit.models.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"serkit.models.{module}":
                raise
