"""`ConfluentRegistry`: the `Registry` over confluent-kafka's own SchemaRegistryClient, the only
user of `confluent_kafka.schema_registry`. Nothing of the client leaves this module.

The client covers subjects, versions, configs, registering, deleting and the compatibility
verdict. It does not return *why* a schema is incompatible (`test_compatibility` returns a
bool), so for an incompatible one only, this asks for the reasons with one more request:
- Apicurio Registry (a ccompat URL, `.../apis/ccompat/v7`): its own API's dry run,
  `POST /apis/registry/v3/groups/default/artifacts/<subject>/versions?dryRun=true`, which
  answers 409 with the rule's causes (`SUBSCHEMA_TYPE_CHANGED at /properties/payload/...`)
  without registering anything; its ccompat endpoint gives no reason even with ?verbose=true.
- any other (Confluent's): the compatibility endpoint with `?verbose=true`, whose `messages`
  say why.
Those go through urllib with the same credentials and CA, since the client's transport sends a
content type Apicurio's v3 API refuses (415).

Every failure to reach the registry, and every 5xx, is one EnvironmentFailure naming the URL
(exit 4), after one quick retry: a CI gate must fail in seconds, not hang.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import ssl
from typing import Any
from urllib.parse import quote

from dreamscape_infra.errors import EnvironmentFailure
from dreamscape_infra.schemas.model import RegistryRefused, SubjectState, Verdict
from dreamscape_infra.schemas.settings import RegistrySettings

TIMEOUT_S = 5.0
_CCOMPAT = re.compile(r"/apis/ccompat/v\d+$")
_POINTER_STEP = re.compile(r"/properties/")


def _pointer_to_field(text: str) -> str:
    """`SUBSCHEMA_TYPE_CHANGED at /properties/payload/properties/userId` -> `... at
    payload.userId`: the event's field, as `events validate` names it."""

    def field(match: re.Match[str]) -> str:
        path = match.group(1)
        if not path.startswith("/properties/"):
            return match.group(0)
        return " at " + ".".join(p for p in _POINTER_STEP.split(path) if p).replace("/", ".")

    return re.sub(r" at (/\S*)", field, text)


class ConfluentRegistry:
    """A Schema Registry (Confluent's, or Apicurio's ccompat API) through confluent-kafka."""

    def __init__(self, settings: RegistrySettings) -> None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        self.url = settings.url
        self._settings = settings
        conf: dict[str, Any] = {
            "url": settings.url,
            "timeout": TIMEOUT_S,
            "max.retries": 1,
            "retries.wait.ms": 200,
            "retries.max.wait.ms": 500,
        }
        if settings.basic_auth is not None:
            conf["basic.auth.user.info"] = settings.basic_auth.reveal()
        if settings.ca_location:
            conf["ssl.ca.location"] = settings.ca_location
        try:
            self._client = SchemaRegistryClient(conf)
        except (ValueError, TypeError) as exc:  # a bad conf value; never echo the conf
            raise EnvironmentFailure(
                f"cannot configure the Schema Registry client for {self.url}: {type(exc).__name__}"
            ) from None

    # ---- errors -------------------------------------------------------------------------

    def _failure(self, exc: BaseException, doing: str) -> EnvironmentFailure:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        if isinstance(exc, SchemaRegistryError):
            status = exc.http_status_code
            message = f"the Schema Registry at {self.url} answered {status} {doing}"
            detail = str(exc.error_message or "").strip()
            kind = RegistryRefused if 400 <= status < 500 else EnvironmentFailure
            return kind(f"{message}: {detail}" if detail else message)
        return EnvironmentFailure(
            f"the Schema Registry at {self.url} is unreachable {doing} ({type(exc).__name__})",
            hint="is it running? `dreamscape-infra up --profile schema`, or set "
            "SCHEMA_REGISTRY_URL",
        )

    def _call(self, doing: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise self._failure(exc, doing) from None

    @staticmethod
    def _not_found(exc: BaseException) -> bool:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        return isinstance(exc, SchemaRegistryError) and exc.http_status_code == 404

    # ---- reads --------------------------------------------------------------------------

    def subjects(self) -> tuple[str, ...]:
        return tuple(self._call("listing subjects", self._client.get_subjects))

    def subject_state(self, subject: str) -> SubjectState:
        doing = f"reading {subject}"
        try:
            latest = self._client.get_latest_version(subject)
        except Exception as exc:
            if self._not_found(exc):
                return SubjectState(subject, None)
            raise self._failure(exc, doing) from None
        try:
            parsed = json.loads(latest.schema.schema_str or "null")
        except ValueError:
            parsed = None
        try:
            config = self._client.get_config(subject)
            level = config.compatibility_level or config.compatibility
            compatibility = getattr(level, "value", None) if level is not None else None
        except Exception as exc:
            if not self._not_found(exc):  # Confluent: no subject-level config is a 404
                raise self._failure(exc, doing) from None
            compatibility = None
        return SubjectState(subject, int(latest.version or 0), parsed, compatibility)

    def check(self, subject: str, schema_text: str) -> Verdict:
        from confluent_kafka.schema_registry import Schema

        doing = f"checking {subject}"
        compatible = self._call(
            doing, self._client.test_compatibility, subject, Schema(schema_text, "JSON")
        )
        if compatible:
            return Verdict(True)
        return Verdict(False, self._reasons(subject, schema_text))

    def _reasons(self, subject: str, schema_text: str) -> tuple[str, ...]:
        """Why the registry refuses it, in its own words (empty when it will not say)."""
        match = _CCOMPAT.search(self.url)
        try:
            if match:  # Apicurio: its own API's dry run
                root = self.url[: match.start()]
                path = f"/apis/registry/v3/groups/default/artifacts/{quote(subject, safe='')}"
                body = {"content": {"content": schema_text, "contentType": "application/json"}}
                status, answer = self._post(f"{root}{path}/versions?dryRun=true", body)
                causes = answer.get("causes") if isinstance(answer, dict) else None
                if status == 409 and causes:
                    return tuple(
                        _pointer_to_field(f"{c.get('description')} at {c.get('context')}")
                        for c in causes
                    )
                if isinstance(answer, dict) and answer.get("detail"):
                    return (_pointer_to_field(str(answer["detail"])),)
                return ()
            path = f"/compatibility/subjects/{quote(subject, safe='')}/versions/latest"
            status, answer = self._post(
                f"{self.url}{path}?verbose=true", {"schema": schema_text, "schemaType": "JSON"}
            )
            messages = answer.get("messages") if isinstance(answer, dict) else None
            return tuple(str(m) for m in messages or ())
        except OSError:
            return ()  # the verdict stands; only its explanation is missing

    def _post(self, url: str, body: Any) -> tuple[int, Any]:
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._settings.basic_auth is not None:
            token = base64.b64encode(self._settings.basic_auth.reveal().encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        context = (
            ssl.create_default_context(cafile=self._settings.ca_location)
            if self._settings.ca_location
            else None
        )
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as response:
                return int(response.status), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"null")
            except ValueError:
                return exc.code, None
        except ValueError:
            return 0, None

    # ---- writes -------------------------------------------------------------------------

    def set_compatibility(self, subject: str, level: str) -> None:
        from confluent_kafka.schema_registry import ConfigCompatibilityLevel, ServerConfig

        config = ServerConfig(compatibility=ConfigCompatibilityLevel(level))
        self._call(f"setting {subject}'s compatibility", self._client.set_config, subject, config)

    def register(self, subject: str, schema_text: str) -> int:
        from confluent_kafka.schema_registry import Schema

        doing = f"registering {subject}"
        schema = Schema(schema_text, "JSON")
        self._call(doing, self._client.register_schema, subject, schema)
        found = self._call(doing, self._client.lookup_schema, subject, schema)
        return int(found.version)

    def delete_subject(self, subject: str) -> None:
        doing = f"deleting {subject}"
        self._call(doing, self._client.delete_subject, subject)
        try:  # Confluent keeps a soft-deleted subject's versions until a permanent delete
            self._client.delete_subject(subject, permanent=True)
        except Exception as exc:
            if not self._not_found(exc):
                raise self._failure(exc, doing) from None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing must never mask the command's result
            self._client.close()
