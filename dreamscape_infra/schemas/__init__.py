"""Event payload schemas as code: topics.yaml's `schema:` files, the Schema Registry subjects
built from them (`<topic>-value`, the BaseEvent envelope with that payload), the plan against a
registry (asked for compatibility itself), and the payload check of `events validate/produce`.

    desired.py   topics.yaml's schema files -> SubjectSpec values (every problem, file:line)
    model.py     the values and the `Registry` Protocol
    reconcile.py reading the registry concurrently, one task per subject
    plan.py      compute_plan: pure
    apply.py     apply_plan: never prompts, never prints
    registry.py  ConfluentRegistry, the only user of confluent_kafka.schema_registry
    payload.py   the payload check of events (jsonschema, with the failing path)
    render.py    tables and JSON
"""
