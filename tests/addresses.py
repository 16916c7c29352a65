"""Addresses nothing answers on, made by the test that needs one.

No test may assume a fixed port is free: a developer's `make run` stack listens on 9092, 2181,
8080, 8081 and 9308 (issue 18, item 7). A test that needs "no broker there" takes its address
from here instead.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

# on Linux every 127/8 address is the loopback; the first free one is held for the test.
# Not 127.0.0.1: holding its port would stop a developer's stack from starting meanwhile.
_LOOPBACKS = ("127.0.83.1", "127.0.83.2", "127.0.83.3")
# RFC 2606: never resolves, so a client fails at once (the fallback when every loopback
# address has a listener on the port, i.e. something listens on 0.0.0.0)
UNRESOLVABLE = "nothing-listens.invalid"


def closed_port() -> int:
    """A port that was free a moment ago: bound on 127.0.0.1, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def refused_host(port: int) -> Iterator[str]:
    """A host whose `port` refuses connections for as long as the block runs.

    For a runtime whose port is fixed (the docker stack's 9092): a socket bound to
    (host, port) and never listening answers every connect with a reset, and no stack can
    listen there meanwhile. When the port is taken on every candidate address, a name that
    never resolves.
    """
    for host in _LOOPBACKS:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            continue
        try:
            yield host
        finally:
            sock.close()
        return
    yield UNRESOLVABLE
