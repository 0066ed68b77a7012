"""Values built once per process and argument, which a background thread may start early.

A cold ``serkit predict`` spends most of its time loading things it needs later: the
Whisper encoder (a 75 MB file checked by SHA-256, then read by CTranslate2) and the
voice-activity network's ONNX Runtime session. Both libraries release the GIL while
they work, so on a machine with a second core they can load in a thread while the main
thread imports, reads the model directory, decodes the audio and finds the speech.
:func:`once` gives a loader the cache it needs for that: every caller of the same
arguments gets the one value; one who comes while it is being built waits for it.

>>> calls = []
>>> @once
... def square(x):
...     calls.append(x)
...     return x * x
>>> square.preload(3)                  # starts building in a thread
>>> square(3), square(3), calls        # waits for it, then the cached value
(9, 9, [3])
>>> square.cache_clear()
>>> square(3), calls
(9, [3, 3])
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import Future


def once(function):
    """Cache ``function``'s value per positional arguments, safely across threads.

    Unlike :func:`functools.lru_cache`, concurrent callers of the same arguments share
    one computation. An exception reaches every caller waiting for that computation and
    is not kept: the next call tries again (so a file put right is then accepted, and an
    error raised in a background thread is raised again, in full, to the caller).

    The wrapper has ``preload(*args)``, which starts the computation in a thread (one the
    interpreter waits for at exit) unless it has started already (its error, if any, is left for the next caller), and
    ``cache_clear()``. A forked child keeps the values its parent finished, never one
    still being built by a thread the child does not have.
    """
    lock = threading.Lock()
    futures: dict[tuple, Future] = {}

    def claim(args: tuple) -> tuple[Future, bool]:
        """(the future for ``args``, whether this caller must compute it)."""
        with lock:
            future = futures.get(args)
            if future is not None:
                return future, False
            future = futures[args] = Future()
            return future, True

    def compute(args: tuple, future: Future) -> None:
        try:
            future.set_result(function(*args))
        except BaseException as error:
            with lock:
                if futures.get(args) is future:
                    del futures[args]
            future.set_exception(error)

    @functools.wraps(function)
    def cached(*args):
        future, mine = claim(args)
        if mine:
            compute(args, future)
        return future.result()

    def preload(*args) -> None:
        future, mine = claim(args)
        if mine:
            # Not a daemon: a process that ends early (a bad file, Ctrl-C) waits for the load to
            # finish rather than unload the libraries under the thread still inside them.
            threading.Thread(target=compute, args=(args, future), name=f"serkit-preload-{function.__name__}").start()

    def cache_clear() -> None:
        with lock:
            futures.clear()

    def after_fork_in_child() -> None:
        nonlocal lock
        lock = threading.Lock()  # a thread of the parent may have held it at the fork
        for args, future in list(futures.items()):
            if not future.done():  # its builder did not come along
                del futures[args]

    os.register_at_fork(after_in_child=after_fork_in_child)
    cached.preload, cached.cache_clear = preload, cache_clear
    return cached
