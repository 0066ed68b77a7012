"""The feature-set interface and its registry.

A feature set turns one clip ``y`` at rate ``sr`` into numbers. Two kinds:

- ``"vector"``: one row per clip, ``from_audio(y, sr) -> (n_features,)`` with
  :attr:`FeatureSet.columns` naming each value (``seed26``, ``functionals``, …);
- ``"frames"``: a matrix per clip, ``from_audio(y, sr) -> (n_bands, n_frames)``
  (``logmel`` for the CNN);
- ``"bundle"``: several sets side by side (``"logmel,functionals+egemaps"``), a
  ``{part: features}`` dict per clip (:mod:`serkit.features.bundle`).

Sets register under a name; :func:`build_feature_set` builds one with parameters (bundles of
several: :func:`serkit.features.bundle.get_feature_set`), and
:meth:`FeatureSet.params` gives them back (JSON-serialisable) for cache keys and
model artefacts.

Every set's ``from_audio`` first normalises the clip's level by the set's
:attr:`FeatureSet.level` (:mod:`serkit.core.level`): the base class wraps the method of
each subclass, so a new set gets it without code of its own. A set exposes the
choice as a ``level`` constructor parameter (so it is in ``params()``); ``seed26``,
which reproduces the reference analysis, has none and works on the clip as recorded.

Examples
--------
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("seed26")
>>> fs.columns[:3]
['chroma_stft', 'rmse', 'spectral_centroid']
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from serkit.core.audio import remove_dc, resample
from serkit.core.exceptions import ParameterError
from serkit.core.hum import remove_mains_hum
from serkit.core.level import DEFAULT_LEVEL, normalise_level

_REGISTRY: dict[str, type["FeatureSet"]] = {}


class FeatureSet:
    """Base class: subclasses set ``name``/``kind``, keep ``__init__`` keyword-only
    storing each parameter unchanged (scikit-learn style), and implement
    :meth:`from_audio` (and :attr:`columns` for vector sets).

    ``level`` (a method of :mod:`serkit.core.level`, or ``None``) is applied to the clip
    before the subclass's ``from_audio`` sees it; sets built from other sets
    (bundles) set it to ``None`` and let each part normalise its own input."""

    name: str = ""
    kind: str = "vector"
    sr: int = 22050
    level: str | None = DEFAULT_LEVEL

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "from_audio" in cls.__dict__:
            cls.from_audio = _after_level_normalisation(cls.__dict__["from_audio"])

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

    def encoders(self) -> list[dict]:
        """The pretrained encoders these features come from (name, files' SHA-256,
        licence), recorded in a saved model's metadata; none for hand-made features."""
        return []

    def require_local(self) -> None:
        """Raise :class:`ParameterError` if computing these features would fetch
        anything over the network (a set naming a pretrained model overrides this).

        :func:`serkit.models.artifacts.load_model` calls it before anything else touches
        the set: a model directory never causes a network request."""

    def preload(self) -> None:
        """Start loading what the first clip needs (a pretrained encoder) in a background
        thread, checks first, so it overlaps other work; nothing for hand-made features.

        :func:`serkit.models.artifacts.load_model` calls it: a cold ``serkit predict`` decodes
        and finds the speech while the encoder loads. The first clip waits for it."""

    def collate(self, rows: list) -> np.ndarray | list:
        """Per-clip features → the ``X`` a model takes: ``(n_clips, n_features)``
        float64 for a vector set, the list of matrices for a frame set."""
        if self.kind == "vector":
            return np.stack(rows).astype(np.float64)
        return list(rows)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


FRONT_END = "dc-removed, mains hum (on the mains or twice it) removed, transients softened, then level"
"""What every level-normalised set does to a clip before its features (:func:`_level_normalised`);
the feature cache's key names it, so features computed before a change of it are not reused
(before the revision of 6 December 2026 the DC offset stayed in; before that of 7 December a pop
or a tap set the clip's level, :func:`serkit.core.level.soften_transients`; before a later one
that day a mains hum stayed in, :func:`serkit.core.hum.remove_mains_hum`; before one that afternoon
a hum on twice the mains, 100 or 120 Hz, stayed in)."""


def _after_level_normalisation(from_audio):
    """``from_audio`` applied to the clip normalised by the set's ``level``: the one
    place where level normalisation happens, for every set."""

    @functools.wraps(from_audio)
    def levelled(self, y, sr):
        y, sr = _level_normalised(y, sr, level=self.level, target_sr=self.sr)
        return from_audio(self, y, sr)

    return levelled


def _level_normalised(y, sr: int, *, level: str | None, target_sr: int):
    """``(y, sr)`` resampled to ``target_sr``, its DC offset removed and normalised by ``level``;
    unchanged for ``level=None`` (the clip as recorded) or audio that is not finite and mono
    (the set's own checks say why)."""
    if level is not None:
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 1 and np.all(np.isfinite(y)):
            # Measured at the rate the set analyses at, so a clip gets the same gain
            # whether it arrives at that rate (in a bundle) or is resampled by the set.
            y, sr = resample(y, orig_sr=int(sr), target_sr=int(target_sr)), int(target_sr)
            # The offset first: it would count as level and fill the pauses with a constant;
            # then a mains hum, which would count as level too and fill the pauses with a buzz.
            y = normalise_level(remove_mains_hum(remove_dc(y), sr), sr, method=level)
    return y, sr


class JoinedVectorSets(FeatureSet):
    """Vector sets concatenated into one vector (``"functionals+egemaps"``).

    Subclasses name the parts in ``part_names`` and take one keyword parameter per
    part, of the same name (or the name ``part_parameters`` gives it, for a part whose
    name is no Python name), holding that part's parameters (a dict, or ``None`` for
    its defaults); ``column_prefixes`` prefixes a part's columns where they could
    clash with another set's.
    """

    kind = "vector"
    level = None  # each part normalises its own input (``functionals={"level": None}`` etc.)
    part_names: tuple[str, ...] = ()
    column_prefixes: dict[str, str] = {}
    part_parameters: dict[str, str] = {}

    def _part_params(self, name: str):
        return getattr(self, self.part_parameters.get(name, name))

    def _parts(self) -> list[FeatureSet]:
        return [build_feature_set(name, **(self._part_params(name) or {})) for name in self.part_names]

    def _check_parts(self) -> None:
        """:class:`ParameterError` now, not at the first clip, for a part's bad parameters."""
        for name in self.part_names:
            value = self._part_params(name)
            if value is not None and not isinstance(value, dict):
                raise ParameterError(f"{self.part_parameters.get(name, name)}={value!r} must be a dict of that set's parameters or None")
        self._parts()

    def require_local(self) -> None:
        for part in self._parts():
            part.require_local()

    def encoders(self) -> list[dict]:
        return [encoder for part in self._parts() for encoder in part.encoders()]

    def preload(self) -> None:
        for part in self._parts():
            part.preload()

    @property
    def sr(self) -> int:
        # Load audio at the first part's rate; the others resample from it if they differ.
        return self._parts()[0].sr

    @property
    def columns(self) -> list[str]:
        return [
            self.column_prefixes.get(name, "") + column
            for name, part in zip(self.part_names, self._parts())
            for column in part.columns
        ]

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The parts' vectors, concatenated: shape ``(len(columns),)``, float64.

        Parts that analyse at one rate with one level method (``whisper`` and
        ``functionals``: 16 kHz, ``"active-rms"``) share one resampling and level
        normalisation; each part would compute the same array.
        """
        parts = self._parts()
        shared = {(int(part.sr), part.level) for part in parts}
        if len(shared) > 1 or parts[0].level is None:
            return np.concatenate([part.from_audio(y, sr).astype(np.float64) for part in parts])
        y, sr = _level_normalised(y, sr, level=parts[0].level, target_sr=parts[0].sr)
        # The parts' own from_audio without their level step (it is done above).
        return np.concatenate([type(part).from_audio.__wrapped__(part, y, sr).astype(np.float64) for part in parts])


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

    for module in ("seed26", "functionals", "logmel", "egemaps", "ssl", "whisper"):
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


def feature_set_class(name: str) -> type[FeatureSet]:
    """The class registered as ``name`` (not a bundle); :class:`ParameterError` if none."""
    _load_builtin_sets()
    cls = _REGISTRY.get(name)
    if cls is None or cls.kind == "bundle":
        raise ParameterError(
            f"unknown feature set {name!r}; available: {', '.join(available_feature_sets())}, "
            f"or several joined by commas (a bundle, e.g. logmel,functionals+egemaps)"
        )
    return cls


def params_with_level(name: str, params: dict, level: str | None) -> dict:
    """``params`` of the set ``name`` with ``level`` wherever the set, or a part of a
    bundle or joined set, takes one and ``params`` does not already say.

    >>> params_with_level("whisper+functionals", {}, None)
    {'whisper': {'level': None}, 'functionals': {'level': None}}
    """
    if "," in name:  # a bundle: its parts' parameters are in part_params
        part_params = dict(params.get("part_params") or {})
        for part in params.get("parts") or name.split(","):
            part_params[part] = params_with_level(part, part_params.get(part) or {}, level)
        return {**params, "part_params": part_params}
    cls = feature_set_class(name)
    params = dict(params)
    if issubclass(cls, JoinedVectorSets):
        for part in cls.part_names:
            params[part] = params_with_level(part, params.get(part) or {}, level)
    elif "level" in inspect.signature(cls.__init__).parameters:
        params.setdefault("level", level)
    return params


def build_feature_set(name: str, **params) -> FeatureSet:
    """Build the set registered as ``name`` (one set, not a bundle) with ``params``.

    :func:`serkit.features.get_feature_set` also takes bundle names; this is what it,
    a bundle and a joined set use for each single set. Raises :class:`ParameterError`
    for an unknown name, listing the known ones, and for parameters the set does not
    take or whose values it refuses.

    >>> build_feature_set("seed26").name
    'seed26'
    """
    cls = feature_set_class(name)
    try:
        return cls(**params)
    except TypeError as error:
        # The constructors only store and check values: a TypeError is a parameter
        # the set does not take.
        raise ParameterError(f"feature set {name!r}: bad parameters {params!r} ({error})") from None
