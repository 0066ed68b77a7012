"""What the routers get through ``Depends``: the loaded model and the settings, from ``app.state``.

Both are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, a thread
hop per call for what is an attribute read.
"""

from __future__ import annotations

from fastapi import Request

from serkit.inference.predictor import Predictor
from serkit.service.errors import ApiError
from serkit.service.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_predictor(request: Request) -> Predictor:
    predictor = request.app.state.predictor
    if predictor is None:  # only between shutdown and the end of the last request
        raise ApiError(503, "model_not_loaded", "the model is not loaded")
    return predictor
