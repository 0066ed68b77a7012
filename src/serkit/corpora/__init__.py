"""Corpus readers: one module per corpus, each ``read(root, ...) -> CorpusTable``.

A :class:`CorpusTable` holds a pandas table with at least ``path`` (POSIX, relative
to ``root``), ``label`` and ``speaker``, plus the files that were skipped and why.
The named-corpus readers also give ``gender``, ``language`` and ``corpus``, then their
own fields; their speakers are ``<corpus>:<id>`` (RAVDESS keeps ``Actor_XX``), so ids
never collide when corpora are pooled. Labels are serkit's emotion names
(:data:`serkit.labels.EMOTIONS`), plus ``bored`` for EmoDB's boredom.

=========  ========================================  ========  ===================
reader     names                                      language  lacks (adds)
=========  ========================================  ========  ===================
ravdess    ``Actor_12/03-01-05-01-02-01-12.wav``      en        —
nemo       ``data.tsv`` + ``samples/EB0_anger_1.wav``  pl        calm, disgust
tess       ``OAF_angry/OAF_back_angry.wav``           en        calm
emodb      ``wav/03a01Fa.wav``                        de        calm, surprised (bored)
cremad     ``AudioWAV/1001_DFA_ANG_XX.wav``           en        calm, surprised
savee      ``DC_a01.wav`` or ``DC/a01.wav``           en        calm
emovo      ``f1/dis-f1-b1.wav``                       it        calm
manifest   a CSV ``path,label[,speaker]``             —         —
=========  ========================================  ========  ===================

>>> from serkit.corpora import available_corpora
>>> available_corpora()
['ravdess', 'nemo', 'tess', 'emodb', 'cremad', 'savee', 'emovo', 'manifest']
"""

from __future__ import annotations

from importlib import import_module

from serkit.corpora.base import AUDIO_EXTENSIONS, CorpusTable
from serkit.exceptions import ParameterError

NAMED_READERS = ("ravdess", "nemo", "tess", "emodb", "cremad", "savee", "emovo")
"""Readers of a corpus's own layout; each module has ``parse_name`` and ``read``."""

_READERS = (*NAMED_READERS, "manifest")

MANIFEST_FORMAT = "a CSV with columns path,label[,speaker] (paths relative to the CSV)"


def available_corpora() -> list[str]:
    """Names accepted by :func:`read_corpus`."""
    return list(_READERS)


def reader_module(name: str):
    """The module of reader ``name`` (``serkit.corpora.<name>``)."""
    if name not in _READERS:
        raise ParameterError(f"unknown corpus {name!r}; available: {', '.join(_READERS)}")
    return import_module(f"serkit.corpora.{name}")


def read_corpus(name: str, root, **options) -> CorpusTable:
    """Read corpus ``name`` (one of :func:`available_corpora`) at ``root``.

    ``root`` is the corpus folder for a named corpus, and the CSV file (or a folder
    holding ``manifest.csv``) for a manifest. ``options`` go to that corpus's ``read``.

    Examples
    --------
    >>> read_corpus("timit", ".")
    Traceback (most recent call last):
    ...
    serkit.exceptions.ParameterError: unknown corpus 'timit'; available: ravdess, nemo, tess, emodb, cremad, savee, emovo, manifest
    """
    return reader_module(name).read(root, **options)


def corpus_emotions(name: str) -> dict:
    """The emotions named reader ``name`` gives, and those it lacks or adds beside
    serkit's eight (:data:`serkit.labels.EMOTIONS`).

    >>> corpus_emotions("emodb")["adds"], corpus_emotions("nemo")["lacks"]
    (['bored'], ['calm', 'disgust'])
    """
    from serkit.labels import EMOTIONS

    if name not in NAMED_READERS:
        raise ParameterError(f"corpus {name!r} has no fixed emotions (a manifest's are its CSV's)")
    given = set(reader_module(name).EMOTION_CODES.values())
    return {
        "emotions": [e for e in EMOTIONS if e in given] + sorted(given - set(EMOTIONS)),
        "lacks": [e for e in EMOTIONS if e not in given],
        "adds": sorted(given - set(EMOTIONS)),
    }


def guess_reader(paths, *, exclude: str | None = None, max_names: int = 50) -> str | None:
    """The named reader (other than ``exclude``) that parses most of ``paths`` (the
    first ``max_names``), or None when none parses any.

    >>> guess_reader(["wav/03a01Fa.wav", "wav/03a01Nc.wav", "notes.wav"])
    'emodb'
    """
    sample = list(paths)[:max_names]
    counts = {}
    for name in (n for n in NAMED_READERS if n != exclude):
        parse = reader_module(name).parse_name
        counts[name] = sum(_parses(parse, path) for path in sample)
    best = max(counts, key=counts.get) if counts else None
    return best if best is not None and counts[best] > 0 else None


def _parses(parse, path: str) -> bool:
    try:
        parse(path)
    except ValueError:
        return False
    return True


def reader_hint(paths, *, tried: str | None = None) -> str:
    """What to try instead, for a folder reader ``tried`` found nothing in: the reader
    the names look like, every reader, and the manifest format."""
    guess = guess_reader(paths, exclude=tried)
    lead = f"the names look like {guess}'s: try --corpus {guess}; " if guess else ""
    return (f"{lead}readers: {', '.join(NAMED_READERS)} (--corpus NAME), "
            f"or --corpus manifest with {MANIFEST_FORMAT}")


__all__ = ["AUDIO_EXTENSIONS", "CorpusTable", "available_corpora", "read_corpus", "reader_module", "guess_reader", "corpus_emotions"]
