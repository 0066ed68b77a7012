"""``serkit serve``: the REST API and the web page (FastAPI + uvicorn)."""

from __future__ import annotations

import argparse

HELP = "Serve the REST API (POST /v1/predict) and the web page on http://HOST:PORT/."
EXAMPLE = "serkit serve --port 8000"
EXTRAS = ("serve",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="DIR", help="a saved model directory, or a bundled model by name (e.g. cnn-ensemble-v1); default: the bundled one")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1,
        help="server (uvicorn) processes, each with its own prediction workers (default 1, which is enough)",
    )
    parser.add_argument(
        "--prediction-workers", type=int, metavar="N",
        help="processes that run predictions, each loading the model once; 0: threads of the server "
             "process (default: the CPU cores, shared among --workers)",
    )
    parser.add_argument("--max-upload-mb", type=float, metavar="MB", help="largest accepted upload in MiB (default 50)")
    parser.add_argument("--max-duration", type=float, metavar="S", help="longest accepted audio in seconds (default 300)")
    parser.add_argument(
        "--max-concurrent", type=int, metavar="N",
        help="predictions running at once (default: 2 per prediction worker, or the CPU cores with 0)",
    )
    parser.add_argument(
        "--max-queued", type=int, metavar="N",
        help="predictions waiting for those; 503 past them (default: 4 per core)",
    )
    parser.add_argument(
        "--max-inflight-mb", type=float, metavar="MB",
        help="upload MiB all requests may hold at once; a request that would pass it gets 503 before its "
             "body is read (default 200)",
    )
    parser.add_argument("--upload-timeout", type=float, metavar="S", help="seconds a request's body may take (default 30; 408 after)")
    parser.add_argument(
        "--header-timeout", type=float, metavar="S",
        help="seconds a connection may take to send a request's headers (default 10; closed after)",
    )
    parser.add_argument("--max-connections", type=int, metavar="N", help="connections at once; 503 past them (default 200)")
    parser.add_argument(
        "--allowed-hosts", metavar="HOST[,HOST]",
        help="Host headers answered, e.g. ser.example.org or *.example.org, * for any "
             "(default: localhost, 127.0.0.1, [::1] and --host)",
    )
    parser.add_argument(
        "--cors", action="append", metavar="ORIGIN",
        help="let pages of ORIGIN (e.g. https://app.example.org) call the API from a browser; repeat for "
             "more (default: none)",
    )
    parser.add_argument(
        "--expose-details", action="store_true",
        help="show library versions, training command and paths at /v1/model (default: hidden)",
    )
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def check_port_free(host: str, port: int) -> None:
    """Bind ``host:port`` for a moment, as uvicorn will, so that a port in use (or a host
    that is not this machine's) is one clear line before the model takes seconds to load.

    Raises :class:`~serkit.core.exceptions.ParameterError`.
    """
    import errno
    import socket

    from serkit.core.exceptions import ParameterError

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a closing port is free
            probe.bind((host, port))
    except socket.gaierror as error:
        raise ParameterError(f"{host}: not a host name or address here ({error.strerror})") from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ParameterError(
                f"{host}:{port}: port in use (another server, perhaps another serkit serve); "
                "stop it or choose another with --port"
            ) from None
        raise ParameterError(f"{host}:{port}: cannot listen here ({error.strerror})") from None


LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
"""The ``Host`` names always answered by default (``--allowed-hosts`` replaces them); an
IPv6 address is written in brackets, as a ``Host`` header has it."""


def allowed_hosts(args: argparse.Namespace, settings) -> tuple[str, ...]:
    """The flag's host names, else the environment's, else :data:`LOCAL_NAMES` and the
    address the server listens on (a wildcard address is no name a client sends)."""
    from serkit.service.settings import split_names

    if args.allowed_hosts is not None:
        return split_names(args.allowed_hosts)
    if settings.allowed_hosts is not None:
        return settings.allowed_hosts
    name = f"[{args.host}]" if ":" in args.host else args.host
    listening = () if args.host in ("0.0.0.0", "::", "") or name in LOCAL_NAMES else (name,)
    return LOCAL_NAMES + listening


PREDICTIONS_PER_WORKER = 2
"""Predictions handed to each prediction worker at once by default (see :func:`prediction_sizes`)."""


def prediction_sizes(args: argparse.Namespace, settings) -> tuple[int, int]:
    """Prediction worker processes and predictions at once: the flag, else the environment
    (``settings``), else the cores shared among the ``--workers`` and two predictions per
    worker: one running, and the next already sent, so that a worker finishing one need
    not wait for the server process (which shares the cores with it) to hand it another."""
    import os

    from serkit.service.settings import ENVIRONMENT

    if args.prediction_workers is not None:
        workers = args.prediction_workers
    elif ENVIRONMENT["prediction_workers"] in os.environ:
        workers = settings.prediction_workers
    else:
        workers = max(1, (os.cpu_count() or 1) // args.workers)
    if args.max_concurrent is not None:
        return workers, args.max_concurrent
    if workers and ENVIRONMENT["max_concurrent"] not in os.environ:
        return workers, PREDICTIONS_PER_WORKER * workers
    return workers, settings.max_concurrent


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from dataclasses import replace

    from serkit.core.exceptions import ParameterError

    if args.workers < 1:
        raise ParameterError(f"--workers {args.workers} must be at least 1")
    if args.prediction_workers is not None and args.prediction_workers < 0:
        raise ParameterError(f"--prediction-workers {args.prediction_workers} must be 0 or more")
    check_port_free(args.host, args.port)
    from serkit.models.artifacts import load_model
    from serkit.service.app import check_predictor, create_app
    from serkit.service.settings import get_settings, to_environment

    settings = get_settings()
    prediction_workers, max_concurrent = prediction_sizes(args, settings)
    settings = replace(
        settings,
        # A path is made absolute for the workers; a bundled model's name stays a name.
        model_dir=(os.path.abspath(args.model) if args.model and os.path.exists(args.model) else args.model)
        or settings.model_dir,
        max_upload_bytes=settings.max_upload_bytes if args.max_upload_mb is None else int(args.max_upload_mb * 2**20),
        max_duration_s=settings.max_duration_s if args.max_duration is None else args.max_duration,
        max_concurrent=max_concurrent,
        prediction_workers=prediction_workers,
        max_queued=settings.max_queued if args.max_queued is None else args.max_queued,
        expose_details=settings.expose_details or args.expose_details,
        max_inflight_bytes=settings.max_inflight_bytes if args.max_inflight_mb is None else int(args.max_inflight_mb * 2**20),
        upload_timeout_s=settings.upload_timeout_s if args.upload_timeout is None else args.upload_timeout,
        header_timeout_s=settings.header_timeout_s if args.header_timeout is None else args.header_timeout,
        max_connections=settings.max_connections if args.max_connections is None else args.max_connections,
        allowed_hosts=allowed_hosts(args, settings),
        cors_origins=tuple(args.cors) if args.cors else settings.cors_origins,
    )
    # Fail here, with one clear line, rather than inside a worker's start-up.
    predictor = load_model(settings.model_dir)
    check_predictor(predictor)

    import uvicorn

    from serkit.service.connections import PROTOCOL

    # Settings travel by environment: to every server process, which builds the same app,
    # and to the connections' header deadline (serkit.service.connections).
    os.environ.update(to_environment(settings))
    if args.workers == 1:
        # One process: serve the model loaded above instead of loading it again.
        app, options = create_app(settings=settings, predictor=predictor), {}
    else:
        app, options = "serkit.service.app:create_app", {"factory": True, "workers": args.workers}
    where = f"{prediction_workers} prediction worker process(es)" if prediction_workers else "threads"
    print(f"serkit: serving on http://{args.host}:{args.port}/  (API docs at /docs), predicting in {where}"
          f"{' per server process' if args.workers > 1 else ''}; answering Host {', '.join(settings.allowed_hosts)}",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, http=PROTOCOL,
                limit_concurrency=settings.max_connections, **options)
    return 0
