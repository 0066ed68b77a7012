"""The FastAPI application: the lifespan loads and checks the model once (and starts the
prediction workers, if any); routers do the rest."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace

import numpy as np
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from serkit import __version__
from serkit.core.exceptions import ArtifactError
from serkit.inference.predictor import Predictor
from serkit.service.admission import UploadAdmission, UploadBudget
from serkit.service.errors import install_error_handlers
from serkit.service.limits import PredictionSlots, probe_tone
from serkit.service.pool import PredictionPool
from serkit.service.routers import info, page, predict
from serkit.service.security import SecurityHeaders
from serkit.service.settings import Settings, get_settings
from serkit.inference.speech import vad_network

DESCRIPTION = """Speech emotion recognition over HTTP.

`POST /v1/predict` with an audio file (multipart field `file`, or the raw body) returns the
emotion, the probability of each emotion, and for long audio a timeline. Errors are JSON
`{"error", "detail"}` with a 4xx status. The web page at `/` does the same from a browser.
"""

DOCS_ASSETS_URL = "/docs-assets"
"""Where Swagger UI's and ReDoc's scripts, style sheet and icon are served."""


def check_predictor(predictor: Predictor) -> None:
    """Refuse, with a clear message, a model the service cannot use; run it once on a tone;
    load the voice-activity detector.

    Raises :class:`~serkit.core.exceptions.ArtifactError`.
    """
    if predictor.speaker_norm:
        raise ArtifactError(
            "model: trained on per-speaker standardised features, which needs several clips of each "
            "speaker; the service predicts single clips, so serve a model trained without --speaker-norm"
        )
    try:
        result = predictor.predict_audio(probe_tone(predictor.sr), predictor.sr, segment="fixed")
        vad_network()  # the voice-activity network: checked (SHA-256) and loaded before any request
    except Exception as error:  # any failure here is the model's, reported at start-up, not per request
        raise ArtifactError(f"model: fails on a test clip ({type(error).__name__}: {error})") from None
    total = sum(result["probabilities"].values())
    if not np.isfinite(total) or abs(total - 1) > 1e-3:
        raise ArtifactError(f"model: probabilities on a test clip sum to {total:.4f}, not 1")


def create_app(model_dir: str | None = None, settings: Settings | None = None, *, predictor: Predictor | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    model_dir : str or None
        A saved model; overrides ``settings.model_dir`` (None there = the bundled model).
    settings : Settings or None
        Limits (upload size, duration, concurrent predictions), where predictions run
        (``prediction_workers``: processes, or 0 for threads of this process) and what
        ``/v1/model`` shows; default from the ``SERKIT_*`` environment (:func:`get_settings`).
    predictor : Predictor or None
        An already loaded model to serve instead of loading one (tests, embedding).
        With ``prediction_workers`` > 0 it answers ``/v1/model`` while the workers load
        ``settings.model_dir`` themselves, so it must be that model: a pool needs a
        model directory (or None for the bundled one), not just an object.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> app = create_app()  # doctest: +SKIP
    >>> with TestClient(app) as client:  # doctest: +SKIP
    ...     client.get("/health").json()["model_loaded"]
    True
    """
    settings = settings or get_settings()
    if model_dir is not None:
        settings = replace(settings, model_dir=model_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if predictor is not None:
            loaded = predictor
        else:
            from serkit.models.artifacts import load_model

            loaded = load_model(settings.model_dir)
        check_predictor(loaded)
        if settings.prediction_workers:
            # The workers load their own copy; this one answers /v1/model and checks requests.
            app.state.pool = PredictionPool(settings.model_dir, workers=settings.prediction_workers)
            await app.state.pool.start()
        app.state.predictor = loaded
        try:
            yield
        finally:
            app.state.predictor = None
            if app.state.pool is not None:
                app.state.pool.close()
                app.state.pool = None

    # /docs (Swagger UI) and /redoc from files fastapi-offline ships, served here: the API
    # docs work without reaching a CDN.
    app = FastAPIOffline(title="serkit", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                         static_url=DOCS_ASSETS_URL)
    app.state.settings = settings
    app.state.predictor = None
    app.state.pool = None
    app.state.slots = PredictionSlots(settings.max_concurrent, queue=settings.max_queued)
    app.state.uploads = UploadBudget(settings.max_inflight_bytes)
    install_error_handlers(app)
    app.include_router(predict.router)
    app.include_router(info.router)
    app.include_router(page.router)
    add_guards(app, settings)
    return app


def add_guards(app: FastAPI, settings: Settings) -> None:
    """The middleware every request passes, outermost first: security headers (on every
    answer, refusals included), the ``Host`` check, CORS (only with ``cors_origins``),
    and the admission of uploads from their headers (:mod:`serkit.service.admission`)."""
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    # add_middleware puts each one outside those added before it.
    app.add_middleware(UploadAdmission, settings=settings, slots=app.state.slots, budget=app.state.uploads)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], expose_headers=["Retry-After"])
    if settings.allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts), www_redirect=False)
    app.add_middleware(SecurityHeaders)
