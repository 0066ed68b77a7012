"""Hostile clients against ``serkit serve``: a flood of large uploads, then slow clients.

Starts ``serkit serve`` on 127.0.0.1 (a free port, its temporary files in a private
folder), then

1. **upload flood**: ``--uploads`` clients (default 40) each send a ``--upload-mib`` MiB
   (default 45) multipart upload at once, all together. Every 20 ms it sums the sizes of
   the temporary files the server and its workers hold open (``/proc/PID/fd``), and
   prints the peak beside the server's ``--max-inflight-mb`` cap, the statuses, and for
   the refused uploads how much of their body they had sent when the answer came (what
   the kernel's socket buffers took: the server read none of it);
2. **slow clients**: ``--slow-clients`` connections (default 50) send a byte a second for
   ``--seconds`` (default 60): half of them the request's headers, half a body after
   complete headers. It prints how many are still open at the end (target 0), when the
   server closed them and with which status, and ``/health``'s latency meanwhile.

Usage::

    nice -n 10 python benchmarks/bench_service_hostile.py                 # 40 x 45 MiB, 50 slow clients for 60 s
    python benchmarks/bench_service_hostile.py --uploads 8 --upload-mib 5 --max-upload-mb 6 --max-inflight-mb 12 \\
        --slow-clients 10 --seconds 15 --upload-timeout 5 --header-timeout 5

Exit status 1 when a target is missed or the server died. Bounded: at most
``uploads x upload-mib`` bytes over the loopback, ``--seconds`` of slow clients.
"""

from __future__ import annotations

import argparse
import io
import os
import select
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter

import numpy as np
import soundfile as sf
from bench_service import MULTIPART_TYPE, free_port, multipart_body, start_server

MIB = 2**20
CHUNK = 256 * 1024


def wav_of_size(mib: float) -> bytes:
    """An 8 kHz 16-bit WAV of about ``mib`` MiB: a quiet tone, over 300 s (the server's
    default duration limit) from 4.6 MiB on, so that an admitted upload is refused with 422
    from its header once received, and the flood measures receiving, not predicting."""
    samples = int(mib * MIB / 2)
    tone = (0.1 * np.sin(2 * np.pi * 180 * np.arange(samples) / 8000)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, tone, 8000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def spooled_bytes(pid: int, folder: str) -> int:
    """Bytes of the files under ``folder`` held open by ``pid`` and its children (anonymous
    temporary files included: their links read ``folder/#inode (deleted)``), each file
    once however many processes hold it (a worker reads the server's file)."""
    pids = [pid] + [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and parent_of(entry) == pid]
    sizes = {}
    for process in pids:
        try:
            descriptors = os.listdir(f"/proc/{process}/fd")
        except OSError:
            continue
        for descriptor in descriptors:
            path = f"/proc/{process}/fd/{descriptor}"
            try:
                if os.readlink(path).startswith(folder):
                    found = os.stat(path)
                    sizes[found.st_dev, found.st_ino] = found.st_size
            except OSError:
                continue
    return sum(sizes.values())


def parent_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def status_of(answer: bytes) -> int | str:
    """The status code of an HTTP answer's first line, or why there is none."""
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else "no answer"


def read_answer(connection: socket.socket, timeout_s: float) -> bytes:
    """What the server sends on ``connection`` until it closes it or ``timeout_s`` passes
    with nothing new (a kept-alive connection after a whole answer)."""
    connection.settimeout(timeout_s)
    answer = b""
    try:
        while chunk := connection.recv(65536):
            answer += chunk
    except OSError:
        pass
    return answer


def upload(port: int, body: bytes, content_type: str, start: threading.Barrier) -> tuple[int | str, int, float]:
    """Send ``body`` as fast as the server takes it, stopping as soon as an answer arrives.

    Returns the status, the body bytes sent before the answer, and the seconds it took."""
    start.wait()
    started = time.perf_counter()
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as connection:
        head = (f"POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            connection.sendall(head)
            while sent < len(body):
                if select.select([connection], [], [], 0)[0]:
                    break  # answered before the whole body: stop sending
                sent += connection.send(body[sent: sent + CHUNK])
        except OSError:
            pass  # the server closed the connection: its answer, if any, is still to be read
        answer = read_answer(connection, 120)
    return status_of(answer), sent, time.perf_counter() - started


def upload_flood(port: int, server_pid: int, folder: str, *, uploads: int, mib: float) -> dict:
    body = multipart_body(wav_of_size(mib))
    start = threading.Barrier(uploads + 1)
    results = [None] * uploads
    peak = {"bytes": 0}
    done = threading.Event()

    def client(index):
        results[index] = upload(port, body, MULTIPART_TYPE, start)

    def sample():
        while not done.is_set():
            peak["bytes"] = max(peak["bytes"], spooled_bytes(server_pid, folder))
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(uploads)]
    sampler = threading.Thread(target=sample)
    for thread in threads:
        thread.start()
    sampler.start()
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    return {"results": results, "peak_bytes": peak["bytes"], "body_bytes": len(body), "wall_s": time.perf_counter() - started}


def slow_clients(port: int, *, count: int, seconds: float) -> dict:
    """``count`` connections sending a byte a second for ``seconds`` (half in the headers,
    half in a body); when and how the server closed each, and how many are still open."""
    headers_first = b"POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: audio/wav\r\nContent-Length: 1000000\r\n\r\n"
    clients = []
    for index in range(count):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.setblocking(False)
        in_body = index % 2 == 1
        if in_body:
            connection.sendall(headers_first)
        clients.append({"socket": connection, "kind": "body" if in_body else "headers", "sent": 0,
                        "answer": b"", "closed_s": None})
    started = time.monotonic()
    health_ms = []
    while time.monotonic() - started < seconds:
        for client in clients:
            if client["closed_s"] is None:
                step(client, headers_first, time.monotonic() - started)
        health_ms.append(health_latency_ms(port))
        time.sleep(max(0.0, 1 - (time.monotonic() - started) % 1))
    still_open = [client for client in clients if client["closed_s"] is None]
    for client in clients:
        client["socket"].close()
    return {"clients": clients, "still_open": len(still_open), "health_ms": health_ms}


def step(client: dict, headers: bytes, now_s: float) -> None:
    """One second of a slow client: note what the server sent or that it closed, else send a byte."""
    connection = client["socket"]
    try:
        while chunk := connection.recv(65536):
            client["answer"] += chunk
        client["closed_s"] = now_s  # recv gave b"": the server closed the connection
        return
    except BlockingIOError:
        pass
    except OSError:
        client["closed_s"] = now_s
        return
    byte = headers[client["sent"] % len(headers): client["sent"] % len(headers) + 1] if client["kind"] == "headers" else b"\0"
    try:
        connection.send(byte)
        client["sent"] += 1
    except OSError:
        client["closed_s"] = now_s


def health_latency_ms(port: int) -> float:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status = status_of(read_answer(connection, 10))
    return 1000 * (time.perf_counter() - started) if status == 200 else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model directory (default: the bundled model)")
    parser.add_argument("--uploads", type=int, default=40, help="concurrent large uploads (default 40)")
    parser.add_argument("--upload-mib", type=float, default=45, help="size of each (default 45 MiB)")
    parser.add_argument("--slow-clients", type=int, default=50, help="connections sending a byte a second (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the slow clients go on (default 60)")
    parser.add_argument("--max-inflight-mb", type=float, default=200, help="the server's cap (its default, 200 MiB)")
    parser.add_argument("--max-upload-mb", type=float, default=50, help="the server's largest upload (its default, 50 MiB)")
    parser.add_argument("--upload-timeout", type=float, default=30, help="the server's body deadline (its default, 30 s)")
    parser.add_argument("--header-timeout", type=float, default=10, help="the server's header deadline (its default, 10 s)")
    parser.add_argument("--server-defaults", action="store_true",
                        help="start serkit serve with no options (to measure a version without them)")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as folder:
        port = free_port()
        options = () if args.server_defaults else (
            "--max-inflight-mb", str(args.max_inflight_mb), "--max-upload-mb", str(args.max_upload_mb),
            "--upload-timeout", str(args.upload_timeout), "--header-timeout", str(args.header_timeout))
        server = start_server(port, args.model, options=options, environment={"TMPDIR": folder})
        try:
            flood = upload_flood(port, server.pid, folder, uploads=args.uploads, mib=args.upload_mib)
            slow = slow_clients(port, count=args.slow_clients, seconds=args.seconds)
            alive = health_latency_ms(port) < float("inf")
        finally:
            server.terminate()
            server.wait(timeout=60)
    checks = {
        "spooled <= cap": report_flood(flood, args),
        "0 slow connections open": report_slow(slow, args),
        "server alive": alive,
    }
    print(f"server alive at the end: {alive}; load average {os.getloadavg()[0]:.2f} at the end")
    print("targets: " + ", ".join(f"{name} {'PASS' if ok else 'MISS'}" for name, ok in checks.items()))
    return 0 if all(checks.values()) else 1


def report_flood(flood: dict, args) -> bool:
    statuses = Counter(status for status, _, _ in flood["results"])
    refused_sent = [sent for status, sent, _ in flood["results"] if status == 503]
    cap = args.max_inflight_mb * MIB
    print(f"upload flood: {args.uploads} x {flood['body_bytes'] / MIB:.1f} MiB at once, {flood['wall_s']:.1f} s")
    print("  statuses: " + ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items(), key=str)))
    print(f"  peak bytes spooled at once (server and workers): {flood['peak_bytes'] / MIB:.1f} MiB; cap {cap / MIB:g} MiB")
    if refused_sent:
        print(f"  refused uploads: body sent when the 503 came (refused from the headers: what the socket buffers took): "
              f"median {statistics.median(refused_sent) / MIB:.2f} MiB, max {max(refused_sent) / MIB:.2f} MiB "
              f"of {flood['body_bytes'] / MIB:.1f}")
    return flood["peak_bytes"] <= cap


def report_slow(slow: dict, args) -> bool:
    print(f"slow clients: {args.slow_clients} sending a byte a second for {args.seconds:g} s")
    for kind in ("headers", "body"):
        clients = [client for client in slow["clients"] if client["kind"] == kind]
        closed = [client["closed_s"] for client in clients if client["closed_s"] is not None]
        statuses = Counter(status_of(client["answer"]) for client in clients if client["closed_s"] is not None)
        when = f"closed after median {statistics.median(closed):.0f} s, max {max(closed):.0f} s" if closed else "none closed"
        print(f"  slow in the {kind}: {len(clients)}, {when}; answers " +
              ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items(), key=str)))
    finite = [ms for ms in slow["health_ms"] if ms < float("inf")]
    print(f"  /health meanwhile: {len(finite)} of {len(slow['health_ms'])} answered, median "
          f"{statistics.median(finite) if finite else float('nan'):.1f} ms, max {max(finite) if finite else float('nan'):.1f} ms")
    print(f"  connections still open at the end: {slow['still_open']}")
    return slow["still_open"] == 0


if __name__ == "__main__":
    sys.exit(main())
