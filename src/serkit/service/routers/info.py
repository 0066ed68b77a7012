"""``GET /health`` and ``GET /v1/model``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder

from serkit import __version__
from serkit.inference import Predictor
from serkit.service.dependencies import get_predictor

router = APIRouter(tags=["service"])


@router.get("/health", summary="Liveness, and whether the model is loaded")
def health(request: Request) -> dict:
    return {"status": "ok", "model_loaded": request.app.state.predictor is not None, "version": __version__}


@router.get("/v1/model", summary="The model: name, feature set, emotions, training metrics, versions")
def model(predictor: Predictor = Depends(get_predictor)) -> dict:
    return jsonable_encoder(predictor.describe())
