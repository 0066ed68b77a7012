"""Arguments and helpers shared by several verbs (standard library only at import)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def add_corpus_arguments(
    parser: argparse.ArgumentParser, *, default_set: str | None = "seed26", set_help: str | None = None,
    root_optional: bool = False,
) -> None:
    """ROOT, --corpus, --set, -j, --cache-dir, --no-cache, --quiet: how a verb gets features.

    ``default_set=None`` leaves ``--set`` for the verb to resolve (``set_help`` says how);
    ``root_optional`` lets the verb take its corpora from other options.
    """
    from serkit.corpora import available_corpora

    parser.add_argument("root", type=Path, nargs="?" if root_optional else None,
                        help="corpus folder, or manifest CSV (path,label[,speaker])")
    parser.add_argument("--corpus", default="ravdess", choices=available_corpora(),
                        help="corpus reader (default: ravdess; docs/corpora.md describes each)")
    parser.add_argument("--set", dest="feature_set", default=default_set, help=set_help or f"feature set (default: {default_set})")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder (default: $SERKIT_CACHE_DIR or the user cache)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the feature cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def read_corpus_reporting(args: argparse.Namespace):
    """Read the corpus named by ``args``; print every skipped file on stderr."""
    from serkit.corpora import read_corpus

    corpus = read_corpus(args.corpus, args.root)
    for path, reason in corpus.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return corpus


def extraction_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``extract_corpus``/``iter_corpus`` that ``args`` sets."""
    return dict(
        n_jobs=args.jobs,
        dask=getattr(args, "dask", None),
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        progress=not args.quiet,
    )


def load_features(args: argparse.Namespace):
    """Read the corpus named by ``args`` and extract its features (cached); report problems on stderr."""
    from serkit.features import extract_corpus

    corpus = read_corpus_reporting(args)
    extraction = extract_corpus(corpus, args.feature_set, **extraction_options(args))
    for path, reason in extraction.failures:
        print(f"failed {path}: {reason}", file=sys.stderr)
    return corpus, extraction


def write_json(data, destination: str | os.PathLike | None) -> None:
    """Write ``data`` as JSON to a file (atomically), or to stdout for ``-``/None."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if destination in (None, "-"):
        print(text)
        return
    write_atomically(Path(destination), lambda partial: partial.write_text(text + "\n", encoding="utf-8"))


PARTIAL_TAG = "serkit-partial"
"""Marks the temporary files of :func:`write_atomically`: ``.NAME.serkit-partial-PID.tmpSUFFIX``."""


def write_atomically(path: Path, write) -> None:
    """``write(partial)`` to a temporary file beside ``path``, then rename it: never half a file.

    A writer killed mid-write (SIGKILL, power loss) leaves its temporary behind;
    the next write of ``path`` removes those of writers no longer running.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    partial = _partial_path(path, os.getpid())
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


_CLOCK_SLACK_S = 2.0
"""Boot time in /proc/stat is whole seconds and follows clock adjustments: a margin."""


def _partial_path(path: Path, pid: int) -> Path:
    return path.with_name(f".{path.name}.{PARTIAL_TAG}-{pid}.tmp{path.suffix}")


def remove_stale_partials(path: Path) -> list[Path]:
    """Remove the temporaries that killed writers of ``path`` left; return them.

    Both kinds: the files of :func:`write_atomically` (``.NAME.serkit-partial-PID.tmpSUFFIX``)
    and the staging folders of a partitioned Parquet output (``.NAME.serkit-partial-PID-XXXX``,
    and its ``-old`` while swapping in). A temporary is stale when no process has its
    writer's pid any more, or when the process that has it started after the temporary
    was last written (the pid was reused): a live writer's file or folder is never touched.
    """
    import glob
    import re
    import shutil

    pattern = re.compile(
        rf"\.{re.escape(path.name)}\.{PARTIAL_TAG}-(\d+)(?:\.tmp{re.escape(path.suffix)}|-\w+(?:-old)?)"
    )
    removed = []
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.{PARTIAL_TAG}-*"):
        match = pattern.fullmatch(candidate.name)
        if match is None or candidate.is_symlink():
            continue
        try:
            written_at = candidate.stat().st_mtime
        except OSError:
            continue
        started_at = _process_start_time(int(match.group(1)))
        if started_at is None or started_at > written_at + _CLOCK_SLACK_S:
            if candidate.is_dir():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if there is no
    such process. Without /proc (not Linux) a live process counts as started at 0."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, owned by someone else
    try:
        # /proc/PID/stat field 22 is the start in clock ticks after boot; the name
        # (field 2) is in parentheses and may hold spaces, so split after it.
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return 0.0
    return boot + ticks / os.sysconf("SC_CLK_TCK")
