"""On-the-fly augmentation of log-mel batches, for training the CNN on unseen voices.

Each transform works on a padded batch of log-mel spectrograms in dB,
``S_db [shape=(batch, n_mels, n_frames)]`` with a frame ``mask`` (1 = real frame),
draws its random parameters from a ``torch.Generator`` (so a seed fixes a run), and
never touches padded frames. They are cheap enough to run every step on a CPU,
which re-synthesising the waveform each epoch is not:

- :func:`random_gain`: level change (a constant in dB);
- :func:`add_noise`: white noise at a random SNR, added in the power domain;
- :func:`warp_frequency`: vocal-tract-length perturbation (VTLP) — the mel axis
  stretched or squeezed by a factor near 1, the spectral effect of a longer or
  shorter vocal tract (or a pitch/speed change);
- :func:`spec_augment`: SpecAugment time and frequency masks (on standardised input,
  where the mask value 0 is the training mean);
- :func:`mixup`: convex combinations of pairs of clips and of their targets.

Random time shift comes from cropping a random window of each training clip (see
:class:`serkit.models.cnn.CNNClassifier`).

Examples
--------
>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> S_db = torch.full((2, 64, 100), -20.0)
>>> mask = torch.ones(2, 100)
>>> random_gain(S_db, mask, max_gain_db=6.0, generator=g).shape
torch.Size([2, 64, 100])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def _uniform(low: float, high: float, shape, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator)


def random_gain(
    S_db: torch.Tensor, mask: torch.Tensor, *, max_gain_db: float, generator: torch.Generator
) -> torch.Tensor:
    """Add one gain in ``[-max_gain_db, max_gain_db]`` dB per clip (real frames only)."""
    gain_db = _uniform(-max_gain_db, max_gain_db, (S_db.shape[0], 1, 1), generator)
    return S_db + gain_db * mask[:, None, :]


def add_noise(
    S_db: torch.Tensor,
    mask: torch.Tensor,
    *,
    snr_db: tuple[float, float],
    generator: torch.Generator,
) -> torch.Tensor:
    """Add stationary white-ish noise at an SNR drawn from ``snr_db`` per clip.

    The noise power per band is the clip's mean band power over real frames divided
    by the SNR, with Gaussian jitter per time-frequency bin (a noise spectrogram's
    fluctuation), added in the power domain and converted back to dB.
    """
    power = torch.pow(10.0, S_db / 10.0) * mask[:, None, :]
    n_real = mask.sum(dim=1).clamp(min=1.0)[:, None, None]
    signal_power = power.sum(dim=(1, 2), keepdim=True) / (n_real * S_db.shape[1])
    snr = _uniform(snr_db[0], snr_db[1], (S_db.shape[0], 1, 1), generator)
    noise_level = signal_power * torch.pow(10.0, -snr / 10.0)
    jitter = torch.randn(S_db.shape, generator=generator).mul(0.5).exp()
    noisy_db = 10.0 * torch.log10(power + noise_level * jitter + 1e-10)
    return torch.where(mask[:, None, :] > 0, noisy_db, S_db)


def warp_frequency(
    S_db: torch.Tensor, *, max_warp: float, generator: torch.Generator
) -> torch.Tensor:
    """VTLP on the mel axis: band ``m`` takes the value at ``m * alpha``, ``alpha``
    drawn per clip from ``[1 - max_warp, 1 + max_warp]`` (linear interpolation,
    clamped at the top band)."""
    batch, n_mels, _ = S_db.shape
    alpha = _uniform(1.0 - max_warp, 1.0 + max_warp, (batch, 1), generator)
    source = (torch.arange(n_mels, dtype=S_db.dtype)[None, :] * alpha).clamp(max=n_mels - 1)
    lower = source.floor().long()
    upper = (lower + 1).clamp(max=n_mels - 1)
    weight = (source - lower)[:, :, None]
    index_shape = (batch, n_mels, S_db.shape[2])
    below = torch.gather(S_db, 1, lower[:, :, None].expand(index_shape))
    above = torch.gather(S_db, 1, upper[:, :, None].expand(index_shape))
    return below + weight * (above - below)


def spec_augment(
    x: torch.Tensor,
    mask: torch.Tensor,
    *,
    n_time_masks: int,
    max_time_frames: int,
    n_freq_masks: int,
    max_freq_bands: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """SpecAugment: zero ``n_freq_masks`` bands of up to ``max_freq_bands`` and
    ``n_time_masks`` spans of up to ``max_time_frames`` (within each clip's real
    length) per clip. ``x`` is standardised, so 0 is the training mean."""
    batch, n_mels, n_frames = x.shape
    keep = torch.ones_like(x)
    lengths = mask.sum(dim=1)
    bands = torch.arange(n_mels)[None, :]
    frames = torch.arange(n_frames)[None, :]
    for _ in range(n_freq_masks):
        width = torch.randint(0, max_freq_bands + 1, (batch, 1), generator=generator)
        start = (torch.rand((batch, 1), generator=generator) * (n_mels - width + 1)).floor()
        keep = keep * ~((bands >= start) & (bands < start + width))[:, :, None]
    for _ in range(n_time_masks):
        width = torch.randint(0, max_time_frames + 1, (batch, 1), generator=generator)
        width = torch.minimum(width, (lengths[:, None] * 0.2).long())
        start = (torch.rand((batch, 1), generator=generator) * (lengths[:, None] - width + 1)).floor()
        keep = keep * ~((frames >= start) & (frames < start + width))[:, None, :]
    return x * keep


def mixup(
    x: torch.Tensor,
    mask: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mix each clip with a random partner: ``lam * a + (1 - lam) * b`` for inputs
    and one-hot ``targets``; ``lam ~ Beta(alpha, alpha)`` folded to ``>= 0.5`` so
    the first clip dominates; the mixed mask is the union of both."""
    beta = torch.distributions.Beta(alpha, alpha)
    # Beta sampling takes no generator: seed the global RNG from `generator` inside
    # fork_rng, so the run stays reproducible and the caller's global state is untouched.
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lam = beta.sample((x.shape[0],))
    lam = torch.maximum(lam, 1.0 - lam)
    partner = torch.randperm(x.shape[0], generator=generator)
    mixed_x = lam[:, None, None] * x + (1.0 - lam[:, None, None]) * x[partner]
    mixed_targets = lam[:, None] * targets + (1.0 - lam[:, None]) * targets[partner]
    mixed_mask = torch.maximum(mask, mask[partner])
    return mixed_x, mixed_mask, mixed_targets


@dataclass(frozen=True)
class AugmentConfig:
    """How strongly to augment; ``0`` (or ``None`` for ``snr_db``) switches a transform off.

    Examples
    --------
    >>> AugmentConfig().snr_db
    (10.0, 40.0)
    """

    max_gain_db: float = 6.0
    snr_db: tuple[float, float] | None = (10.0, 40.0)
    noise_probability: float = 0.5
    max_warp: float = 0.1
    n_time_masks: int = 2
    max_time_frames: int = 20
    n_freq_masks: int = 2
    max_freq_bands: int = 8
    mixup_alpha: float = 0.2


def augment_db(
    S_db: torch.Tensor, mask: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> torch.Tensor:
    """The signal-level transforms, on dB input: gain, noise (on a random subset), VTLP."""
    if config.max_gain_db > 0:
        S_db = random_gain(S_db, mask, max_gain_db=config.max_gain_db, generator=generator)
    if config.snr_db is not None and config.noise_probability > 0:
        chosen = torch.rand(S_db.shape[0], generator=generator) < config.noise_probability
        noisy = add_noise(S_db, mask, snr_db=config.snr_db, generator=generator)
        S_db = torch.where(chosen[:, None, None], noisy, S_db)
    if config.max_warp > 0:
        S_db = warp_frequency(S_db, max_warp=config.max_warp, generator=generator)
    return S_db
