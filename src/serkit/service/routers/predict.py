"""``POST /v1/predict``: audio in (multipart field or raw body), emotion out.

A request reaches this route only once :mod:`serkit.service.admission` has admitted
it from its headers (a place among the predictions, its bytes within the total,
its size within the limit); the body is read in chunks and refused with 413 as soon
as it passes the upload limit, with 408 when it is too slow. It only ever lands in a
``SpooledTemporaryFile`` (memory, or an anonymous temporary file the OS removes on
close, even when the server is killed). Decoding and the model run in the
prediction worker processes (:mod:`serkit.service.pool`), or with
``prediction_workers=0`` in the thread pool, so the event loop keeps serving other
requests meanwhile.

Every request is bounded before any work: window and hop (and so the number of
windows over ``max_duration_s``) are checked first, and at most
``Settings.max_concurrent`` predictions run, each decoding block by block
(:meth:`serkit.inference.Predictor.predict_file`), so memory is bounded per request
and in total.
"""

from __future__ import annotations

import tempfile
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.datastructures import UploadFile

from serkit.inference.predictor import Predictor
from serkit.service.dependencies import get_predictor, get_settings
from serkit.service.errors import ApiError, ErrorBody
from serkit.service.limits import IN_MEMORY_BYTES, NamedStream
from serkit.service.settings import Settings
from serkit.inference.speakers import parse_speakers

router = APIRouter(prefix="/v1", tags=["predict"])

RAW_TYPES = ("audio/", "video/", "application/octet-stream")
"""Raw bodies accepted: phones label recordings ``video/mp4`` or ``video/3gpp``, browsers
``video/webm``; only the audio stream is decoded."""

SPOOL_IN_MEMORY = IN_MEMORY_BYTES
"""Uploads up to this size stay in memory; larger ones spill to an anonymous temporary file."""


class Segment(BaseModel):
    start: float
    end: float
    emotion: str
    probabilities: dict[str, float]
    familiarity: float | None = None
    caution: str | None = None
    speaker: str | None = None


class Summary(BaseModel):
    seconds: dict[str, float]
    dominant: str


class SpeakerSummary(BaseModel):
    seconds: float
    emotion: str
    probabilities: dict[str, float]
    familiarity: float | None = None
    caution: str | None = None
    summary: Summary | None = None


class Prediction(BaseModel):
    emotion: str | None
    probabilities: dict[str, float] | None
    familiarity: float | None = None
    caution: str | None = None
    duration: float
    segments: list[Segment]
    summary: Summary | None = None
    speech_seconds: float | None = None
    no_speech: str | None = None
    speakers: dict[str, SpeakerSummary] | None = None
    speakers_caution: str | None = None
    """Why the number of speakers ``auto`` found may be wrong (a noisy recording), or None."""
    adaptation: str | None = None
    """"source": standardised by its source's statistics (a model adapted with ``serkit adapt``);
    "none": a clip alone (a dual-path model's plain head); None without speech."""


_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
        },
        "audio/*": {"schema": {"type": "string", "format": "binary"}},
        "video/*": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/predict",
    response_model=Prediction,
    summary="Predict the emotion of an audio file",
    description=(
        "Send WAV, FLAC, OGG, MP3, m4a/AAC, MP4, WebM/Opus, AMR, ALAC or another format libsndfile or "
        "FFmpeg reads as the multipart field `file` or as the raw body with `Content-Type: audio/*`, "
        "`video/*` (only the audio is decoded) or `application/octet-stream`. "
        "With `segment=vad` (the default unless the server sets SERKIT_SEGMENT) a voice-activity detector runs first: audio without "
        "speech gets `emotion` and `probabilities` null and `no_speech` (the reason); speech is cut "
        "at its pauses into utterances of 1-10 s (`segments`, each with its emotion), the whole-file "
        "probabilities are their mean weighted by seconds of speech (`speech_seconds`), and `summary` "
        "gives the seconds of speech per emotion. With `segment=fixed`, audio of at least "
        "`window + hop` seconds gets fixed windows instead. With `speakers` (auto or a number) the utterances "
        "or windows are clustered by voice: each segment gets its `speaker` and `speakers` a summary per speaker; "
        "with `speakers=channels` each channel of a call recorded with a channel per party is one speaker. "
        "Every answer carries `familiarity` and, for audio unlike the training data, audio that looks clipped or speech that sounds reverberant, a `caution`; `adaptation` says "
        "whether the model used its source's statistics (`source`, a model adapted with `serkit adapt`) or not (`none`). Past the server's concurrent predictions or its "
        "upload bytes in flight: 503 with `Retry-After`, before the body is read; a body that "
        "takes too long: 408."
    ),
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={code: {"model": ErrorBody} for code in (400, 408, 413, 415, 422, 503)},
)
async def predict(
    request: Request,
    window: float | None = Query(None, gt=0, le=60, description="timeline window in seconds, 0.5 to 60 (default 3)"),
    hop: float | None = Query(None, gt=0, le=60, description="timeline hop in seconds, 0.1 to the window (default 1.5)"),
    segment: Literal["vad", "fixed"] | None = Query(None, description="vad: utterances of the speech, 'no speech' "
                                                     "without any; fixed: windows of `window` s every `hop` s "
                                                     "(default: the server's, vad unless SERKIT_SEGMENT says)"),
    speakers: str | None = Query(None, max_length=8, description="cluster the utterances (or fixed windows) by voice: "
                                                                 "auto, or a number of speakers 1 to 16; channels: each "
                                                                 "channel of a multi-channel file is one speaker (with "
                                                                 "segment=vad)"),
    predictor: Predictor = Depends(get_predictor),
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    predictor.timeline_options(window, hop)  # bounds, before any reading; the window count from the header
    diarize = parse_speakers(speakers)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limit = settings.max_upload_bytes

    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=8)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                upload = next((value for value in form.values() if isinstance(value, UploadFile)), None)
            if upload is None:
                raise ApiError(400, "no_file", "no file in the form: send the audio as the multipart field 'file'")
            if upload.size is not None and upload.size > limit:
                raise ApiError(413, "too_large", f"upload larger than the limit of {limit / 2**20:g} MiB")
            return await _predict_stream(request, predictor, upload.file, window, hop, segment, diarize, settings)
        finally:
            await form.close()

    if content_type.startswith(RAW_TYPES):
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "too_large", f"upload larger than the limit of {limit / 2**20:g} MiB")
                spool.write(chunk)
            if size == 0:
                raise ApiError(400, "no_file", "empty request body: send the audio file as the body")
            return await _predict_stream(request, predictor, spool, window, hop, segment, diarize, settings)

    raise ApiError(
        415,
        "unsupported_media_type",
        f"content type {content_type or 'missing'!r}: send multipart/form-data with a 'file' field, "
        "or the raw file as audio/*, video/* or application/octet-stream",
    )


async def _predict_stream(request: Request, predictor: Predictor, raw, window, hop, segment: str | None, diarize,
                          settings: Settings) -> JSONResponse:
    options = {"window_s": window, "hop_s": hop, "max_duration_s": settings.max_duration_s,
               "segment": segment or settings.segment, "diarize": diarize}
    pool = request.app.state.pool
    async with request.app.state.slots.hold():
        if pool is not None:
            result = await pool.predict(raw, **options)
        else:
            raw.seek(0)
            result = await run_in_threadpool(predictor.predict_file, NamedStream(raw), **options)
    # Built by Predictor._assemble in the shape of `Prediction` (tests check it against the schema):
    # returned as it is, without re-validating it against the model in the event loop.
    return JSONResponse(result)
