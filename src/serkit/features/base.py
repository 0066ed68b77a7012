"""The feature-set interface and its registry.

A feature set turns one clip ``y`` at rate ``sr`` into numbers. Two kinds:

- ``"vector"``: one row per clip, ``from_audio(y, sr) -> (n_features,)`` with
  :attr:`FeatureSet.columns` naming each value (``seed26``, ``functionals``, …);
- ``"frames"``: a matrix per clip, ``from_audio(y, sr) -> (n_bands, n_frames)``
  (``logmel`` for the CNN);
- ``"bundle"``: several sets side by side (``"logmel,functionals+egemaps"``), a
  ``{part: features}`` dict per clip (:mod:`serkit.features.bundle`).

Sets register under a name; :func:`get_feature_set` builds one with parameters, and
:meth:`FeatureSet.params` gives them back (JSON-serialisable) for cache keys and
model artefacts.

Examples
--------
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("seed26")
>>> fs.columns[:3]
['chroma_stft', 'rmse', 'spectral_centroid']
"""

from __future__ import annotations

import inspect
import numpy as np

from serkit.exceptions import ParameterError

_REGISTRY: dict[str, type["FeatureSet"]] = {}


class FeatureSet:
    """Base class: subclasses set ``name``/``kind``, keep ``__init__`` keyword-only
    storing each parameter unchanged (scikit-learn style), and implement
    :meth:`from_audio` (and :attr:`columns` for vector sets)."""

    name: str = ""
    kind: str = "vector"
    sr: int = 22050

    def params(self) -> dict:
        """The constructor's parameters and their values, JSON-serialisable."""
        signature = inspect.signature(type(self).__init__)
        return {
            key: getattr(self, key)
            for key, parameter in signature.parameters.items()
            if key != "self" and parameter.kind is parameter.KEYWORD_ONLY
        }

    @property
    def columns(self) -> list[str]:
        raise NotImplementedError(f"feature set {self.name!r} has no fixed columns")

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        raise NotImplementedError

    def require_local(self) -> None:
        """Raise :class:`ParameterError` if computing these features would fetch
        anything over the network (a set naming a pretrained model overrides this).

        :func:`serkit.artifacts.load_model` calls it before anything else touches
        the set: a model directory never causes a network request."""

    def collate(self, rows: list) -> np.ndarray | list:
        """Per-clip features → the ``X`` a model takes: ``(n_clips, n_features)``
        float64 for a vector set, the list of matrices for a frame set."""
        if self.kind == "vector":
            return np.stack(rows).astype(np.float64)
        return list(rows)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def register_feature_set(cls: type[FeatureSet]) -> type[FeatureSet]:
    """Class decorator: make ``cls`` available as ``get_feature_set(cls.name)``."""
    if not cls.name:
        raise ParameterError(f"{cls.__name__} needs a non-empty 'name'")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin_sets() -> None:
    # Importing a module registers the sets it defines; optional sets whose
    # dependencies are missing fail only when asked for.
    from importlib import import_module

    for module in ("seed26", "functionals", "logmel", "egemaps", "ssl", "bundle"):
        try:
            import_module(f"serkit.features.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"serkit.features.{module}":
                raise


def available_feature_sets() -> list[str]:
    """Names of the registered feature sets a user can ask for, sorted.

    The bundle class is not one of them: a bundle is asked for by its parts'
    names, comma-separated (``"logmel,functionals+egemaps"``).
    """
    _load_builtin_sets()
    return sorted(name for name, cls in _REGISTRY.items() if cls.kind != "bundle")


def get_feature_set(name: str, **params) -> FeatureSet:
    """Build the feature set registered as ``name`` with ``params``.

    A comma-separated name (``"logmel,functionals+egemaps"``) builds a
    :class:`~serkit.features.bundle.FeatureBundle` of those sets. Raises
    :class:`ParameterError` for an unknown name, listing the known ones, and for
    parameters the set does not take or whose values it refuses.
    """
    _load_builtin_sets()
    from serkit.features.bundle import BUNDLE_SEPARATOR, bundle_from_name

    if BUNDLE_SEPARATOR in name:
        return bundle_from_name(name, **params)
    if name not in available_feature_sets():
        raise ParameterError(
            f"unknown feature set {name!r}; available: {', '.join(available_feature_sets())}, "
            f"or several joined by commas (a bundle, e.g. logmel,functionals+egemaps)"
        )
    try:
        return _REGISTRY[name](**params)
    except TypeError as error:
        # The constructors only store and check values: a TypeError is a parameter
        # the set does not take.
        raise ParameterError(f"feature set {name!r}: bad parameters {params!r} ({error})") from None

