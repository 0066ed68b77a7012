"""``GET /health`` and ``GET /v1/model``.

Both are ``async`` and touch nothing but ``app.state``: they answer from the event
loop in milliseconds however many predictions fill the thread pool.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder

from serkit import __version__
from serkit.inference.predictor import Predictor
from serkit.service.dependencies import get_predictor, get_settings
from serkit.service.settings import Settings

router = APIRouter(tags=["service"])

PUBLIC_MODEL_KEYS = (
    "name", "model", "format_version", "created", "labels", "emotions", "metrics", "n_train",
    "speaker_norm", "window_s", "hop_s",
)
"""What ``/v1/model`` shows by default: what the model is and how well it does. The rest of
its metadata (library versions, training command, corpus path, feature parameters,
anything unknown) only with ``Settings.expose_details``."""


def public_description(description: dict) -> dict:
    """``description`` (:meth:`Predictor.describe`) cut to :data:`PUBLIC_MODEL_KEYS`.

    >>> public_description({"model": "cnn", "command": "serkit train /srv/data", "corpus": {"name": "ravdess", "root": "/srv"}})
    {'model': 'cnn', 'corpus': {'name': 'ravdess'}}
    """
    shown = {key: description[key] for key in PUBLIC_MODEL_KEYS if key in description}
    if isinstance(description.get("feature_set"), dict):
        shown["feature_set"] = {k: v for k, v in description["feature_set"].items() if k in ("name", "kind", "n_features")}
    if isinstance(description.get("corpus"), dict):
        shown["corpus"] = {k: v for k, v in description["corpus"].items() if k in ("name", "n_clips", "n_speakers")}
    return shown


@router.get("/health", summary="Liveness, and whether the model is loaded")
async def health(request: Request) -> dict:
    return {"status": "ok", "model_loaded": request.app.state.predictor is not None, "version": __version__}


@router.get("/v1/model", summary="The model: name, feature set, emotions, evaluation figures")
async def model(predictor: Predictor = Depends(get_predictor), settings: Settings = Depends(get_settings)) -> dict:
    description = predictor.describe()
    return jsonable_encoder(description if settings.expose_details else public_description(description))
