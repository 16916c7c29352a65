"""The HTTP app of `serve`: GET /health/kafka, GET /metrics and the console over a cached read.

Everything but /health/kafka and /metrics goes to `console.app.ConsoleApp` (the page, its
assets and /api/), which answers from the same `CachedHealth`; any method but GET and HEAD is
405 there, and /health/kafka and /metrics need no token wherever serve listens.

`CachedHealth` makes at most one cluster read per interval, whatever the number of scrapers:
one read is in flight at a time and concurrent requests wait for it, then share its result.
A failed read (the cluster down) is a DOWN sample, so requests answer 503 instead of 500; an
unexpected error in a request is still a 503 with a DOWN document. Never prints.
"""

from __future__ import annotations

import errno
import json
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.health.checks import ClusterRead, HealthReport
from dreamscape_infra.health.metrics import CONTENT_TYPE, MetricsInput, exposition
from dreamscape_infra.health.sources import Observation

if TYPE_CHECKING:
    from dreamscape_infra.console.app import ConsoleApp
    from dreamscape_infra.groups.model import GroupLag

DEFAULT_CACHE_S = 5.0
HEALTH_PATH = "/health/kafka"
METRICS_PATH = "/metrics"
# A client that connects and sends nothing must not hold a thread forever.
REQUEST_TIMEOUT_S = 30.0

ReadFn = Callable[[], tuple[Observation, "Sequence[GroupLag] | None"]]
EvaluateFn = Callable[[Observation, "Sequence[GroupLag] | None"], HealthReport]


@dataclass(frozen=True, slots=True)
class Sample:
    """One cluster read with its verdict, as every request within the interval sees it."""

    observation: Observation
    lags: Sequence[GroupLag] | None
    report: HealthReport
    reads_total: int
    taken_at: float  # monotonic, when the read finished
    client_restarts: int | None = None

    def metrics_input(self) -> MetricsInput:
        return MetricsInput(
            self.observation, self.lags, self.report, self.reads_total, self.client_restarts
        )


class CachedHealth:
    """Reads the cluster at most once per `interval_s` (counted from the end of a read)."""

    def __init__(
        self,
        read: ReadFn,
        evaluate: EvaluateFn,
        interval_s: float = DEFAULT_CACHE_S,
        clock: Callable[[], float] = time.monotonic,
        client_restarts: Callable[[], int] | None = None,
    ) -> None:
        self._read = read
        self._client_restarts = client_restarts
        self._evaluate = evaluate
        self._interval = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sample: Sample | None = None
        self._exposition: tuple[Sample, bytes] | None = None
        self.reads = 0

    def metrics(self, sample: Sample) -> bytes:
        """The Prometheus text of `sample`, rendered once per sample: at 2,000 partitions the
        rendering costs ~0.15-0.2 s, which scrapes within the cache interval need not repeat."""
        with self._lock:
            done = self._exposition
            if done is not None and done[0] is sample:
                return done[1]
        body = exposition(sample.metrics_input())
        with self._lock:
            self._exposition = (sample, body)
        return body

    def get(self) -> Sample:
        """The cached sample while fresh; otherwise one read (others wait for it)."""
        with self._lock:
            sample = self._sample
            if sample is not None and self._clock() - sample.taken_at < self._interval:
                return sample
            self.reads += 1
            started = time.time()
            try:
                observation, lags = self._read()
            except Exception as exc:  # a bug in a read must not take the server down
                failed = ClusterRead(None, None, f"{type(exc).__name__}: {exc}", 0.0, started)
                observation, lags = Observation(failed, None), None
            report = self._evaluate(observation, lags)
            restarts = None if self._client_restarts is None else self._client_restarts()
            self._sample = Sample(observation, lags, report, self.reads, self._clock(), restarts)
            return self._sample


def _down_document(reason: str) -> dict[str, Any]:
    return {
        "kind": "health",
        "version": 1,
        "status": "DOWN",
        "components": {"server": {"status": "DOWN", "details": {"error": reason}}},
    }


def make_handler(
    health: CachedHealth, console: ConsoleApp | None = None
) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `health` (and the console, when serve runs one)."""

    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_S
        server_version = "dreamscape-infra"
        sys_version = ""

        def do_GET(self) -> None:
            self._serve("GET")

        def do_HEAD(self) -> None:
            self._serve("HEAD")

        def __getattr__(self, name: str) -> Any:
            # every other method (POST, PUT, DELETE, PROPFIND ...) is 405, never 501
            if name.startswith("do_"):
                return lambda: self._serve(name[3:])
            raise AttributeError(name)

        def _serve(self, method: str) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path in (HEALTH_PATH, METRICS_PATH) and method in ("GET", "HEAD"):
                    self._health(path, method)
                elif console is not None:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    r = console.answer(method, self.path, headers)
                    self._send(r.status, r.content_type, r.body, r.headers, method)
                elif method not in ("GET", "HEAD"):
                    self._send(405, "text/plain; charset=utf-8", b"read-only\n", (), method)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n", (), method)
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception as exc:  # never a 500: an unexpected failure is DOWN
                body = json.dumps(_down_document(f"{type(exc).__name__}: {exc}")).encode()
                try:
                    self._send(503, "application/json", body + b"\n", (), method)
                except OSError:
                    return

        def _health(self, path: str, method: str) -> None:
            sample = health.get()
            if path == HEALTH_PATH:
                code = 200 if sample.report.status == "UP" else 503
                body = json.dumps(sample.report.to_json(), default=str).encode() + b"\n"
                self._send(code, "application/json", body, (), method)
            else:
                self._send(200, CONTENT_TYPE, health.metrics(sample), (), method)

        def _send(
            self,
            code: int,
            content_type: str,
            body: bytes,
            headers: Sequence[tuple[str, str]],
            method: str,
        ) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers:
                if name != "Cache-Control":
                    self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: scrapers call every few seconds

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Linux lets SO_REUSEADDR bind over TIME_WAIT only, never over a listening socket.
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of scrapers, which then
    # wait out TCP's retransmission back-off (1, 3, 7 s ...): queue a burst instead.
    request_queue_size = 128


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(
    host: str, port: int, health: CachedHealth, console: ConsoleApp | None = None
) -> ThreadingHTTPServer:
    """Bind; EnvironmentFailure (exit 4) when the port is taken or cannot be bound. Serve with
    `serving`."""
    cls = _Server6 if ":" in host else _Server
    try:
        return cls((host, port), make_handler(health, console))
    except OSError as exc:
        raise EnvironmentFailure(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="pick another --port" if exc.errno == errno.EADDRINUSE else None,
        ) from None


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Answer requests in a thread; yields the base URL (`http://127.0.0.1:9308`). On exit the
    server stops and its socket is closed."""
    thread = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    thread.start()
    host, port = str(server.server_address[0]), server.server_address[1]
    where = f"[{host}]" if ":" in host else host
    try:
        yield f"http://{where}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (Ctrl-C); the previous handlers are restored after."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
