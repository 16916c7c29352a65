"""`dreamscape-infra config`: the resolved connection settings, password redacted; with
`--export`, the shell lines a client of the secured local stack needs (never a password)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dreamscape_infra.cli.state import OUTPUT_OPTION, AppState, OutputFormat, get_state


def _export(state: AppState, user: str | None, state_dir: Path | None, json_mode: bool) -> None:
    """The local stack's client environment as `export` lines (password read from its file
    when the line is evaluated)."""
    from dreamscape_infra.errors import EnvironmentFailure
    from dreamscape_infra.runtime.local import LocalConfig, LocalRuntime

    runtime = LocalRuntime(LocalConfig.from_env(state.env, state_dir), env=state.env)
    if runtime.read_layout() is None:
        raise EnvironmentFailure(
            f"no local stack was started from {runtime.state_dir}",
            hint="start one with `dreamscape-infra up --runtime local --security sasl_ssl`, "
            "or point --state-dir / DREAMSCAPE_STATE_DIR at its folder",
        )
    env = runtime.client_environment(user)
    if env.password_file is not None and not env.password_file.is_file():
        users = ", ".join(runtime.security().all_users)
        raise EnvironmentFailure(
            f"the local stack has no SASL user '{user}' (no {env.password_file})",
            hint=f"its users: {users} (a service of topics.yaml's services: logs in as its "
            "principal's name, User:<name>)",
        )
    if json_mode:
        document: dict[str, Any] = {
            "variables": dict(env.variables),
            "password_file": str(env.password_file) if env.password_file else None,
            "export": env.shell_lines(),
        }
        state.print_json(document)
        return
    for line in env.shell_lines():
        typer.echo(line)


def register(app: typer.Typer) -> None:
    @app.command("config")
    def config(
        ctx: typer.Context,
        export: bool = typer.Option(
            False,
            "--export",
            help="Print `export KAFKA_...` lines for a client of the local stack (the password "
            'is read from its file by the shell, never printed): eval "$(... config --export)".',
        ),
        user: str | None = typer.Option(
            None,
            "--user",
            metavar="NAME",
            help="With --export: the SASL user (default admin; or a declared service).",
        ),
        state_dir: Path | None = typer.Option(
            None,
            "--state-dir",
            metavar="DIR",
            help="With --export: the local stack's state folder (default DREAMSCAPE_STATE_DIR, "
            "else ./.state/local).",
            show_default=False,
        ),
        output: OutputFormat | None = OUTPUT_OPTION,
    ) -> None:
        """Show the Kafka connection settings resolved from KAFKA_* variables (password redacted).

        Example: KAFKA_BROKERS=kafka:29092 dreamscape-infra config --output json
        Example: eval "$(dreamscape-infra config --export --user auth-service)"
        """
        from dreamscape_infra.tables import TableData

        state = get_state(ctx)
        json_mode = state.output_format(output) is OutputFormat.json
        if export:
            _export(state, user, state_dir, json_mode)
            return
        if user is not None or state_dir is not None:
            raise typer.BadParameter("--user and --state-dir go with --export")
        settings = state.settings()
        view = settings.redacted()
        if json_mode:
            state.print_json(view)
            return
        rows = (
            (key, ",".join(value) if isinstance(value, list) else value)
            for key, value in view.items()
        )
        state.print_tables(TableData.build("Kafka connection", ("setting", "value"), rows))
