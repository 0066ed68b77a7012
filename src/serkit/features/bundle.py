"""Several feature sets side by side, for a model that combines them.

The ``ensemble`` of the CNN and a classical model needs two inputs per clip: the
log-mel spectrogram for the CNN and a statistics vector for the classical model. A
bundle names its parts with commas, ``"logmel,functionals+egemaps"`` (``+`` still
concatenates vector sets into one part), and gives each clip's features as a
``{part: features}`` dict; :meth:`FeatureBundle.collate` stacks clips into
:class:`BundleFeatures`, the ``X`` such a model takes. Corpora are extracted part
by part (:func:`serkit.features.extract_corpus`), so each part keeps its own cache.

Examples
--------
>>> import numpy as np
>>> from serkit.features import get_feature_set
>>> bundle = get_feature_set("logmel,seed26")
>>> bundle.kind, bundle.part_names
('bundle', ['logmel', 'seed26'])
>>> y = 0.1 * np.sin(2 * np.pi * 220 * np.arange(22050) / 22050)
>>> X = bundle.collate([bundle.from_audio(y, 22050)])
>>> len(X), X.of_kind("vector").shape
(1, (1, 26))
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from serkit.core.audio import resample
from serkit.core.exceptions import ParameterError
from serkit.features.base import FeatureSet, build_feature_set, register_feature_set

BUNDLE_SEPARATOR = ","


class BundleFeatures:
    """Features of ``n`` clips from several sets: the ``X`` of a bundle.

    Parameters
    ----------
    parts : dict of str → np.ndarray or list
        Per part, an ``(n, n_features)`` array (vector set) or a list of ``n``
        ``(n_bands, n_frames)`` matrices (frame set).
    kinds : dict of str → str
        The kind (``"vector"``/``"frames"``) of each part.

    Indexing with an integer array, list or slice gives the bundle of those clips,
    so evaluation splits it like any ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> X = BundleFeatures({"v": np.eye(3)}, {"v": "vector"})
    >>> X[[0, 2]].of_kind("vector").tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """

    def __init__(self, parts: dict, kinds: dict):
        if not parts or set(parts) != set(kinds):
            raise ParameterError("a bundle needs at least one part, and a kind for each part")
        lengths = {name: len(values) for name, values in parts.items()}
        if len(set(lengths.values())) != 1:
            raise ParameterError(f"bundle parts hold different numbers of clips: {lengths}")
        self.parts = dict(parts)
        self.kinds = dict(kinds)

    def __len__(self) -> int:
        return len(next(iter(self.parts.values())))

    def __getitem__(self, indices) -> "BundleFeatures":
        if isinstance(indices, slice):
            indices = np.arange(len(self))[indices]
        indices = np.asarray(indices)
        if indices.ndim != 1 or not (indices.dtype.kind in "iu" or indices.size == 0):
            raise ParameterError("index a bundle with a 1-D sequence of clip positions or a slice")
        selected = {
            name: values[indices] if self.kinds[name] == "vector" else [values[i] for i in indices]
            for name, values in self.parts.items()
        }
        return BundleFeatures(selected, self.kinds)

    def of_kind(self, kind: str):
        """The one part of ``kind``: what a model taking that kind gets from the bundle."""
        names = [name for name, part_kind in self.kinds.items() if part_kind == kind]
        if len(names) != 1:
            raise ParameterError(
                f"this bundle has {len(names)} {kind} part(s) ({', '.join(self.kinds)}); a model "
                f"taking {kind} features needs exactly one"
            )
        return self.parts[names[0]]

    def check_finite(self) -> "BundleFeatures":
        """Raise :class:`ParameterError` if any part holds NaN or infinite values."""
        for name, values in self.parts.items():
            matrices = [values] if self.kinds[name] == "vector" else values
            if not all(np.all(np.isfinite(matrix)) for matrix in matrices):
                raise ParameterError(f"bundle part {name!r} holds NaN or infinite values")
        return self

    def __repr__(self) -> str:
        return f"BundleFeatures({len(self)} clips: {', '.join(f'{n} ({k})' for n, k in self.kinds.items())})"


@register_feature_set
class FeatureBundle(FeatureSet):
    """Feature sets computed side by side; each clip gives ``{part: features}``.

    Parameters
    ----------
    parts : sequence of str
        Registered set names, at most one frame set and one vector set (a model
        takes the part of its kind; join vector sets with ``+`` into one part).
    part_params : dict of str → dict, or None
        Parameters of some parts, e.g. ``{"logmel": {"n_mels": 128}}``.

    Examples
    --------
    >>> FeatureBundle(parts=("logmel", "functionals")).name
    'logmel,functionals'
    """

    name = "bundle"
    kind = "bundle"
    level = None  # each part normalises its own input, at its own rate

    def __init__(self, *, parts: Sequence[str] = ("logmel", "functionals+egemaps"), part_params: dict | None = None):
        self.parts = list(parts) if not isinstance(parts, str) else parts
        self.part_params = part_params
        if (isinstance(parts, str) or not all(isinstance(part, str) for part in self.parts)
                or len(self.parts) < 2 or len(set(self.parts)) != len(self.parts)):
            raise ParameterError(f"parts={parts!r} must name two or more different feature sets")
        if part_params is not None and not (
                isinstance(part_params, dict) and all(isinstance(v, dict) for v in part_params.values())):
            raise ParameterError(f"part_params={part_params!r} must map part names to parameter dicts")
        unknown = set(part_params or {}) - set(self.parts)
        if unknown:
            raise ParameterError(f"part_params names {sorted(unknown)}, which are not parts of {self.parts}")
        kinds = [part.kind for part in self.part_sets()]
        if "bundle" in kinds or kinds.count("vector") > 1 or kinds.count("frames") > 1:
            raise ParameterError(
                f"parts={self.parts!r}: a bundle takes at most one frame set and one vector set "
                "(join vector sets with '+', e.g. 'logmel,functionals+egemaps')"
            )
        # The instance is named after its parts: that is what --set spells and
        # what a saved model records.
        self.name = BUNDLE_SEPARATOR.join(self.parts)

    @property
    def part_names(self) -> list[str]:
        return list(self.parts)

    def require_local(self) -> None:
        for part in self.part_sets():
            part.require_local()

    def encoders(self) -> list[dict]:
        return [encoder for part in self.part_sets() for encoder in part.encoders()]

    def preload(self) -> None:
        for part in self.part_sets():
            part.preload()

    def part_sets(self) -> list[FeatureSet]:
        """The parts as feature-set objects, in order (built once: sets keep their filter banks)."""
        if getattr(self, "_part_sets", None) is None:
            params = self.part_params or {}
            self._part_sets = [build_feature_set(name, **params.get(name, {})) for name in self.parts]
        return self._part_sets

    @property
    def sr(self) -> int:
        # Audio is loaded at the highest rate any part uses; each part resamples from it.
        return max(part.sr for part in self.part_sets())

    @property
    def columns(self) -> list[str]:
        """The columns of the vector part (a saved model checks them on loading)."""
        return [column for part in self.part_sets() if part.kind == "vector" for column in part.columns]

    def from_audio(self, y: np.ndarray, sr: int) -> dict:
        """``{part name: features}`` of mono ``y`` at rate ``sr``."""
        return {
            name: part.from_audio(resample(np.asarray(y, dtype=np.float32), orig_sr=int(sr), target_sr=part.sr), part.sr)
            for name, part in zip(self.parts, self.part_sets())
        }

    def collate(self, rows: Sequence[dict]) -> BundleFeatures:
        """Stack per-clip dicts into :class:`BundleFeatures`."""
        parts = {name: part.collate([row[name] for row in rows]) for name, part in zip(self.parts, self.part_sets())}
        return BundleFeatures(parts, {name: part.kind for name, part in zip(self.parts, self.part_sets())})


def bundle_from_name(name: str, **params) -> FeatureBundle:
    """``"logmel,functionals+egemaps"`` → the bundle of those parts."""
    parts = [part.strip() for part in name.split(BUNDLE_SEPARATOR)]
    if not all(parts):
        raise ParameterError(f"feature set {name!r} has an empty part")
    params.setdefault("parts", parts)
    return FeatureBundle(**params)


def get_feature_set(name: str, **params) -> FeatureSet:
    """Build the feature set registered as ``name`` with ``params``.

    A comma-separated name (``"logmel,functionals+egemaps"``) builds a
    :class:`FeatureBundle` of those sets; any other name the one set
    (:func:`~serkit.features.base.build_feature_set`). Resolved here, where both the
    registry and bundles are visible, so that the registry needs no bundle. Raises
    :class:`ParameterError` for an unknown name, listing the known ones, and for
    parameters the set does not take or whose values it refuses.

    >>> get_feature_set("logmel,seed26").part_names
    ['logmel', 'seed26']
    """
    if BUNDLE_SEPARATOR in name:
        return bundle_from_name(name, **params)
    return build_feature_set(name, **params)


def take_rows(X, indices):
    """The clips ``indices`` of ``X``: an array's rows, a list's matrices, a bundle's clips.

    >>> take_rows([np.zeros(1), np.ones(1)], [1])
    [array([1.])]
    """
    return X[indices] if isinstance(X, (np.ndarray, BundleFeatures)) else [X[i] for i in indices]


def concat_rows(parts: list):
    """Clips of several feature collections (arrays, frame lists or bundles) as one.

    >>> concat_rows([np.zeros((1, 2)), np.ones((2, 2))]).shape
    (3, 2)
    """
    first = parts[0]
    if isinstance(first, BundleFeatures):
        return BundleFeatures(
            {name: concat_rows([part.parts[name] for part in parts]) for name in first.parts}, first.kinds
        )
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    return [matrix for part in parts for matrix in part]
