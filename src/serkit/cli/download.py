"""``serkit download CORPUS``: fetch RAVDESS (checksum-verified); for the other corpora, where to get them."""

from __future__ import annotations

import argparse

HELP = ("Download a corpus (RAVDESS speech from Zenodo), checksum-verified, into the user cache; "
        "for the other corpora, say where to get them and how to lay them out.")
EXAMPLE = "serkit download ravdess"
EXTRAS = ("train",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from serkit.corpora import NAMED_READERS

    parser.add_argument("corpus", choices=NAMED_READERS, help="which corpus (only ravdess is downloaded; "
                        "the others print where to get them)")
    parser.add_argument("--dest", metavar="DIR", help="download folder (default: the user cache, or $SERKIT_DATA_DIR)")
    parser.add_argument("--url", help="fetch the archive from this URL instead (a mirror)")
    parser.add_argument("--md5", help="expected MD5 of the archive from --url")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import sys

    from serkit.corpora import download
    from serkit.core.exceptions import CorpusError, ParameterError

    if args.corpus not in download.DOWNLOADABLE:
        raise CorpusError(download.where_to_get(args.corpus))
    if (args.url is None) != (args.md5 is None):
        raise ParameterError("--url and --md5 go together: a mirror needs its own checksum")
    print(download.RAVDESS_LICENSE, file=sys.stderr)
    root = download.download_ravdess(
        args.dest,
        url=args.url or download.RAVDESS_URL,
        md5=args.md5 or download.RAVDESS_MD5,
        progress=not args.no_progress,
    )
    print(root)
    print(f"next: serkit demo --data {root}", file=sys.stderr)
    return 0
