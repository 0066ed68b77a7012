"""``serkit features``: extract a feature set for a whole corpus into CSV, Parquet or NPZ."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from serkit.cli._common import add_corpus_arguments, load_features, write_atomically

HELP = "extract a feature set for every clip of a corpus (parallel, cached) into CSV/Parquet/NPZ"
EXAMPLE = "serkit features ../shared/data/ravdess-speech --corpus ravdess --set seed26 -o features.csv"

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_corpus_arguments(parser)
    parser.add_argument(
        "-o", "--output", type=Path, required=True,
        help="output file: .csv or .parquet (vector sets), .npz (frame sets); failures go to OUTPUT.failures.csv",
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


def run(args: argparse.Namespace) -> int:
    from serkit.exceptions import ParameterError
    from serkit.features import get_feature_set

    suffix = args.output.suffix.lower()
    kind = get_feature_set(args.feature_set).kind
    if kind == "bundle":
        raise ParameterError(
            f"{args.feature_set!r} is a bundle: write each part with its own `serkit features` run "
            "(evaluate and train extract bundles themselves, part by part, cached)"
        )
    allowed = (".npz",) if kind == "frames" else TABLE_SUFFIXES
    if suffix not in allowed:
        raise ParameterError(f"{args.output}: a {kind} feature set is written as {' or '.join(allowed)}, not {suffix or 'no extension'!r}")
    corpus, extraction = load_features(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    failures_file = args.output.with_name(args.output.name + ".failures.csv")
    if extraction.failures:
        import pandas as pd

        failures = pd.DataFrame(extraction.failures, columns=["path", "reason"])
        write_atomically(failures_file, lambda partial: failures.to_csv(partial, index=False))
    else:
        failures_file.unlink(missing_ok=True)
    for path, note in extraction.notes:
        print(f"note {path}: {note}", file=sys.stderr)
    if extraction.table.empty:
        print(f"serkit features: nothing could be extracted from {args.root}", file=sys.stderr)
        return 1
    _write_table(extraction, args.output)
    print(
        f"wrote {args.output}: {len(extraction.table)} clips × {len(extraction.table.columns)} columns "
        f"({extraction.n_cached} from cache, {len(extraction.failures)} failed"
        + (f", listed in {failures_file}" if extraction.failures else "")
        + ")",
        file=sys.stderr,
    )
    return 0
