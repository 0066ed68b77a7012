"""Calls recorded with a channel per party: whose voice each channel's sound is.

A call centre's or a VoIP service's dual-channel recording puts each party on a channel of their
own, and each channel also holds the other party faintly (a line's echo, a headset's crosstalk).
A voice-activity detector finds that leak as speech on an otherwise quiet channel (Silero does
40 dB down), so an utterance found on one channel is kept only where that channel is not far
quieter than another over it (:func:`crosstalk`), measured on each channel's power in 10 ms
frames (:func:`power_envelope`, :class:`PowerMeter` block by block). Written here because the
rule is a comparison of two envelopes, not a library's job.

Examples
--------
>>> import numpy as np
>>> near, leak = np.full(16000, 0.3, np.float32), np.full(16000, 0.003, np.float32)
>>> envelopes = np.stack([power_envelope(near, 16000), power_envelope(leak, 16000)])
>>> crosstalk(envelopes, 1, (0.0, 1.0)), crosstalk(envelopes, 0, (0.0, 1.0))
(True, False)
"""

from __future__ import annotations

import numpy as np

CROSSTALK_DB = 10.0
"""With ``speakers="channels"``, an utterance found on one channel is the other party's voice leaking
in (a line's echo, a headset's crosstalk) when another channel is this much louder over it: it is
dropped. Leaks in call recordings lie 20-40 dB down; two parties talking at once are each loudest
on their own channel unless their levels differ by this much."""
ENVELOPE_S = 0.01


def power_envelope(y: np.ndarray, sr: int, *, hop_s: float = ENVELOPE_S) -> np.ndarray:
    """Mean power of ``y`` in frames of ``hop_s`` seconds (float64; the last partial frame dropped).

    >>> power_envelope(np.full(1600, 0.5, np.float32), 16000).tolist()
    [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]
    """
    hop = max(1, round(hop_s * sr))
    frames = y[: y.shape[-1] // hop * hop].reshape(-1, hop)
    return np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / hop  # summed in float64 without a float64 copy of y


def crosstalk(envelopes: np.ndarray, channel: int, span: tuple[float, float], *, hop_s: float = ENVELOPE_S,
              margin_db: float = CROSSTALK_DB) -> bool:
    """Whether another channel's power (rows of ``envelopes``, :func:`power_envelope`) over ``span``
    (seconds) is at least ``margin_db`` over ``channel``'s: its sound there is the other party's.

    >>> loud, leak = np.ones(100), np.full(100, 1e-3)
    >>> crosstalk(np.stack([loud, leak]), 1, (0.2, 0.8)), crosstalk(np.stack([loud, leak]), 0, (0.2, 0.8))
    (True, False)
    """
    start = int(span[0] / hop_s)
    power = envelopes[:, start:max(start + 1, int(np.ceil(span[1] / hop_s)))].mean(axis=1) + 1e-20
    others = np.delete(power, channel)
    return bool(others.size and 10 * np.log10(others.max() / power[channel]) >= margin_db)


class PowerMeter:
    """:func:`power_envelope` of a stream fed block by block (a block's partial frame waits for the next).

    >>> meter = PowerMeter(16000)
    >>> meter.feed(np.full(250, 0.5, np.float32)); meter.feed(np.full(90, 0.5, np.float32))
    >>> meter.finish().tolist()
    [0.25, 0.25]
    """

    def __init__(self, sr: int, *, hop_s: float = ENVELOPE_S):
        self.sr, self.hop_s, self.hop = sr, hop_s, max(1, round(hop_s * sr))
        self._rest, self._frames = np.zeros(0, np.float32), []

    def feed(self, y: np.ndarray) -> None:
        y = np.concatenate([self._rest, y])
        whole = y.shape[-1] // self.hop * self.hop
        self._frames.append(power_envelope(y[:whole], self.sr, hop_s=self.hop_s))
        self._rest = y[whole:]

    def finish(self) -> np.ndarray:
        return np.concatenate([np.zeros(0), *self._frames])
