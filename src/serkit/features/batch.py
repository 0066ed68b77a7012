"""Feature extraction for one clip or a whole corpus: parallel, cached, never all-or-nothing.

A corpus is extracted by worker processes (forked, one BLAS thread each), with a
progress bar. Each result is cached on disk under a key made of the file's content,
the feature set's name and parameters, the serkit version and the front end
(:data:`serkit.features.base.FRONT_END`), so a second run over
unchanged files recomputes nothing, and an edited file or a changed parameter is
recomputed. A file that fails is reported with its reason; the others still come out.
The same chunks of files can run on a Dask cluster instead (``dask=``, see
:mod:`serkit.features.dask_cluster`); either way results come back in corpus order with
a bounded number in flight, so a corpus can be written part by part (:func:`iter_corpus`).

Faults are contained: only regular files are read (a FIFO or a link to ``/dev/zero``
is skipped with a reason before anything opens it); a cache entry is checked on
every hit (shape, dtype, finiteness) and recomputed when bad; workers die with the
process that started them, however it ends (see :func:`_init_worker`).

Examples
--------
>>> import numpy as np, soundfile as sf, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
>>> sf.write(path, 0.1 * np.sin(2 * np.pi * 220 * np.arange(22050) / 22050), 22050)
>>> extract(path, "seed26").shape
(26,)
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import signal
import stat
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from serkit import __version__
from serkit.core.audio import check_peak, check_regular_file, load_audio
from serkit.corpora.base import CorpusTable
from serkit.core.exceptions import AudioError, ParameterError
from serkit.features.base import FRONT_END, FeatureSet
from serkit.features.bundle import BundleFeatures, get_feature_set

CACHE_ENV = "SERKIT_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$SERKIT_CACHE_DIR`` if set, else the user cache folder (e.g. ``~/.cache/serkit``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("serkit"))


def _resolve(feature_set: FeatureSet | str) -> FeatureSet:
    return get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set


MAX_CLIP_S = 600.0
"""Longest clip extracted (from its header, before decoding): ten minutes. Longer audio
is a recording to cut into clips (or to give to ``serkit predict``, which windows and
streams it); decoded whole it would hold gigabytes of samples and spectra."""


def extract(source, feature_set: FeatureSet | str = "seed26", *, max_duration_s: float | None = MAX_CLIP_S) -> np.ndarray:
    """Features of one file (or file object): a row for vector sets, a matrix for frame sets.

    Parameters
    ----------
    source : str, path-like or binary file object
    feature_set : FeatureSet or str
    max_duration_s : float > 0 or None
        Longest clip accepted, checked from the header (default :data:`MAX_CLIP_S`).

    Raises
    ------
    AudioError
        Unusable audio (see :func:`~serkit.core.audio.load_audio`), longer than
        ``max_duration_s``, samples beyond :data:`~serkit.core.audio.MAX_PEAK`, or features
        that are not finite: never NaN out.
    """
    feature_set = _resolve(feature_set)
    y, sr = load_audio(source, sr=feature_set.sr, max_duration_s=max_duration_s)
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "<stream>")
    check_peak(y, name)
    value = feature_set.from_audio(y, sr)
    if isinstance(value, np.ndarray) and not np.all(np.isfinite(value)):
        raise AudioError(f"{name}: features are not finite")
    return value


class FeatureCache:
    """Results on disk, one ``.npy`` per (file content, feature set, parameters, version, front end).

    Parameters
    ----------
    directory : Path
        Cache root; entries go to ``directory/features/<set>/<key[:2]>/<key>.npy``.
    feature_set : FeatureSet
    """

    def __init__(self, directory: Path, feature_set: FeatureSet):
        self.directory = Path(directory) / "features" / feature_set.name
        config = json.dumps([feature_set.name, feature_set.params(), __version__, FRONT_END], sort_keys=True, default=str)
        self._config = config.encode()
        # What a good entry looks like: a vector set's row, or a frame set's bands × frames.
        self._shape = (len(feature_set.columns),) if feature_set.kind == "vector" else None
        self._n_bands = feature_set.params().get("n_mels")

    def key(self, path: Path) -> str:
        """Digest of the cache config and the file's bytes.

        Reads at most the size the open file reports, and only from a regular file, so
        a file that grows while it is read, or a special file swapped in after the
        caller's check, cannot keep it reading.
        """
        digest = hashlib.blake2b(self._config, digest_size=20)
        with open(path, "rb", buffering=0) as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise AudioError(f"{path}: not a regular file")
            remaining = info.st_size
            while remaining > 0 and (block := stream.read(min(remaining, 1 << 20))):
                digest.update(block)
                remaining -= len(block)
        return digest.hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.npy"

    def get(self, key: str) -> tuple[np.ndarray | None, str | None]:
        """``(value, None)`` for a good entry; ``(None, why)`` for a bad one, which is
        removed so that it is recomputed; ``(None, None)`` when there is none."""
        target = self._file(key)
        try:
            value = np.load(target, allow_pickle=False)
            problem = self._problem(value)
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError, EOFError) as error:
            problem = f"unreadable ({str(error) or type(error).__name__})"
        if problem is None:
            return value, None
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        return None, f"cache entry {target.name} was {problem}: recomputed"

    def _problem(self, value) -> str | None:
        """What is wrong with a loaded entry, or None: the kind, shape, dtype and
        finiteness a fresh result of this set has."""
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            return f"of dtype {getattr(value, 'dtype', type(value).__name__)}, not floating point"
        if self._shape is not None and value.shape != self._shape:
            return f"of shape {value.shape}, not {self._shape}"
        if self._shape is None and (value.ndim != 2 or 0 in value.shape or self._n_bands not in (None, value.shape[0])):
            return f"of shape {value.shape}, not ({self._n_bands or 'bands'}, frames)"
        if not np.all(np.isfinite(value)):
            return "not finite"
        return None

    def put(self, key: str, value: np.ndarray) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as stream:
            np.save(stream, value, allow_pickle=False)
        os.replace(partial, target)


@dataclass
class FileResult:
    """What happened to one file: its features, or why there are none."""

    value: np.ndarray | None = None
    error: str | None = None
    cached: bool = False
    notes: list[str] = field(default_factory=list)


def _process_file(path: Path, feature_set: FeatureSet, cache: FeatureCache | None) -> FileResult:
    try:
        # First, before the cache key reads a byte: a FIFO would block, /dev/zero never end.
        check_regular_file(path)
        key = cache.key(path) if cache is not None else None
        hit, cache_note = cache.get(key) if key is not None else (None, None)
        if hit is not None:
            return FileResult(value=hit, cached=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = extract(path, feature_set)
        if key is not None:
            cache.put(key, value)
        return FileResult(value=value, notes=[note for note in (cache_note,) if note] + [str(w.message) for w in caught])
    except Exception as error:  # noqa: BLE001 — one bad file must not stop a batch
        reason = str(error) if getattr(error, "args", None) else type(error).__name__
        return FileResult(error=reason if str(path) in reason else f"{path}: {reason}")


_WORKER_STATE: dict = {}


def _warm_up(feature_set: FeatureSet) -> None:
    """Run the set once on a second of noise, so that forked workers start with its
    libraries imported and its filter banks built instead of each doing it again."""
    noise = np.random.default_rng(0).standard_normal(feature_set.sr).astype(np.float32) * 0.1
    feature_set.from_audio(noise, feature_set.sr)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_WATCHDOG_PERIOD_S = 1.0


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker end when ``parent_pid`` does, however the parent ends.

    A pool's workers otherwise outlive a parent killed with SIGKILL (or SIGTERM, whose
    default action runs no clean-up): they are re-parented to init, keep ~200 MB each
    and hold the parent's stdout pipe open, so whoever reads it never sees EOF. On
    Linux the kernel sends PR_SET_PDEATHSIG's signal the moment the parent goes,
    wherever the worker is (even deep in C code). The signal follows the thread that
    forked the worker, here the one running the pool, which outlives the pool.
    Elsewhere, or if prctl is refused, a watchdog thread notices the re-parenting
    within a second.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_WATCHDOG_PERIOD_S)
        os._exit(1)

    threading.Thread(target=watch, name="serkit-parent-watchdog", daemon=True).start()


def _init_worker(feature_set: FeatureSet, cache: FeatureCache | None, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group: the parent alone handles it (and stops
    # the pool), instead of every worker printing a traceback. SIGTERM gets its default
    # action back, should the fork have copied a handler of the parent's.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # One BLAS thread per process: the pool already uses every core.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    _WORKER_STATE.update(feature_set=feature_set, cache=cache)


def _process_chunk(paths: list[Path], feature_set: FeatureSet, cache: FeatureCache | None) -> list[FileResult]:
    """:func:`_process_file` on each of ``paths``: one task of a pool or a Dask cluster."""
    return [_process_file(path, feature_set, cache) for path in paths]


def _worker_chunk(paths: list[Path]) -> list[FileResult]:
    return _process_chunk(paths, _WORKER_STATE["feature_set"], _WORKER_STATE["cache"])


@contextlib.contextmanager
def _signals_stop_the_run():
    """While the pool runs, SIGTERM unwinds like Ctrl-C (so that the pool is stopped)
    instead of ending the process on the spot, and neither is lost. Only from the main
    thread, and for each signal only when nobody else (a server, a caller) has claimed it.

    Yields a function to call before each new task: it raises for a signal whose exception
    was lost, so that the run stops at the next task instead of after the last."""
    received = []

    def raise_if_received() -> None:
        if received:
            _raise_for(received[0])

    if threading.current_thread() is not threading.main_thread():
        yield raise_if_received
        return
    unclaimed = {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler}
    claimed = {signum: default for signum, default in unclaimed.items() if signal.getsignal(signum) is default}

    def stop(signum, frame):
        received.append(signum)
        _raise_for(signum)

    for signum in claimed:
        signal.signal(signum, stop)
    try:
        yield raise_if_received
    finally:
        for signum, default in claimed.items():
            signal.signal(signum, default)
    # The exception can land where Python ignores exceptions (a lock release at fork
    # prints "Exception ignored", and a Ctrl-C there once let a run finish as if never
    # interrupted); the signal still ends the run.
    raise_if_received()


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _stop_pool(pool: ProcessPoolExecutor, workers: list) -> None:
    """Cancel what is queued and end ``workers`` now, not after their current clips."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.kill()
    for process in workers:
        process.join(timeout=5)


@contextlib.contextmanager
def _local_pool(feature_set: FeatureSet, cache: FeatureCache | None, n_jobs: int):
    """``(submit, n_workers)`` for forked worker processes; ``submit(chunk)`` returns a future."""
    import multiprocessing

    _warm_up(feature_set)
    # The pool's workers are the children started while it runs. Known this way, not
    # from the pool's private process table, they include one interrupted between its
    # fork and its entry in that table.
    children_before = set(multiprocessing.active_children())
    # Fork: workers inherit the imported libraries and cached filter banks.
    pool = ProcessPoolExecutor(
        max_workers=n_jobs, mp_context=get_context("fork"), initializer=_init_worker, initargs=(feature_set, cache, os.getpid())
    )
    try:
        with _signals_stop_the_run() as raise_if_signalled:

            def submit(chunk: list[Path]):
                raise_if_signalled()
                return pool.submit(_worker_chunk, chunk)

            yield submit, n_jobs
    except BaseException:
        _stop_pool(pool, [child for child in multiprocessing.active_children() if child not in children_before])
        raise
    pool.shutdown()


def _ordered_results(submit, chunks: list[list[Path]], *, in_flight: int, bar) -> Iterator[FileResult]:
    """Results of ``chunks`` in their order, with at most ``in_flight`` chunks submitted
    and not yet consumed: memory stays bounded however long the corpus. A chunk whose
    task itself fails (a worker lost) fails each of its files with that reason."""
    remaining = iter(chunks)
    pending = deque((chunk, submit(chunk)) for chunk in itertools.islice(remaining, in_flight))
    while pending:
        chunk, future = pending.popleft()
        try:
            results = future.result()
        except Exception as error:  # noqa: BLE001 — the other chunks still come out
            results = [FileResult(error=f"{path}: worker failed ({str(error) or type(error).__name__})") for path in chunk]
        del future
        if (following := next(remaining, None)) is not None:
            pending.append((following, submit(following)))
        bar.update(len(chunk))
        yield from results


IN_FLIGHT_PER_WORKER = 4
"""Chunks submitted ahead per worker: enough to keep every worker busy, few enough
that results waiting for an earlier, slower chunk stay a handful of rows."""


def iter_files(
    paths: list[Path],
    feature_set: FeatureSet | str = "seed26",
    *,
    n_jobs: int | None = None,
    dask=None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> Iterator[FileResult]:
    """Extract every file in ``paths``, yielding results one by one in the same order.

    Parameters
    ----------
    paths : list of Path
    feature_set : FeatureSet or str
    n_jobs : int >= 1 or None
        Worker processes; ``None`` uses every core, ``1`` runs in this process.
        Ignored with ``dask``.
    dask : str, distributed.Client or None
        Run on a Dask cluster instead: a scheduler address (``tcp://host:8786``),
        ``local`` or ``local:N`` (a cluster of N processes on this machine), or a
        client (see :func:`serkit.features.dask_cluster.dask_executor`). The cache
        folder is the workers' own: on several machines, a shared path.
    cache_dir : Path or None
        Cache root (default :func:`default_cache_dir`).
    use_cache : bool
        ``False`` bypasses the cache: nothing read, nothing written.
    progress : bool
        Show a progress bar on stderr.

    Examples
    --------
    >>> results = iter_files([], "seed26", n_jobs=1, progress=False)
    >>> list(results)
    []
    """
    from tqdm.auto import tqdm

    feature_set = _resolve(feature_set)
    n_jobs = (os.cpu_count() or 1) if n_jobs is None else n_jobs
    if n_jobs < 1:
        raise ParameterError(f"n_jobs={n_jobs!r} must be >= 1")
    cache = FeatureCache(cache_dir or default_cache_dir(), feature_set) if use_cache else None
    bar_options = dict(total=len(paths), desc=f"features {feature_set.name}", unit="clip", disable=not progress, file=sys.stderr)
    if dask is None and (n_jobs == 1 or len(paths) < 2 * n_jobs):
        yield from (_process_file(path, feature_set, cache) for path in tqdm(paths, **bar_options))
        return
    if dask is None:
        executor = _local_pool(feature_set, cache, n_jobs)
    else:
        from serkit.features.dask_cluster import dask_executor

        executor = dask_executor(dask, _process_chunk, feature_set, cache)
    with executor as (submit, n_workers), tqdm(**bar_options) as bar:
        chunksize = max(1, min(32, len(paths) // (8 * n_workers)))
        chunks = [paths[start : start + chunksize] for start in range(0, len(paths), chunksize)]
        yield from _ordered_results(submit, chunks, in_flight=IN_FLIGHT_PER_WORKER * n_workers, bar=bar)


def extract_files(paths: list[Path], feature_set: FeatureSet | str = "seed26", **options) -> list[FileResult]:
    """Extract every file in ``paths``; results come back in the same order.

    The options are those of :func:`iter_files`.
    """
    return list(iter_files(paths, feature_set, **options))


@dataclass
class Extraction:
    """Features of a corpus.

    Attributes
    ----------
    feature_set : FeatureSet
    table : pandas.DataFrame
        One row per extracted clip, in corpus order: ``path``, ``speaker``, the feature
        columns (vector sets only), ``label``, then the corpus's metadata columns.
    frames : list of np.ndarray or None
        For frame sets, the ``(n_bands, n_frames)`` matrix of each row.
    failures : list of (str, str)
        ``(path, reason)`` of every clip that could not be extracted.
    notes : list of (str, str)
        ``(path, note)`` of extracted clips with something worth saying (e.g. silent).
    n_cached : int
        How many rows came from the cache (for a bundle: in the part with fewest).
    bundle : BundleFeatures or None
        For bundles, the features of each row, part by part.
    """

    feature_set: FeatureSet
    table: pd.DataFrame
    frames: list[np.ndarray] | None
    failures: list[tuple[str, str]]
    notes: list[tuple[str, str]]
    n_cached: int
    bundle: BundleFeatures | None = None

    @property
    def X(self) -> np.ndarray:
        """The feature matrix ``(n_clips, n_features)`` of a vector set."""
        return self.table[self.feature_set.columns].to_numpy(dtype=np.float64)


def extract_corpus(
    corpus: CorpusTable,
    feature_set: FeatureSet | str = "seed26",
    *,
    n_jobs: int | None = None,
    dask=None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> Extraction:
    """Extract ``feature_set`` for every clip of ``corpus`` (see :func:`iter_files`).

    A bundle is extracted part by part, each with its own cache; a clip is kept when
    every part has it, and fails with the first part's reason otherwise.
    """
    feature_set = _resolve(feature_set)
    options = dict(n_jobs=n_jobs, dask=dask, cache_dir=cache_dir, use_cache=use_cache, progress=progress)
    if feature_set.kind == "bundle":
        return _extract_bundle(corpus, feature_set, [extract_corpus(corpus, part, **options) for part in feature_set.part_sets()])
    (whole,) = iter_corpus(corpus, feature_set, partition_size=None, **options)
    return whole


def iter_corpus(
    corpus: CorpusTable,
    feature_set: FeatureSet | str = "seed26",
    *,
    partition_size: int | None = 2000,
    **options,
) -> Iterator[Extraction]:
    """Extract ``corpus`` as consecutive partitions of ``partition_size`` extracted rows.

    Only one partition's features are held at a time, so that a corpus of any size
    can be written part by part. Each partition carries the failures and notes of
    the clips read since the previous one; at least one (maybe empty) comes out.

    Parameters
    ----------
    corpus : CorpusTable
    feature_set : FeatureSet or str
        A vector or frame set (not a bundle).
    partition_size : int >= 1 or None
        Rows per partition (the last has the rest); ``None``: one partition.
    **options
        Those of :func:`iter_files`.

    Examples
    --------
    >>> from serkit.corpora.base import CorpusTable
    >>> empty = CorpusTable("manifest", Path("."), pd.DataFrame(columns=["path", "speaker", "label"]))
    >>> [len(part.table) for part in iter_corpus(empty, "seed26", progress=False)]
    [0]
    """
    feature_set = _resolve(feature_set)
    if feature_set.kind == "bundle":
        raise ParameterError(f"{feature_set.name!r} is a bundle: extract it with extract_corpus")
    if partition_size is not None and partition_size < 1:
        raise ParameterError(f"partition_size={partition_size!r} must be >= 1")
    relative = list(corpus.table["path"])
    kept, values, failures, notes, n_cached = [], [], [], [], 0
    n_parts = 0
    for i, result in enumerate(iter_files(corpus.absolute_paths(), feature_set, **options)):
        if result.error is not None:
            failures.append((relative[i], result.error))
            continue
        kept.append(i)
        values.append(result.value)
        notes.extend((relative[i], note) for note in result.notes)
        n_cached += result.cached
        if len(kept) == partition_size:
            yield _partition(corpus, feature_set, kept, values, failures, notes, n_cached)
            kept, values, failures, notes, n_cached = [], [], [], [], 0
            n_parts += 1
    if kept or failures or n_parts == 0:
        yield _partition(corpus, feature_set, kept, values, failures, notes, n_cached)


def _partition(corpus: CorpusTable, feature_set: FeatureSet, kept: list[int], values: list, failures, notes, n_cached: int) -> Extraction:
    """The Extraction of rows ``kept`` of ``corpus``, whose features are ``values``."""
    meta = corpus.table.iloc[kept].reset_index(drop=True)
    frames = None
    if feature_set.kind == "vector":
        matrix = np.vstack(values) if values else np.empty((0, len(feature_set.columns)))
        features = pd.DataFrame(matrix, columns=feature_set.columns)
        table = pd.concat([meta[["path", "speaker"]], features, meta[["label", *_metadata_columns(meta)]]], axis=1)
    else:
        frames = values
        table = meta[["path", "speaker", "label", *_metadata_columns(meta)]]
    return Extraction(feature_set=feature_set, table=table, frames=frames, failures=failures, notes=notes, n_cached=n_cached)


def _metadata_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in ("path", "speaker", "label")]


def _extract_bundle(corpus: CorpusTable, bundle, parts: list[Extraction]) -> Extraction:
    """Join the extractions of a bundle's parts on the clip path, in corpus order."""
    kept = set.intersection(*(set(part.table["path"]) for part in parts))
    meta = corpus.table[corpus.table["path"].isin(kept)].reset_index(drop=True)
    values = {}
    for name, part in zip(bundle.part_names, parts):
        row_of = {path: row for row, path in enumerate(part.table["path"])}
        rows = [row_of[path] for path in meta["path"]]
        values[name] = part.X[rows] if part.feature_set.kind == "vector" else [part.frames[row] for row in rows]
    failures: dict[str, str] = {}
    for part in parts:
        for path, reason in part.failures:
            failures.setdefault(path, reason)
    notes = list(dict.fromkeys(note for part in parts for note in part.notes))
    return Extraction(
        feature_set=bundle,
        table=meta[["path", "speaker", "label", *_metadata_columns(meta)]],
        frames=None,
        failures=list(failures.items()),
        notes=notes,
        n_cached=min(part.n_cached for part in parts),
        bundle=BundleFeatures(values, {name: part.feature_set.kind for name, part in zip(bundle.part_names, parts)}),
    )
