"""Run :func:`~serkit.features.batch.iter_files` on a Dask cluster.

The tasks are the same chunks of files, and the function the same
:func:`~serkit.features.batch._process_chunk`, as the local process pool's: only
where they run differs. Workers read the clips and the cache by the paths this
process gives them, so on several machines both must be reachable under the same
paths (a shared file system); a cache folder local to each machine still works,
each worker then filling its own.

``dask[distributed]`` is an optional dependency (``pip install serkit[dask]``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings

from serkit.core.exceptions import ParameterError

_LOCAL = re.compile(r"local(?::(\d+))?")


def _connect(address: str):
    """A Client for ``address``, and the LocalCluster it started (or None)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ParameterError(f"--dask {address}: needs dask[distributed] (pip install 'serkit[dask]')") from error
    if (local := _LOCAL.fullmatch(address)) is not None:
        import dask

        n_workers = int(local.group(1) or os.cpu_count() or 1)
        if n_workers < 1:
            raise ParameterError(f"--dask {address}: needs at least one worker")
        # Processes with one thread each, as the local pool: features are CPU-bound
        # Python and NumPy; loopback only, never a port open to the network. Quiet:
        # the nannies' warnings on shutdown (a worker slow to stop), the HTTP server's
        # (health checks, on loopback too) on moving off a taken port 8787, and the
        # workers' profiler, sampling every 10 ms for a dashboard that is off.
        with warnings.catch_warnings(), dask.config.set({"distributed.worker.profile.enabled": False}):
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        return Client(cluster), cluster
    if "://" not in address:
        raise ParameterError(f"--dask {address}: not a scheduler address (tcp://host:8786) nor local[:N]")
    try:
        return Client(address, timeout="10s"), None
    except (OSError, TimeoutError) as error:
        raise ParameterError(f"--dask {address}: no scheduler answers ({error})") from error


@contextlib.contextmanager
def dask_executor(dask, process_chunk, feature_set, cache):
    """``(submit, n_workers)`` on a Dask cluster, as :func:`~serkit.features.batch._local_pool`.

    Parameters
    ----------
    dask : str or distributed.Client
        ``tcp://host:8786`` (a running scheduler), ``local`` / ``local:N`` (a
        LocalCluster of N single-threaded processes on loopback, default one per
        core), or a
        client, which is left open.
    process_chunk : callable
        ``process_chunk(paths, feature_set, cache)``, run on a worker for each chunk
        (passed in, so that this module needs nothing of the batch code that calls it).
    feature_set : FeatureSet
    cache : FeatureCache or None
    """
    owned = isinstance(dask, str)
    client, cluster = _connect(dask) if owned else (dask, None)
    try:
        n_workers = max(1, sum(info.get("nthreads", 1) for info in client.scheduler_info()["workers"].values()))
        yield (lambda chunk: client.submit(process_chunk, chunk, feature_set, cache, pure=False)), n_workers
    finally:
        if owned:
            client.close()
        if cluster is not None:
            cluster.close()
