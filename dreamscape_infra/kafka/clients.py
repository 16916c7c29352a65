"""Every Kafka client this process opened, so the CLI can close them before the interpreter exits.

The adapters give librdkafka bound methods as callbacks (`error_cb=self._on_error`), so each
adapter and its client form a reference cycle that only the garbage collector frees. The CLI
freezes the collector at exit (`gc.freeze()` in `cli.main`, which skips a ~0.07 s last
collection), so a client that a command did not close (an error on the way, or a command that
has no reason to) would be destroyed during interpreter shutdown, and librdkafka's teardown
calling back into a half-finalised interpreter can kill the process (SIGSEGV, seen after the
error line of a refused SASL login had been printed). `close_all()` closes them first.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Protocol


class Closable(Protocol):
    def close(self) -> None:
        """Release the client now; safe to call more than once."""


_OPEN: weakref.WeakSet[Closable] = weakref.WeakSet()


def opened(client: Closable) -> None:
    """Remember a client until it is closed or collected."""
    _OPEN.add(client)


def close_all() -> int:
    """Close every client still open; returns how many there were."""
    clients = list(_OPEN)
    for client in clients:
        with contextlib.suppress(Exception):  # exiting anyway: a failed close changes nothing
            client.close()
    _OPEN.clear()
    return len(clients)
