"""Audio in through FFmpeg (PyAV): what phones and browsers record, and MP3.

AAC in m4a/MP4, WebM/Opus from a browser's MediaRecorder, AMR, ALAC, WMA and the
other containers in :data:`DEMUXERS`. :mod:`serkit.core.audio` tries libsndfile first
and comes here for files it does not recognise, so WAV, FLAC and Ogg decode as
``librosa.load`` decodes them, and for MP3, which libsndfile 1.2 decodes wrongly
block by block (FFmpeg's samples agree with a whole-file libsndfile read within
2e-6).

Untrusted files stay inside their bytes: FFmpeg reads them through a Python file
object (no URL, no protocol) and only with the demuxers listed in
:data:`DEMUXERS`, so a playlist or concat script naming other files or URLs is
refused rather than followed.

Examples
--------
>>> import av, io, numpy as np
>>> encoded = io.BytesIO()
>>> with av.open(encoded, "w", format="mp4") as container:
...     stream = container.add_stream("aac", rate=16000, layout="mono")
...     frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
...     frame.rate = 16000
...     for packet in [*stream.encode(frame), *stream.encode(None)]:
...         container.mux(packet)
>>> _ = encoded.seek(0)
>>> decoder = PyAVDecoder(encoded, "clip.m4a")
>>> decoder.format, decoder.subtype, decoder.sample_rate, decoder.channels
('MP4', 'aac', 16000, 1)
>>> decoder.frames >= 16000, sum(block.shape[0] for block in decoder.blocks(4096)) >= 16000
(True, True)
"""

from __future__ import annotations

import math
import os
from typing import BinaryIO, Iterator

import numpy as np

from serkit.core.exceptions import AudioError

DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "ogg",
    "amr",
    "amrnb",
    "amrwb",
    "aac",
    "mp3",
    "asf",
    "caf",
    "wav",
    "w64",
    "flac",
    "aiff",
    "au",
    "ac3",
    "eac3",
)
"""FFmpeg demuxers an audio file may use: audio containers and the recorders' video
containers. Playlists (HLS, DASH), concat scripts, image sequences and devices are
not listed: they would open other files or URLs."""

_FORMAT_NAMES = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4", "matroska,webm": "WEBM"}
"""Short names for ``serkit info`` where FFmpeg's demuxer name lists its aliases."""


class PyAVDecoder:
    """The first audio stream of a file FFmpeg reads, described from the container and
    decoded to float32 ``(frames, channels)`` blocks.

    Parameters
    ----------
    source : path or binary file object
        A path is opened here, as a file (never handed to FFmpeg, which would read
        a URL); a file object is read from its current position.
    name : str
        The file's name, for messages.

    Attributes
    ----------
    sample_rate, channels : int
    frames : int or None
        Frames the container claims (None where it does not say, as in a
        MediaRecorder WebM): a claim, verified by decoding.
    format, subtype : str
        Container and codec, e.g. ``"MP4"`` and ``"aac"``.

    Raises
    ------
    AudioError
        Not a container FFmpeg may read (:data:`DEMUXERS`), or no audio stream in it.
    """

    def __init__(self, source: str | os.PathLike | BinaryIO, name: str):
        import av

        self.name = name
        self._owned = open(source, "rb") if isinstance(source, (str, os.PathLike)) else None
        try:
            self._container = av.open(self._owned or source, "r", options={"format_whitelist": ",".join(DEMUXERS)})
        except av.ArgumentError:  # the demuxer FFmpeg found is not in DEMUXERS
            self._close_owned()
            raise AudioError(f"{name}: not readable as audio (not an audio format serkit reads)") from None
        except av.InvalidDataError:  # no demuxer recognised the data, or a known container is broken
            self._close_owned()
            raise AudioError(f"{name}: not readable as audio (format not recognised, or a broken file)") from None
        except (av.FFmpegError, ValueError, OSError) as error:
            self._close_owned()
            raise AudioError(f"{name}: not readable as audio ({_reason(error)})") from None
        if not self._container.streams.audio:
            self.close()
            raise AudioError(f"{name}: no audio stream in this {self._container.format.name} file")
        self._stream = self._container.streams.audio[0]
        context = self._stream.codec_context
        self.sample_rate = int(context.sample_rate or 0)
        self.channels = int(context.channels or 0)
        self.format = _FORMAT_NAMES.get(self._container.format.name, self._container.format.name.upper())
        self.subtype = context.name
        self.frames = self._claimed_frames()
        if self.channels < 1:
            self.close()
            raise AudioError(f"{name}: its audio stream declares no channels (header broken or crafted)")

    def _claimed_frames(self) -> int | None:
        """Frames from the stream's duration, else the container's; None if neither is known."""
        if self._stream.duration is not None and self._stream.time_base:
            seconds = float(self._stream.duration * self._stream.time_base)
        elif self._container.duration is not None:
            seconds = self._container.duration / 1_000_000  # AV_TIME_BASE
        else:
            return None
        return max(0, round(seconds * self.sample_rate)) if math.isfinite(seconds) else None

    def blocks(self, frames: int) -> Iterator[np.ndarray]:
        """float32 blocks of about ``frames`` frames, shape ``(n, channels)``, until the data ends.

        Raises :class:`AudioError` for data FFmpeg cannot decode or a frame whose
        channel count differs from the stream's.
        """
        import av

        to_float = av.AudioResampler(format="flt")  # interleaved float32, same layout and rate
        pending, held = [], 0
        try:
            for frame in self._container.decode(self._stream):
                for converted in to_float.resample(frame):
                    pending.append(self._interleaved(converted))
                    held += pending[-1].shape[0]
                if held >= frames:
                    yield np.concatenate(pending)
                    pending, held = [], 0
        except (av.FFmpegError, ValueError) as error:
            raise AudioError(f"{self.name}: decoding failed ({_reason(error)})") from None
        if pending:
            yield np.concatenate(pending)

    def _interleaved(self, frame) -> np.ndarray:
        samples = frame.to_ndarray().reshape(-1)
        channels = len(frame.layout.channels)
        if channels != self.channels:
            raise AudioError(f"{self.name}: a frame has {channels} channels, the stream {self.channels} (broken file)")
        return samples.reshape(-1, channels)

    def close(self) -> None:
        self._container.close()
        self._close_owned()

    def _close_owned(self) -> None:
        if self._owned is not None:
            self._owned.close()


def _reason(error: Exception) -> str:
    """FFmpeg's reason without the file name PyAV appends (``"...: '<none>'"``)."""
    return (getattr(error, "strerror", None) or str(error)).strip().rstrip(".")
