"""Every error the API answers is JSON ``{"error": code, "detail": reason}`` with a 4xx status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from serkit.core.exceptions import AudioError, ParameterError, SerkitError

logger = logging.getLogger("serkit.service")


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    detail: str


class ApiError(Exception):
    """An HTTP-level refusal (too large, wrong content type, no file, busy) with its status."""

    def __init__(self, status_code: int, error: str, detail: str, *, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status_code, self.error, self.detail, self.headers = status_code, error, detail, headers


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def _body(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail}, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map serkit's exception family, HTTP errors and request validation to JSON."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError):
        return _body(error.status_code, error.error, error.detail, error.headers)

    @app.exception_handler(ClientDisconnect)
    async def client_disconnect(request: Request, error: ClientDisconnect):
        # An ordinary event, not a server fault: one line, no traceback (nobody reads the answer).
        logger.info("client disconnected before its request was read: %s %s", request.method, request.url.path)
        return _body(400, "client_disconnected", "the client went away during the upload")

    @app.exception_handler(AudioError)
    async def audio_error(request: Request, error: AudioError):
        return _body(422, "invalid_audio", str(error))

    @app.exception_handler(ParameterError)
    async def parameter_error(request: Request, error: ParameterError):
        return _body(400, "invalid_parameter", str(error))

    @app.exception_handler(SerkitError)
    async def serkit_error(request: Request, error: SerkitError):
        return _body(422, "unprocessable", str(error))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        detail = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        return _body(422, "invalid_request", detail)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        return _body(error.status_code, _HTTP_CODES.get(error.status_code, "http_error"), str(error.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):  # a bug: log it, answer JSON anyway
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return _body(500, "internal_error", f"{type(error).__name__}: unexpected server error")
