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


def load_features(args: argparse.Namespace):
    """Read the corpus named by ``args`` and extract its features (cached); report problems on stderr."""
    from serkit.corpora import read_corpus
    from serkit.features import extract_corpus

    corpus = read_corpus(args.corpus, args.root)
    for path, reason in corpus.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    extraction = extract_corpus(
        corpus,
        args.feature_set,
        n_jobs=args.jobs,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        progress=not args.quiet,
    )
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


def write_atomically(path: Path, write) -> None:
    """``write(partial)`` to a temporary file beside ``path``, then rename it: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
