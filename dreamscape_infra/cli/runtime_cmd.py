"""`runtime fetch`: the Kafka jars (and, asked, the Schema Registry) of the local runtime, ahead
of time (CI caches, offline use).

`up --runtime local` fetches on first use through the same `runtime.fetch` code, and
`make kafka-dist` is this command with `--kafka all`: one path, not two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from dreamscape_infra.cli.state import OUTPUT_OPTION, AppState, OutputFormat, get_state
from dreamscape_infra.runtime.base import ProgressCallback

if TYPE_CHECKING:
    from dreamscape_infra.runtime.apicurio import ApicurioFetch
    from dreamscape_infra.runtime.fetch import FetchResult, KafkaPom

app = typer.Typer(
    help="The local runtime's Kafka jars and Schema Registry.\n\n"
    "Example: dreamscape-infra runtime fetch --kafka 3.9",
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
    schema_registry: bool = typer.Option(
        False,
        "--schema-registry",
        help="Also fetch Apicurio Registry, the Schema Registry of `up --profile schema` "
        "(~110 MB, into the same cache).",
    ),
    output: OutputFormat | None = OUTPUT_OPTION,
) -> None:
    """Fetch the Kafka jars of the local runtime into the cache, with Maven (idempotent).

    The cache is ${DREAMSCAPE_CACHE:-~/.cache/dreamscape-infra}/kafka: cache that folder
    between CI runs. Maven resolves and checks the jars and honours ~/.m2/settings.xml (mirrors,
    proxies). Concurrent fetches into one cache wait for each other and all succeed. With
    KAFKA_HOME nothing is fetched; with DREAMSCAPE_OFFLINE=1 this only checks the jars are
    there. Needs Java 17+ and Maven (exit 4 naming what is missing).

    Example: dreamscape-infra runtime fetch --kafka all --schema-registry
    """
    from dreamscape_infra.runtime.dist import cache_root
    from dreamscape_infra.runtime.fetch import fetch_document, offline, select_poms

    state = get_state(ctx)
    try:
        poms = select_poms(kafka)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--kafka") from None
    env = state.env
    # with KAFKA_HOME the runtime uses it for every line: fetching would be pointless
    from_home = bool(env.get("KAFKA_HOME"))
    results = (_kafka_home(poms[0], env),) if from_home else _fetch(state, poms)
    registry = _fetch_registry(state) if schema_registry else None
    if state.output_format(output) is OutputFormat.json:
        cache = cache_root(env) / "kafka"
        document = fetch_document(results, cache, offline(env), from_home=from_home)
        if registry is not None:
            document["schema_registry"] = {
                "name": "apicurio-registry",
                "version": registry.version,
                "app": str(registry.app),
                "fetched": registry.fetched,
                "seconds": round(registry.seconds, 1),
            }
        state.print_json(document)
        return
    out = state.out_console()
    if registry is not None:
        how = f"fetched in {registry.seconds:.0f}s" if registry.fetched else "already there"
        out.print(
            f"apicurio-registry {registry.version}: {registry.app} ({how})",
            markup=False,
            highlight=False,
        )
    for r in results:
        if from_home:
            line = f"KAFKA_HOME is set: the local runtime uses Kafka {r.version} from {r.libs}; "
            line += "nothing fetched"
        else:
            how = f"fetched in {r.seconds:.0f}s" if r.fetched else "already there"
            line = f"kafka {r.version}: {r.jars} jars in {r.libs} ({how})"
        out.print(line, markup=False, highlight=False)


def _kafka_home(pom: KafkaPom, env: Mapping[str, str]) -> FetchResult:
    """The jars KAFKA_HOME holds, as a result that fetched nothing."""
    from dreamscape_infra.runtime.dist import find_kafka
    from dreamscape_infra.runtime.fetch import FetchResult

    dist = find_kafka(pom.line, env)
    jars = sum(1 for _ in dist.libs.glob("*.jar"))
    return FetchResult(dist.version, "KAFKA_HOME", dist.libs, jars, fetched=False, seconds=0.0)


def _fetch(state: AppState, poms: Sequence[KafkaPom]) -> tuple[FetchResult, ...]:
    """Fetch (or find complete) each line's jars, showing the steps on stderr."""
    from dreamscape_infra.runtime.fetch import fetch_all

    factory = state.maven_factory
    with _fetch_display(state) as (step, detail):
        if factory is None:
            return fetch_all(poms, state.env, progress=step, detail=detail)
        return fetch_all(poms, state.env, progress=step, detail=detail, maven_factory=factory)


def _fetch_registry(state: AppState) -> ApicurioFetch:
    from dreamscape_infra.runtime.apicurio import fetch_apicurio

    with _fetch_display(state) as (step, _detail):
        return fetch_apicurio(state.env, progress=step)


def register(root: typer.Typer) -> None:
    """Add the `runtime` group to the root app."""
    root.add_typer(app, name="runtime")


__all__ = ["app", "register"]
