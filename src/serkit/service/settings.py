"""Service settings: limits and the model, from arguments or ``SERKIT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from serkit.exceptions import ParameterError


@dataclass(frozen=True)
class Settings:
    """What ``serkit serve`` is configured with.

    Parameters
    ----------
    model_dir : str or None
        A saved model; None = the bundled default.
    max_upload_bytes : int > 0
        Largest request body accepted (413 above it, refused before reading it all).
    max_duration_s : float > 0
        Longest audio accepted, read from the file header before decoding (422 above it).

    Examples
    --------
    >>> Settings(max_duration_s=30).max_duration_s
    30
    """

    model_dir: str | None = None
    max_upload_bytes: int = 50 * 1024 * 1024
    max_duration_s: float = 300.0

    def __post_init__(self):
        if self.max_upload_bytes <= 0:
            raise ParameterError(f"max_upload_bytes={self.max_upload_bytes!r} must be positive")
        if self.max_duration_s <= 0:
            raise ParameterError(f"max_duration_s={self.max_duration_s!r} must be positive")


def get_settings() -> Settings:
    """Settings from ``SERKIT_MODEL_DIR``, ``SERKIT_MAX_UPLOAD_BYTES``, ``SERKIT_MAX_DURATION_S``."""
    env = os.environ
    try:
        return Settings(
            model_dir=env.get("SERKIT_MODEL_DIR") or None,
            max_upload_bytes=int(env.get("SERKIT_MAX_UPLOAD_BYTES", Settings.max_upload_bytes)),
            max_duration_s=float(env.get("SERKIT_MAX_DURATION_S", Settings.max_duration_s)),
        )
    except ValueError as error:
        raise ParameterError(f"bad SERKIT_* setting in the environment ({error})") from None
