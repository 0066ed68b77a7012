"""Corpus readers: one module per corpus, each ``read(root, ...) -> CorpusTable``.

A :class:`CorpusTable` holds a pandas table with at least ``path`` (POSIX, relative
to ``root``), ``label`` and ``speaker``, plus the files that were skipped and why.

>>> from serkit.corpora import available_corpora
>>> available_corpora()
['manifest', 'ravdess']
"""

from __future__ import annotations

from importlib import import_module

from serkit.corpora.base import AUDIO_EXTENSIONS, CorpusTable
from serkit.exceptions import ParameterError

_READERS = ("manifest", "ravdess")


def available_corpora() -> list[str]:
    """Names accepted by :func:`read_corpus`."""
    return list(_READERS)


def read_corpus(name: str, root, **options) -> CorpusTable:
    """Read corpus ``name`` (``"ravdess"`` or ``"manifest"``) at ``root``.

    ``root`` is the corpus folder for RAVDESS, and the CSV file (or a folder holding
    ``manifest.csv``) for a manifest. ``options`` go to that corpus's ``read``.
    """
    if name not in _READERS:
        raise ParameterError(f"unknown corpus {name!r}; available: {', '.join(_READERS)}")
    return import_module(f"serkit.corpora.{name}").read(root, **options)


__all__ = ["AUDIO_EXTENSIONS", "CorpusTable", "available_corpora", "read_corpus"]
