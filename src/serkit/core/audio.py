"""Audio in: any file libsndfile or FFmpeg reads → mono float32 at a target rate, validated.

For what libsndfile reads (WAV, FLAC, Ogg, AIFF, …) this is exactly what
``librosa.load(path)`` does (soundfile decode to float32, mean over channels, soxr
"HQ" resampling, length fixed to ``ceil(n * sr / orig_sr)``), so features computed
on it agree with the reference analysis (one exception: a channel in opposite polarity to
the others is inverted before the mix, where librosa's mean cancels the voice; see
:func:`to_mono`). MP3 and the files libsndfile does not recognise (AAC in m4a/MP4,
WebM/Opus, AMR, ALAC, …) are decoded by FFmpeg through PyAV (:mod:`serkit.core.pyav_audio`),
then treated the same way. Every failure is one :class:`~serkit.core.exceptions.AudioError`
naming the file and the reason.

Examples
--------
>>> import numpy as np, soundfile as sf, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
>>> sf.write(path, 0.1 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000), 48000)
>>> y, sr = load_audio(path)
>>> sr, y.dtype, y.shape
(22050, dtype('float32'), (22050,))
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, BinaryIO, Iterator, Union

import numpy as np
import soundfile as sf

from serkit.core.exceptions import AudioError, ParameterError

if TYPE_CHECKING:
    from serkit.core.pyav_audio import PyAVDecoder

DEFAULT_SR = 22050
"""librosa's default rate, the one the reference analysis used."""

MIN_SAMPLES = 2048
"""Shortest usable signal at the target rate: one analysis window (``n_fft``)."""

MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 768_000
"""Sample rates a file may declare (Hz). Outside them its header is crafted or broken:
resampling 1 Hz to 22050 Hz would turn a 16 kB file into 1.3 GB of samples."""

MAX_PEAK = 1e3
"""Largest sample magnitude a clip's features are computed from (60 dB above full
scale): no recording is louder, and far louder float samples overflow the spectra to inf."""


def check_peak(y: np.ndarray, name: str) -> float:
    """The peak of ``y``; :class:`AudioError` naming ``name`` if a sample is non-finite
    or beyond :data:`MAX_PEAK`.

    >>> check_peak(np.array([0.5, -0.25], dtype=np.float32), "clip.wav")
    0.5
    """
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if not math.isfinite(peak):
        raise AudioError(f"{name}: contains non-finite samples (NaN or inf)")
    if peak > MAX_PEAK:
        raise AudioError(f"{name}: samples reach {peak:.3g}, beyond any recording (float audio lies within ±1)")
    return peak

SILENCE_DB = -60.0
"""Peak level (dBFS) under which a clip counts as silent. Peak, not RMS: quiet but real
RAVDESS takes reach -64 dBFS RMS while their peaks stay above -48 dBFS."""

BLOCK_SAMPLES = 1 << 18
"""Samples (frames × channels) decoded at a time by :class:`AudioStream`: 1 MiB of float32,
about 6 s of mono 44.1 kHz, whatever the channel count the header claims."""

AudioSource = Union[str, os.PathLike, BinaryIO]


class SilentAudioWarning(UserWarning):
    """The clip loaded fine but holds (almost) nothing but silence."""


@dataclass(frozen=True)
class AudioInfo:
    """What ``serkit info`` prints about one file (as stored, before resampling)."""

    path: str
    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    peak: float
    rms: float
    rms_db: float
    silent: bool
    mains_hum_hz: float | None = None
    """A mains hum's fundamental in the first :data:`HUM_LOOK_S` seconds (:func:`serkit.core.hum.mains_hum`)."""
    mains_hum_db: float | None = None
    """Its share of their power (dB): at :data:`serkit.core.hum.HUM_SHARE_DB` or more it is taken out."""
    decay_rate: float | None = None
    """How fast the sound of those seconds dies away (dB/s, :func:`serkit.core.reverb.decay_rate`; None
    with nothing to measure): under :data:`serkit.core.reverb.REVERBERANT_BELOW` its speech sounds reverberant."""

    def to_dict(self) -> dict:
        return asdict(self)


def _name(source: AudioSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or "<stream>"


_FILE_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def check_regular_file(path: str | os.PathLike) -> os.stat_result:
    """Raise :class:`AudioError` unless ``path`` is a non-empty regular file; return its stat.

    Checked before anything opens the file: opening a FIFO blocks until a writer
    comes, and a link to ``/dev/zero`` never ends, so neither may reach a reader.

    >>> check_regular_file("/dev/null")
    Traceback (most recent call last):
    serkit.core.exceptions.AudioError: /dev/null: not a regular file (a character device)
    """
    name = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise AudioError(f"{name}: file not found") from None
    except OSError as error:
        raise AudioError(f"{name}: cannot be read ({error.strerror or type(error).__name__})") from None
    if stat.S_ISDIR(info.st_mode):
        raise AudioError(f"{name}: is a directory, not an audio file")
    if not stat.S_ISREG(info.st_mode):
        raise AudioError(f"{name}: not a regular file ({_FILE_KINDS.get(stat.S_IFMT(info.st_mode), 'special file')})")
    if info.st_size == 0:
        raise AudioError(f"{name}: empty file (0 bytes)")
    return info


def _open(source: AudioSource) -> "_SoundfileDecoder | PyAVDecoder":
    """A decoder for ``source``: libsndfile for what it recognises but MPEG audio, else FFmpeg (PyAV)."""
    name = _name(source)
    if isinstance(source, (str, os.PathLike)):
        check_regular_file(source)
    start = None if isinstance(source, (str, os.PathLike)) else source.tell()
    decoder = None if _starts_like_mpeg(source) else _open_soundfile(source, name)
    if decoder is None:
        from serkit.core.pyav_audio import PyAVDecoder

        if start is not None:
            source.seek(start)
        decoder = PyAVDecoder(source, name)
    if not MIN_SAMPLE_RATE <= decoder.sample_rate <= MAX_SAMPLE_RATE:
        decoder.close()
        raise AudioError(
            f"{name}: sample rate {decoder.sample_rate} Hz outside {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz (header broken or crafted)"
        )
    return decoder


def _starts_like_mpeg(source: AudioSource) -> bool:
    """Whether the data starts with an ID3 tag or an MPEG audio frame sync.

    MPEG audio goes to FFmpeg, not libsndfile: libsndfile 1.2's MP3 reader returns
    wrong samples after the first of several reads, trusts a Xing header's frame
    count, and its libmpg123 prints notes on broken data straight to stderr.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            head = file.read(3)
    else:
        start = source.tell()
        head = source.read(3)
        source.seek(start)
    return head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


_NOT_RECOGNISED = ("Format not recognised", "possibly a pipe")
"""libsndfile's errors for a file none of its formats reads (the second when its MPEG
reader gave up on the data): left to FFmpeg, which may know the format."""


def _open_soundfile(source: AudioSource, name: str) -> "_SoundfileDecoder | None":
    """libsndfile's decoder; None if it does not recognise the format or finds MPEG
    audio (:func:`_starts_like_mpeg`); AudioError if it recognises a broken file."""
    try:
        file = sf.SoundFile(source)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        reason = str(error).split(":")[-1].strip() or type(error).__name__
        if any(marker in reason for marker in _NOT_RECOGNISED):
            return None
        raise AudioError(f"{name}: not readable as audio ({reason})") from None
    if file.format == "MP3" or file.subtype.startswith("MPEG"):
        file.close()
        return None
    return _SoundfileDecoder(file, name)


class _SoundfileDecoder:
    """A file libsndfile opened, decoded to float32 ``(frames, channels)`` blocks.

    Blocks come from ``SoundFile.read``, which returns what was really decoded:
    ``SoundFile.blocks`` sizes its blocks from the header's frame count, so for a
    header claiming more frames than the file holds it keeps yielding its reused
    buffer, stale samples, until the claim is used up.
    """

    def __init__(self, file: sf.SoundFile, name: str):
        self._file, self.name = file, name
        self.sample_rate, self.channels, self.frames = file.samplerate, file.channels, file.frames
        self.format, self.subtype = file.format, file.subtype

    def blocks(self, frames: int) -> Iterator[np.ndarray]:
        """float32 blocks of up to ``frames`` frames until the data ends (never past the header's count)."""
        while True:
            try:
                block = self._file.read(frames, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as error:
                raise AudioError(f"{self.name}: decoding failed ({error})") from None
            if block.shape[0] == 0:
                return
            yield block

    def close(self) -> None:
        self._file.close()


def rms_db(y: np.ndarray) -> float:
    """Root-mean-square level of ``y`` in dB relative to full scale (-inf for zeros).

    >>> round(rms_db(np.full(100, 0.1, dtype=np.float32)), 1)
    -20.0
    """
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    return _to_db(rms)


def _to_db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def is_silent(y: np.ndarray, *, threshold_db: float = SILENCE_DB) -> bool:
    """True when the peak level of ``y`` is below ``threshold_db`` dBFS.

    >>> is_silent(np.zeros(1000, dtype=np.float32)), is_silent(np.full(10, 0.01, dtype=np.float32))
    (True, False)
    """
    return _peak_is_silent(float(np.max(np.abs(y))) if y.size else 0.0, threshold_db)


def _peak_is_silent(peak: float, threshold_db: float = SILENCE_DB) -> bool:
    return peak < 10 ** (threshold_db / 20)


def to_mono(y: np.ndarray) -> np.ndarray:
    """Average channels: ``(n,)`` stays, ``(n, channels)`` (soundfile's layout) → ``(n,)``.

    A channel in opposite polarity to the loudest (:func:`channel_polarities`) is inverted
    before the average; any other block is averaged as librosa averages it.

    >>> voice = np.sin(np.arange(2000) / 7).astype(np.float32)
    >>> to_mono(np.stack([voice, -voice], axis=1)).tolist() == voice.tolist()
    True
    """
    if y.ndim == 1:
        return y
    polarities = channel_polarities(y)
    return y.mean(axis=1) if np.all(polarities > 0) else (y * polarities).mean(axis=1)


ANTIPHASE_CORRELATION = -0.5
"""A channel whose correlation with the loudest channel is under this is in opposite polarity.

Many laptops' internal microphone arrays deliver a stereo pair with one channel inverted, as does
a cable with its two poles swapped. Averaged as recorded, the two cancel: a clear voice comes out
silent ("no speech"), or 20-30 dB quieter and thinned when the two are not exact opposites. Two
independent sources (two parties on two channels, a room's ambience) correlate near 0 and a
stereo microphone's channels positively, so nothing else is inverted."""


POLARITY_STRIDE = 16
"""The correlations are estimated on every 16th frame (8192 of a decoded stereo block): 0.36 ms a block,
against 2.5 ms for its mixing and 3.0 ms for its resampling from 48 kHz; with every frame the check
cost 4.7 ms."""


def channel_polarities(y: np.ndarray) -> np.ndarray:
    """+1 per channel of ``(n, channels)`` samples, −1 where its correlation with the loudest
    channel (both with their means removed, every :data:`POLARITY_STRIDE`-th frame) is under
    :data:`ANTIPHASE_CORRELATION`; signed so that the first channel keeps its polarity (the
    features carry a fixed noise floor, so a mix's sign moves its answer a little).

    >>> voice = np.sin(np.arange(2000) / 7)
    >>> channel_polarities(np.stack([voice, -0.9 * voice, np.zeros_like(voice)], axis=1)).tolist()
    [1.0, -1.0, 1.0]
    """
    sampled = y[::POLARITY_STRIDE]
    if sampled.shape[0] == 0:
        return np.ones(y.shape[1], dtype=y.dtype)
    centred = sampled - sampled.mean(axis=0, dtype=np.float64)
    energy = np.einsum("ij,ij->j", centred, centred)
    loudest = int(np.argmax(energy))
    correlation = (centred.T @ centred[:, loudest]) / np.sqrt(np.maximum(energy * energy[loudest], 1e-30))
    polarities = np.where(correlation < ANTIPHASE_CORRELATION, -1.0, 1.0)
    return (polarities * polarities[0]).astype(y.dtype)


def remove_dc(y: np.ndarray) -> np.ndarray:
    """``y`` minus its mean: a recorder's constant offset (DC) taken out.

    Sound pressure has no constant part, so a clip's mean is its recorder's offset (cheap
    microphones and sound cards leave 0.001-0.02 of full scale); the shared corpora have
    next to none (median 1e-6 of full scale), and the bundled model changed its answer for 10 %
    of their clips at an offset of 0.005 before it was taken out. The mean is taken in float64;
    the dtype is kept.

    >>> y = np.array([0.25, -0.25, 0.25, -0.25], dtype=np.float32) + np.float32(0.02)
    >>> remove_dc(y).tolist(), remove_dc(y).dtype
    ([0.25, -0.25, 0.25, -0.25], dtype('float32'))
    """
    y = np.asarray(y)
    return y - np.asarray(np.mean(y, dtype=np.float64), dtype=y.dtype)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """soxr "HQ" resampling with librosa's output length, ``ceil(n * target / orig)``."""
    if orig_sr == target_sr:
        return y
    import soxr

    y_hat = soxr.resample(y, orig_sr, target_sr, quality="soxr_hq")
    return np.asarray(_fix_length(y_hat, resampled_length(y.shape[-1], orig_sr=orig_sr, target_sr=target_sr)), dtype=y.dtype)


def resampled_length(n: int, *, orig_sr: int, target_sr: int) -> int:
    """Samples that ``n`` samples at ``orig_sr`` become at ``target_sr`` (librosa's rule).

    >>> resampled_length(48000, orig_sr=48000, target_sr=22050)
    22050
    """
    return n if orig_sr == target_sr else int(math.ceil(n * target_sr / orig_sr))


def _fix_length(y: np.ndarray, n: int) -> np.ndarray:
    if y.shape[-1] > n:
        return y[:n]
    return np.pad(y, (0, n - y.shape[-1])) if y.shape[-1] < n else y


class AudioStream:
    """An audio file opened and checked from its header, then decoded whole or block by block.

    Both ways give mono float32 at ``sr``, decoding :data:`BLOCK_SAMPLES` at a time and
    mixing each block to mono: :meth:`read` is :func:`load_audio`'s result (one-shot
    soxr on the whole mono signal); :meth:`blocks` holds one block at a time (soxr's
    streaming resampler), so an hour of audio never sits in memory. Both give
    ``ceil(frames * sr / orig_sr)`` samples for the frames really decoded, and the
    same values (soxr's streaming and one-shot resamplers agree).

    The header's length (:attr:`n_samples`) is a claim: it is checked against
    ``max_duration_s`` before decoding, and decoding stops where the data does,
    whatever it claimed, and refuses data running past ``max_duration_s``.

    Parameters
    ----------
    source : str, path-like or binary file object
        Anything libsndfile reads, else anything FFmpeg reads (:mod:`serkit.core.pyav_audio`).
    sr : int > 0 or None
        Target rate; None keeps the file's.
    max_duration_s : float > 0 or None
        Longest accepted duration: from the header before any decoding, then from
        what is decoded.
    channel : int >= 0 or None
        One channel (0: the first) instead of the channels' mix: a call recorded with each
        party on a channel of their own.

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(path, 0.1 * np.sin(np.arange(96000) / 10), 48000)
    >>> with AudioStream(path, sr=16000) as stream:
    ...     stream.n_samples, sum(block.size for block in stream.blocks()), stream.channels
    (32000, 32000, 1)
    """

    def __init__(self, source: AudioSource, *, sr: int | None = DEFAULT_SR, max_duration_s: float | None = None,
                 channel: int | None = None):
        if sr is not None and (not isinstance(sr, (int, np.integer)) or sr <= 0):
            raise ParameterError(f"sr={sr!r} must be a positive integer or None")
        if channel is not None and (not isinstance(channel, (int, np.integer)) or isinstance(channel, bool) or channel < 0):
            raise ParameterError(f"channel={channel!r} must be an integer >= 0 or None")
        self.name = _name(source)
        self._decoder = _open(source)
        self.channels = int(self._decoder.channels)
        """Channels the file holds."""
        if channel is not None and channel >= self.channels:
            self.close()
            raise AudioError(f"{self.name}: has {self.channels} channel(s), not a channel {channel + 1}")
        self.channel = channel
        self.orig_sr = self._decoder.sample_rate
        frames = self._decoder.frames
        if frames == 0:
            self.close()
            raise AudioError(f"{self.name}: no audio samples (empty)")
        if max_duration_s is not None and frames is not None and frames / self.orig_sr > max_duration_s:
            self.close()
            raise AudioError(f"{self.name}: too long ({frames / self.orig_sr:.1f} s > {max_duration_s:g} s)")
        self.max_duration_s = max_duration_s
        self.sr = self.orig_sr if sr is None else int(sr)
        self.n_samples = None if frames is None else resampled_length(frames, orig_sr=self.orig_sr, target_sr=self.sr)
        """Samples the header claims at :attr:`sr` (None where the container does not say)."""

    @property
    def duration_s(self) -> float | None:
        """Duration after resampling, as the header claims it (None if it does not say)."""
        return None if self.n_samples is None else self.n_samples / self.sr

    def read(self) -> np.ndarray:
        """All samples, mono float32 at :attr:`sr` (length from what was decoded)."""
        y = np.concatenate([np.zeros(0, dtype=np.float32), *self._mono_blocks()])
        if y.size == 0:
            raise AudioError(f"{self.name}: no audio samples (empty)")
        return resample(y, orig_sr=self.orig_sr, target_sr=self.sr)

    def blocks(self) -> Iterator[np.ndarray]:
        """Mono float32 blocks at :attr:`sr` until the data ends, ``ceil(frames * sr / orig_sr)`` samples in all."""
        if self.orig_sr == self.sr:
            yield from self._mono_blocks()
            return
        import soxr

        resampler = soxr.ResampleStream(self.orig_sr, self.sr, 1, dtype="float32", quality="HQ")
        frames = produced = 0
        for block in self._mono_blocks():
            frames += block.shape[-1]
            y = resampler.resample_chunk(block)
            produced += y.shape[-1]
            yield y
        # soxr holds back its filter's delay until the end: the tail, to librosa's length
        tail = _fix_length(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True),
                           max(0, resampled_length(frames, orig_sr=self.orig_sr, target_sr=self.sr) - produced))
        yield np.ascontiguousarray(tail, dtype=np.float32)

    def _mono_blocks(self) -> Iterator[np.ndarray]:
        """The file as decoded, mixed to mono (or its :attr:`channel`) and checked finite and not too long, block by block."""
        blocksize = max(1024, BLOCK_SAMPLES // max(1, self._decoder.channels))
        limit = None if self.max_duration_s is None else self.max_duration_s * self.orig_sr
        frames = 0
        for block in self._decoder.blocks(blocksize):
            frames += block.shape[0]
            if limit is not None and frames > limit:
                raise AudioError(f"{self.name}: too long (decodes to more than {self.max_duration_s:g} s)")
            yield self._checked(to_mono(block) if self.channel is None else np.ascontiguousarray(block[:, self.channel]))

    def _checked(self, y: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(y)):
            raise AudioError(f"{self.name}: contains non-finite samples (NaN or inf)")
        return y

    def close(self) -> None:
        self._decoder.close()

    def __enter__(self) -> "AudioStream":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def load_audio(
    source: AudioSource,
    *,
    sr: int | None = DEFAULT_SR,
    min_samples: int = MIN_SAMPLES,
    max_duration_s: float | None = None,
    warn_silent: bool = True,
) -> tuple[np.ndarray, int]:
    """Load audio as mono float32 at ``sr``, validated.

    Parameters
    ----------
    source : str, path-like or binary file object
        Any file libsndfile reads (WAV, FLAC, OGG, AIFF, MP3, …) or FFmpeg reads
        (m4a/AAC, MP4, WebM/Opus, AMR, ALAC, …), any rate and bit depth.
    sr : int > 0 or None
        Target sample rate in Hz; ``None`` keeps the file's own rate.
    min_samples : int >= 1
        Fewest samples accepted after resampling (default one 2048-sample window).
    max_duration_s : float > 0 or None
        Longest accepted duration, checked from the header before decoding.
    warn_silent : bool
        Emit :class:`SilentAudioWarning` for a clip below :data:`SILENCE_DB`.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
    sr : int

    Raises
    ------
    AudioError
        Missing, unreadable, non-regular or non-audio file, a sample rate outside
        :data:`MIN_SAMPLE_RATE`–:data:`MAX_SAMPLE_RATE`, no samples, shorter than
        ``min_samples``, longer than ``max_duration_s``, or non-finite samples.
    ParameterError
        ``sr`` or ``min_samples`` out of range.
    """
    if min_samples < 1:
        raise ParameterError(f"min_samples={min_samples!r} must be >= 1")
    with AudioStream(source, sr=sr, max_duration_s=max_duration_s) as stream:
        y, name, target_sr = stream.read(), stream.name, stream.sr
    if y.shape[-1] < min_samples:
        raise AudioError(
            f"{name}: too short ({y.shape[-1] / target_sr * 1000:.0f} ms, "
            f"{y.shape[-1]} samples < {min_samples} at {target_sr} Hz)"
        )
    if warn_silent and is_silent(y):
        warnings.warn(f"{name}: silent (peak below {SILENCE_DB:g} dBFS)", SilentAudioWarning, stacklevel=2)
    return np.ascontiguousarray(y, dtype=np.float32), target_sr


HUM_LOOK_S = 60
"""``serkit info`` looks for a mains hum in a file's first minute (a hum lasts the whole recording)."""


def audio_info(source: AudioSource, *, block_frames: int = 1 << 16) -> AudioInfo:
    """Describe a file as stored: format, rate, channels, duration, peak, RMS, any mains hum and its decay rate.

    The file is read ``block_frames`` at a time, so describing an hour of audio, or
    a header claiming terabytes, holds one block in memory (and its first
    :data:`HUM_LOOK_S` seconds, mixed to mono, for the mains hum and the decay rate). Raises
    :class:`AudioError` like :func:`load_audio` for unusable files.
    """
    from serkit.core.hum import mains_hum
    from serkit.core.reverb import decay_rate

    frames, peak, sum_squares, finite, start = 0, 0.0, 0.0, True, []
    decoder = _open(source)
    with contextlib.closing(decoder):
        for block in decoder.blocks(block_frames):
            frames += block.shape[0]
            if block.size and finite:
                finite = bool(np.all(np.isfinite(block)))
                peak = max(peak, float(np.max(np.abs(block))))
                sum_squares += float(np.sum(np.square(block, dtype=np.float64)))
                if frames - block.shape[0] < HUM_LOOK_S * decoder.sample_rate:
                    start.append(to_mono(np.asarray(block, dtype=np.float32)))
    fmt, subtype, sample_rate, channels = decoder.format, decoder.subtype, decoder.sample_rate, decoder.channels
    rms = math.sqrt(sum_squares / (frames * channels)) if frames and finite else (0.0 if finite else float("nan"))
    first = np.concatenate(start)[: HUM_LOOK_S * sample_rate] if finite and start else None
    hum = None if first is None else mains_hum(first, sample_rate)
    decay = float("nan") if first is None else decay_rate(first, sample_rate)
    return AudioInfo(
        path=_name(source),
        format=fmt,
        subtype=subtype,
        sample_rate=sample_rate,
        channels=channels,
        frames=frames,
        duration_s=frames / sample_rate if sample_rate else 0.0,
        peak=peak if finite else float("nan"),
        rms=rms,
        rms_db=_to_db(rms) if finite else float("nan"),
        silent=finite and _peak_is_silent(peak),
        mains_hum_hz=None if hum is None else round(hum.fundamental_hz, 2),
        mains_hum_db=None if hum is None else round(hum.share_db, 1),
        decay_rate=None if math.isnan(decay) else round(decay, 1),
    )
