"""What every benchmark shares: one broker started through `LocalRuntime`, timing, the CLI.

The CLI is run as a user runs it, a whole `python3 -m dreamscape_infra ...` process with
PYTHONPATH at this checkout; the baselines are Kafka's own tools from the same jars, run with
`java` directly. Setting the scene (producing, committing, deleting topics) uses confluent_kafka
itself, so the bench depends on nothing inside dreamscape_infra but its public entry points.
"""

from __future__ import annotations

import compileall
import contextlib
import datetime as dt
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamscape_infra.runtime.base import UpOptions, no_progress
from dreamscape_infra.runtime.dist import find_kafka
from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "topics.yaml"
# What kafka-run-class.sh gives a tool JVM (KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS).
TOOL_JVM_OPTS = (
    "-Xmx256M",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
# The broker's own requests (controller to broker), not sent by any client.
INTERNAL_REQUESTS = {"UpdateMetadata", "LeaderAndIsr", "StopReplica", "ControlledShutdown"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Run:
    """One whole process: wall time from fork to exit, exit code, output."""

    seconds: float
    code: int
    stdout: str
    stderr: str


def timed(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    stdin: str | None = None,
    timeout: float = 900,
) -> Run:
    """Run `argv` to its end and time it."""
    start = time.perf_counter()
    proc = subprocess.run(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(time.perf_counter() - start, proc.returncode, proc.stdout, proc.stderr)


def must(run: Run, what: str, codes: Sequence[int] = (0,)) -> Run:
    """`run`, or stop the bench saying which command failed and what it said."""
    if run.code not in codes:
        raise SystemExit(f"bench: {what} exited {run.code}:\n{run.stderr[-2000:]}")
    return run


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise SystemExit(f"bench: nothing listens on port {port} after {timeout_s:g} s")


@dataclass
class Broker:
    """The bench's Kafka: one ZooKeeper-mode broker of the local runtime, in `work`."""

    runtime: LocalRuntime
    bootstrap: str
    libs: Path
    version: str
    work: Path
    up_seconds: float
    jmx_port: int = 0
    env: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str) -> list[str]:
        """This checkout's CLI as a whole process (PYTHONPATH is in `env`)."""
        return [sys.executable, "-m", "dreamscape_infra", *args]

    def run_cli(self, *args: str, codes: Sequence[int] = (0,)) -> Run:
        return must(timed(self.cli(*args), self.env), f"dreamscape-infra {' '.join(args)}", codes)

    def tool(self, main: str, *args: str) -> list[str]:
        """A Kafka tool from the same jars, as kafka-run-class.sh runs it (without bash)."""
        log4j = self.work / "tools-log4j.properties"
        return [
            "java",
            *TOOL_JVM_OPTS,
            f"-Dlog4j.configuration=file:{log4j}",
            "-cp",
            f"{self.libs}/*",
            main,
            *args,
        ]

    def admin(self) -> Any:
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self.bootstrap})

    def delete_prefix(self, prefix: str, timeout_s: float = 600) -> None:
        """Delete every topic under `prefix` and wait until the broker no longer lists them."""
        admin = self.admin()
        names = [n for n in admin.list_topics(timeout=30).topics if n.startswith(prefix)]
        for i in range(0, len(names), 500):
            for future in admin.delete_topics(names[i : i + 500], operation_timeout=60).values():
                future.result()
        deadline = time.monotonic() + timeout_s
        while any(n.startswith(prefix) for n in admin.list_topics(timeout=30).topics):
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: topics under {prefix} still exist")
            time.sleep(0.5)
        time.sleep(2)  # let the broker finish removing the logs before the next measurement

    def requests(self) -> Counter[str]:
        """Requests the broker has answered from clients, by type (its JMX RequestsPerSec)."""
        if not self.jmx_port:
            pid = self.runtime.live_pid(next(s for s in self.runtime.services() if s.is_broker))
            port = free_port()
            must(
                timed(
                    [
                        "jcmd",
                        str(pid),
                        "ManagementAgent.start",
                        f"jmxremote.port={port}",
                        f"jmxremote.rmi.port={port}",
                        "jmxremote.host=127.0.0.1",
                        "jmxremote.authenticate=false",
                        "jmxremote.ssl=false",
                    ]
                ),
                "jcmd ManagementAgent.start",
            )
            self.jmx_port = port
        url = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{self.jmx_port}/jmxrmi"
        run = must(
            timed(
                [
                    *self.tool("org.apache.kafka.tools.JmxTool"),
                    "--jmx-url",
                    url,
                    "--object-name",
                    "kafka.network:type=RequestMetrics,name=RequestsPerSec,*",
                    "--attributes",
                    "Count",
                    "--one-time",
                    "true",
                    "--report-format",
                    "properties",
                ]
            ),
            "JmxTool",
        )
        counts: Counter[str] = Counter()
        for line in run.stdout.splitlines():
            if "request=" in line and ":Count=" in line:
                kind = line.split("request=", 1)[1].split(",", 1)[0].split(":", 1)[0]
                if kind not in INTERNAL_REQUESTS:
                    counts[kind] += int(float(line.rsplit("=", 1)[1]))
        return counts

    def counted(self, *args: str) -> tuple[Run, dict[str, int]]:
        """One CLI run, and the requests the broker answered while it ran."""
        before = self.requests()
        run = self.run_cli(*args)
        after = self.requests()
        return run, dict(sorted((after - before).items()))


def _write_tool_logging(work: Path) -> None:
    """Tool JVMs log warnings to stderr only, as kafka-run-class.sh's tools-log4j does."""
    (work / "tools-log4j.properties").write_text(
        "log4j.rootLogger=WARN, stderr\n"
        "log4j.appender.stderr=org.apache.log4j.ConsoleAppender\n"
        "log4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n"
        "log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
        "log4j.appender.stderr.Target=System.err\n"
    )


@contextlib.contextmanager
def local_broker() -> Iterator[Broker]:
    """One broker of the local runtime, in its own state dir on free ports; stopped at the end."""
    work = Path(tempfile.mkdtemp(prefix="dreamscape-bench-"))
    _write_tool_logging(work)
    config = LocalConfig(
        state_dir=work / "state",
        zk_port=free_port(),
        kafka_port=free_port(),
        controller_port=free_port(),
    )
    runtime = LocalRuntime(config, env=os.environ)
    dist = find_kafka("zookeeper", os.environ)
    try:
        start = time.perf_counter()
        result = runtime.up(UpOptions(timeout_s=180), no_progress)
        up_seconds = time.perf_counter() - start
        bootstrap = result.status.bootstrap_servers
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DREAMSCAPE_"))}
        env.update(
            {"PYTHONPATH": str(ROOT), "KAFKA_BROKERS": bootstrap, "NO_COLOR": "1", "COLUMNS": "120"}
        )
        yield Broker(runtime, bootstrap, dist.libs, dist.version, work, up_seconds, env=env)
    finally:
        runtime.down(remove_data=True, progress=no_progress)
        shutil.rmtree(work, ignore_errors=True)


def seed_copy(work: Path, prefix: str) -> Path:
    """The shipped topics.yaml under another prefix (names and group references rewritten),
    beside the payload schemas its `schema:` paths name (relative to the file)."""
    path = work / f"{prefix.rstrip('.')}.yaml"
    path.write_text(SEED_FILE.read_text().replace("dreamscape.", prefix))
    schemas = work / "schemas"
    if not schemas.exists():
        schemas.symlink_to(ROOT / "schemas", target_is_directory=True)
    return path


def compile_package() -> None:
    """Bytecode for the package, as `pip install` writes it (an editable install does not, and
    with PYTHONDONTWRITEBYTECODE set every run would compile every module it imports)."""
    if not compileall.compile_dir(str(ROOT / "dreamscape_infra"), quiet=1):
        raise SystemExit("bench: compileall failed")


def machine() -> dict[str, str]:
    """Where and when the figures were measured."""
    cpu = platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "java": (java.stderr.splitlines() or ["?"])[0],
        "commit": commit.stdout.strip() or "?",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def seconds(label: str, values: Sequence[float], key: str = "") -> dict[str, Any]:
    """A timed figure for results.json: every run's seconds, the renderer takes the median."""
    return {"key": key or label, "label": label, "seconds": [round(v, 4) for v in values]}


def value(label: str, text: str) -> dict[str, Any]:
    """A figure that is not a time (a rate, a p95), already worded."""
    return {"key": label, "label": label, "value": text}


def ratio(label: str, faster: str, than: str, target: float | None = None) -> dict[str, Any]:
    """How many times `than`'s median is `faster`'s (keys of two timed figures)."""
    return {"label": label, "faster": faster, "than": than, "target": target}
