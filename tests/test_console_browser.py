"""The console in a real browser against a real broker.

One ZooKeeper-mode broker of our own (the local runtime, its own state and ports, so the
fault test can stop it), the topics of the project's topics.yaml synced onto it, `serve` as a
subprocess on a free loopback port, and Debian's Chromium, headless, driven by chromedriver
through selenium. Without the browser or Java the tests skip on a laptop and fail in CI
(`skip_or_fail`). The screenshots in docs/ are taken here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.local import LocalRuntime
from dreamscape_infra.settings import ConnectionSettings
from dreamscape_infra.topics.desired import load_desired
from dreamscape_infra.topics.model import DesiredState
from tests.events_support import encoded, event
from tests.groups_support import commit_messages, produce
from tests.kafka_support import KafkaCluster, free_ports, local_cluster, skip_or_fail

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHROMIUM = os.environ.get("DREAMSCAPE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DREAMSCAPE_CHROMEDRIVER", "/usr/bin/chromedriver")
INTERVAL_S = 1.0
GROUP = "dreamscape-auth-service-group"
LAGGING_TOPIC = "dreamscape.user.created"
MESSAGES_TOPIC = "dreamscape.user.updated"
DRIFTED_TOPIC = "dreamscape.user.deleted"
XSS_IMG = "<img src=x onerror=\"window.__xss='img'\">"
XSS_SCRIPT = "<script>window.__xss='script'</script>"


@dataclass
class Site:
    cluster: KafkaCluster
    runtime: LocalRuntime
    desired: DesiredState
    topics_file: Path
    base: str
    process: subprocess.Popen[str]

    @property
    def settings(self) -> ConnectionSettings:
        return self.cluster.settings

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KAFKA_BROKERS": self.cluster.bootstrap,
            "DREAMSCAPE_STATE_DIR": str(self.runtime.config.state_dir),
        }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "dreamscape_infra", *args]
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_until(what: str, probe: Callable[[], Any], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except Exception as exc:  # the page is being redrawn: try again
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s:g}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("console")
    topics_file = folder / "topics.yaml"
    shutil.copy(ROOT / "topics.yaml", topics_file)
    desired = load_desired(str(topics_file), "dev")
    with local_cluster(folder / "state") as cluster:
        assert cluster.runtime is not None
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KAFKA_BROKERS": cluster.bootstrap}
        done = _cli(env, "-f", str(topics_file), "topics", "sync", "--env", "dev")
        assert done.returncode == 0, done.stderr
        (port,) = free_ports(1)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dreamscape_infra",
                "-f",
                str(topics_file),
                "serve",
                "--env",
                "dev",
                "--port",
                str(port),
                "--cache-seconds",
                str(INTERVAL_S),
            ],
            cwd=ROOT,
            env={**env, "DREAMSCAPE_STATE_DIR": str(cluster.runtime.config.state_dir)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        item = Site(
            cluster, cluster.runtime, desired, topics_file, f"http://127.0.0.1:{port}", process
        )
        try:
            wait_until("serve to answer", lambda: _listening(item), 60)
            yield item
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(30)
            finally:
                if process.poll() is None:
                    process.kill()
            assert code == 0, process.stderr.read() if process.stderr else ""


def _listening(site: Site) -> bool:
    if site.process.poll() is not None:
        pytest.fail(f"serve exited: {site.process.stderr.read() if site.process.stderr else ''}")
    try:
        return _get(site.base + "/metrics")[0] == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        skip_or_fail(
            f"no Chromium at {CHROMIUM} or chromedriver at {CHROMEDRIVER} "
            "(`make browser` installs Debian's chromium and chromium-driver)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        skip_or_fail("selenium is not installed (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def open_view(driver: Any, site: Site, path: str, ready: str | None) -> None:
    driver.get(site.base + path)
    if ready is not None:
        wait_until(
            f"{path} to be drawn",
            lambda: driver.execute_script("return document.body.dataset.ready") == ready,
            30,
        )


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def texts(driver: Any, selector: str) -> list[str]:
    return [
        str(t)
        for t in driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent)",
            selector,
        )
    ]


# ---- overview -----------------------------------------------------------------------------


def test_overview_has_the_verdict_brokers_and_one_node_per_declared_service_and_topic(
    site: Site, browser: Any
) -> None:
    open_view(browser, site, "/", "overview")
    services = {s.name for s in site.desired.services}
    topics = {t.name for t in site.desired.topics}
    assert len(topics) == 32  # the seed's topics.yaml, as the issue states
    assert set(texts(browser, "[data-kind=service] text")) == services
    assert set(texts(browser, "[data-kind=topic] text")) == topics
    assert len(css(browser, "[data-kind=topic]")) == len(topics)
    assert len(css(browser, "[data-kind=service]")) == len(services)
    verdict = wait_until(
        "a verdict", lambda: browser.find_element("id", "verdict").text in ("UP", "DEGRADED"), 15
    )
    assert verdict
    broker_rows = texts(browser, "#brokers tbody tr")
    assert len(broker_rows) == 1
    assert "controller" in broker_rows[0]


# ---- topics: declared vs live, drift and its command ----------------------------------------


def test_topics_are_listed_and_a_config_changed_behind_the_tools_back_shows_as_drift(
    site: Site, browser: Any
) -> None:
    from confluent_kafka.admin import (
        AdminClient,
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        ResourceType,
    )

    admin = AdminClient(site.settings.client_config())
    resource = ConfigResource(
        ResourceType.TOPIC,
        DRIFTED_TOPIC,
        incremental_configs=[
            ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)
    # the declared topics' configs are re-read after --config-seconds (60 s): restart the
    # read by waiting for the plan to see it, as a user would after the config interval
    wait_until(
        "the drift in /api/plan",
        lambda: any(
            a["topic"] == DRIFTED_TOPIC and a["key"] == "retention.ms"
            for a in json.loads(_get(site.base + "/api/plan")[1])["actions"]
        ),
        90,
    )
    open_view(browser, site, "/topics", None)
    wait_until("the topics table", lambda: css(browser, "#topics-table tr[data-topic]"), 20)
    listed = set(texts(browser, "#topics-table tr[data-topic] td:first-child"))
    assert {t.name for t in site.desired.topics} <= listed
    row = css(browser, f'tr[data-topic="{DRIFTED_TOPIC}"]')[0]
    assert "set-config retention.ms" in row.text
    expected = f"dreamscape-infra -f {site.topics_file} topics sync --env dev"
    wait_until("the fixing command", lambda: expected in texts(browser, ".command code"), 10)
    # the filter narrows the table without a request
    box = css(browser, "#topics-table input.filter")[0]
    box.send_keys("user.deleted")
    rows = wait_until(
        "the filtered table",
        lambda: (r := css(browser, "#topics-table tr[data-topic]")) and len(r) == 1 and r,
        10,
    )
    assert rows[0].get_attribute("data-topic") == DRIFTED_TOPIC
    open_view(browser, site, f"/topics/{DRIFTED_TOPIC}", None)
    wait_until(
        "the drifted key marked", lambda: "retention.ms" in texts(browser, "tr.drift td"), 20
    )
    assert expected in texts(browser, ".command code")


# ---- a real group's lag and its chart -------------------------------------------------------


def test_a_real_groups_lag_appears_and_its_chart_grows(site: Site, browser: Any) -> None:
    produce(site.settings, LAGGING_TOPIC, [10, 10, 10])
    commit_messages(site.settings, GROUP, LAGGING_TOPIC, {0: 4, 1: 4, 2: 4})
    open_view(browser, site, f"/groups/{GROUP}", None)
    wait_until(
        "the lag of 18", lambda: "total lag 18" in browser.find_element("tag name", "main").text, 30
    )
    first = int(css(browser, "svg.chart")[0].get_attribute("data-points"))
    produce(site.settings, LAGGING_TOPIC, [5, 5, 5])
    wait_until(
        "the lag of 33", lambda: "total lag 33" in browser.find_element("tag name", "main").text, 30
    )
    grown = wait_until(
        "more points",
        lambda: (
            (n := int(css(browser, "svg.chart")[0].get_attribute("data-points"))) > first + 1 and n
        ),
        30,
    )
    assert grown > first
    partitions = texts(browser, "section:last-of-type tbody tr")
    assert len([p for p in partitions if p.startswith(LAGGING_TOPIC)]) == 3
    browser.save_screenshot(str(DOCS / "console-group-lag.png"))
    open_view(browser, site, "/", "overview")
    edge = wait_until(
        "a coloured consume edge",
        lambda: browser.execute_script(
            "return Array.from(document.querySelectorAll('path.edge.consume'))"
            ".map(e => e.getAttribute('data-status'))"
        ),
        20,
    )
    assert set(edge) <= {"OK", "LAGGING", "STALLED", "STOPPED", "EMPTY", "NOT-STARTED"}
    assert "STOPPED" in edge  # the group's edge on the topic it lags on
    browser.set_window_size(1280, 1400)
    try:
        browser.save_screenshot(str(DOCS / "console-overview.png"))
    finally:
        browser.set_window_size(1280, 1000)


# ---- messages: valid, malformed, and data that looks like HTML -----------------------------------


def test_messages_show_a_produced_event_flag_a_malformed_one_and_run_no_payload(
    site: Site, browser: Any
) -> None:
    from confluent_kafka import Producer

    good = event("user.updated", payload={"userId": "u-1"})
    hostile = event("user.updated", payload={"bio": XSS_IMG, "note": XSS_SCRIPT})
    producer = Producer({**site.settings.client_config(), "acks": "all"})
    producer.produce(MESSAGES_TOPIC, value=encoded(good), key=b"u-1", partition=0)
    producer.produce(MESSAGES_TOPIC, value=b"{not json", key=XSS_IMG.encode(), partition=1)
    producer.produce(
        MESSAGES_TOPIC,
        value=encoded(hostile),
        key=b"u-2",
        partition=2,
        headers=[("trace", XSS_SCRIPT.encode())],
    )
    assert producer.flush(30) == 0
    open_view(browser, site, f"/topics/{MESSAGES_TOPIC}/messages", "messages")
    cards = css(browser, "article.message")
    assert len(cards) == 3
    valid = css(browser, "article.message.valid")
    invalid = css(browser, "article.message.invalid")
    assert len(valid) == 2
    assert len(invalid) == 1
    assert "not JSON" in invalid[0].text
    assert good["eventId"] in " ".join(c.text for c in valid)
    # the hostile text is shown as text ...
    page_text = browser.find_element("tag name", "main").text
    assert XSS_SCRIPT in page_text
    assert "onerror=" in page_text
    assert XSS_IMG in texts(browser, "code.key")
    # ... and none of it became markup or ran
    assert css(browser, "main img") == []
    assert len(css(browser, "script")) == 1  # /static/app.js
    assert browser.execute_script("return window.__xss === undefined")
    problems = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert not [e for e in problems if "Content Security Policy" in e.get("message", "")]
    # the filters are in the URL, answered by the server
    open_view(browser, site, f"/topics/{MESSAGES_TOPIC}/messages?key=u-1", "messages")
    assert len(css(browser, "article.message")) == 1
    open_view(
        browser, site, f"/topics/{MESSAGES_TOPIC}/messages?type=user.updated&offset=0", "messages"
    )
    assert len(css(browser, "article.message")) == 2
    assert browser.execute_script("return window.__xss === undefined")


def test_unknown_names_are_404_with_a_message(site: Site, browser: Any) -> None:
    assert _get(site.base + "/topics/dreamscape.nope")[0] == 404
    open_view(browser, site, "/groups/nobody-group", None)
    error = wait_until("the 404 message", lambda: css(browser, "p.error[data-status='404']"), 20)
    assert "consumer group 'nobody-group' does not exist" in error[0].text


# ---- 20 API clients: one read per interval, flat memory ----------------------------------------


def _reads(site: Site) -> float:
    body = _get(site.base + "/metrics")[1].decode()
    line = next(x for x in body.splitlines() if x.startswith("dreamscape_cluster_reads_total"))
    return float(line.split()[1])


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1])


def test_twenty_api_clients_for_ten_seconds_read_once_per_interval_with_flat_memory(
    site: Site,
) -> None:
    import threading

    paths = ["/api/overview", "/api/topics", "/api/groups", f"/api/groups/{GROUP}", "/"]
    for path in paths:  # warm: every document built once
        _get(site.base + path)
    rss_before = _rss_kib(site.process.pid)
    reads_before = _reads(site)
    stop = threading.Event()
    codes: list[int] = []
    errors: list[BaseException] = []

    def client(i: int) -> None:
        n = i
        while not stop.is_set():
            try:
                codes.append(_get(site.base + paths[n % len(paths)])[0])
            except BaseException as exc:  # reported below
                errors.append(exc)
                return
            n += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    time.sleep(10)
    stop.set()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - started
    reads = _reads(site) - reads_before
    rss_after = _rss_kib(site.process.pid)
    print(  # the figures, for the report
        f"{len(codes)} answers in {elapsed:.1f}s, {reads:g} cluster reads, "
        f"RSS {rss_before} -> {rss_after} KiB"
    )
    assert not errors
    assert set(codes) == {200}
    assert reads <= elapsed / INTERVAL_S + 2  # the sampler and the requests share each read
    assert rss_after - rss_before < 20 * 1024


# ---- the broker goes down, then comes back ----------------------------------------------------


def test_broker_down_shows_down_and_the_page_recovers_by_itself(site: Site, browser: Any) -> None:
    open_view(browser, site, "/", "overview")
    (broker,) = [s for s in site.runtime.services() if s.is_broker]
    pid = site.runtime.live_pid(broker)
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    stopped = time.monotonic()
    wait_until(
        "DOWN on the page",
        lambda: browser.find_element("id", "verdict").text == "DOWN",
        60,
    )
    took = time.monotonic() - stopped
    print(f"page said DOWN {took:.1f}s after the broker stopped")
    assert site.process.poll() is None
    site.runtime.up(UpOptions(timeout_s=120), no_progress)
    wait_until(
        "the page to recover",
        lambda: browser.find_element("id", "verdict").text in ("UP", "DEGRADED"),
        120,
    )
    wait_until("brokers listed again", lambda: len(css(browser, "#brokers tbody tr")) == 1, 30)
    assert site.process.poll() is None
