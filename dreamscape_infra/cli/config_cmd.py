"""`dreamscape-infra config`: the resolved connection settings, password redacted."""

from __future__ import annotations

import typer

from dreamscape_infra.cli.state import OUTPUT_OPTION, OutputFormat, get_state


def register(app: typer.Typer) -> None:
    @app.command("config")
    def config(ctx: typer.Context, output: OutputFormat | None = OUTPUT_OPTION) -> None:
        """Show the Kafka connection settings resolved from KAFKA_* variables (password redacted).

        Example: KAFKA_BROKERS=kafka:29092 dreamscape-infra config --output json
        """
        from dreamscape_infra.tables import TableData

        state = get_state(ctx)
        settings = state.settings()
        view = settings.redacted()
        if state.output_format(output) is OutputFormat.json:
            state.print_json(view)
            return
        rows = (
            (key, ",".join(value) if isinstance(value, list) else value)
            for key, value in view.items()
        )
        state.print_tables(TableData.build("Kafka connection", ("setting", "value"), rows))
