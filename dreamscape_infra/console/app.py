"""The console's requests, answered without sockets: routes, the token, the caches.

`ConsoleApp.answer(method, target, headers)` returns a `Response`; `health/server.py`'s
handler only copies it onto the wire. Every panel is computed from `serve`'s one cached
cluster read (`CachedHealth.get`): a new read becomes one `Views` (built once per read, shared
by every tab) and one point of lag history. Messages and ACLs are read on demand through the
callables the CLI gives, each answer kept for one interval as well. Never prints.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from dreamscape_infra.console.history import LagHistory, history_json
from dreamscape_infra.console.views import ConsoleContext, NotFound, Views, with_statuses
from dreamscape_infra.errors import InfraError, UsageError

if TYPE_CHECKING:
    from dreamscape_infra.console.messages import MessageQuery
    from dreamscape_infra.groups.model import GroupLag
    from dreamscape_infra.health.server import CachedHealth, Sample

TOKEN_ENV = "DREAMSCAPE_UI_TOKEN"
TOKEN_COOKIE = "dreamscape_ui_token"
# No inline script or style, nothing from elsewhere: a slip in the page that put Kafka data
# into markup could not run it.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
PAGE_ROOTS = ("", "topics", "groups", "acls", "schemas")
MESSAGE_CACHE_ENTRIES = 64
MAX_SHARED_ANSWERS = 256  # distinct /api/ URLs kept per read (a topic or group each)

MessagesFn = Callable[[str, "MessageQuery"], dict[str, Any]]
AclsFn = Callable[[], dict[str, Any]]
SchemasFn = Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: int, document: Any) -> Response:
    body = json.dumps(document, default=str, ensure_ascii=False).encode("utf-8") + b"\n"
    return Response(status, "application/json; charset=utf-8", body)


def _error(status: int, message: str) -> Response:
    return _json(status, {"kind": "error", "version": 1, "status": status, "error": message})


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Access:
    """Who may see the console: anyone who can connect (loopback), or bearers of the token."""

    token_required: bool
    token: str | None = None

    @classmethod
    def for_host(cls, host: str, env: Mapping[str, str]) -> Access:
        token = env.get(TOKEN_ENV) or None
        return cls(not is_loopback(host), token)

    def allows(self, headers: Mapping[str, str]) -> bool:
        """The bearer header or the page's cookie holds the token (compared in constant time);
        always true on loopback."""
        if not self.token_required:
            return True
        if self.token is None:
            return False
        offered = _bearer(headers.get("authorization")) or _cookie(headers.get("cookie"))
        if offered is None:
            return False
        return hmac.compare_digest(offered.encode("utf-8"), self.token.encode("utf-8"))

    def describe(self) -> str:
        """The start-up line's account of it."""
        if not self.token_required:
            return "console open on loopback"
        if self.token is None:
            return (
                f"console and /api/ answer 401: no {TOKEN_ENV} is set and the address is not "
                "loopback (/health/kafka and /metrics stay open)"
            )
        return (
            f"console and /api/ need the token of {TOKEN_ENV} (bearer header, or entered in "
            "the page); /health/kafka and /metrics stay open"
        )


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _cookie(value: str | None) -> str | None:
    for part in (value or "").split(";"):
        name, _, token = part.strip().partition("=")
        if name == TOKEN_COOKIE and token:
            return unquote(token)
    return None


class _Expiring:
    """Answers kept for `ttl_s` per key, at most `entries` keys; one read per key at a time."""

    def __init__(self, ttl_s: float, entries: int, clock: Callable[[], float]) -> None:
        self._ttl = ttl_s
        self._entries = entries
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self.reads = 0

    def get(self, key: Any, read: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._keys.get(key)
            if hit is not None and self._clock() - hit[0] < self._ttl:
                self._keys.move_to_end(key)
                return hit[1]
            self.reads += 1
            value = read()
            self._keys[key] = (self._clock(), value)
            self._keys.move_to_end(key)
            while len(self._keys) > self._entries:
                self._keys.popitem(last=False)
            return value


@dataclass
class ConsoleApp:
    """The page, its assets and /api/, over one `CachedHealth`."""

    health: CachedHealth
    context: ConsoleContext
    access: Access
    messages: MessagesFn | None = None
    acls: AclsFn | None = None
    schemas: SchemasFn | None = None
    history: LagHistory = field(default_factory=LagHistory)
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _views: Views | None = None
    _previous: tuple[GroupLag, ...] | None = None
    _previous_at: float | None = None
    _messages: _Expiring | None = None
    _acls: _Expiring | None = None

    def __post_init__(self) -> None:
        ttl = max(self.context.interval_s, 1.0)
        self._messages = _Expiring(ttl, MESSAGE_CACHE_ENTRIES, self.clock)
        self._acls = _Expiring(ttl, 1, self.clock)

    # --- the shared read --------------------------------------------------------------------

    def views(self) -> Views:
        """The views of the current sample; a new read adds one point to the lag history."""
        sample = self.health.get()
        with self._lock:
            if self._views is None or self._views.sample is not sample:
                self._views = self._new_views(sample)
            return self._views

    def _new_views(self, sample: Sample) -> Views:
        statuses = with_statuses(sample.lags, self._previous)
        at = sample.observation.read.read_at
        window = 0.0
        if self._previous is not None and self._previous_at is not None:
            window = round(max(at - self._previous_at, 0.0), 3)
        if sample.lags is not None:
            self.history.add(at, {g.group: g.total_lag for g in sample.lags})
            self._previous, self._previous_at = tuple(sample.lags), at
        return Views(sample, self.context, statuses, window)

    @contextmanager
    def sampling(self) -> Iterator[None]:
        """Read once per interval in a thread while the block runs, so the lag history has
        its points whether or not a page is open (each read is the one the cache shares)."""
        stop = threading.Event()
        every = max(self.context.interval_s, 1.0)

        def run() -> None:
            while not stop.is_set():
                # a failed read is a DOWN sample; anything else must not end the sampling
                with suppress(Exception):
                    self.views()
                stop.wait(every)

        thread = threading.Thread(target=run, name="console-sampler", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    @property
    def message_reads(self) -> int:
        return self._messages.reads if self._messages is not None else 0

    # --- requests ---------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        """The response to one request for anything but /health/kafka and /metrics (for HEAD
        the handler sends the headers of this body without it)."""
        response = self._answer(method, target, headers)
        return Response(
            response.status,
            response.content_type,
            response.body,
            response.headers + SECURITY_HEADERS,
        )

    def _answer(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        if method not in ("GET", "HEAD"):
            response = _error(405, f"{method} is not allowed: the console is read-only")
            return Response(405, response.content_type, response.body, (("Allow", "GET, HEAD"),))
        raw_path, _, query = target.partition("?")
        segments = [unquote(s) for s in raw_path.split("/")[1:]]
        if segments and segments[-1] == "" and len(segments) > 1:
            segments = segments[:-1]
        if segments[:1] == ["static"]:
            return self._static("/".join(segments[1:]))
        if not self.access.allows(headers):
            if segments[:1] == ["api"]:
                return _error(401, f"this console needs a token ({TOKEN_ENV})")
            page = self._asset("login.html")
            assert page is not None
            return Response(401, STATIC_TYPES[".html"], page)
        try:
            if segments[:1] == ["api"]:
                if segments[1:2] == ["topics"] and segments[-1:] == ["messages"]:
                    return self._api(segments[1:], parse_qs(query, keep_blank_values=True))
                return self._shared_answer(target, segments[1:])
            return self._page(segments)
        except NotFound as exc:
            return _error(404, exc.message)
        except UsageError as exc:
            return _error(400, exc.message)

    def _page(self, segments: list[str]) -> Response:
        page = self._asset("index.html")
        assert page is not None
        html = STATIC_TYPES[".html"]
        root = segments[0] if segments else ""
        if root not in PAGE_ROOTS or (root in ("", "acls", "schemas") and len(segments) > 1):
            return Response(404, html, page)
        views = self.views()
        status = 200
        try:
            if root == "topics" and len(segments) >= 2:
                if len(segments) > 3 or (len(segments) == 3 and segments[2] != "messages"):
                    return Response(404, html, page)
                views.topic(segments[1])
            elif root == "groups" and len(segments) >= 2:
                if len(segments) > 2:
                    return Response(404, html, page)
                views.group(segments[1])
        except NotFound:
            status = 404  # the page shows /api/'s message
        return Response(status, html, page)

    def _shared_answer(self, target: str, segments: list[str]) -> Response:
        """An /api/ answer that depends on the read alone, encoded once per read."""
        views = self.views()
        with self._lock:
            hit = views.answers.get(target)
        if isinstance(hit, Response):
            return hit
        try:
            response = self._api(segments, {})
        except NotFound as exc:
            response = _error(404, exc.message)
        with self._lock:
            if len(views.answers) < MAX_SHARED_ANSWERS:
                views.answers[target] = response
        return response

    def _api(self, segments: list[str], params: dict[str, list[str]]) -> Response:
        views = self.views()
        match segments:
            case ["overview"]:
                return _json(200, views.overview())
            case ["health"]:
                doc = views.health()
                return _json(200 if doc["status"] == "UP" else 503, doc)
            case ["topics"]:
                return self._or_down(views.topics(), views)
            case ["plan"]:
                return self._or_down(views.topics_plan(), views)
            case ["topics", name]:
                return self._or_down(views.topic(name), views)
            case ["topics", name, "messages"]:
                return self._messages_of(views, name, params)
            case ["groups"]:
                return self._or_down(views.groups(), views)
            case ["groups", name]:
                return self._or_down(views.group(name), views)
            case ["groups", name, "history"]:
                if views.sample.lags is not None:
                    views.group(name)  # NotFound for a group nobody knows
                with self._lock:
                    doc = history_json(self.history, name, self.context.interval_s)
                return _json(200, doc)
            case ["acls"]:
                return self._acls_doc()
            case ["schemas"]:
                if self.schemas is None:
                    return _json(
                        200,
                        {
                            "kind": "schemas",
                            "version": 1,
                            "configured": False,
                            "reason": "no schema registry is configured",
                        },
                    )
                return _json(200, self.schemas())
        raise NotFound("no such API path; see docs/console.md")

    def _or_down(self, doc: dict[str, Any] | None, views: Views) -> Response:
        if doc is None:
            error = views.sample.observation.read.error or "the cluster did not answer"
            return _error(503, f"DOWN: {error}")
        return _json(200, doc)

    def _messages_of(self, views: Views, topic: str, params: dict[str, list[str]]) -> Response:
        from dreamscape_infra.console.messages import parse_query

        query = parse_query(params)
        snapshot = views.snapshot
        if snapshot is None:
            return self._or_down(None, views)
        if topic not in snapshot.topics:
            raise NotFound(f"topic '{topic}' does not exist")
        if self.messages is None or self._messages is None:
            return _error(503, "this server reads no messages")
        read = self.messages
        try:
            doc = self._messages.get((topic, query.cache_key), lambda: read(topic, query))
        except InfraError as exc:
            return _error(503, exc.message)
        return _json(200, doc)

    def _acls_doc(self) -> Response:
        if self.acls is None or self._acls is None:
            return _json(
                200,
                {"kind": "acl-plan", "version": 1, "available": False, "reason": "not read"},
            )
        read = self.acls
        return _json(200, self._acls.get("acls", read))

    # --- assets -----------------------------------------------------------------------------

    def _static(self, name: str) -> Response:
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        body = self._asset(name) if suffix in STATIC_TYPES else None
        if body is None:
            return _error(404, f"no asset '{name}'")
        return Response(200, STATIC_TYPES[suffix], body, (("Cache-Control", "no-cache"),))

    @staticmethod
    def _asset(name: str) -> bytes | None:
        if not name or "/" in name or name.startswith("."):
            return None
        try:
            return (resources.files("dreamscape_infra.console") / "static" / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
