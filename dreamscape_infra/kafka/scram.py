"""SCRAM credentials through the AdminClient (AlterUserScramCredentials, KIP-554).

The local runtime creates the declared services' SCRAM users with it once the broker is up
(the admin's own credentials are bootstrapped before, see runtime.local). Passwords arrive as
`Secret`s and are unwrapped only here, into the request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dreamscape_infra.errors import EnvironmentFailure

if TYPE_CHECKING:
    from dreamscape_infra.settings import ConnectionSettings, Secret


def upsert_scram_users(
    settings: ConnectionSettings,
    users: Mapping[str, Secret],
    mechanisms: Sequence[str],
    iterations: int,
    timeout_s: float = 30.0,
) -> None:
    """Create or replace the SCRAM credentials of `users`: one request per mechanism.

    Raises EnvironmentFailure naming the user whose credentials the broker refused (never the
    password).
    """
    if not users or not mechanisms:
        return
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import (
        AdminClient,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    # librdkafka logs to stderr unless given a logger ("Purging 1 unserved events" when the
    # client is destroyed): route them where ConfluentAdmin's go, off the CLI's output
    config = settings.client_config() | {"logger": logging.getLogger("dreamscape_infra.kafka")}
    client = AdminClient(config)
    del config
    # KRaft refuses "a user credential altered twice in the same request": one request per
    # mechanism, each with every user
    for mechanism in mechanisms:
        upserts: list[UserScramCredentialAlteration] = [
            UserScramCredentialUpsertion(
                user,
                ScramCredentialInfo(ScramMechanism[mechanism.replace("-", "_")], iterations),
                password.reveal().encode("utf-8"),
            )
            for user, password in sorted(users.items())
        ]
        futures = client.alter_user_scram_credentials(upserts, request_timeout=timeout_s)
        for user, future in futures.items():
            try:
                future.result(timeout=timeout_s + 5)
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                reason = error.str() if error is not None and hasattr(error, "str") else "refused"
                raise EnvironmentFailure(
                    f"the broker refused the {mechanism} credentials of user '{user}': {reason}"
                ) from None
            except TimeoutError:
                raise EnvironmentFailure(
                    f"the broker did not answer creating the SCRAM credentials of user '{user}'"
                ) from None
