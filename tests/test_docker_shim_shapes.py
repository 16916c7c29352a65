"""The shim's canned `compose ps` entries have the shape the real daemon printed.

tests/fixtures/docker/compose-ps.ndjson comes from a real daemon (tests/docker_shapes.py); the
docker tests check the live daemon still prints it. No daemon needed here.
"""

from __future__ import annotations

from dreamscape_infra.runtime.docker import statuses_from_ps
from tests.docker_shapes import recorded, shape
from tests.test_docker_runtime import ps_entry, published


def test_the_recorded_output_is_the_running_stack() -> None:
    statuses = {s.name: s for s in statuses_from_ps(recorded())}
    for service in ("zookeeper", "kafka"):
        assert (statuses[service].state, statuses[service].health) == ("running", "healthy")
        assert statuses[service].ports  # published on 127.0.0.1


def test_the_shims_entries_have_the_real_shape() -> None:
    real = {entry["Service"]: entry for entry in recorded()}
    for service in ("zookeeper", "kafka"):
        canned = ps_entry(service, publishers=published(9092))
        assert shape(canned) == shape(real[service]), service
        # the file's fixed container names, not compose's <project>-<service>-<n>
        assert canned["Name"] == real[service]["Name"]
