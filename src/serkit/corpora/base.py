"""What every corpus reader returns, the audio files it looks at, and the readers by name."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from serkit.core.exceptions import CorpusError, ParameterError

if TYPE_CHECKING:  # pandas loads with the first table, not with ``import serkit.corpora``
    import pandas as pd

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64"}
    | {".m4a", ".aac", ".webm", ".weba", ".mka", ".amr", ".wma"}
)
"""File endings treated as audio when walking a corpus or a folder: what libsndfile reads,
then what phones and browsers record (read by FFmpeg, :mod:`serkit.core.pyav_audio`).
Video endings (``.mp4``, ``.3gp``) are left out: RAVDESS ships its audio-video takes as
``.mp4`` beside the audio-only ones; such files are still read when named one by one."""

REQUIRED_COLUMNS = ("path", "label", "speaker")


@dataclass
class CorpusTable:
    """A corpus read from disk.

    Attributes
    ----------
    name : str
        The corpus reader's name (``"ravdess"``, ``"manifest"``).
    root : Path
        Folder that every ``path`` is relative to.
    table : pandas.DataFrame
        One row per clip: ``path`` (POSIX, relative to ``root``), ``label``,
        ``speaker`` and the corpus's own metadata columns; sorted by ``path``.
    skipped : list of (str, str)
        ``(path, reason)`` for every file that was not used.
    """

    name: str
    root: Path
    table: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def absolute_paths(self) -> list[Path]:
        """``root / path`` for every row, in table order."""
        return [self.root / p for p in self.table["path"]]

    def summary(self) -> dict:
        """Clip, speaker and label counts, JSON-safe."""
        return {
            "name": self.name,
            "root": str(self.root),
            "n_clips": int(len(self.table)),
            "n_speakers": int(self.table["speaker"].nunique()),
            "label_counts": {str(k): int(v) for k, v in self.table["label"].value_counts().sort_index().items()},
            "n_skipped": len(self.skipped),
        }


def walk_audio(root: Path) -> list[Path]:
    """Every audio file under ``root`` (by extension), sorted, hidden files excluded.

    Symbolic links to folders are followed (a corpus assembled from links is common),
    each real folder once: a link cycle cannot loop, and a folder reached twice (a
    linked sibling, a link to a parent) is listed under the first name the sorted walk
    meets.
    """
    found, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = sorted(subfolders)
        found += [
            Path(folder) / name
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_EXTENSIONS
        ]
    return sorted(found)


class SkipClip(ValueError):
    """A clip a reader recognises but leaves out; its message is the reason as is
    (``"song, not speech"``), where any other ``ValueError`` from a name parser reads
    ``"not a <corpus> name: <why>"`` (``"not an EmoDB name: …"``)."""


TABLE_COLUMNS = ("path", "label", "speaker", "gender", "language", "corpus")
"""The columns every named-file reader's table starts with, in this order."""


def code_field(value: str, codes: dict, what: str) -> str:
    """``codes[value]``, or a ``ValueError`` that lists the codes a name may hold.

    >>> code_field("W", {"W": "angry", "N": "neutral"}, "emotion")
    'angry'
    """
    if value not in codes:
        raise ValueError(f"{what} code {value!r} is not one of {', '.join(sorted(codes))}")
    return codes[value]


# -- the readers, by name ----------------------------------------------------------------

NAMED_READERS = ("ravdess", "nemo", "tess", "emodb", "cremad", "savee", "emovo")
"""Readers of a corpus's own layout; each module has ``parse_name`` and ``read``."""

_READERS = (*NAMED_READERS, "manifest")

MANIFEST_FORMAT = "a CSV with columns path,label[,speaker] (paths relative to the CSV)"


def available_corpora() -> list[str]:
    """Names accepted by :func:`serkit.corpora.read_corpus`."""
    return list(_READERS)


def reader_module(name: str):
    """The module of reader ``name`` (``serkit.corpora.<name>``)."""
    if name not in _READERS:
        raise ParameterError(f"unknown corpus {name!r}; available: {', '.join(_READERS)}")
    return import_module(f"serkit.corpora.{name}")


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


def no_clips_error(root: Path, corpus: str, description: str, skipped: list[tuple[str, str]]) -> Exception:
    """The error of a folder where a reader found nothing: what was skipped, an example
    reason, which reader the names look like, every reader and the manifest format."""
    example = f", e.g. {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
    hint = reader_hint([path for path, _ in skipped], tried=corpus)
    return CorpusError(f"{root}: no {description} clips found ({len(skipped)} files skipped{example}); {hint}")


def read_named_files(
    root,
    *,
    corpus: str,
    title: str,
    language: str,
    parse: Callable[[str], dict],
    description: str | None = None,
) -> CorpusTable:
    """Read a corpus whose file names carry the labels: one row per parsed audio file.

    Parameters
    ----------
    root : str or Path
        The corpus folder; every audio file under it (links followed, see
        :func:`walk_audio`) is offered to ``parse``.
    corpus : str
        The reader's name, the ``corpus`` column and the table's ``name``.
    title : str
        The corpus as people write it (``"EmoDB"``), for messages.
    language : str
        ISO 639-1 code of the ``language`` column.
    parse : callable
        ``parse(relative_posix_path) -> dict`` with at least ``label``, ``speaker``
        and ``gender``; a ``ValueError`` skips the file with its reason.
    description : str, optional
        What the "no clips found" error calls the clips (default ``title``).

    Returns
    -------
    CorpusTable
        Columns :data:`TABLE_COLUMNS`, then the corpus's own, sorted by ``path``.

    Raises
    ------
    CorpusError
        ``root`` is not a folder, or no file parsed (the message names the readers).
    """
    import pandas as pd

    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: not a folder")
    rows, skipped = [], []
    for path in walk_audio(root):
        relative = path.relative_to(root).as_posix()
        try:
            fields = parse(relative)
        except SkipClip as reason:
            skipped.append((relative, str(reason)))
            continue
        except ValueError as error:
            skipped.append((relative, f"not {'an' if title[0] in 'AEIOU' else 'a'} {title} name: {error}"))
            continue
        rows.append({"path": relative, "language": language, "corpus": corpus, **fields})
    if not rows:
        raise no_clips_error(root, corpus, description or title, skipped)
    table = pd.DataFrame(rows)
    table = table[[*TABLE_COLUMNS, *(c for c in table.columns if c not in TABLE_COLUMNS)]]
    return CorpusTable(name=corpus, root=root, table=table.sort_values("path", ignore_index=True), skipped=skipped)
