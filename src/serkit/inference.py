"""Predictions on audio: a fitted model plus its feature set, from samples or files to emotions.

A :class:`Predictor` turns a clip into the emotion and the probability of each
emotion. Audio longer than ``window_s + hop_s`` is also cut into overlapping
windows giving an emotion timeline (``segments``); the whole clip and all its
windows go to the model in one ``predict_proba`` call.

Models trained on per-speaker standardised features (``metadata["speaker_norm"]``)
need several clips of each speaker: :meth:`Predictor.predict_batch` with
``speakers`` standardises each speaker's clips together before the model.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from serkit.features.base import FeatureSet
>>> class Loudness(FeatureSet):
...     name = "loudness"
...     def from_audio(self, y, sr):
...         return np.array([np.sqrt(np.mean(y ** 2))])
>>> model = LogisticRegression().fit([[0.01], [0.02], [0.3], [0.4]], ["calm"] * 2 + ["angry"] * 2)
>>> predictor = Predictor(model, Loudness())
>>> t = np.arange(22050) / 22050
>>> predictor.predict_audio(0.5 * np.sin(2 * np.pi * 220 * t), 22050)["emotion"]
'angry'
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from serkit.audio import MIN_SAMPLES, AudioSource, is_silent, load_audio, resample
from serkit.exceptions import AudioError, ParameterError, SerkitError
from serkit.labels import EMOTIONS

DEFAULT_WINDOW_S = 3.0
"""Timeline window: about one RAVDESS sentence, the length the models were trained on."""

DEFAULT_HOP_S = 1.5
"""Timeline hop: windows overlap by half."""


@dataclass(frozen=True)
class BatchItem:
    """One entry of :meth:`Predictor.predict_batch`: a result, or the reason it failed."""

    source: str
    result: dict | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        """``{"path", "emotion", "probabilities"[, "duration", "segments"]}`` or ``{"path", "error"}``."""
        if self.error is not None:
            return {"path": self.source, "error": self.error}
        return {"path": self.source, **self.result}


def window_starts(duration_s: float, *, window_s: float, hop_s: float) -> list[float]:
    """Start times of the timeline windows over ``duration_s`` seconds.

    Windows start every ``hop_s`` while they fit; one more window ends exactly at
    the end when the last regular one leaves a tail uncovered. Audio shorter than
    ``window_s + hop_s`` has no timeline (an empty list).

    >>> window_starts(10.0, window_s=3.0, hop_s=1.5)
    [0.0, 1.5, 3.0, 4.5, 6.0, 7.0]
    >>> window_starts(4.0, window_s=3.0, hop_s=1.5)
    []
    """
    if duration_s < window_s + hop_s:
        return []
    count = int(math.floor((duration_s - window_s) / hop_s + 1e-9)) + 1
    starts = [round(i * hop_s, 6) for i in range(count)]
    if starts[-1] + window_s < duration_s - 1e-6:
        starts.append(round(duration_s - window_s, 6))
    return starts


class Predictor:
    """A fitted classifier and the feature set it was trained on, applied to audio.

    Parameters
    ----------
    estimator : fitted classifier
        Anything with ``predict_proba(X)`` and ``classes_`` (emotion names), e.g. a
        model from :func:`serkit.models.make_model` after ``fit``.
    feature_set : serkit.features.FeatureSet
        The set the estimator was trained on; audio is loaded at its ``sr``.
    metadata : dict or None
        What :mod:`serkit.artifacts` saved beside the model (name, metrics, versions,
        ``speaker_norm``); shown by ``serkit serve`` at ``GET /v1/model``.
    window_s, hop_s : float > 0
        Default timeline window and hop in seconds.

    Examples
    --------
    See the module docstring; models saved with :func:`serkit.artifacts.save_model`
    load as a ``Predictor`` through :func:`serkit.artifacts.load_model`.
    """

    def __init__(
        self,
        estimator,
        feature_set,
        *,
        metadata: dict | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        hop_s: float = DEFAULT_HOP_S,
    ):
        if not hasattr(estimator, "predict_proba"):
            raise ParameterError(f"estimator {type(estimator).__name__} has no predict_proba")
        try:
            classes = [str(label) for label in estimator.classes_]
        except AttributeError:
            raise ParameterError(f"estimator {type(estimator).__name__} is not fitted (no classes_)") from None
        self.estimator = estimator
        self.feature_set = feature_set
        self.metadata = dict(metadata or {})
        self.emotions = classes
        # Probabilities are listed in RAVDESS order (neutral … surprised), not the
        # model's alphabetical class order; other labels follow in the model's order.
        rank = {emotion: position for position, emotion in enumerate(EMOTIONS)}
        self._display_order = sorted(range(len(classes)), key=lambda i: (rank.get(classes[i], len(rank)), i))
        self.window_s, self.hop_s = _check_window(window_s, hop_s)

    @property
    def sr(self) -> int:
        """Sample rate the feature set works at."""
        return int(self.feature_set.sr)

    @property
    def speaker_norm(self) -> bool:
        """Whether the model expects features standardised per speaker."""
        return bool(self.metadata.get("speaker_norm", False))

    def describe(self) -> dict:
        """What the model is: its metadata plus feature set, emotions and timeline defaults."""
        saved_columns = (self.metadata.get("feature_set") or {}).get("columns")
        return {
            **self.metadata,
            "feature_set": {
                "name": self.feature_set.name,
                "kind": self.feature_set.kind,
                "params": self.feature_set.params(),
                "n_features": None if saved_columns is None else len(saved_columns),
            },
            "emotions": list(self.emotions),
            "speaker_norm": self.speaker_norm,
            "window_s": self.window_s,
            "hop_s": self.hop_s,
        }

    # -- single clips -------------------------------------------------------------

    def predict_audio(
        self, y: np.ndarray, sr: int, *, window_s: float | None = None, hop_s: float | None = None
    ) -> dict:
        """Predict the emotion of samples ``y`` at rate ``sr``.

        Parameters
        ----------
        y : np.ndarray [shape=(n,)], float
            Mono audio; it is resampled to :attr:`sr` if needed.
        sr : int > 0
        window_s, hop_s : float > 0 or None
            Timeline window and hop (default: the predictor's).

        Returns
        -------
        dict
            ``emotion`` (most probable), ``probabilities`` (emotion → p, in RAVDESS
            order: neutral … surprised), ``duration`` (s) and ``segments``: a list of ``{"start",
            "end", "emotion", "probabilities"}`` for audio of at least
            ``window_s + hop_s`` seconds, else empty.

        Raises
        ------
        AudioError
            Not 1-D, non-finite or shorter than one analysis window.
        ParameterError
            A speaker-normalised model (use :meth:`predict_batch` with speakers).
        """
        if self.speaker_norm:
            raise ParameterError(
                "this model was trained on per-speaker standardised features; "
                "predict several clips per speaker with predict_batch(..., speakers=...)"
            )
        y, sr = self._prepare(y, sr)
        with _one_blas_thread():
            features, spans = self._features(y, window_s=window_s, hop_s=hop_s)
            probabilities = self._predict(features)
        return self._assemble(probabilities, spans, duration=y.shape[-1] / sr)

    def predict_file(
        self,
        source: AudioSource,
        *,
        window_s: float | None = None,
        hop_s: float | None = None,
        max_duration_s: float | None = None,
    ) -> dict:
        """Load ``source`` at the feature set's rate and :meth:`predict_audio` it.

        Raises :class:`~serkit.exceptions.AudioError` for unusable audio, including
        silence (a model's answer on silence means nothing) and audio longer than
        ``max_duration_s`` (checked from the header before decoding).
        """
        return self.predict_audio(*self._load(source, max_duration_s), window_s=window_s, hop_s=hop_s)

    # -- batches ------------------------------------------------------------------

    def predict_batch(
        self,
        sources: Sequence[AudioSource],
        *,
        speakers: Sequence[str] | None = None,
        window_s: float | None = None,
        hop_s: float | None = None,
        max_duration_s: float | None = None,
        progress: bool = False,
    ) -> list[BatchItem]:
        """Predict many files; a file that fails is reported, never stops the rest.

        Parameters
        ----------
        sources : sequence of paths or file objects
        speakers : sequence of str or None
            One speaker id per source. Required by a speaker-normalised model: each
            speaker's clips (whole clips, not windows) give the statistics that
            standardise that speaker's features. Ignored otherwise.
        progress : bool
            Show a progress bar (tqdm, on stderr).

        Returns
        -------
        list of BatchItem
            In the order of ``sources``.
        """
        if speakers is not None and len(speakers) != len(sources):
            raise ParameterError(f"got {len(speakers)} speakers for {len(sources)} files")
        if self.speaker_norm and speakers is None:
            raise ParameterError(
                "this model was trained on per-speaker standardised features; "
                "give each file's speaker (serkit predict --speaker-from folder|COLUMN)"
            )
        _check_window(self.window_s if window_s is None else window_s, self.hop_s if hop_s is None else hop_s)
        from tqdm.auto import tqdm

        names = [_source_name(source) for source in sources]
        extracted: dict[int, tuple] = {}
        errors: dict[int, str] = {}
        for index, source in enumerate(tqdm(sources, desc="features", unit="file", disable=not progress)):
            try:
                y, sr = self._load(source, max_duration_s)
                with _one_blas_thread():
                    extracted[index] = (*self._features(y, window_s=window_s, hop_s=hop_s), y.shape[-1] / sr)
            except SerkitError as error:
                errors[index] = str(error)
        if self.speaker_norm:
            errors.update(self._too_few_clips(extracted, speakers))
            extracted = {i: value for i, value in extracted.items() if i not in errors}
        results: dict[int, dict] = {}
        if extracted:
            order = list(extracted)
            blocks = [extracted[i][0] for i in order]
            if self.speaker_norm:
                blocks = self._normalise_per_speaker(blocks, [str(speakers[i]) for i in order])
            probabilities = self._predict([features for block in blocks for features in block])
            offsets = np.cumsum([0] + [len(block) for block in blocks])
            for position, index in enumerate(order):
                _, spans, duration = extracted[index]
                chunk = probabilities[offsets[position] : offsets[position + 1]]
                results[index] = self._assemble(chunk, spans, duration=duration)
        return [
            BatchItem(names[i], error=errors[i]) if i in errors else BatchItem(names[i], result=results[i])
            for i in range(len(sources))
        ]

    # -- internals ----------------------------------------------------------------

    def _load(self, source: AudioSource, max_duration_s: float | None) -> tuple[np.ndarray, int]:
        y, sr = load_audio(source, sr=self.sr, max_duration_s=max_duration_s, warn_silent=False)
        if is_silent(y):
            raise AudioError(f"{_source_name(source)}: silent (nothing to recognise)")
        return y, sr

    def _prepare(self, y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1:
            raise AudioError(f"<samples>: expected mono audio of shape (n,), got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise AudioError("<samples>: contains non-finite samples (NaN or inf)")
        if sr != self.sr:
            y = resample(y, orig_sr=int(sr), target_sr=self.sr)
        if y.shape[-1] < MIN_SAMPLES:
            raise AudioError(f"<samples>: too short ({y.shape[-1]} samples < {MIN_SAMPLES} at {self.sr} Hz)")
        return y, self.sr

    def _features(self, y: np.ndarray, *, window_s: float | None, hop_s: float | None):
        """Features of the whole clip then of each timeline window, and the window spans."""
        window_s, hop_s = _check_window(
            self.window_s if window_s is None else window_s, self.hop_s if hop_s is None else hop_s
        )
        duration = y.shape[-1] / self.sr
        spans = [
            (start, min(start + window_s, duration))
            for start in window_starts(duration, window_s=window_s, hop_s=hop_s)
        ]
        pieces = [y] + [y[int(round(a * self.sr)) : int(round(b * self.sr))] for a, b in spans]
        return [self.feature_set.from_audio(piece, self.sr) for piece in pieces], spans

    @staticmethod
    def _too_few_clips(extracted: dict, speakers: Sequence[str]) -> dict[int, str]:
        """Files whose speaker has fewer than two usable clips: no statistics to normalise with."""
        from collections import Counter

        counts = Counter(str(speakers[i]) for i in extracted)
        return {
            i: f"speaker {speakers[i]!r} has only {counts[str(speakers[i])]} usable clip; "
            "speaker normalisation needs at least 2"
            for i in extracted
            if counts[str(speakers[i])] < 2
        }

    def _normalise_per_speaker(self, blocks: list[list], speakers: list[str]) -> list[np.ndarray]:
        from serkit.normalization import SpeakerNormalizer

        # Statistics come from whole-clip rows (the first of each block), as in training;
        # a clip's window rows are standardised with its speaker's statistics too.
        normalizer = SpeakerNormalizer().fit(np.stack([block[0] for block in blocks]), speakers)
        return [
            list(normalizer.transform(np.stack(block), [speaker] * len(block)))
            for block, speaker in zip(blocks, speakers)
        ]

    def _predict(self, features: list) -> np.ndarray:
        """One ``predict_proba`` call on the features of every clip and window."""
        X = self.feature_set.collate(features)
        probabilities = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        if probabilities.shape != (len(features), len(self.emotions)):
            raise SerkitError(
                f"model returned probabilities of shape {probabilities.shape}, "
                f"expected {(len(features), len(self.emotions))}"
            )
        return probabilities

    def _label(self, probabilities: np.ndarray) -> tuple[str, dict]:
        return self.emotions[int(np.argmax(probabilities))], {
            self.emotions[i]: float(probabilities[i]) for i in self._display_order
        }

    def _assemble(self, probabilities: np.ndarray, spans, *, duration: float) -> dict:
        emotion, whole = self._label(probabilities[0])
        segments = []
        for (start, end), row in zip(spans, probabilities[1:]):
            label, probs = self._label(row)
            segments.append({"start": round(start, 3), "end": round(end, 3), "emotion": label, "probabilities": probs})
        return {"emotion": emotion, "probabilities": whole, "duration": round(duration, 3), "segments": segments}


@lru_cache(maxsize=1)
def _thread_controller():
    from threadpoolctl import ThreadpoolController

    # Built once: finding the loaded BLAS libraries costs ~4 ms, limiting them ~0.03 ms.
    return ThreadpoolController()


def _one_blas_thread():
    """Limit BLAS to one thread while a clip is analysed.

    Its matrices are small: a second BLAS thread only spins, and on a busy machine
    or under a server's concurrent requests it costs more than it gives (the bundled
    model on a 4 s clip: 32 ms with two threads, 13 ms with one, measured here under load).
    """
    return _thread_controller().limit(limits=1, user_api="blas")


def _source_name(source: AudioSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or "<stream>"


def _check_window(window_s: float, hop_s: float) -> tuple[float, float]:
    for name, value in (("window_s", window_s), ("hop_s", hop_s)):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ParameterError(f"{name}={value!r} must be a positive number of seconds")
    if window_s < 0.5:
        raise ParameterError(f"window_s={window_s!r} is too short; use at least 0.5 s")
    if hop_s > window_s:
        raise ParameterError(f"hop_s={hop_s!r} must not exceed window_s={window_s!r} (gaps in the timeline)")
    return float(window_s), float(hop_s)
