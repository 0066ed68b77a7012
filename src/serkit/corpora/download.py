"""Corpus downloads: the official RAVDESS speech archive, checksum-verified, into the user cache.

Only RAVDESS is downloaded: it is the one corpus serkit reads whose official archive
has a public, stable URL and a published checksum to verify it against. For every
other reader :func:`where_to_get` says where the corpus is published and how to lay
it out (those pages need a licence agreement, a registration, Git LFS, or publish no
checksum serkit could check a download against).

RAVDESS (Livingstone & Russo 2018) is published on Zenodo, record 1188976, under
CC BY-NC-SA 4.0 (non-commercial, share alike). :func:`download_ravdess` fetches
``Audio_Speech_Actors_01-24.zip`` (1440 clips, 24 actors, about 208 MB) with pooch,
checks its MD5, and unzips it; a second call finds it in place and downloads nothing.

Examples
--------
>>> from serkit.corpora.download import default_download_dir
>>> default_download_dir().name
'corpora'
"""

from __future__ import annotations

import os
from pathlib import Path

from serkit.core.exceptions import CorpusError

RAVDESS_URL = "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip"
"""The speech-only audio archive of the official RAVDESS Zenodo record."""

RAVDESS_MD5 = "bc696df654c87fed845eb13823edef8a"
"""MD5 of ``Audio_Speech_Actors_01-24.zip`` (the checksum Zenodo lists for the file)."""

RAVDESS_FILENAME = "Audio_Speech_Actors_01-24.zip"
RAVDESS_LICENSE = "RAVDESS (Livingstone & Russo 2018), CC BY-NC-SA 4.0: non-commercial use, share alike."

_EXTRACT_DIR = "ravdess-speech"


DOWNLOADABLE = ("ravdess",)
"""Corpora :func:`download_ravdess` (``serkit download``) can fetch and verify."""


def where_to_get(name: str) -> str:
    """Where to get named corpus ``name`` and how to lay it out, in one line.

    >>> where_to_get("emodb").split(";")[0]
    'EmoDB: no download serkit can verify (no stable archive URL with a published checksum)'
    """
    from serkit.corpora import reader_module

    module = reader_module(name)
    lead = f"{module.TITLE}: serkit download {name}" if name in DOWNLOADABLE else (
        f"{module.TITLE}: no download serkit can verify (no stable archive URL with a published checksum)")
    return (f"{lead}; get it from {module.SOURCE}; lay it out as {module.LAYOUT}; "
            f"then read it with --corpus {name}, e.g. serkit evaluate DIR --corpus {name}")


def default_download_dir() -> Path:
    """Where downloads go: ``$SERKIT_DATA_DIR`` if set, else the user cache (platformdirs)."""
    if os.environ.get("SERKIT_DATA_DIR"):
        return Path(os.environ["SERKIT_DATA_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("serkit")) / "corpora"


def _actor_root(extracted: Path) -> Path | None:
    """The folder holding ``Actor_XX`` folders: ``extracted`` itself or one level down."""
    for candidate in (extracted, *sorted(p for p in extracted.glob("*") if p.is_dir())):
        if any(candidate.glob("Actor_[0-9][0-9]")):
            return candidate
    return None


def downloaded_ravdess(dest: str | os.PathLike | None = None) -> Path | None:
    """The root of an already downloaded RAVDESS under ``dest``, or None."""
    extracted = Path(dest or default_download_dir()) / _EXTRACT_DIR
    return _actor_root(extracted) if extracted.is_dir() else None


def download_ravdess(
    dest: str | os.PathLike | None = None,
    *,
    url: str = RAVDESS_URL,
    md5: str = RAVDESS_MD5,
    progress: bool = True,
) -> Path:
    """Download, verify and unzip the RAVDESS speech archive; return the corpus root.

    Parameters
    ----------
    dest : path or None
        Download folder (default :func:`default_download_dir`). The archive is kept
        there beside the ``ravdess-speech`` folder it unzips to, so an interrupted or
        repeated call never downloads twice.
    url, md5 : str
        Where to fetch the archive and its expected MD5 (tests point these at a
        local server).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    Path
        The folder holding ``Actor_01`` … ``Actor_24``, ready for
        ``read_corpus("ravdess", root)``.

    Raises
    ------
    CorpusError
        The download fails, the checksum does not match, or the archive holds no
        ``Actor_XX`` folders.
    """
    import zipfile

    import pooch

    dest = Path(dest or default_download_dir())
    dest.mkdir(parents=True, exist_ok=True)
    try:
        pooch.retrieve(
            url,
            known_hash=f"md5:{md5}",
            fname=RAVDESS_FILENAME,
            path=dest,
            processor=pooch.Unzip(extract_dir=_EXTRACT_DIR),
            progressbar=progress,
        )
    except ValueError as error:  # pooch's checksum mismatch
        raise CorpusError(f"{url}: {error}".replace("\n", " ")) from None
    except OSError as error:  # network and file errors, requests' included
        raise CorpusError(f"{url}: download failed ({error})") from None
    except zipfile.BadZipFile as error:
        raise CorpusError(f"{url}: could not unpack the archive ({error})") from None
    root = downloaded_ravdess(dest)
    if root is None:
        raise CorpusError(f"{dest / _EXTRACT_DIR}: the archive holds no Actor_XX folders")
    return root
