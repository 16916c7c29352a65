"""The console without a broker: /api/ returns what `-o json` prints, from one cached read per
interval; read-only (405), 404 for unknown names, the token off loopback, the page's assets.

Everything runs over the fakes behind our own Protocols (FakeAdmin, FakeGroups, FakeReader) and
real loopback sockets. The real broker and the real browser are in test_console_browser.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dreamscape_infra.cli import app
from dreamscape_infra.cli.state import AppState
from dreamscape_infra.console.app import Access, ConsoleApp
from dreamscape_infra.console.history import LagHistory, LagPoint, clear_estimate_s
from dreamscape_infra.console.messages import MessageQuery, parse_query, read_messages
from dreamscape_infra.console.views import ConsoleContext
from dreamscape_infra.errors import UsageError
from dreamscape_infra.groups.client import GroupMember, OffsetRange
from dreamscape_infra.health.server import CachedHealth, make_server, serving
from dreamscape_infra.health.sources import ClusterReader, judge, serve_read
from dreamscape_infra.settings import ConnectionSettings
from dreamscape_infra.topics.desired import load_desired
from tests.addresses import closed_port, refused_host
from tests.events_support import FakeReader, encoded, event
from tests.fake_cluster import FakeCluster, FakeGroup, FakeTopic
from tests.health_support import write_prod_topics
from tests.kafka_support import free_ports

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "dreamscape_infra" / "console" / "static"
GROUP = "dreamscape-user-service-group"
CREATED = "dreamscape.user.created"


@dataclass
class Fakes:
    cluster: FakeCluster  # KafkaAdmin and GroupsClient in one
    reader: FakeReader
    topics_file: Path


def fakes(tmp_path: Path) -> Fakes:
    member = GroupMember("c-1", "svc", "/10.0.0.1", ((CREATED, 0),))
    cluster = FakeCluster(
        topics={
            CREATED: FakeTopic(3, 3, {"min.insync.replicas": "2"}),
            # drift behind the tool's back: min.insync.replicas changed on the cluster
            "dreamscape.user.updated": FakeTopic(2, 3, {"min.insync.replicas": "1"}),
            "dreamscape.user.stray": FakeTopic(1, 3),
        },
        brokers=3,
        ranges={(CREATED, p): OffsetRange(0, 10) for p in range(3)},
        groups={GROUP: FakeGroup("Stable", [member], {(CREATED, p): 4 for p in range(3)})},
    )
    reader = FakeReader()
    reader.add(CREATED, 0, encoded(event()), key=b"user-1", timestamp_ms=1_705_314_600_000)
    reader.add(
        CREATED, 1, b"<img src=x onerror=alert(1)>", key=b"k", timestamp_ms=1_705_314_700_000
    )
    reader.partition_counts[CREATED] = 3
    return Fakes(cluster, reader, write_prod_topics(tmp_path))


def console_over(f: Fakes, interval_s: float = 60.0, host: str = "127.0.0.1") -> ConsoleApp:
    desired = load_desired(str(f.topics_file), "prod")
    reader = ClusterReader(f.cluster, desired, config_ttl_s=0.0)
    settings = ConnectionSettings(brokers=("fake:9092",))
    evaluate = lambda o, lg: judge(  # noqa: E731
        o, lg, env={}, settings=settings, desired=desired, max_lag=None, expect_brokers=None
    )
    cached = CachedHealth(lambda: serve_read(reader, f.cluster, desired), evaluate, interval_s)

    def messages(topic: str, query: MessageQuery) -> dict[str, Any]:
        return read_messages(f.reader, desired, topic, query)

    return ConsoleApp(
        cached,
        ConsoleContext(desired, "fake:9092", interval_s, str(f.topics_file)),
        Access.for_host(host, {}),
        messages=messages,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Fakes, ConsoleApp]]:
    f = fakes(tmp_path)
    console = console_over(f)
    with serving(make_server("127.0.0.1", 0, console.health, console)) as base:
        yield base, f, console


def request(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def api(base: str, path: str) -> tuple[int, Any]:
    code, _, body = request(base + path)
    return code, json.loads(body)


def cli_json(f: Fakes, *args: str) -> Any:
    state = f.cluster.app_state(interactive=False)
    result = runner.invoke(app, ["-f", str(f.topics_file), *args, "-o", "json"], obj=state)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return json.loads(result.stdout)


# ---- the API is the CLI's JSON -------------------------------------------------------------


def test_api_documents_are_what_the_cli_prints_with_output_json(
    served: tuple[str, Fakes, ConsoleApp],
) -> None:
    base, f, console = served
    code, topics = api(base, "/api/topics")
    assert code == 200
    expected = cli_json(f, "topics", "list", "--all", "--env", "prod")
    assert topics["topics"] == expected["topics"]
    assert topics["missing"] == []
    _, plan = api(base, "/api/plan")
    cli_plan = cli_json(f, "topics", "plan", "--env", "prod")
    assert {k: v for k, v in plan.items() if k != "fix_command"} == cli_plan
    assert plan["fix_command"].endswith("topics sync --env prod")
    _, groups = api(base, "/api/groups")
    assert groups == cli_json(f, "groups", "list", "--env", "prod")
    _, lag = api(base, f"/api/groups/{GROUP}")
    assert lag == cli_json(f, "groups", "lag", GROUP, "--env", "prod")
    # the next read judges movement over two reads, as `groups lag --window` does
    console.health._sample = None  # the interval is over
    _, lag = api(base, f"/api/groups/{GROUP}")
    assert lag["groups"][0]["status"] == "STALLED"  # lag, and no commit moved
    assert lag["window_s"] >= 0
    code, health = api(base, "/api/health")
    assert health == cli_json(f, "health", "--env", "prod")
    assert code == (200 if health["status"] == "UP" else 503)
    _, described = api(base, "/api/topics/dreamscape.user.updated")
    cli_described = cli_json(f, "topics", "describe", "dreamscape.user.updated", "--env", "prod")
    for key in ("name", "declared", "partitions", "replication_factor", "configs", "differences"):
        assert described[key] == cli_described[key], key
    assert described["drifted_keys"] == ["min.insync.replicas"]
    assert described["fix_command"].endswith("topics sync --env prod")


def test_overview_holds_verdict_brokers_and_one_node_per_declared_service_and_topic(
    served: tuple[str, Fakes, ConsoleApp],
) -> None:
    base, _, _ = served
    code, doc = api(base, "/api/overview")
    assert code == 200
    assert doc["status"] in ("UP", "DEGRADED")
    assert [b["id"] for b in doc["cluster"]["brokers"]] == [0, 1, 2]
    assert doc["in_sync"] is False
    assert doc["fix_command"].endswith("topics sync --env prod")
    topology = doc["topology"]
    assert [t["name"] for t in topology["topics"]] == [CREATED, "dreamscape.user.updated"]
    assert [g["name"] for g in topology["groups"]] == [GROUP]
    (edge,) = [e for e in topology["edges"] if e["kind"] == "consume"]
    assert edge == {
        "from": f"topic:{CREATED}",
        "to": f"group:{GROUP}",
        "kind": "consume",
        "status": "OK",
        "lag": 18,
    }


def test_unknown_topic_or_group_is_404_json_and_the_page_is_404_too(
    served: tuple[str, Fakes, ConsoleApp],
) -> None:
    base, _, _ = served
    for path, word in (
        ("/api/topics/dreamscape.nope", "topic 'dreamscape.nope' does not exist"),
        ("/api/topics/dreamscape.nope/messages", "topic 'dreamscape.nope' does not exist"),
        ("/api/groups/nope", "consumer group 'nope' does not exist"),
        ("/api/groups/nope/history", "consumer group 'nope' does not exist"),
        ("/api/nothing", "no such API path"),
    ):
        code, doc = api(base, path)
        assert (code, doc["kind"]) == (404, "error"), path
        assert word in doc["error"]
    for path in ("/topics/dreamscape.nope", "/groups/nope", "/elsewhere"):
        code, headers, body = request(base + path)
        assert code == 404
        assert headers["Content-Type"].startswith("text/html")
        assert b"/static/app.js" in body
    assert api(base, "/api/topics/x/messages?n=abc")[0] == 400


def test_every_method_but_get_and_head_is_405(served: tuple[str, Fakes, ConsoleApp]) -> None:
    base, _, _ = served
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"):
        for path in ("/api/topics", "/", "/health/kafka", "/metrics", "/api/groups/x"):
            code, headers, _ = request(base + path, method=method)
            assert code == 405, (method, path)
            if path not in {"/health/kafka", "/metrics"}:
                assert headers["Allow"] == "GET, HEAD"
    code, headers, body = request(base + "/api/topics", method="HEAD")
    assert (code, body) == (200, b"")
    assert int(headers["Content-Length"]) > 0


def test_pages_have_stable_urls_a_csp_without_inline_script_and_packaged_assets(
    served: tuple[str, Fakes, ConsoleApp],
) -> None:
    base, _, _ = served
    for path in (
        "/",
        "/topics",
        f"/topics/{CREATED}",
        f"/topics/{CREATED}/messages?offset=0&key=user-1",
        "/groups",
        f"/groups/{GROUP}",
        "/acls",
        "/schemas",
    ):
        code, headers, body = request(base + path)
        assert code == 200, path
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert b'<script src="/static/app.js"' in body
    for name in ("app.js", "app.css", "login.js", "login.html"):
        code, headers, _ = request(base + "/static/" + name)
        assert code == 200
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert request(base + "/static/../views.py")[0] == 404
    assert request(base + "/static/nope.js")[0] == 404


def test_shipped_assets_load_nothing_from_elsewhere_and_never_use_inner_html() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), path
        for word in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert word not in text, (word, path)
        if path.suffix == ".html":
            assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, f"inline script in {path}"
            assert " style=" not in text, path
            assert "<style" not in text, path


def test_messages_are_events_tail_json_lines_with_the_validity_of_events_validate(
    served: tuple[str, Fakes, ConsoleApp],
) -> None:
    base, _, _ = served
    code, doc = api(base, f"/api/topics/{CREATED}/messages")
    assert code == 200
    newest, oldest = doc["messages"]
    assert (newest["partition"], newest["valid"]) == (1, False)
    assert newest["value"] == "<img src=x onerror=alert(1)>"
    assert newest["value_encoding"] == "text"
    assert newest["findings"][0]["kind"] == "not-json"
    assert (oldest["valid"], oldest["findings"], oldest["key"]) == (True, [], "user-1")
    _, doc = api(base, f"/api/topics/{CREATED}/messages?key=user-1")
    assert [m["key"] for m in doc["messages"]] == ["user-1"]
    _, doc = api(base, f"/api/topics/{CREATED}/messages?type=user.*")
    assert [m["valid"] for m in doc["messages"]] == [True]
    _, doc = api(base, f"/api/topics/{CREATED}/messages?offset=0&n=1")
    assert doc["shown"] == 1
    assert doc["position"] == "offset 0"


def test_message_query_strings_are_checked() -> None:
    assert parse_query({"n": ["5"], "key": [""]}) == MessageQuery(count=5)
    for bad in ({"n": ["0"]}, {"n": ["x"]}, {"offset": ["1"], "since": ["1h"]}, {"zz": ["1"]}):
        with pytest.raises(UsageError):
            parse_query(bad)


# ---- one read per interval --------------------------------------------------------------------


def test_twenty_clients_for_ten_seconds_read_the_cluster_at_most_once_per_interval(
    tmp_path: Path,
) -> None:
    f = fakes(tmp_path)
    console = console_over(f, interval_s=1.0)
    paths = ["/api/overview", "/api/topics", "/api/groups", f"/api/groups/{GROUP}/history", "/"]
    stop = threading.Event()
    answered: list[int] = []
    failures: list[BaseException] = []

    def client(i: int) -> None:
        while not stop.is_set():
            try:
                code, _, _ = request(base + paths[i % len(paths)])
                answered.append(code)
            except BaseException as exc:  # the test reports them, never hides them
                failures.append(exc)
                return

    with serving(make_server("127.0.0.1", 0, console.health, console)) as base:
        request(base + "/api/overview")
        before = console.health.reads
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        time.sleep(10)
        stop.set()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - started
    reads = console.health.reads - before
    assert not failures
    assert len(answered) > 200
    assert set(answered) == {200}
    assert reads <= elapsed / 1.0 + 1
    assert len(console.history) == 1  # one group: the history does not grow with the requests
    assert len(console.history.series(GROUP)) <= reads + 1


def test_lag_history_is_bounded_and_estimates_the_time_to_clear() -> None:
    history = LagHistory(points=3, groups=2)
    for i in range(5):
        history.add(float(i), {"a": 100 - 10 * i, "b": 5})
    assert [p.lag for p in history.series("a")] == [80, 70, 60]
    history.add(9.0, {"c": 1})
    assert len(history) == 2
    assert history.series("a") == []
    points = [LagPoint(0.0, 100), LagPoint(10.0, 50)]
    assert clear_estimate_s(points) == pytest.approx(10.0)
    assert clear_estimate_s([LagPoint(0.0, 50), LagPoint(10.0, 60)]) is None
    assert clear_estimate_s([LagPoint(0.0, 5), LagPoint(10.0, 0)]) is None


def test_history_of_a_group_grows_one_point_per_read(tmp_path: Path) -> None:
    f = fakes(tmp_path)
    console = console_over(f, interval_s=0.0)
    for committed in (4, 6, 8):
        f.cluster.groups[GROUP].committed = {(CREATED, p): committed for p in range(3)}
        console.views()
    doc = json.loads(console.answer("GET", f"/api/groups/{GROUP}/history", {}).body)
    lags = [p["lag"] for p in doc["points"]]
    assert lags[:3] == [18, 12, 6]
    assert doc["clear_estimate_s"] is not None


# ---- the token off loopback ---------------------------------------------------------------


def test_off_loopback_the_console_needs_the_token_in_constant_time(tmp_path: Path) -> None:
    f = fakes(tmp_path)
    open_console = console_over(f, host="0.0.0.0")
    assert open_console.access.token is None
    assert open_console.answer("GET", "/api/topics", {}).status == 401
    assert open_console.answer("GET", "/", {"authorization": "Bearer x"}).status == 401
    console = console_over(f, host="0.0.0.0")
    console.access = Access(True, "s3cret-token")
    assert console.answer("GET", "/api/topics", {}).status == 401
    assert console.answer("GET", "/api/topics", {"authorization": "Bearer wrong"}).status == 401
    assert (
        console.answer("GET", "/api/topics", {"authorization": "Bearer s3cret-token"}).status == 200
    )
    cookie = {"cookie": "a=b; dreamscape_ui_token=s3cret-token"}
    assert console.answer("GET", "/topics", cookie).status == 200
    login = console.answer("GET", "/", {})
    assert login.status == 401
    assert b"login.js" in login.body
    assert console.answer("GET", "/static/login.js", {}).status == 200
    assert b"s3cret-token" not in login.body


def test_serve_on_every_address_keeps_health_and_metrics_open_and_says_so() -> None:
    (port,) = free_ports(1)
    broker_port = closed_port()
    with refused_host(broker_port) as dead:
        _serve_on_every_address(port, f"{dead}:{broker_port}")


def _serve_on_every_address(port: int, dead_broker: str) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "KAFKA_BROKERS": dead_broker,
        "KAFKA_SASL_USERNAME": "svc",
        "KAFKA_SASL_PASSWORD": "hunter2-secret",
        "DREAMSCAPE_UI_TOKEN": "tok-123",
    }
    argv = [sys.executable, "-m", "dreamscape_infra", "-f", "/nonexistent.yaml", "serve"]
    argv += ["--host", "0.0.0.0", "--port", str(port), "--cache-seconds", "1"]
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                request(base + "/metrics")
                break
            except OSError:
                time.sleep(0.2)
        assert request(base + "/metrics")[0] == 200
        assert request(base + "/health/kafka")[0] == 503  # nothing listens on the dead port
        bodies = []
        for path in ("/", "/api/overview", "/api/topics", "/groups"):
            code, _, body = request(base + path)
            assert code == 401, path
            bodies.append(body)
            code, _, body = request(base + path, headers={"Authorization": "Bearer tok-124"})
            assert code == 401, path
            code, _, body = request(base + path, headers={"Authorization": "Bearer tok-123"})
            assert code in (200, 503), path
            bodies.append(body)
        assert all(b"hunter2-secret" not in b and b"tok-123" not in b for b in bodies)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    lines = [line for line in err.splitlines() if "DREAMSCAPE_UI_TOKEN" in line]
    assert len(lines) == 1
    assert "/health/kafka and /metrics stay open" in lines[0]
    assert "hunter2-secret" not in out + err
    assert "tok-123" not in out + err


# ---- schemas: what `schemas plan -o json` prints, or why there is none ---------------------


def test_api_schemas_is_schemas_plan_or_says_why_not(tmp_path: Path) -> None:
    from dreamscape_infra.cli.health import _read_schemas
    from tests.fake_registry import FakeRegistry

    (tmp_path / "schemas").mkdir()
    payload = {"type": "object", "properties": {"userId": {"type": "string"}}}
    (tmp_path / "schemas" / "user.created.json").write_text(json.dumps(payload))
    topics = tmp_path / "topics.yaml"
    topics.write_text(
        "version: 1\nprefix: dreamscape.\n"
        "domains:\n  user:\n    owner: user-service\n"
        "topics:\n  - name: dreamscape.user.created\n    schema: schemas/user.created.json\n"
    )
    desired = load_desired(str(topics))
    registry = FakeRegistry()
    state = AppState(environ={}, interactive=False, registry_factory=lambda: registry)
    doc = _read_schemas(state, desired)
    result = runner.invoke(app, ["-f", str(topics), "schemas", "plan", "-o", "json"], obj=state)
    assert {k: v for k, v in doc.items() if k != "configured"} == json.loads(result.stdout)
    assert doc["configured"] is True
    down = AppState(environ={}, interactive=False, registry_factory=lambda: FakeRegistry(down=True))
    gone = _read_schemas(down, desired)
    assert gone["configured"] is False
    assert gone["reason"]
    assert _read_schemas(state, None)["configured"] is False
