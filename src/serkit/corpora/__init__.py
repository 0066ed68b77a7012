"""Corpus readers: one module per corpus, each ``read(root, ...) -> CorpusTable``.

A :class:`CorpusTable` holds a pandas table with at least ``path`` (POSIX, relative
to ``root``), ``label`` and ``speaker``, plus the files that were skipped and why.
The named-corpus readers also give ``gender``, ``language`` and ``corpus``, then their
own fields; their speakers are ``<corpus>:<id>`` (RAVDESS keeps ``Actor_XX``), so ids
never collide when corpora are pooled. Labels are serkit's emotion names
(:data:`serkit.core.labels.EMOTIONS`), plus ``bored`` for EmoDB's boredom.

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

from serkit.core.exceptions import ParameterError
from serkit.corpora.base import (
    AUDIO_EXTENSIONS,
    MANIFEST_FORMAT,
    NAMED_READERS,
    CorpusTable,
    available_corpora,
    guess_reader,
    reader_hint,
    reader_module,
)

def read_corpus(name: str, root, **options) -> CorpusTable:
    """Read corpus ``name`` (one of :func:`available_corpora`) at ``root``.

    ``root`` is the corpus folder for a named corpus, and the CSV file (or a folder
    holding ``manifest.csv``) for a manifest. ``options`` go to that corpus's ``read``.

    Examples
    --------
    >>> read_corpus("timit", ".")
    Traceback (most recent call last):
    ...
    serkit.core.exceptions.ParameterError: unknown corpus 'timit'; available: ravdess, nemo, tess, emodb, cremad, savee, emovo, manifest
    """
    return reader_module(name).read(root, **options)


def corpus_emotions(name: str) -> dict:
    """The emotions named reader ``name`` gives, and those it lacks or adds beside
    serkit's eight (:data:`serkit.core.labels.EMOTIONS`).

    >>> corpus_emotions("emodb")["adds"], corpus_emotions("nemo")["lacks"]
    (['bored'], ['calm', 'disgust'])
    """
    from serkit.core.labels import EMOTIONS

    if name not in NAMED_READERS:
        raise ParameterError(f"corpus {name!r} has no fixed emotions (a manifest's are its CSV's)")
    given = set(reader_module(name).EMOTION_CODES.values())
    return {
        "emotions": [e for e in EMOTIONS if e in given] + sorted(given - set(EMOTIONS)),
        "lacks": [e for e in EMOTIONS if e not in given],
        "adds": sorted(given - set(EMOTIONS)),
    }


__all__ = ["AUDIO_EXTENSIONS", "MANIFEST_FORMAT", "NAMED_READERS", "CorpusTable", "available_corpora", "corpus_emotions",
           "guess_reader", "read_corpus", "reader_hint", "reader_module"]
