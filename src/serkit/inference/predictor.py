"""Predictions on audio: a fitted model plus its feature set, from samples or files to emotions.

A :class:`Predictor` turns a clip into the emotion and the probability of each
emotion. Audio of at least ``window_s + hop_s`` seconds is cut into overlapping
windows giving an emotion timeline (``segments``); then the whole-file answer is
made from the windows, never from a separate pass over the whole clip:

- ``probabilities``: the mean of the window probabilities, each window weighted by
  the seconds of audio it speaks for (:func:`window_weights`: where ``k`` windows
  overlap, each gets ``1/k`` of that stretch, so every second of audio counts once);
  ``emotion`` is its most probable emotion;
- ``summary``: the seconds of audio per emotion (each window's seconds go to its
  most probable emotion) and the ``dominant`` emotion, the one with the most seconds.

Silent windows (peak under :data:`serkit.core.audio.SILENCE_DB`) are left out of the
timeline before their features are computed (:func:`audible_windows`, the gate a
voice activity detector can replace or follow).

With ``segment="vad"`` (what ``serkit predict`` and the service use) a voice-activity
detector runs first (:mod:`serkit.inference.speech`): a recording without speech gets no emotion
but ``no_speech`` (the reason), and one with speech is cut at its pauses into
utterances of about 1–10 s; the model hears each with up to 1 s of its pauses
(:func:`serkit.inference.speech.heard_spans`), each utterance is a segment,
and the whole-file answer weights each by its seconds of speech (``speech_seconds``
in the result). ``segment="fixed"`` (the default of a bare :class:`Predictor`) keeps
the fixed windows above.

Files are decoded block by block (:class:`serkit.core.audio.AudioStream`) and their
windows reach the model :data:`WINDOWS_PER_BATCH` at a time, so memory stays
bounded whatever the duration. The windows follow the decoded data, not the header's
length, which may claim more than the file holds. Shorter audio is predicted whole.

Models trained on per-speaker standardised features (``metadata["speaker_norm"]``)
need several clips of each speaker: :meth:`Predictor.predict_batch` with
``speakers`` standardises each speaker's clips together before the model;
:meth:`Predictor.predict_file` with ``diarize`` finds the speakers of one recording
(:mod:`serkit.inference.speakers`: its utterances, or windows, clustered by voice; with
``diarize="channels"``, each channel of the file is one speaker, as a call recorded with
each party on a channel of their own) and standardises each by its own pieces.

Adapted models (``metadata["adaptation"]``, :mod:`serkit.features.adaptation`) open with the
statistics of a source: the pooled training clips, or those a user fitted with
``serkit adapt``. ``predict_batch(..., adapt=True)`` uses the batch's own statistics
instead (one source, or one per speaker with ``speakers``), and a single long recording
its own utterances' (its windows' with fixed segmentation). A dual-path model (:mod:`serkit.models.dualpath`, what ``serkit train
--adapt`` writes) answers those with its adapted head, and a clip without statistics of
its source with its plain head, unless ``serkit adapt`` saved a source's (then its
adapted head). Every result says which: ``adaptation`` is ``"source"`` (standardised by
its source's statistics) or ``"none"``.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from serkit.features.base import FeatureSet
>>> class Loudness(FeatureSet):
...     name = "loudness"
...     level = None  # keep the clip's level: it is this toy feature
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
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

import numpy as np

from serkit.core.audio import MIN_SAMPLES, AudioSource, AudioStream, check_peak, is_silent, resample, resampled_length
from serkit.core.exceptions import AudioError, ParameterError, SerkitError
from serkit.core.hum import remove_mains_hum
from serkit.core.labels import EMOTIONS
from serkit.core.level import CLIPPED_ABOVE, clipping_score
from serkit.core.reverb import REVERBERANT_BELOW, decay_rate
from serkit.core.threads import usable_cores
from serkit.inference.channels import PowerMeter, crosstalk
from serkit.inference.speech import Speech, SpeechDetector, context_without_tones, find_speech, heard_spans

DEFAULT_WINDOW_S = 3.0
"""Timeline window: about one RAVDESS sentence, the length the models were trained on."""

DEFAULT_HOP_S = 1.5
"""Timeline hop: windows overlap by half."""

MIN_WINDOW_S = 0.5
MAX_WINDOW_S = 60.0
MIN_HOP_S = 0.1
"""Bounds of the timeline window and hop (seconds), checked before any work."""

MAX_WINDOWS = 10_000
"""Most timeline windows in one file (an hour at a 0.36 s hop, 300 s at the shortest hop):
bounds the work one file can ask for; refused, before decoding, above it."""

WINDOWS_PER_BATCH = 64
"""Windows whose features are held at once and go to the model in one call."""

SEGMENTATIONS = ("vad", "fixed")
"""How audio is cut: utterances found by voice activity, or fixed windows."""

CLIPPING_CAUTION = ("this recording looks clipped (its loudest sounds sit flat at one level, as when the input gain "
                    "is too high); treat the emotion with caution")
"""The caution of a piece whose :func:`~serkit.core.level.clipping_score` exceeds
:data:`~serkit.core.level.CLIPPED_ABOVE` (the bundled model's emotion moved for 42-45 % of the shared
clips of held-out speakers driven 24 dB past full scale: docs/results.md, "Clipped recordings")."""

REVERBERATION_CAUTION = ("this recording sounds reverberant (a room heard from some way off the microphone); "
                         "treat the emotion with caution, and record closer to the speaker if you can")
"""The caution of a piece whose :func:`~serkit.core.reverb.decay_rate` is under
:data:`~serkit.core.reverb.REVERBERANT_BELOW` (in a large room heard from across it, the bundled model's
unweighted accuracy on held-out speakers fell 11-15 points: docs/results.md, "A room heard from across it")."""

WHOLE_READ_S = 120.0
"""With voice activity, shorter files are decoded once and kept; longer ones are decoded twice
(voice activity, then the utterances), so memory stays bounded whatever the duration."""

HUM_RUN_S = 60.0
"""A file decoded twice has its mains hum taken out of its second pass a minute at a time (the
speech detection's own runs of 5 minutes held 30 MiB more beside the model, and a minute holds
pauses enough to find a hum in)."""


@dataclass(frozen=True)
class BatchItem:
    """One entry of :meth:`Predictor.predict_batch`: a result, or the reason it failed."""

    source: str
    result: dict | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        """``{"path", "emotion", "probabilities", "duration", "segments", "summary"}`` or ``{"path", "error"}``."""
        if self.error is not None:
            return {"path": self.source, "error": self.error}
        return {"path": self.source, **self.result}


def check_window(window_s: float, hop_s: float) -> tuple[float, float]:
    """Validate a timeline window and hop in seconds; return them as floats.

    Raises :class:`~serkit.core.exceptions.ParameterError` naming the bound, before any work.

    >>> check_window(3, 1.5)
    (3.0, 1.5)
    """
    for name, value in (("window_s", window_s), ("hop_s", hop_s)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ParameterError(f"{name}={value!r} must be a positive number of seconds")
    if not MIN_WINDOW_S <= window_s <= MAX_WINDOW_S:
        raise ParameterError(f"window_s={window_s!r} is out of range; use {MIN_WINDOW_S:g} to {MAX_WINDOW_S:g} s")
    if hop_s < MIN_HOP_S:
        raise ParameterError(f"hop_s={hop_s!r} is too short; use at least {MIN_HOP_S:g} s")
    if hop_s > window_s:
        raise ParameterError(f"hop_s={hop_s!r} must not exceed window_s={window_s!r} (gaps in the timeline)")
    return float(window_s), float(hop_s)


def check_segment(segment: str) -> str:
    """Validate a segmentation name (:data:`SEGMENTATIONS`).

    >>> check_segment("vad")
    'vad'
    """
    if segment not in SEGMENTATIONS:
        raise ParameterError(f"segment={segment!r} is not one of {', '.join(SEGMENTATIONS)}")
    return segment


def count_windows(duration_s: float, *, window_s: float, hop_s: float) -> int:
    """How many windows :func:`window_starts` gives, without listing them.

    >>> count_windows(10.0, window_s=3.0, hop_s=1.5), count_windows(4.0, window_s=3.0, hop_s=1.5)
    (6, 0)
    """
    if duration_s < window_s + hop_s:
        return 0
    regular = int(math.floor((duration_s - window_s) / hop_s + 1e-9)) + 1
    return regular + int((regular - 1) * hop_s + window_s < duration_s - 1e-6)


def window_starts(duration_s: float, *, window_s: float, hop_s: float, max_windows: int = MAX_WINDOWS) -> list[float]:
    """Start times of the timeline windows over ``duration_s`` seconds.

    Windows start every ``hop_s`` while they fit; one more window ends exactly at
    the end when the last regular one leaves a tail uncovered. Audio shorter than
    ``window_s + hop_s`` has no timeline (an empty list). More than ``max_windows``
    windows is a :class:`~serkit.core.exceptions.ParameterError`, raised before listing any.

    >>> window_starts(10.0, window_s=3.0, hop_s=1.5)
    [0.0, 1.5, 3.0, 4.5, 6.0, 7.0]
    >>> window_starts(4.0, window_s=3.0, hop_s=1.5)
    []
    """
    count = count_windows(duration_s, window_s=window_s, hop_s=hop_s)
    _check_window_count(count, duration_s, window_s=window_s, hop_s=hop_s, max_windows=max_windows)
    if count == 0:
        return []
    regular = int(math.floor((duration_s - window_s) / hop_s + 1e-9)) + 1
    starts = [round(i * hop_s, 6) for i in range(regular)]
    if count > regular:
        starts.append(round(duration_s - window_s, 6))
    return starts


def _check_window_count(count: int, duration_s: float, *, window_s: float, hop_s: float, max_windows: int) -> None:
    if count > max_windows:
        shortest = math.ceil((duration_s - window_s) / (max_windows - 2) * 100) / 100
        raise ParameterError(
            f"hop_s={hop_s!r} gives {count} timeline windows over {duration_s:.1f} s, more than the limit of "
            f"{max_windows}; use a hop of at least {shortest:g} s"
        )


def audible_windows(windows: Iterable[tuple[tuple[float, float], np.ndarray]]) -> Iterator[tuple[tuple[float, float], np.ndarray]]:
    """The timeline windows that hold sound: the gate before any window's features.

    A window whose peak stays below :data:`serkit.core.audio.SILENCE_DB` is left out of
    the timeline, found by one pass over its samples: silence costs no features, and
    a model's answer on it would mean nothing. Takes and gives ``((start, end),
    samples)`` pairs, so a voice activity detector can replace it or follow it.

    >>> t = np.arange(22050) / 22050
    >>> windows = [((0.0, 1.0), np.zeros(22050, np.float32)), ((1.0, 2.0), 0.1 * np.sin(2 * np.pi * 220 * t))]
    >>> [span for span, _ in audible_windows(windows)]
    [(1.0, 2.0)]
    """
    return ((span, samples) for span, samples in windows if not is_silent(samples))


def window_weights(spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Seconds of audio each window speaks for: where ``k`` windows overlap, ``1/k`` each.

    The weights sum to the time the windows cover, so a stretch covered twice (the
    half-overlap, or the extra window ending at the end) counts once, not twice.
    ``spans`` are ``(start, end)`` pairs sorted by start, all of one length (as
    :func:`window_starts` gives them).

    >>> window_weights([(0.0, 2.0), (1.0, 3.0), (2.0, 4.0)]).tolist()
    [1.5, 1.0, 1.5]
    """
    starts = np.array([start for start, _ in spans], dtype=np.float64)
    ends = np.array([end for _, end in spans], dtype=np.float64)
    points = np.unique(np.concatenate([starts, ends]))
    left, right = points[:-1], points[1:]
    # Windows covering [left, right): those ending after `left` up to those starting at or before it.
    first = np.searchsorted(ends, left, side="right")
    stop = np.searchsorted(starts, left, side="right")
    covering = stop - first
    share = np.where(covering > 0, (right - left) / np.maximum(covering, 1), 0.0)
    change = np.zeros(len(spans) + 1)
    np.add.at(change, first, share)
    np.add.at(change, stop, -share)
    return np.cumsum(change)[:-1]


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
        What :mod:`serkit.models.artifacts` saved beside the model (name, metrics, versions,
        ``speaker_norm``); shown by ``serkit serve`` at ``GET /v1/model``.
    window_s, hop_s : float
        Default timeline window (0.5 to 60 s) and hop (0.1 s to the window).
    segment : {"fixed", "vad"}
        Default segmentation: fixed windows, or utterances of the speech (module docstring).
    familiarity : serkit.inference.familiarity.Familiarity or None
        Statistics of the training features: each result then carries ``familiarity``
        (how typical its features are of the training data, 0 to 1) and ``caution``
        where it is below :data:`serkit.inference.familiarity.CAUTION_BELOW`.

    Examples
    --------
    See the module docstring; models saved with :func:`serkit.models.artifacts.save_model`
    load as a ``Predictor`` through :func:`serkit.models.artifacts.load_model`.
    """

    def __init__(
        self,
        estimator,
        feature_set,
        *,
        metadata: dict | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        hop_s: float = DEFAULT_HOP_S,
        segment: str = "fixed",
        familiarity=None,
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
        self.familiarity = familiarity
        self.emotions = classes
        # Probabilities are listed in RAVDESS order (neutral … surprised), not the
        # model's alphabetical class order; other labels follow in the model's order.
        rank = {emotion: position for position, emotion in enumerate(EMOTIONS)}
        self._display_order = sorted(range(len(classes)), key=lambda i: (rank.get(classes[i], len(rank)), i))
        self.window_s, self.hop_s = check_window(window_s, hop_s)
        self.segment = check_segment(segment)

    @property
    def sr(self) -> int:
        """Sample rate the feature set works at."""
        return int(self.feature_set.sr)

    @property
    def speaker_norm(self) -> bool:
        """Whether the model expects features standardised per speaker."""
        return bool(self.metadata.get("speaker_norm", False))

    @property
    def adaptation(self) -> dict | None:
        """How the model adapts to a source (``metadata["adaptation"]``), None if it does not."""
        return self.metadata.get("adaptation")

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
            "adaptation": self.adaptation,
            "familiarity": self.familiarity is not None,
            "window_s": self.window_s,
            "hop_s": self.hop_s,
        }

    def timeline_options(self, window_s: float | None = None, hop_s: float | None = None) -> tuple[float, float]:
        """The window and hop a call would use (None: the predictor's), checked (:func:`check_window`)."""
        return check_window(self.window_s if window_s is None else window_s, self.hop_s if hop_s is None else hop_s)

    def timeline_spans(self, duration_s: float, *, window_s: float | None = None, hop_s: float | None = None) -> list:
        """The ``(start, end)`` windows of audio lasting ``duration_s`` (empty: predicted whole).

        Checks the window, the hop and the window count (:data:`MAX_WINDOWS`) without
        touching any audio.
        """
        window_s, hop_s = self.timeline_options(window_s, hop_s)
        return [
            (start, min(start + window_s, duration_s))
            for start in window_starts(duration_s, window_s=window_s, hop_s=hop_s)
        ]

    # -- single clips -------------------------------------------------------------

    def predict_audio(
        self, y: np.ndarray, sr: int, *, window_s: float | None = None, hop_s: float | None = None, n_jobs: int = 1,
        segment: str | None = None,
    ) -> dict:
        """Predict the emotion of samples ``y`` at rate ``sr``.

        Parameters
        ----------
        y : np.ndarray [shape=(n,)], float
            Mono audio; it is resampled to :attr:`sr` if needed.
        sr : int > 0
        window_s, hop_s : float or None
            Timeline window and hop (default: the predictor's).
        n_jobs : int >= 1
            Threads computing window features (the feature code releases the GIL in its FFTs).

        Returns
        -------
        dict
            ``emotion`` (most probable), ``probabilities`` (emotion → p, in RAVDESS
            order: neutral … surprised), ``duration`` (s), ``segments``: a list of
            ``{"start", "end", "emotion", "probabilities"}`` for audio of at least
            ``window_s + hop_s`` seconds, else empty, and ``summary``: ``{"seconds":
            emotion → s, "dominant"}`` with a timeline, else None. With a timeline the
            whole-clip answer is the weighted mean of the windows' (module docstring).
            With ``segment="vad"`` the segments are the utterances, ``speech_seconds``
            is added, and audio without speech has ``emotion`` and ``probabilities``
            None and ``no_speech``: the reason.

        Raises
        ------
        AudioError
            Not 1-D, non-finite, too loud (:data:`serkit.core.audio.MAX_PEAK`) or shorter than one analysis window.
        ParameterError
            Window or hop out of range, too many windows, or a speaker-normalised model
            (use :meth:`predict_batch` with speakers).
        """
        self._refuse_speaker_norm()
        segment = check_segment(self.segment if segment is None else segment)
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1:
            raise AudioError(f"<samples>: expected mono audio of shape (n,), got shape {y.shape}")
        n_samples = resampled_length(y.shape[-1], orig_sr=int(sr), target_sr=self.sr)
        self.timeline_spans(n_samples / self.sr, window_s=window_s, hop_s=hop_s)  # the window count, before any work
        check_peak(y, "<samples>")
        y = resample(y, orig_sr=int(sr), target_sr=self.sr)
        with _one_blas_thread():
            if segment == "vad":
                y = remove_mains_hum(y, self.sr)  # once for the clip, not again for each utterance's features
                return self._predict_speech(find_speech(y, self.sr), _Samples([y], "<samples>"), n_jobs)
            return self._predict_samples(_Samples([y], "<samples>"), window_s, hop_s, n_jobs)

    def predict_file(
        self,
        source: AudioSource,
        *,
        window_s: float | None = None,
        hop_s: float | None = None,
        max_duration_s: float | None = None,
        n_jobs: int = 1,
        segment: str | None = None,
        diarize=None,
        progress: bool = False,
    ) -> dict:
        """Read ``source`` at the feature set's rate and predict it like :meth:`predict_audio`.

        Window, hop, window count and ``max_duration_s`` are checked from the header
        before decoding. The audio is decoded block by block: memory holds one block
        and :data:`WINDOWS_PER_BATCH` windows' features, whatever the duration. The
        windows follow the data as it is decoded, so a header claiming more audio than
        the file holds costs nothing and changes nothing.

        With ``diarize`` (``"auto"`` or a number of speakers, :func:`serkit.inference.speakers.parse_speakers`)
        the pieces (the utterances with ``segment="vad"``, else the timeline windows) are
        clustered by voice: each segment gets its ``speaker`` and the result a ``speakers``
        summary per speaker; a speaker-normalised model standardises each speaker's
        features by that speaker's own statistics. The pieces are then all held at once
        (their features and speaker embeddings are all needed together). With ``diarize="channels"``
        nothing is clustered: each channel of a file of 2 to :data:`~serkit.inference.speakers.MAX_SPEAKERS`
        is one speaker (``channel 1``, ``channel 2``, …), its utterances found on that channel
        alone (voice activity whatever the predictor's ``segment``; ``segment="fixed"`` is refused);
        ``speech_seconds`` sums the channels'.

        With ``progress`` and ``segment="vad"``, work that lasts more than :data:`PROGRESS_AFTER_S`
        shows bars on stderr (tqdm): the speech detection's seconds of audio, then the utterances.

        Raises :class:`~serkit.core.exceptions.AudioError` for unusable audio, including
        silence with fixed windows (a model's answer on silence means nothing; with
        ``segment="vad"`` silence is "no speech"), and
        :class:`~serkit.core.exceptions.ParameterError` as :meth:`predict_audio`.
        """
        from serkit.inference.speakers import parse_speakers

        diarize = parse_speakers(diarize)
        if diarize is None:
            self._refuse_speaker_norm()
        if diarize == "channels":  # each channel's utterances: voice activity, whatever the predictor's default
            if check_segment(segment or "vad") != "vad":
                raise ParameterError("speakers='channels' finds each channel's utterances: use segment='vad'")
            with _one_blas_thread():
                return self._predict_channels(source, max_duration_s, n_jobs)
        segment = check_segment(self.segment if segment is None else segment)
        with AudioStream(source, sr=self.sr, max_duration_s=max_duration_s) as stream:
            if segment == "vad":
                with _one_blas_thread():
                    return self._predict_file_speech(source, stream, n_jobs, diarize, progress)
            self._check_claimed_windows(stream, window_s, hop_s)
            with _one_blas_thread():
                samples = _Samples(stream.blocks(), stream.name)
                if diarize is not None:
                    return self._predict_speakers(self._pieces(samples, window_s, hop_s), samples, diarize, n_jobs)
                return self._predict_samples(samples, window_s, hop_s, n_jobs)

    # -- batches ------------------------------------------------------------------

    def predict_batch(
        self,
        sources: Sequence[AudioSource],
        *,
        speakers: Sequence[str] | None = None,
        adapt: bool = False,
        window_s: float | None = None,
        hop_s: float | None = None,
        max_duration_s: float | None = None,
        progress: bool = False,
        n_jobs: int = 1,
        segment: str | None = None,
        diarize=None,
    ) -> list[BatchItem]:
        """Predict many files; a file that fails is reported, never stops the rest.

        Parameters
        ----------
        sources : sequence of paths or file objects
        speakers : sequence of str or None
            One speaker id per source. Required by a speaker-normalised model: each
            speaker's clips (whole clips, not windows) give the statistics that
            standardise that speaker's features. With ``adapt``, each speaker is a source.
        adapt : bool
            Adapt an adapted model (:attr:`adaptation`) to these files: their own
            statistics (whole clips) replace the model's. Without ``speakers`` each voice
            found among the files (:func:`serkit.inference.speakers.find_voices`) is standardised
            by its own statistics, pulled toward the batch's as if
            :data:`~serkit.features.adaptation.SPEAKER_PRIOR_CLIPS` of its files were added, and
            each result names its ``voice``; with ``speakers``, each speaker is a source. A single
            file is adapted on its own utterances or timeline windows; with ``diarize``, each file
            on its own, each speaker found in it by their own statistics pulled toward the file's.
            Too few clips, mixed sample rates or a one-emotion-looking batch: see Raises.
        progress : bool
            Show a progress bar (tqdm, on stderr).
        n_jobs : int >= 1
            Threads computing window features.
        diarize : "auto", int or None
            Cluster each file's pieces by speaker (:meth:`predict_file`); a
            speaker-normalised model then needs no ``speakers``.

        Returns
        -------
        list of BatchItem
            In the order of ``sources``.

        Raises
        ------
        ParameterError
            ``adapt`` with a model that is not adapted, or files of different sample
            rates (different recording chains are different sources). A source with too
            few usable clips fails its files, with the reason; a batch that varies as
            little as one emotion does gets an :class:`serkit.features.adaptation.AdaptationWarning`.
        """
        if speakers is not None and len(speakers) != len(sources):
            raise ParameterError(f"got {len(speakers)} speakers for {len(sources)} files")
        if adapt and diarize is not None and speakers is not None:
            raise ParameterError("adapt with diarize finds each file's speakers; leave out speakers")
        if adapt and diarize == "channels":
            raise ParameterError("adapting to each channel is not supported (a channel's utterances are answered as "
                                 "they stream): adapt with speakers found, 'auto' or a number")
        if self.speaker_norm and speakers is None and diarize is None:
            raise ParameterError(
                "this model was trained on per-speaker standardised features; "
                "give each file's speaker (serkit predict --speaker-from folder|COLUMN)"
            )
        self.timeline_options(window_s, hop_s)  # a bad window, hop or segmentation fails the batch, once
        segment = check_segment(self.segment if segment is None else segment)
        names = [_source_name(source) for source in sources]
        if adapt:
            self._check_adaptable(sources)
        if adapt and (len(sources) == 1 or diarize is not None):
            one = len(sources) == 1  # one file: its utterances share the threads, and it shows its own progress
            outcomes = _file_outcomes(lambda i: self._predict_on_own_windows(
                sources[i], window_s, hop_s, max_duration_s, segment=segment, n_jobs=n_jobs if one else 1,
                progress=progress and one, diarize=diarize), names, 1 if one else n_jobs, progress=progress and not one)
        elif adapt or (self.speaker_norm and diarize is None):
            groups = [""] * len(sources) if speakers is None else [str(speaker) for speaker in speakers]
            outcomes = self._predict_standardised(sources, names, groups, window_s, hop_s, max_duration_s,
                                                  speech_only=segment == "vad", n_jobs=n_jobs, progress=progress,
                                                  voices=adapt and speakers is None)
        else:
            # Several files: one per thread (most are one utterance); one file: its utterances share
            # the threads, and it shows its own progress.
            one = len(sources) == 1
            options = {"window_s": window_s, "hop_s": hop_s, "max_duration_s": max_duration_s,
                       "n_jobs": n_jobs if one else 1, "segment": segment, "diarize": diarize, "progress": progress and one}
            outcomes = _file_outcomes(lambda i: self.predict_file(sources[i], **options), names, n_jobs,
                                      progress=progress and not one)
        return [BatchItem(name, **outcome) for name, outcome in zip(names, outcomes)]

    # -- internals ----------------------------------------------------------------

    def _refuse_speaker_norm(self) -> None:
        if self.speaker_norm:
            raise ParameterError(
                "this model was trained on per-speaker standardised features; "
                "predict several clips per speaker with predict_batch(..., speakers=...)"
            )

    def _check_claimed_windows(self, stream: AudioStream, window_s, hop_s) -> None:
        """Refuse, before decoding, a file whose header claims more windows than :data:`MAX_WINDOWS`."""
        if stream.duration_s is not None:
            self.timeline_spans(stream.duration_s, window_s=window_s, hop_s=hop_s)

    def _checked_clip(self, y: np.ndarray, name: str) -> np.ndarray:
        """``y`` if it is long enough, finite, not too loud and not silent."""
        if y.shape[-1] < MIN_SAMPLES:
            raise AudioError(
                f"{name}: too short ({y.shape[-1] / self.sr * 1000:.0f} ms, "
                f"{y.shape[-1]} samples < {MIN_SAMPLES} at {self.sr} Hz)"
            )
        _check_silent(check_peak(y, name), name)
        return y

    def _windows(self, samples: "_Samples", window_s, hop_s) -> Iterator | None:
        """The audible timeline windows (:func:`audible_windows`), None for audio too short for a timeline."""
        window_s, hop_s = self.timeline_options(window_s, hop_s)
        if not samples.reach(math.ceil((window_s + hop_s) * self.sr)):
            return None
        return audible_windows(self._timeline(samples, window_s, hop_s))

    def _timeline(self, samples: "_Samples", window_s: float, hop_s: float) -> Iterator[tuple[tuple[float, float], np.ndarray]]:
        """``((start, end), samples)`` of each window, decoding only as far as the next one needs.

        The windows of :func:`window_starts`, planned from what is decoded rather than
        from the header's length, which may claim more than the file holds: windows
        start every hop while the data lasts, then one more ends at its end.
        """
        sr, index = self.sr, 0  # once, not per window (a bundle works its rate out on each call)
        while samples.reach(round((round(index * hop_s, 6) + window_s) * sr)):
            if index == MAX_WINDOWS:
                duration_s = samples.end / sr
                _check_window_count(count_windows(duration_s, window_s=window_s, hop_s=hop_s), duration_s,
                                    window_s=window_s, hop_s=hop_s, max_windows=MAX_WINDOWS)
            start = round(index * hop_s, 6)
            yield (start, start + window_s), samples.take(start, start + window_s, sr)
            samples.forget_before(round(start * sr))  # the last window may start after this one's start
            index += 1
        duration_s = samples.end / sr
        for start in window_starts(duration_s, window_s=window_s, hop_s=hop_s)[index:]:
            end = min(start + window_s, duration_s)
            yield (start, end), samples.take(start, end, sr)

    def _predict_samples(self, samples: "_Samples", window_s, hop_s, n_jobs: int) -> dict:
        """The whole clip, or its timeline when it lasts a window and a hop."""
        windows = self._windows(samples, window_s, hop_s)
        if windows is None:
            return self._predict_whole(self._checked_clip(samples.all(), samples.name), samples.name)
        return self._predict_windows(windows, samples, n_jobs)

    def _predict_file_speech(self, source: AudioSource, stream: AudioStream, n_jobs: int, diarize=None,
                             progress: bool = False, adapt: bool = False) -> dict:
        """Voice activity over the file, then its utterances (decoded again when the file is long)."""
        detector = SpeechDetector(self.sr)
        if stream.duration_s is not None and stream.duration_s <= WHOLE_READ_S:
            y = _Samples(stream.blocks(), stream.name).all()
            if y.shape[-1] < MIN_SAMPLES:
                raise AudioError(f"{stream.name}: too short ({y.shape[-1]} samples < {MIN_SAMPLES} at {self.sr} Hz)")
            y = remove_mains_hum(y, self.sr)  # once for the file, not again for each utterance's features
            detector.feed(y)
            return self._predict_speech(detector.finish(), _Samples([y], stream.name), n_jobs, diarize, progress, adapt)
        seen = 0
        with _progress_bar(progress, math.ceil(stream.duration_s or 0) or None, "speech detection", "s") as bar:
            for block in stream.blocks():
                check_peak(block, stream.name)
                detector.feed(block)
                seen += block.shape[-1]
                bar.update(seen // self.sr - bar.n)  # whole seconds
        speech = detector.finish()
        if hasattr(source, "seek"):
            source.seek(0)
        with AudioStream(source, sr=self.sr) as again:
            samples = _Samples(_without_hum(again.blocks(), self.sr, again.name), again.name)
            return self._predict_speech(speech, samples, n_jobs, diarize, progress, adapt)

    def _predict_speech(self, speech: Speech, samples: "_Samples", n_jobs: int, diarize=None,
                        progress: bool = False, adapt: bool = False) -> dict:
        """The utterances' emotions (their samples taken from ``samples``; clustered by voice
        with ``diarize``; with ``adapt``, standardised by their own statistics), or "no speech"."""
        if speech.no_speech_reason() is not None:
            return _no_speech(speech)
        utterances = self._utterance_pieces(speech, samples)
        weights = np.array([u.speech_s for u in speech.utterances])
        with _progress_bar(progress, len(speech.utterances), "utterances", "utterance") as bar:
            if diarize is not None:
                from serkit.inference.speakers import count_caution

                result = self._predict_speakers(list(utterances), samples, diarize, n_jobs, weights=weights, bar=bar,
                                                speech=True, adapt=adapt)
                if diarize == "auto":  # a given count is the user's, not a guess to warn about
                    result["speakers_caution"] = count_caution(speech.snr_db)
            elif adapt:
                result = self._predict_on_own_pieces(list(utterances), samples.name, samples.end / self.sr, n_jobs,
                                                     what="its utterances", weights=weights, bar=bar, speech=True)
            else:
                result = self._predict_windows(utterances, samples, n_jobs, weights=weights, bar=bar, speech=True)
        return {**result, "duration": round(speech.duration_s, 3), "speech_seconds": speech.speech_s}

    def _utterance_pieces(self, speech: Speech, samples: "_Samples") -> Iterator[tuple]:
        """``((start, end), samples)`` of each utterance, heard with its context (:func:`heard_spans`,
        stopped at a loud tone: :func:`context_without_tones`),
        ``samples`` read as far as each needs and forgotten behind it."""
        sr = self.sr
        heard = heard_spans(speech.utterances, speech.duration_s)
        for (start, end, _), (heard_start, heard_end) in zip(speech.utterances, heard):
            samples.reach(round(heard_end * sr))
            piece = samples.take(heard_start, heard_end, sr)
            low, high = context_without_tones(piece, round((start - heard_start) * sr), round((end - heard_start) * sr))
            yield (start, end), piece[low:high]
            samples.forget_before(round(heard_end * sr))

    def _predict_channels(self, source: AudioSource, max_duration_s: float | None, n_jobs: int) -> dict:
        """Each channel of ``source`` as one speaker: its utterances found on it alone (utterances
        leaking in from another channel dropped, :func:`crosstalk`), predicted and summarised per
        channel as :meth:`_predict_speakers` summarises voices. Two passes over each channel, block
        by block: its speech and power, then its utterances' features, :data:`WINDOWS_PER_BATCH` at a
        time; the audio is never held whole."""
        from serkit.inference.speakers import MAX_SPEAKERS

        with AudioStream(source, sr=None, max_duration_s=max_duration_s) as probe:
            name, channels = probe.name, probe.channels
        if not 2 <= channels <= MAX_SPEAKERS:
            raise ParameterError(f"{name}: {channels} channel(s); speakers='channels' needs 2 to {MAX_SPEAKERS}, "
                                 "one speaker on each (a call recorded with each party on a channel of their own)")
        found, envelopes = [], []
        for channel in range(channels):
            detector, meter, n = SpeechDetector(self.sr), PowerMeter(self.sr), 0
            for block in self._channel_blocks(source, channel, max_duration_s):
                check_peak(block, name)
                detector.feed(block)
                meter.feed(block)
                n += block.shape[-1]
            if n < MIN_SAMPLES:
                raise AudioError(f"{name}: too short ({n} samples < {MIN_SAMPLES} at {self.sr} Hz)")
            found.append(detector.finish())
            envelopes.append(meter.finish())
        power = np.stack([envelope[: min(map(len, envelopes))] for envelope in envelopes])
        # A speaker-normalised model needs every utterance's features at the end; any other is
        # answered batch by batch, so that an hour-long call holds answers, not features.
        features, answers, quality, spans, labels, weights, batch = [], [], [], [], [], [], []

        def answer():
            extracted, scores = self._extract(batch, name, mapper, speech=True)
            if self.speaker_norm:
                features.extend(extracted)
            else:
                answers.append(self._predict(extracted))
            quality.append(scores)
            batch.clear()

        with _mapper(n_jobs) as mapper:
            for channel, speech in enumerate(found):
                if speech.no_speech_reason() is not None:
                    continue
                samples = _Samples(_without_hum(self._channel_blocks(source, channel, max_duration_s), self.sr, name), name)
                for utterance, (span, piece) in zip(speech.utterances, self._utterance_pieces(speech, samples)):
                    if crosstalk(power, channel, span):
                        continue
                    batch.append(piece.copy())  # the samples behind it are let go of
                    spans.append(span)
                    weights.append(utterance.speech_s)
                    labels.append(f"channel {channel + 1}")
                    if len(batch) == WINDOWS_PER_BATCH:
                        answer()
            if batch:
                answer()
        if not spans:
            return _no_speech(found[0])
        order = np.argsort([start for start, _ in spans], kind="stable")
        ordered = (np.concatenate(quality)[order], [spans[i] for i in order], np.array(labels)[order], np.array(weights)[order])
        if self.speaker_norm:
            result = self._answer_speakers([features[i] for i in order], *ordered, duration=found[0].duration_s,
                                           given=True)
        else:
            familiarity = None if self.familiarity is None else np.concatenate([f for _, f in answers])[order]
            result = self._speaker_result(np.concatenate([p for p, _ in answers])[order], familiarity, *ordered,
                                          duration=found[0].duration_s)
        return {**result, "speech_seconds": round(float(sum(weights)), 3)}

    def _channel_blocks(self, source: AudioSource, channel: int, max_duration_s: float | None) -> Iterator[np.ndarray]:
        """One channel of ``source``, block by block at :attr:`sr` (from its start again each time)."""
        if hasattr(source, "seek"):
            source.seek(0)
        with AudioStream(source, sr=self.sr, max_duration_s=max_duration_s, channel=channel) as stream:
            yield from stream.blocks()

    def _predict_whole(self, y: np.ndarray, name: str) -> dict:
        features, quality = self._extract([y], name, map)
        probabilities, familiarity = self._predict(features)
        return self._assemble(probabilities[0], [], None, duration=y.shape[-1] / self.sr,
                              familiarity=None if familiarity is None else familiarity[0], quality=quality[0])

    def _predict_windows(self, windows: Iterable, samples: "_Samples", n_jobs: int,
                         weights: np.ndarray | None = None, bar=None, speech: bool = False) -> dict:
        """Features and probabilities of the windows, :data:`WINDOWS_PER_BATCH` at a time
        (``weights``: the seconds each speaks for; default :func:`window_weights`; ``bar``
        advances by one per window; ``speech``: they are utterances, see :meth:`_extract`)."""
        spans, predictions, quality, batch = [], [], [], []

        def answer(batch):
            features, scores = self._extract(batch, samples.name, mapper, bar, speech=speech)
            predictions.append(self._predict(features))
            quality.append(scores)

        with _mapper(n_jobs) as mapper:
            for span, piece in windows:
                spans.append(span)
                batch.append(piece)
                if len(batch) == WINDOWS_PER_BATCH:
                    answer(batch)
                    batch = []
            if batch:
                answer(batch)
        if not spans:
            raise AudioError(f"{samples.name}: silent (nothing to recognise)")
        familiarity = None if self.familiarity is None else np.concatenate([f for _, f in predictions])
        return self._assemble(None, spans, np.concatenate([p for p, _ in predictions]), duration=samples.end / self.sr,
                              weights=weights, familiarity=familiarity, quality=np.concatenate(quality))

    def _pieces(self, samples: "_Samples", window_s, hop_s) -> list:
        """The ``(span, samples)`` pieces a fixed segmentation gives: the audible timeline windows,
        or the whole clip when it is too short for a timeline."""
        windows = self._windows(samples, window_s, hop_s)
        if windows is None:  # a short clip is one utterance
            y = self._checked_clip(samples.all(), samples.name)
            return [((0.0, y.shape[-1] / self.sr), y)]
        return list(windows)

    def _predict_speakers(self, pieces: list, samples: "_Samples", speakers, n_jobs: int,
                          weights: np.ndarray | None = None, bar=None, speech: bool = False, adapt: bool = False) -> dict:
        """Every piece's features and speaker embedding, clustered by voice, then predicted (see :meth:`predict_file`;
        ``weights``: the seconds each piece speaks for, default :func:`window_weights`; ``adapt``: see
        :meth:`_answer_speakers`)."""
        from serkit.inference.speakers import cluster_speakers, shared_embedder, speaker_names

        if not pieces:
            raise AudioError(f"{samples.name}: silent (nothing to recognise)")
        spans, pieces = [span for span, _ in pieces], [piece for _, piece in pieces]
        weights = window_weights(spans) if weights is None else weights
        with _mapper(n_jobs) as mapper:
            features, quality = self._extract(pieces, samples.name, mapper, bar, speech=speech)
            embeddings = shared_embedder().embed(pieces, self.sr, mapper=mapper)
        labels = np.array(speaker_names(cluster_speakers(embeddings, speakers)))
        return self._answer_speakers(features, quality, spans, labels, weights, duration=samples.end / self.sr,
                                     adapt=adapt, name=samples.name)

    def _answer_speakers(self, features: list, quality: np.ndarray, spans: list, labels: np.ndarray,
                         weights: np.ndarray, *, duration: float, given: bool = False, adapt: bool = False,
                         name: str = "the recording") -> dict:
        """The pieces' answers with each one's speaker (``labels``: found by clustering, or
        ``given``) and a summary per speaker. A speaker-normalised model standardises each
        speaker's features by their own statistics, pulled toward the recording's
        (:func:`_normalise_by_speaker`); with ``adapt`` an adapted model does the same and answers
        with its adapted head (the recording ``name`` needs the model's ``min_clips`` pieces)."""
        from serkit.features.adaptation import GIVEN_SPEAKER_PRIOR_CLIPS, SPEAKER_PRIOR_CLIPS, check_clip_count

        prior_clips = GIVEN_SPEAKER_PRIOR_CLIPS if given else SPEAKER_PRIOR_CLIPS
        source, as_recorded = self.speaker_norm, None
        if self.speaker_norm:
            features = list(_normalise_by_speaker(self.feature_set.collate(features), labels, prior_clips))
        elif adapt:
            check_clip_count(len(features), self.adaptation["min_clips"], what=f"{name} (one file: its pieces are the source)")
            as_recorded = self._familiar_units(features)
            rows = self._standardise([row[None] for row in np.stack(features)], [str(label) for label in labels],
                                     source=name, prior_clips=prior_clips)
            features, source = [row[0] for row in rows], True
        probabilities, familiarity = self._predict(features, source=source, as_recorded=as_recorded)
        return self._speaker_result(probabilities, familiarity, quality, spans, labels, weights, duration=duration,
                                    source=source)

    def _speaker_result(self, probabilities: np.ndarray, familiarity: np.ndarray | None, quality: np.ndarray,
                        spans: list, labels: np.ndarray, weights: np.ndarray, *, duration: float,
                        source: bool = False) -> dict:
        """The result of pieces answered (``probabilities``; ``source``: from features standardised by
        their own statistics), each with its speaker, and a summary per speaker."""
        result = self._assemble(None, spans, probabilities, duration=duration,
                                weights=weights, familiarity=familiarity, quality=quality, source=source)
        for segment, label in zip(result["segments"], labels):
            segment["speaker"] = str(label)
        result["speakers"], result["speakers_caution"] = {}, None
        for label in dict.fromkeys(labels):
            rows = np.flatnonzero(labels == label)
            own = self._assemble(None, [spans[i] for i in rows], probabilities[rows], duration=0.0, weights=weights[rows],
                                 familiarity=None if familiarity is None else familiarity[rows], quality=quality[rows])
            result["speakers"][str(label)] = {"seconds": round(float(weights[rows].sum()), 3),
                                              **{k: own[k] for k in ("emotion", "probabilities", "familiarity", "caution", "summary")}}
        return result

    def _extract(self, pieces: list, name: str, mapper, bar=None, *, speech: bool = False) -> tuple[list, np.ndarray]:
        """Every piece's features and its quality: a row of its :func:`~serkit.core.level.clipping_score`
        and, for pieces the speech detection found to be ``speech``, its
        :func:`~serkit.core.reverb.decay_rate` (``nan`` otherwise: a fixed window may hold a tone or music,
        whose slow fades say nothing of a room) (``bar``: a progress bar to advance by one per piece)."""
        sr = self.sr  # once, not per window (a bundle works its rate out on each call)
        bar = _NO_BAR if bar is None else bar

        def extract(piece):
            decay = decay_rate(piece, sr) if speech else np.nan
            value = self.feature_set.from_audio(piece, sr), (clipping_score(piece), decay)
            bar.update(1)
            return value

        extracted = list(mapper(extract, pieces))
        features = [value for value, _ in extracted]
        if not all(_finite(value) for value in features):
            raise AudioError(f"{name}: its features hold NaN or infinite values (audio far outside full scale?)")
        return features, np.array([score for _, score in extracted], dtype=np.float64).reshape(-1, 2)

    def _check_adaptable(self, sources) -> None:
        """``adapt`` needs an adapted model and files of one sample rate (read from their headers)."""
        if self.adaptation is None:
            raise ParameterError(
                "this model was trained without source adaptation; --adapt needs an adapted model "
                "(the bundled default, or one trained with --adapt corpus|speaker)"
            )
        rates = {}
        for source in sources:
            try:
                with AudioStream(source, sr=None) as stream:
                    rates.setdefault(stream.orig_sr, []).append(stream.name)
            except SerkitError:
                continue  # reported per file when it is predicted
        if len(rates) > 1:
            found = ", ".join(f"{rate} Hz: {len(files)} file(s)" for rate, files in sorted(rates.items()))
            raise ParameterError(
                f"the files have different sample rates ({found}): different recording chains are different "
                "sources; adapt to each set separately"
            )

    def _predict_on_own_windows(self, source, window_s, hop_s, max_duration_s, *, segment: str, n_jobs: int = 1,
                                progress: bool = False, diarize=None) -> dict:
        """One long recording standardised by its own statistics: those of its utterances
        (``segment="vad"``; no speech is "no speech"), or of its audible timeline windows; with
        ``diarize``, each speaker found among them by their own, pulled toward the recording's."""
        with AudioStream(source, sr=self.sr, max_duration_s=max_duration_s) as stream:
            if segment == "vad":
                with _one_blas_thread():
                    return self._predict_file_speech(source, stream, n_jobs, diarize, progress=progress, adapt=True)
            self._check_claimed_windows(stream, window_s, hop_s)
            name, y = stream.name, self._checked_clip(stream.read(), stream.name)
        if diarize is not None:
            samples = _Samples([y], name)
            return self._predict_speakers(self._pieces(samples, window_s, hop_s), samples, diarize, n_jobs, adapt=True)
        windows = list(self._windows(_Samples([y], name), window_s, hop_s) or [])
        return self._predict_on_own_pieces(windows, name, y.shape[-1] / self.sr, n_jobs, what="its audible timeline windows")

    def _predict_on_own_pieces(self, pieces: list, name: str, duration: float, n_jobs: int, *, what: str,
                               weights: np.ndarray | None = None, bar=None, speech: bool = False) -> dict:
        """``pieces`` (``(span, samples)``: one recording's utterances or windows) standardised by
        their own statistics, answered by the adapted head (at least the model's ``min_clips``)."""
        from serkit.features.adaptation import check_clip_count

        check_clip_count(len(pieces), self.adaptation["min_clips"], what=f"{name} (one file: {what} are the source)")
        with _mapper(n_jobs) as mapper:
            features, quality = self._extract([piece for _, piece in pieces], name, mapper, bar, speech=speech)
        [rows] = self._standardise([np.stack(features)], [""], fit_rows=None, source=name)
        probabilities, familiarity = self._predict(list(rows), source=True, as_recorded=self._familiar_units(features))
        return self._assemble(None, [span for span, _ in pieces], probabilities, duration=duration, weights=weights,
                              familiarity=familiarity, quality=quality, source=True)

    def _predict_standardised(self, sources, names, speakers, window_s, hop_s, max_duration_s, *,
                              speech_only: bool = False, n_jobs: int = 1, progress: bool = False,
                              voices: bool = False) -> list[dict]:
        """Whole clips and windows of every file, standardised with their group's statistics
        (a speaker, or the batch as one source; with ``voices``, each voice found among the
        files, pulled toward the batch's); with ``speech_only`` a file without speech is
        answered "no speech" and left out of the statistics."""
        from serkit.features.adaptation import SPEAKER_PRIOR_CLIPS

        extracted, outcomes = self._extract_files(sources, names, window_s, hop_s, max_duration_s,
                                                  speech_only=speech_only, n_jobs=n_jobs, progress=progress, voices=voices)
        outcomes.update({i: {"error": reason} for i, reason in self._too_few_clips(extracted, speakers).items()})
        order = [i for i in extracted if i not in outcomes]
        if order:
            groups = _voice_names([extracted[i][4] for i in order]) if voices else [str(speakers[i]) for i in order]
            blocks = self._standardise([np.stack(extracted[i][0]) for i in order], groups,
                                       prior_clips=SPEAKER_PRIOR_CLIPS if voices else None)
            for index, block, group in zip(order, blocks, groups):
                recorded, quality, spans, duration, _ = extracted[index]

                def assemble():
                    probabilities, familiarity = self._predict(list(block), source=True,
                                                               as_recorded=self._familiar_units(recorded))
                    result = self._assemble(probabilities[0], spans, probabilities[1:], duration=duration,
                                            familiarity=None if familiarity is None else familiarity[1:] if spans else familiarity[0],
                                            quality=quality[1:] if spans else quality[0], source=True)
                    return {**result, "voice": group or None} if voices else result

                outcomes[index] = _outcome(names[index], assemble)
        return [outcomes[i] for i in range(len(names))]

    def _extract_files(self, sources, names, window_s, hop_s, max_duration_s, *, windows: bool = True,
                       speech_only: bool = False, n_jobs: int = 1, progress: bool = False, voices: bool = False):
        """``(extracted, others)``: per file index, ``(features of the whole clip then its windows,
        their clipping scores, spans, duration, the whole clip's speaker embedding)`` (the embedding
        with ``voices``, and a clip long enough to carry a voice; else None); or the outcome of a file
        that could not be used (``{"error": reason}``) or, with ``speech_only``, holds no speech
        (``{"result": …}``, "no speech"). ``n_jobs`` files at a time, on threads (``progress``: a bar
        of the files done)."""
        embedder = None
        if voices:
            from serkit.inference.speakers import MIN_EMBED_S, encoder_session, shared_embedder

            encoder_session()  # built once, before the threads ask for it
            embedder = shared_embedder()

        def voice(y):
            if embedder is None or y.shape[-1] < MIN_EMBED_S * self.sr:
                return None  # no voices asked for, or a clip too short to carry one
            return embedder.embed([y], self.sr)[0]

        def extract(source, name):
            with AudioStream(source, sr=self.sr, max_duration_s=max_duration_s) as stream:
                if windows:
                    self._check_claimed_windows(stream, window_s, hop_s)
                y = self._checked_clip(stream.read(), name)
            if speech_only:
                speech = find_speech(y, self.sr)
                if speech.no_speech_reason() is not None:
                    return _no_speech(speech)
            pieces = list(self._windows(_Samples([y], name), window_s, hop_s) or []) if windows else []
            features, quality = self._extract([y, *(piece for _, piece in pieces)], name, map, speech=speech_only)
            return features, quality, [span for span, _ in pieces], y.shape[-1] / self.sr, voice(y)

        outcomes = _file_outcomes(lambda i: extract(sources[i], names[i]), names, n_jobs, progress=progress)
        extracted, others = {}, {}
        for index, outcome in enumerate(outcomes):
            if "result" in outcome and isinstance(outcome["result"], tuple):
                extracted[index] = outcome["result"]
            else:
                others[index] = outcome
        return extracted, others

    def source_statistics(self, sources: Sequence[AudioSource], *, max_duration_s: float | None = None,
                          progress: bool = False, segment: str | None = None, n_jobs: int = 1):
        """The statistics of ``sources`` as one source (whole clips), for a saved adaptation;
        with ``segment="vad"`` (default: the predictor's) a file without speech is left out.
        ``n_jobs``: files read at a time, on threads.

        Returns
        -------
        (serkit.features.adaptation.SourceStatistics, list of BatchItem)
            The statistics and the files left out, with the reason (silent, unreadable…).

        Raises
        ------
        ParameterError
            Not an adapted model, mixed sample rates, fewer usable clips than the model's
            ``min_clips``. A batch that varies as little as one emotion does warns
            (:class:`serkit.features.adaptation.AdaptationWarning`).
        """
        from serkit.features.adaptation import SourceStatistics, check_clip_count, check_spread, model_statistics

        self._check_adaptable(sources)
        names = [_source_name(source) for source in sources]
        segment = check_segment(self.segment if segment is None else segment)
        extracted, failed = self._extract_files(sources, names, None, None, max_duration_s, windows=False,
                                                speech_only=segment == "vad", n_jobs=n_jobs, progress=progress)
        check_clip_count(len(extracted), self.adaptation["min_clips"], what="this set of recordings")
        rows = np.stack([extracted[i][0][0] for i in sorted(extracted)])
        check_spread(rows, model_statistics(self.estimator).scale, self.adaptation["spread_floor"], what="this set of recordings")
        skipped = [BatchItem(names[i], error=outcome.get("error") or outcome["result"]["no_speech"])
                   for i, outcome in sorted(failed.items())]
        return SourceStatistics.of(rows), skipped

    def _too_few_clips(self, extracted: dict, speakers: Sequence[str]) -> dict[int, str]:
        """Files whose group has too few usable clips to give statistics to standardise with."""
        from collections import Counter

        from serkit.features.adaptation import MIN_GROUP_CLIPS, check_clip_count

        counts = Counter(str(speakers[i]) for i in extracted)
        least = (self.adaptation or {}).get("min_clips", MIN_GROUP_CLIPS)
        reasons = {}
        for i in extracted:
            what = f"speaker {speakers[i]!r}" if speakers[i] else "the batch"
            try:
                check_clip_count(counts[str(speakers[i])], least, what=what)
            except ParameterError as error:
                reasons[i] = str(error)
        return reasons

    def _standardise(self, blocks: list[np.ndarray], groups: list[str], fit_rows: int | None = 1,
                     source: str = "the batch", prior_clips: float | None = None) -> list[np.ndarray]:
        """Each block (a file's feature rows) standardised with its group's statistics,
        learned from the first ``fit_rows`` rows of each block (the whole clip, as in
        training; None: every row). An adapted model gets them back in the units it takes
        (:func:`serkit.features.adaptation.reexpress`), so its own statistics give way to the group's.
        ``source`` names an unnamed group in the warning of a batch that varies little. With
        ``prior_clips`` (groups found, not given: a folder's voices) each group's statistics are
        pulled toward all the blocks' as if that many of them were added, and the spread is checked
        over all the blocks and for each group of at least ``prior_clips`` blocks, which keeps
        mostly its own statistics (a voice heard a few times borrows the batch's)."""
        from serkit.features.adaptation import SourceAdapter, check_spread, model_statistics, reexpress

        fit = np.concatenate([block[:fit_rows] for block in blocks])
        fit_groups = np.concatenate([[group] * len(block[:fit_rows]) for block, group in zip(blocks, groups)])
        adapter = (SourceAdapter() if prior_clips is None else SourceAdapter(min_clips=1, prior_clips=prior_clips)).fit(fit, fit_groups)
        statistics = model_statistics(self.estimator) if self.adaptation else None
        if statistics is not None:
            checked = [(group, fit_groups == group) for group in np.unique(fit_groups)
                       if prior_clips is None or np.sum(fit_groups == group) >= prior_clips]
            if prior_clips is not None:
                checked.insert(0, ("", np.ones(len(fit), dtype=bool)))
            for group, rows in checked:
                what = (f"voice {group}" if prior_clips is not None else f"speaker {group!r}") if group else source
                check_spread(fit[rows], statistics.scale, self.adaptation["spread_floor"], what=what)
        out = []
        for block, group in zip(blocks, groups):
            rows = adapter.transform(block, [group] * len(block))
            out.append(rows if statistics is None else reexpress(rows, statistics))
        return out

    def _familiar_units(self, recorded: list) -> np.ndarray | None:
        """Features as recorded where the familiarity statistics are in those units (an adapted
        model's are); None for a speaker-normalised model, whose statistics are of the
        per-speaker standardised features it was trained on."""
        return None if self.speaker_norm else np.stack(recorded)

    def answering(self, source: bool = False):
        """The classifier that answers: a dual-path model's adapted head for features standardised
        by their source's statistics (``source``), else its default head (plain, or adapted once
        ``serkit adapt`` saved a source); any other model itself."""
        default = getattr(self.estimator, "default_head", None)
        if default is None:
            return self.estimator
        return self.estimator.head("adapted" if source else default)

    @property
    def default_adaptation(self) -> str:
        """``"source"`` when a clip alone is standardised by a source's saved statistics
        (a dual-path model after ``serkit adapt``), else ``"none"``."""
        return "source" if (self.adaptation or {}).get("default_head") == "adapted" else "none"

    def _predict(self, features: list, *, source: bool = False,
                 as_recorded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """One ``predict_proba`` call on the features of a few clips or windows (``source``:
        standardised by their source's statistics), and their familiarity (None without statistics),
        scored on ``as_recorded`` where given: the same rows before a source's standardisation,
        the units the training statistics are in (standardised rows sit at the pooled mean, between
        the training corpora, and would all look unfamiliar)."""
        X = self.feature_set.collate(features)
        familiar = X if as_recorded is None else np.asarray(as_recorded)
        familiarity = None if self.familiarity is None else self.familiarity.scores(familiar)
        probabilities = np.asarray(self.answering(source).predict_proba(X), dtype=np.float64)
        if probabilities.shape != (len(features), len(self.emotions)):
            raise SerkitError(
                f"model returned probabilities of shape {probabilities.shape}, "
                f"expected {(len(features), len(self.emotions))}"
            )
        return probabilities, familiarity

    def _label(self, probabilities: np.ndarray) -> tuple[str, dict]:
        return self.emotions[int(np.argmax(probabilities))], {
            self.emotions[i]: float(probabilities[i]) for i in self._display_order
        }

    def _assemble(self, whole: np.ndarray | None, spans, windows: np.ndarray | None, *, duration: float,
                  weights: np.ndarray | None = None, familiarity=None, quality=None, source: bool = False) -> dict:
        """The result dict; with windows, the whole-clip answer, its familiarity, its quality
        and the summary come from them (``weights``: the seconds each window speaks for, default
        :func:`window_weights`; ``familiarity`` and ``quality``: one per window, else the clip's;
        ``source``: the features were standardised by their source's own statistics)."""
        segments, summary = [], None
        if spans:
            weights = window_weights(spans) if weights is None else weights
            whole = weights @ windows / weights.sum()
            winners = np.argmax(windows, axis=1)
            seconds = {self.emotions[i]: round(float(weights[winners == i].sum()), 3) for i in self._display_order}
            summary = {"seconds": seconds, "dominant": max(seconds, key=seconds.get)}
            for index, ((start, end), row) in enumerate(zip(spans, windows)):
                label, probs = self._label(row)
                segments.append({"start": round(start, 3), "end": round(end, 3), "emotion": label, "probabilities": probs,
                                 **_caution_fields(None if familiarity is None else familiarity[index],
                                                   None if quality is None else quality[index]),
                                 "speaker": None})
            if familiarity is not None:
                familiarity = weights @ familiarity / weights.sum()
            if quality is not None:
                quality = _weighted_quality(quality, weights)
        emotion, probabilities = self._label(whole)
        return {
            "emotion": emotion,
            "probabilities": probabilities,
            **_caution_fields(familiarity, quality),
            "duration": round(duration, 3),
            "segments": segments,
            "summary": summary,
            "speakers": None,
            "adaptation": "source" if source else self.default_adaptation,
        }


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


PROGRESS_AFTER_S = 2.0
"""A progress bar shows only once its work has lasted this long (short clips show none)."""


class _NoBar:
    n = 0

    def update(self, n: float = 1) -> None:
        pass


_NO_BAR = _NoBar()


@contextmanager
def _progress_bar(enabled: bool, total: float | None, desc: str, unit: str):
    """A tqdm bar on stderr that appears after :data:`PROGRESS_AFTER_S`, or one that shows nothing."""
    if not enabled:
        yield _NO_BAR
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit=unit, delay=PROGRESS_AFTER_S, leave=False) as bar:
        yield bar


def _file_outcomes(work, names: list[str], n_jobs: int, *, progress: bool = False) -> list[dict]:
    """``_outcome(names[i], lambda: work(i))`` for every file, in order: ``n_jobs`` files at a
    time on threads, never more than the cores (each long file holds its own detector's
    10 minutes of audio); ``progress``: a bar of the files done."""
    with _mapper(max(1, min(n_jobs, len(names), usable_cores()))) as mapper, \
            _progress_bar(progress, len(names), "files", "file") as bar:
        def one(i):
            outcome = _outcome(names[i], lambda: work(i))
            bar.update(1)
            return outcome

        return list(mapper(one, range(len(names))))


@contextmanager
def _mapper(n_jobs: int):
    """``map``, or a thread pool's map for ``n_jobs > 1``; BLAS on one thread either way
    (with two, the threads that analyse clips wait on BLAS's spinning ones: 99 against
    136 ms a clip for ``whisper+functionals`` on two threads, measured on 2 cores)."""
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ParameterError(f"n_jobs={n_jobs!r} must be an integer >= 1")
    with _one_blas_thread():
        if n_jobs == 1:
            yield map
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=int(n_jobs), thread_name_prefix="serkit-features") as pool:
            yield pool.map


def _without_hum(blocks: Iterable[np.ndarray], sr: int, name: str) -> Iterator[np.ndarray]:
    """``blocks`` gathered into runs of up to :data:`HUM_RUN_S`, each checked
    (:func:`~serkit.core.audio.check_peak`) and without its mains hum
    (:func:`~serkit.core.hum.remove_mains_hum`): the removal is paid once for a recording, not
    again by each utterance's features.

    >>> runs = list(_without_hum(iter([np.ones(16000, np.float32)] * 3), 16000, "clip"))
    >>> len(runs), runs[0].shape
    (1, (48000,))
    """
    gathered, count = [], 0
    for block in blocks:
        check_peak(block, name)
        gathered.append(block)
        count += block.shape[-1]
        if count >= HUM_RUN_S * sr:
            run = np.concatenate(gathered)
            gathered, count = [], 0
            yield remove_mains_hum(run, sr)
    if gathered:
        yield remove_mains_hum(np.concatenate(gathered), sr)


class _Samples:
    """One clip's samples, decoded only as far as asked and checked as they come
    (finite, not too loud: :func:`serkit.core.audio.check_peak`), held from the current
    window on.

    >>> samples = _Samples(iter([np.ones(3, np.float32), np.zeros(2, np.float32)]), "clip")
    >>> samples.reach(4), samples.end, samples.reach(6), samples.end
    (True, 5, False, 5)
    """

    def __init__(self, blocks: Iterable[np.ndarray], name: str):
        self._blocks = iter(blocks)
        self.name = name
        self._held = np.zeros(0, dtype=np.float32)
        self._offset = 0  # the sample number of _held[0]

    @property
    def end(self) -> int:
        """Samples decoded so far."""
        return self._offset + self._held.shape[-1]

    def reach(self, n: int) -> bool:
        """Decode until ``n`` samples are in; False if the data ends first."""
        while self.end < n:
            block = next(self._blocks, None)
            if block is None:
                return False
            check_peak(block, self.name)
            self._held = np.concatenate([self._held, block])
        return True

    def take(self, start_s: float, end_s: float, sr: int) -> np.ndarray:
        """The samples from ``start_s`` to ``end_s`` seconds (already decoded, not forgotten)."""
        return self._held[int(round(start_s * sr)) - self._offset : int(round(end_s * sr)) - self._offset]

    def forget_before(self, n: int) -> None:
        """Let go of the samples before sample ``n``."""
        if n > self._offset:
            self._held, self._offset = self._held[n - self._offset :], n

    def all(self) -> np.ndarray:
        """Every sample, decoding to the end (for a clip too short for a timeline: nothing forgotten yet)."""
        while self.reach(self.end + 1):
            pass
        return self._held


def _check_silent(peak: float, name: str) -> None:
    if is_silent(np.array([peak], dtype=np.float32)):
        raise AudioError(f"{name}: silent (nothing to recognise)")


def _normalise_by_speaker(X: np.ndarray, labels: np.ndarray, prior_clips: float) -> np.ndarray:
    """Each speaker's rows standardised by that speaker's statistics, pulled toward the whole
    recording's as if ``prior_clips`` of its pieces were added
    (:data:`~serkit.features.adaptation.SPEAKER_PRIOR_CLIPS` for speakers found by clustering,
    :data:`~serkit.features.adaptation.GIVEN_SPEAKER_PRIOR_CLIPS` for a channel per party)."""
    from serkit.features.adaptation import SourceAdapter

    if len(X) < 2:
        raise ParameterError("speaker normalisation needs at least 2 utterances in the recording")
    return SourceAdapter(min_clips=1, prior_clips=prior_clips).fit_transform(X, labels)


def _voice_names(embeddings: list) -> list[str]:
    """``S1``, ``S2``, … for the voices :func:`~serkit.inference.speakers.find_voices` finds among
    files' embeddings; ``""`` (the batch) for a file without one (too short to carry a voice).

    >>> _voice_names([np.ones(3), None, np.ones(3)])
    ['S1', '', 'S1']
    """
    from serkit.inference.speakers import find_voices, speaker_names

    heard = [i for i, embedding in enumerate(embeddings) if embedding is not None]
    names = [""] * len(embeddings)
    if heard:
        for i, name in zip(heard, speaker_names(find_voices(np.stack([embeddings[i] for i in heard])))):
            names[i] = name
    return names


def _no_speech(speech: Speech) -> dict:
    """The answer for a recording without speech: no emotion, the reason."""
    return {"emotion": None, "probabilities": None, **_caution_fields(None),
            "duration": round(speech.duration_s, 3), "speech_seconds": speech.speech_s, "segments": [],
            "summary": None, "speakers": None, "adaptation": None, "no_speech": speech.no_speech_reason()}


def _weighted_quality(quality: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The pieces' quality rows (clipping score, decay rate) averaged with ``weights``; a piece
    without a decay to measure (``nan``) leaves the decay rate's mean to the others.

    >>> _weighted_quality(np.array([[0.0, 300.0], [0.02, np.nan]]), np.array([1.0, 3.0])).tolist()
    [0.015, 300.0]
    """
    measured = np.isfinite(quality[:, 1])
    decay = weights[measured] @ quality[measured, 1] / weights[measured].sum() if measured.any() else np.nan
    return np.array([weights @ quality[:, 0] / weights.sum(), decay])


def _caution_fields(value, quality=None) -> dict:
    """``{"familiarity": 0.43, "caution": None}``: the caution is :data:`CLIPPING_CAUTION` where
    the clipping score (``quality[0]``) exceeds :data:`~serkit.core.level.CLIPPED_ABOVE`, else
    :data:`REVERBERATION_CAUTION` where the decay rate (``quality[1]``) is under
    :data:`~serkit.core.reverb.REVERBERANT_BELOW` (the more specific reasons, and ones a user can
    fix), else the familiarity's where the value is below
    :data:`serkit.inference.familiarity.CAUTION_BELOW`; familiarity None without statistics."""
    from serkit.inference.familiarity import CAUTION, CAUTION_BELOW

    familiarity = None if value is None else round(float(value), 3)
    if quality is not None and quality[0] > CLIPPED_ABOVE:
        return {"familiarity": familiarity, "caution": CLIPPING_CAUTION}
    if quality is not None and quality[1] < REVERBERANT_BELOW:  # nan (no decay measured) compares False
        return {"familiarity": familiarity, "caution": REVERBERATION_CAUTION}
    return {"familiarity": familiarity, "caution": CAUTION if value is not None and value < CAUTION_BELOW else None}


def _finite(features) -> bool:
    """Whether features (an array, or a bundle's ``{part: array}``) hold only finite values."""
    if isinstance(features, dict):
        return all(_finite(value) for value in features.values())
    return bool(np.all(np.isfinite(features)))


def _outcome(name: str, compute) -> dict:
    """``{"result": compute()}``, or ``{"error": reason}`` for a failure of this one file;
    the reason starts with the file's name (a window-count refusal does not name it)."""
    try:
        return {"result": compute()}
    except SerkitError as error:
        reason = str(error)
        return {"error": reason if reason.startswith(f"{name}: ") else f"{name}: {reason}"}
    except (ValueError, FloatingPointError, MemoryError) as error:  # numerical trouble in one file's features
        return {"error": f"{name}: {type(error).__name__}: {error}"}


def _source_name(source: AudioSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or "<stream>"
