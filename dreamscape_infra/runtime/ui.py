"""The console of `up --runtime local --profile ui`: `dreamscape-infra serve --port 8080` run as
one of the local runtime's extra managed processes (see runtime.extras).

It connects to the stack of its own state folder as that stack's admin (`serve --local-state`,
so a secured stack works without exporting anything), reads the topics file `up` was given
(DREAMSCAPE_TOPICS_FILE, which the CLI sets to the absolute path), and is ready once
GET /metrics answers. The docker runtime's `ui` profile stays kafbat's Kafka UI.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from dreamscape_infra.runtime.base import ProgressCallback
from dreamscape_infra.runtime.extras import EXTRA_HOST, ExtraProfile, Launch, ManagedProcess

SERVICE = "ui"
PROFILE = "ui"
PORT_ENV = "DREAMSCAPE_UI_PORT"
DEFAULT_PORT = 8080
READY_PATH = "/metrics"  # 200 whatever the verdict, and open without a token
CONSOLE_LABEL = "Console"


def _state_flag(state_dir: Path) -> str:
    return f"--local-state={state_dir}"


def describe(state_dir: Path, port: int) -> ManagedProcess:
    """The console of a state folder on `port`."""
    return ManagedProcess(
        name=SERVICE,
        profile=PROFILE,
        port=port,
        folder=state_dir / SERVICE,
        ready_path=READY_PATH,
        # the state folder is on its command line: no other stack's console has it
        identity=("dreamscape_infra", "serve", _state_flag(state_dir)),
        urls=((CONSOLE_LABEL, f"http://{EXTRA_HOST}:{port}/"),),
    )


def launch(process: ManagedProcess, env: Mapping[str, str], progress: ProgressCallback) -> Launch:
    """This Python running `serve` on 127.0.0.1:<port> for the stack of the state folder."""
    state_dir = process.folder.parent
    topics = Path(env.get("DREAMSCAPE_TOPICS_FILE") or "topics.yaml").resolve()
    argv = (
        sys.executable,
        "-m",
        "dreamscape_infra",
        "-f",
        str(topics),
        "serve",
        "--host",
        EXTRA_HOST,
        "--port",
        str(process.port),
        _state_flag(state_dir),
    )
    return Launch(argv=argv, env={"DREAMSCAPE_STATE_DIR": str(state_dir)})


UI_PROFILE = ExtraProfile(
    profile=PROFILE,
    port_env=PORT_ENV,
    default_port=DEFAULT_PORT,
    describe=describe,
    launch=launch,
)

__all__ = ["DEFAULT_PORT", "PORT_ENV", "UI_PROFILE", "describe", "launch"]
