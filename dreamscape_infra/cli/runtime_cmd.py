"""`runtime fetch`: the Kafka jars of the local runtime, ahead of time (CI caches, offline use).

`up --runtime local` fetches on first use through the same `runtime.fetch` code, and
`make kafka-dist` is this command with `--kafka all`: one path, not two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from dreamscape_infra.cli.state import OUTPUT_OPTION, AppState, OutputFormat, get_state
from dreamscape_infra.runtime.base import ProgressCallback

app = typer.Typer(
    help="The local runtime's Kafka jars.\n\nExample: dreamscape-infra runtime fetch --kafka 3.9",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@contextmanager
def _fetch_display(
    state: AppState,
) -> Iterator[tuple[ProgressCallback, Callable[[str, str], None] | None]]:
    """(step, detail): on a terminal a spinner showing both; otherwise one line per step."""
    err = state.err_console()
    if err.is_terminal:
        with err.status("fetching Kafka", spinner="dots") as status:

            def update(subject: str, message: str) -> None:
                status.update(f"{subject}: {message}")

            def step(subject: str, message: str) -> None:
                update(subject, message)
                err.print(f"{subject}: {message}", markup=False, highlight=False)

            yield step, update
        return

    def line(subject: str, message: str) -> None:
        err.print(f"{subject}: {message}", markup=False, highlight=False)

    yield line, None


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    kafka: str = typer.Option(
        "all",
        "--kafka",
        metavar="3.9|4.x|all",
        help="Which Kafka: 3.9 (ZooKeeper mode, the default of `up`), 4.x (`up --kraft`), all.",
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Fetch the Kafka jars of the local runtime into the cache, with Maven (idempotent).

    The cache is ${DREAMSCAPE_CACHE:-~/.cache/dreamscape-infra}/kafka: cache that folder
    between CI runs. Maven resolves and checks the jars and honours ~/.m2/settings.xml (mirrors,
    proxies). Concurrent fetches into one cache wait for each other and all succeed. With
    KAFKA_HOME nothing is fetched; with DREAMSCAPE_OFFLINE=1 this only checks the jars are
    there. Needs Java 17+ and Maven (exit 4 naming what is missing).

    Example: dreamscape-infra runtime fetch --kafka 3.9
    """
    from dreamscape_infra.runtime.dist import cache_root, find_kafka
    from dreamscape_infra.runtime.fetch import fetch_all, offline, select_poms

    state = get_state(ctx)
    json_mode = state.output_format(output) is OutputFormat.json
    try:
        poms = select_poms(kafka)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--kafka") from None
    env = state.env
    cache = cache_root(env) / "kafka"
    if env.get("KAFKA_HOME"):
        # the runtime uses KAFKA_HOME for every line; fetching would be pointless
        dist = find_kafka(poms[0].line, env)
        if json_mode:
            state.print_json(
                {
                    "kind": "runtime-fetch",
                    "version": 1,
                    "source": "KAFKA_HOME",
                    "cache": str(cache),
                    "offline": offline(env),
                    "kafka": [
                        {
                            "version": dist.version,
                            "libs": str(dist.libs),
                            "fetched": False,
                            "jars": sum(1 for _ in dist.libs.glob("*.jar")),
                            "seconds": 0.0,
                            "waited_s": 0.0,
                        }
                    ],
                }
            )
        else:
            state.out_console().print(
                f"KAFKA_HOME is set: the local runtime uses Kafka {dist.version} from "
                f"{dist.libs}; nothing fetched",
                markup=False,
                highlight=False,
            )
        return
    factory = state.maven_factory
    with _fetch_display(state) as (step, detail):
        if factory is None:
            results = fetch_all(poms, env, progress=step, detail=detail)
        else:
            results = fetch_all(poms, env, progress=step, detail=detail, maven_factory=factory)
    if json_mode:
        document: dict[str, Any] = {
            "kind": "runtime-fetch",
            "version": 1,
            "source": "cache",
            "cache": str(cache),
            "offline": offline(env),
            "kafka": [
                {
                    "version": r.version,
                    "libs": str(r.libs),
                    "fetched": r.fetched,
                    "jars": r.jars,
                    "seconds": round(r.seconds, 1),
                    "waited_s": round(r.waited_s, 1),
                }
                for r in results
            ],
        }
        state.print_json(document)
        return
    out = state.out_console()
    for r in results:
        how = f"fetched in {r.seconds:.0f}s" if r.fetched else "already there"
        out.print(
            f"kafka {r.version}: {r.jars} jars in {r.libs} ({how})", markup=False, highlight=False
        )


def register(root: typer.Typer) -> None:
    """Add the `runtime` group to the root app."""
    root.add_typer(app, name="runtime")


__all__ = ["app", "register"]
