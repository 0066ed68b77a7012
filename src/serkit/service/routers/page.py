"""``GET /``: the web page, one self-contained HTML file (no build step, no external resources)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _page() -> str:
    return files("serkit.service").joinpath("static", "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    return HTMLResponse(_page())
