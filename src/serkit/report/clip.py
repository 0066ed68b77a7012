"""Figures of one clip: waveform, spectrograms and the reference's feature tracks.

Each function takes the samples ``y`` (mono) and their rate ``sr`` and returns a
:class:`matplotlib.figure.Figure`; the analysis parameters are librosa's defaults
(``n_fft=2048``, ``hop_length=512``), as in the reference analysis.

Examples
--------
>>> import numpy as np
>>> from serkit.report import waveform_figure, zero_crossing_count
>>> sr = 22050
>>> y = np.sin(2 * np.pi * 100 * np.arange(sr) / sr + np.pi / 4).astype(np.float32)
>>> zero_crossing_count(y)
200
>>> waveform_figure(y, sr).axes[0].get_xlabel()
'Time (s)'
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from serkit.core.exceptions import ParameterError
from serkit.report.style import OKABE_ITO, SEQUENTIAL_CMAP, SPECTROGRAM_CMAP, new_figure, plain_text, styled

N_FFT = 2048
HOP_LENGTH = 512
WAVE_COLOR = "#9a9a9a"
"""Waveforms drawn under feature tracks stay grey so the tracks carry the colour."""


def check_clip(y: np.ndarray, sr: int) -> np.ndarray:
    """Validate a mono clip for drawing; returns it as a float32 array.

    Raises
    ------
    ParameterError
        ``y`` not 1-D, empty, or non-finite, or ``sr`` not a positive integer.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ParameterError(f"y must be mono (1-D), got shape {y.shape}")
    if y.size == 0:
        raise ParameterError("y has no samples")
    if not np.issubdtype(y.dtype, np.floating) or not np.all(np.isfinite(y)):
        raise ParameterError(f"y must hold finite floating-point samples, got dtype {y.dtype}")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer")
    return y.astype(np.float32, copy=False)


def zero_crossing_count(y: np.ndarray) -> int:
    """Total number of zero crossings, as the reference counted them.

    ``sum(librosa.zero_crossings(y, pad=False))``: a crossing is a sign change
    between consecutive samples; samples with ``|y| <= 1e-10`` count as zero and
    zero counts as positive, so a signal touching zero from above does not cross.
    The reference printed 15268 for its clip.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono samples.

    Returns
    -------
    int
        For a sine of ``f`` Hz lasting ``d`` s that never lands exactly on zero,
        ``2 * f * d`` (two crossings per period).
    """
    import librosa

    y = np.asarray(y)
    if y.ndim != 1:
        raise ParameterError(f"y must be mono (1-D), got shape {y.shape}")
    return int(np.sum(librosa.zero_crossings(y, pad=False)))


def _frame_times(n_frames: int, sr: int) -> np.ndarray:
    import librosa

    return librosa.frames_to_time(np.arange(n_frames), sr=sr, hop_length=HOP_LENGTH)


def _wave_under_tracks(ax, y: np.ndarray, sr: int):
    """Grey waveform on ``ax``; returns a twin axis (right, Hz) for feature tracks."""
    import librosa.display

    librosa.display.waveshow(y, sr=sr, ax=ax, color=WAVE_COLOR, alpha=0.6)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Amplitude")
    twin = ax.twinx()
    twin.spines["right"].set_visible(True)
    twin.set_ylabel("Frequency (Hz)")
    return twin


@styled
def waveform_figure(y: np.ndarray, sr: int, *, title: str = "Waveform") -> Figure:
    """Amplitude against time.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono samples.
    sr : int > 0
        Sample rate in Hz.
    title : str
        Axes title.
    """
    import librosa.display

    y = check_clip(y, sr)
    figure, ax = new_figure(height_in=3.0)
    librosa.display.waveshow(y, sr=sr, ax=ax, color=OKABE_ITO[0])
    ax.set(title=plain_text(title), xlabel="Time (s)", ylabel="Amplitude")
    return figure


@styled
def spectrogram_figure(y: np.ndarray, sr: int, *, frequency_scale: str = "linear") -> Figure:
    """Magnitude spectrogram in dB (re. the loudest bin), linear or log frequency axis.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono samples.
    sr : int > 0
        Sample rate in Hz.
    frequency_scale : {"linear", "log"}
        The frequency axis; "log" spreads out the low frequencies where speech
        energy lies.
    """
    import librosa
    import librosa.display

    scales = {"linear": "hz", "log": "log"}
    if frequency_scale not in scales:
        raise ParameterError(f"frequency_scale={frequency_scale!r} must be one of {sorted(scales)}")
    y = check_clip(y, sr)
    spectrum_db = librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH)), ref=np.max)
    figure, ax = new_figure(height_in=3.8)
    mesh = librosa.display.specshow(
        spectrum_db, sr=sr, hop_length=HOP_LENGTH, x_axis="time", y_axis=scales[frequency_scale],
        ax=ax, cmap=SPECTROGRAM_CMAP,
    )
    ax.set(
        title=f"Spectrogram ({frequency_scale} frequency)",
        xlabel="Time (s)",
        ylabel="Frequency (Hz)",
    )
    figure.colorbar(mesh, ax=ax, format="%+.0f dB", label="Level (dB re. max)")
    return figure


@styled
def centroid_rolloff_figure(y: np.ndarray, sr: int, *, roll_percent: float = 0.85) -> Figure:
    """Spectral centroid and roll-off frequency per frame, over the waveform.

    The centroid is where the spectrum's energy is centred; the roll-off is the
    frequency below which ``roll_percent`` of the energy lies.
    """
    import librosa

    y = check_clip(y, sr)
    centroid = librosa.feature.spectral_centroid(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH)[0]
    rolloff = librosa.feature.spectral_rolloff(
        y=y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, roll_percent=roll_percent
    )[0]
    times = _frame_times(centroid.size, sr)
    figure, ax = new_figure(height_in=3.5)
    twin = _wave_under_tracks(ax, y, sr)
    twin.plot(times, centroid, color=OKABE_ITO[0], label="spectral centroid")
    twin.plot(times, rolloff, color=OKABE_ITO[3], label=f"roll-off ({roll_percent:.0%} of energy)")
    twin.set_ylim(bottom=0)
    figure.legend(loc="outside lower center", ncols=2)
    ax.set_title("Spectral centroid and roll-off")
    return figure


@styled
def bandwidth_figure(y: np.ndarray, sr: int, *, orders: tuple[int, ...] = (2, 3, 4)) -> Figure:
    """Spectral bandwidth of order ``p`` per frame, over the waveform.

    The order-``p`` bandwidth is ``(sum_k S[k] |f[k] - centroid|^p)^(1/p)``; a
    larger ``p`` weighs the far-from-centroid energy more.
    """
    import librosa

    y = check_clip(y, sr)
    if not orders:
        raise ParameterError("orders must name at least one bandwidth order p")
    figure, ax = new_figure(height_in=3.5)
    twin = _wave_under_tracks(ax, y, sr)
    for color, p in zip(OKABE_ITO, orders):
        bandwidth = librosa.feature.spectral_bandwidth(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, p=p)[0]
        twin.plot(_frame_times(bandwidth.size, sr), bandwidth, color=color, label=f"p = {p}")
    twin.set_ylim(bottom=0)
    figure.legend(loc="outside lower center", ncols=len(orders))
    ax.set_title("Spectral bandwidth")
    return figure


@styled
def zero_crossing_figure(y: np.ndarray, sr: int) -> Figure:
    """Zero-crossing rate per frame, with the clip's total zero-crossing count.

    The rate is the fraction of sign changes within each ``n_fft``-sample frame
    (librosa's ``zero_crossing_rate``); the count in the title follows
    :func:`zero_crossing_count`.
    """
    import librosa

    y = check_clip(y, sr)
    rate = librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP_LENGTH)[0]
    figure, ax = new_figure(height_in=3.0)
    ax.plot(_frame_times(rate.size, sr), rate, color=OKABE_ITO[2])
    ax.set(
        title=f"Zero-crossing rate (total zero crossings: {zero_crossing_count(y)})",
        xlabel="Time (s)",
        ylabel="Crossings per sample",
    )
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y")
    return figure


@styled
def mfcc_figure(y: np.ndarray, sr: int, *, n_mfcc: int = 20) -> Figure:
    """The ``n_mfcc`` mel-frequency cepstral coefficients over time."""
    import librosa
    import librosa.display

    y = check_clip(y, sr)
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_fft=N_FFT, hop_length=HOP_LENGTH)
    # The first coefficient (overall log energy) dwarfs the others; scale the
    # colours to the rest so their pattern stays visible, and mark the clipping.
    rest = mfcc[1:] if n_mfcc > 1 else mfcc
    vmin, vmax = np.percentile(rest, [1, 99])
    figure, ax = new_figure(height_in=3.8)
    mesh = librosa.display.specshow(
        mfcc, sr=sr, hop_length=HOP_LENGTH, x_axis="time", ax=ax, cmap=SEQUENTIAL_CMAP,
        y_coords=np.arange(1, n_mfcc + 1), vmin=vmin, vmax=vmax,
    )
    ticks = [k for k in (1, 5, 10, 15, 20, 25, 30, 40) if k <= n_mfcc]
    ax.set_yticks(ticks)
    ax.set(title=f"{n_mfcc} MFCCs", xlabel="Time (s)", ylabel="Coefficient")
    figure.colorbar(mesh, ax=ax, label="Value (coefficient 1 clipped)", extend="both")
    return figure


@styled
def chroma_figure(y: np.ndarray, sr: int) -> Figure:
    """Chromagram: energy in each of the 12 pitch classes over time (0–1 per frame)."""
    import librosa
    import librosa.display

    y = check_clip(y, sr)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH)
    figure, ax = new_figure(height_in=3.5)
    mesh = librosa.display.specshow(
        chroma, sr=sr, hop_length=HOP_LENGTH, x_axis="time", y_axis="chroma", ax=ax, cmap=SEQUENTIAL_CMAP,
        vmin=0, vmax=1,
    )
    ax.set(title="Chromagram", xlabel="Time (s)", ylabel="Pitch class")
    figure.colorbar(mesh, ax=ax, label="Relative energy")
    return figure


CLIP_FIGURES = {
    "waveform": waveform_figure,
    "spectrogram_linear": functools.partial(spectrogram_figure, frequency_scale="linear"),
    "spectrogram_log": functools.partial(spectrogram_figure, frequency_scale="log"),
    "centroid_rolloff": centroid_rolloff_figure,
    "bandwidth": bandwidth_figure,
    "zero_crossing_rate": zero_crossing_figure,
    "mfcc": mfcc_figure,
    "chroma": chroma_figure,
}
"""Every single-clip figure by file stem, in the reference's order: ``f(y, sr) -> Figure``."""
