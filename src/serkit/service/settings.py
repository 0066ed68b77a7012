"""Service settings: limits and the model, from arguments or ``SERKIT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from serkit.core.exceptions import ParameterError


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
    max_concurrent : int > 0
        Predictions running at once (default: the CPU cores, os.cpu_count()).
    prediction_workers : int >= 0
        Worker processes that run the predictions, each loading the model of
        ``model_dir`` once (:class:`serkit.service.pool.PredictionPool`); 0 (the
        default here) runs them in threads of the server process, which is what an
        app given a loaded ``predictor`` does. ``serkit serve`` defaults to the cores.
    max_queued : int >= 0
        Predictions waiting for one of those (default: 4 per core); a request past
        both gets 503 with ``Retry-After`` at once, before its upload is read.
    expose_details : bool
        Also show, at ``/v1/model``, the library versions, the training command and
        the corpus path saved with the model (default off: they help an attacker,
        not a user).
    max_inflight_bytes : int > 0
        Upload bytes all requests together may hold at once (default 200 MiB), counted
        from each request's ``Content-Length`` (a chunked one counts as the largest
        upload) when it arrives; a request that would pass it gets 503 with
        ``Retry-After`` before its body is read (:mod:`serkit.service.admission`).
        At least ``max_upload_bytes`` plus :data:`MULTIPART_OVERHEAD`.
    upload_timeout_s : float > 0
        Seconds a request's whole body may take to arrive (408 after them).
    header_timeout_s : float > 0
        Seconds a connection may take to send a request's headers, from its opening or
        the end of its previous answer; it is closed after them
        (:mod:`serkit.service.connections`, ``serkit serve`` only).
    max_connections : int > 0
        Connections (and requests) at once; past them uvicorn answers 503
        (``serkit serve`` only).
    allowed_hosts : tuple of str or None
        ``Host`` headers answered (Starlette's ``TrustedHostMiddleware``; ``*.example.org``
        and ``*`` allowed); any other gets 400. None: any (``create_app``'s default;
        ``serkit serve`` defaults to the localhost names and the bind address).
    cors_origins : tuple of str
        Origins whose pages may call the API from a browser (CORS); empty (the default):
        none but the server's own.

    Examples
    --------
    >>> Settings(max_duration_s=30).max_duration_s
    30
    """

    model_dir: str | None = None
    max_upload_bytes: int = 50 * 1024 * 1024
    max_duration_s: float = 300.0
    max_concurrent: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_queued: int = field(default_factory=lambda: 4 * (os.cpu_count() or 1))
    prediction_workers: int = 0
    expose_details: bool = False
    max_inflight_bytes: int = 200 * 1024 * 1024
    upload_timeout_s: float = 30.0
    header_timeout_s: float = 10.0
    max_connections: int = 200
    allowed_hosts: tuple[str, ...] | None = None
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ("max_upload_bytes", "max_duration_s", "max_concurrent", "max_inflight_bytes",
                     "upload_timeout_s", "header_timeout_s", "max_connections"):
            if getattr(self, name) <= 0:
                raise ParameterError(f"{name}={getattr(self, name)!r} must be positive")
        for name in ("max_queued", "prediction_workers"):
            if getattr(self, name) < 0:
                raise ParameterError(f"{name}={getattr(self, name)!r} must be 0 or more")
        if self.max_inflight_bytes < self.max_upload_bytes + MULTIPART_OVERHEAD:
            raise ParameterError(
                f"max_inflight_bytes={self.max_inflight_bytes} must hold at least one upload of the largest "
                f"size (max_upload_bytes={self.max_upload_bytes} + {MULTIPART_OVERHEAD} for the form around it)"
            )


MULTIPART_OVERHEAD = 64 * 1024
"""Allowance for multipart boundaries and headers on top of the upload limit."""


ENVIRONMENT = {
    "model_dir": "SERKIT_MODEL_DIR",
    "max_upload_bytes": "SERKIT_MAX_UPLOAD_BYTES",
    "max_duration_s": "SERKIT_MAX_DURATION_S",
    "max_concurrent": "SERKIT_MAX_CONCURRENT",
    "max_queued": "SERKIT_MAX_QUEUED",
    "prediction_workers": "SERKIT_PREDICTION_WORKERS",
    "expose_details": "SERKIT_EXPOSE_DETAILS",
    "max_inflight_bytes": "SERKIT_MAX_INFLIGHT_BYTES",
    "upload_timeout_s": "SERKIT_UPLOAD_TIMEOUT_S",
    "header_timeout_s": "SERKIT_HEADER_TIMEOUT_S",
    "max_connections": "SERKIT_MAX_CONNECTIONS",
    "allowed_hosts": "SERKIT_ALLOWED_HOSTS",
    "cors_origins": "SERKIT_CORS_ORIGINS",
}
"""The environment variable of each setting (how ``serkit serve`` hands them to its workers)."""


def _flag(text: str) -> bool:
    if text.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if text.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a yes/no value (use 1 or 0)")


def split_names(text: str) -> tuple[str, ...]:
    """A comma-separated list (host names, origins) as a tuple, blanks dropped."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def get_settings() -> Settings:
    """Settings from the ``SERKIT_*`` variables of :data:`ENVIRONMENT`; unset ones keep their defaults."""
    parse = {"model_dir": lambda text: text or None, "max_upload_bytes": int, "max_duration_s": float,
             "max_concurrent": int, "max_queued": int, "prediction_workers": int, "expose_details": _flag,
             "max_inflight_bytes": int, "upload_timeout_s": float, "header_timeout_s": float,
             "max_connections": int, "allowed_hosts": split_names, "cors_origins": split_names}
    values = {}
    for name, variable in ENVIRONMENT.items():
        if variable in os.environ:
            try:
                values[name] = parse[name](os.environ[variable])
            except ValueError as error:
                raise ParameterError(f"bad {variable} in the environment ({error})") from None
    return Settings(**values)


def to_environment(settings: Settings) -> dict[str, str]:
    """The ``SERKIT_*`` variables that make :func:`get_settings` give ``settings`` back."""
    values = {name: getattr(settings, name) for name in ENVIRONMENT}
    return {ENVIRONMENT[name]: _text(value) for name, value in values.items() if value is not None}


def _text(value) -> str:
    """A setting's value as its environment variable spells it (see :func:`get_settings`)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)
