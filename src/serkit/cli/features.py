"""``serkit features``: extract a feature set for a whole corpus into CSV, Parquet or NPZ."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from serkit.cli._common import (
    PARTIAL_TAG,
    add_corpus_arguments,
    extraction_options,
    load_features,
    read_corpus_reporting,
    remove_stale_partials,
    write_atomically,
)

HELP = "extract a feature set for every clip of a corpus (parallel, cached) into CSV/Parquet/NPZ"
EXAMPLE = "serkit features ../shared/data/ravdess-speech --corpus ravdess --set seed26 -o features.csv"
EXTRAS = ("train",)

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
DEFAULT_PARTITION_SIZE = 2000
PART_NAME = "part-{:05d}.parquet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_corpus_arguments(parser)
    parser.add_argument(
        "-o", "--output", required=True,
        help="output file: .csv or .parquet (vector sets), .npz (frame sets); a folder (OUT/ or an existing one): "
        "partitioned Parquet written as it is extracted; failures go to OUTPUT.failures.csv",
    )
    parser.add_argument(
        "--partition-size", type=int, default=None, metavar="N",
        help=f"write OUTPUT as a folder of Parquet files of N rows each (default for a folder: {DEFAULT_PARTITION_SIZE})",
    )
    parser.add_argument(
        "--dask", default=None, metavar="ADDRESS",
        help="extract on a Dask cluster: tcp://host:8786 (a running scheduler) or local[:N] (N processes here, default one per core); "
        "on several machines the corpus and --cache-dir must be shared paths (docs/distributed.md)",
    )


def _write_table(extraction, path: Path) -> None:
    import numpy as np

    if extraction.feature_set.kind == "frames":
        arrays = {f"clip{i:06d}": frames for i, frames in enumerate(extraction.frames)}
        paths = np.asarray(extraction.table["path"], dtype=str)
        labels = np.asarray(extraction.table["label"], dtype=str)
        speakers = np.asarray(extraction.table["speaker"], dtype=str)
        write_atomically(path, lambda p: np.savez(p, paths=paths, labels=labels, speakers=speakers, **arrays))
    elif path.suffix == ".csv":
        write_atomically(path, lambda p: extraction.table.to_csv(p, index=False))
    else:
        write_atomically(path, lambda p: extraction.table.to_parquet(p, index=False))


def _is_partitioned(args: argparse.Namespace) -> bool:
    return args.partition_size is not None or args.output.endswith(("/", os.sep)) or Path(args.output).is_dir()


def run(args: argparse.Namespace) -> int:
    from serkit.core.exceptions import ParameterError
    from serkit.features import get_feature_set

    partitioned = _is_partitioned(args)
    args.output = Path(args.output)
    suffix = args.output.suffix.lower()
    kind = get_feature_set(args.feature_set).kind
    if kind == "bundle":
        raise ParameterError(
            f"{args.feature_set!r} is a bundle: write each part with its own `serkit features` run "
            "(evaluate and train extract bundles themselves, part by part, cached)"
        )
    if partitioned:
        if kind != "vector" or suffix in (".csv", ".npz"):
            raise ParameterError(f"{args.output}: only a vector feature set is written as a folder of Parquet files")
        if args.partition_size is not None and args.partition_size < 1:
            raise ParameterError(f"--partition-size {args.partition_size}: must be >= 1")
        return _run_partitioned(args)
    allowed = (".npz",) if kind == "frames" else TABLE_SUFFIXES
    if suffix not in allowed:
        raise ParameterError(f"{args.output}: a {kind} feature set is written as {' or '.join(allowed)}, not {suffix or 'no extension'!r}")
    corpus, extraction = load_features(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for path, note in extraction.notes:
        print(f"note {path}: {note}", file=sys.stderr)
    return _finish(args, extraction.failures, len(extraction.table), len(extraction.table.columns), extraction.n_cached,
                   write=lambda: _write_table(extraction, args.output))


def _finish(args: argparse.Namespace, failures: list, n_rows: int, n_columns: int, n_cached: int, *, write) -> int:
    """Write the failures list (or remove a stale one), then the output via ``write()``; report."""
    failures_file = args.output.with_name(args.output.name + ".failures.csv")
    if failures:
        import pandas as pd

        table = pd.DataFrame(failures, columns=["path", "reason"])
        write_atomically(failures_file, lambda partial: table.to_csv(partial, index=False))
    else:
        failures_file.unlink(missing_ok=True)
    if n_rows == 0:
        print(f"serkit features: nothing could be extracted from {args.root}", file=sys.stderr)
        return 1
    write()
    print(
        f"wrote {args.output}: {n_rows} clips × {n_columns} columns "
        f"({n_cached} from cache, {len(failures)} failed"
        + (f", listed in {failures_file}" if failures else "")
        + ")",
        file=sys.stderr,
    )
    return 0


def _run_partitioned(args: argparse.Namespace) -> int:
    """Extract and write ``part-00000.parquet``, ... as the rows come, in corpus order,
    into a temporary folder that replaces ``args.output`` once complete."""
    import shutil
    import tempfile

    from serkit.features.batch import iter_corpus

    destination = args.output
    _check_replaceable(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(destination)  # staging folders of runs that were killed (SIGKILL skips their cleanup)
    corpus = read_corpus_reporting(args)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}.{PARTIAL_TAG}-{os.getpid()}-"))
    failures, n_parts, n_rows, n_columns, n_cached = [], 0, 0, 0, 0
    try:
        parts = iter_corpus(corpus, args.feature_set, partition_size=args.partition_size or DEFAULT_PARTITION_SIZE,
                            **extraction_options(args))
        for part in parts:
            for path, reason in part.failures:
                print(f"failed {path}: {reason}", file=sys.stderr)
            for path, note in part.notes:
                print(f"note {path}: {note}", file=sys.stderr)
            failures += part.failures
            n_cached += part.n_cached
            if len(part.table):
                part.table.to_parquet(staging / PART_NAME.format(n_parts), index=False)
                n_parts += 1
                n_rows += len(part.table)
                n_columns = len(part.table.columns)
        return _finish(args, failures, n_rows, n_columns, n_cached, write=lambda: _swap_in(staging, destination))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_replaceable(destination: Path) -> None:
    """Refuse to replace anything but a folder of parts (a former output): never a user's files."""
    from serkit.core.exceptions import ParameterError

    if destination.is_dir():
        others = [entry.name for entry in destination.iterdir() if not re.fullmatch(r"part-\d{5}\.parquet", entry.name)]
        if others:
            raise ParameterError(f"{destination}: a folder holding other files ({others[0]}, ...): not replaced")
    elif destination.exists():
        raise ParameterError(f"{destination}: exists and is not a folder of Parquet parts")


def _swap_in(staging: Path, destination: Path) -> None:
    import shutil

    _check_replaceable(destination)
    if destination.exists():
        retired = staging.with_name(staging.name + "-old")
        os.replace(destination, retired)
        shutil.rmtree(retired, ignore_errors=True)
    os.replace(staging, destination)
