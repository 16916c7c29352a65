"""Pure tests of topics.yaml loading: a full file, resolution precedence, and bad files.

Every bad file names its location (`FILE:LINE: path: message`) and every problem in a file is
reported, not only the first. `BAD_FILES` is shared with the CLI tests in test_cli_offline.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from dreamscape_infra.errors import ConfigError, ExitCode
from dreamscape_infra.topics.desired import load_desired, read_topics_file
from tests.topics_files import write_topics

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "fixtures" / "topics-small.yaml"

# Lines 1-5 of most bad files; the cases add topics from line 6 on.
HEAD = """\
version: 1
domains:
  user: {owner: user-service}
  auth: {owner: auth-service}
topics:
"""
TWO_TOPICS = """\
  - name: dreamscape.user.created
  - name: dreamscape.auth.login
"""


class BadFile(NamedTuple):
    """A topics file (None: do not create it) and substrings one of its problems contains."""

    text: str | bytes | None
    expected: tuple[str, ...]


def problems_of(path: Path, env: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_desired(path, env)
    assert info.value.exit_code == ExitCode.INVALID_CONFIG
    assert info.value.problems, "a ConfigError must list its problems"
    return info.value.problems


# --- a full topics file (the small fixture) -------------------------------------------------------


def test_full_file_base() -> None:
    desired = load_desired(SMALL)
    assert len(desired.topics) == 7
    assert len(desired.domains) == 4
    assert len({t.domain for t in desired.topics}) == 4
    assert len(desired.groups) == 2
    assert desired.environments == ("dev", "prod")
    assert desired.environment is None
    assert [t.name for t in desired.topics] == sorted(t.name for t in desired.topics)
    assert desired.prune_min_idle_ms == 3_600_000
    assert desired.prune_max_deletes == 10
    assert desired.strict_configs is False


def test_full_file_values_are_normalised() -> None:
    desired = load_desired(SMALL)
    created = desired.topic("dreamscape.user.created")
    assert created is not None
    assert created.configs["retention.ms"] == "604800000"  # 7d
    assert created.configs["cleanup.policy"] == "delete"
    assert created.configs["min.insync.replicas"] == "1"
    assert created.owner == "user-service"
    assert created.domain == "user"
    deleted = desired.topic("dreamscape.user.deleted")
    assert deleted is not None
    assert deleted.configs["retention.ms"] == "2592000000"  # 30d
    tracked = desired.topic("dreamscape.analytics.event.tracked")
    assert tracked is not None
    assert tracked.partitions == 6
    assert tracked.configs["retention.ms"] == "259200000"  # 3d
    assert tracked.configs["compression.type"] == "lz4"
    assert all(isinstance(v, str) for t in desired.topics for v in t.configs.values())


def test_full_file_dev() -> None:
    desired = load_desired(SMALL, "dev")
    assert desired.environment == "dev"
    assert len(desired.topics) == 7
    assert {t.replication_factor for t in desired.topics} == {1}


def test_full_file_prod() -> None:
    desired = load_desired(SMALL, "prod")
    assert len(desired.topics) == 7
    assert {t.replication_factor for t in desired.topics} == {3}
    assert {t.configs["min.insync.replicas"] for t in desired.topics} == {"2"}
    login = desired.topic("dreamscape.auth.login")
    assert login is not None
    assert login.partitions == 6


def test_full_file_keyed() -> None:
    desired = load_desired(SMALL)
    by_name = {t.name: t for t in desired.topics}
    assert by_name["dreamscape.user.created"].keyed is True
    assert by_name["dreamscape.auth.login"].keyed is False
    assert not any(t.compacted for t in desired.topics)


def test_read_topics_file_returns_model_and_lines() -> None:
    model, doc = read_topics_file(SMALL)
    assert len(model.topics) == 7
    assert doc.line_of(("topics", 0, "name")) is not None
    assert doc.line_of(("topics", 0, "name")) == doc.line_of(("topics", 0))


def test_unknown_environment_names_the_option() -> None:
    problems = problems_of(SMALL, "nope")
    assert problems == ["--env/DREAMSCAPE_ENV: unknown environment 'nope' (declared: dev, prod)"]


# --- resolution --------------------------------------------------------------------------

PRECEDENCE = """\
defaults:
  partitions: 2
  replication_factor: 1
  config:
    retention.ms: 1d
    cleanup.policy: delete
    segment.ms: 1h
    max.message.bytes: 1000
environments:
  prod:
    defaults:
      partitions: 4
      replication_factor: 3
      config:
        retention.ms: 2d
        segment.ms: 2h
    topics:
      dreamscape.user.b:
        partitions: 8
        config:
          retention.ms: 4d
domains: {user: {owner: user-service}}
topics:
  - name: dreamscape.user.a
  - name: dreamscape.user.b
    replication_factor: 2
    owner: someone-else
    config:
      segment.ms: 3h
"""


def test_precedence_base(tmp_path: Path) -> None:
    desired = load_desired(write_topics(tmp_path, PRECEDENCE))
    a, b = desired.topics
    assert (a.name, a.partitions, a.replication_factor) == ("dreamscape.user.a", 2, 1)
    assert dict(a.configs) == {
        "cleanup.policy": "delete",
        "max.message.bytes": "1000",
        "retention.ms": "86400000",
        "segment.ms": "3600000",
    }
    assert (b.partitions, b.replication_factor) == (2, 2)
    assert b.configs["segment.ms"] == "10800000"  # topic beats base defaults
    assert b.owner == "someone-else"
    assert a.owner == "user-service"


def test_precedence_environment(tmp_path: Path) -> None:
    desired = load_desired(write_topics(tmp_path, PRECEDENCE), "prod")
    a, b = desired.topics
    # env defaults beat base defaults
    assert (a.partitions, a.replication_factor) == (4, 3)
    assert a.configs["retention.ms"] == "172800000"
    assert a.configs["segment.ms"] == "7200000"
    assert a.configs["max.message.bytes"] == "1000"  # base default still applies
    # env topic override beats everything; the topic beats env defaults
    assert b.partitions == 8
    assert b.replication_factor == 2
    assert b.configs["retention.ms"] == "345600000"
    assert b.configs["segment.ms"] == "10800000"
    assert b.configs["cleanup.policy"] == "delete"


def test_fallbacks_without_defaults(tmp_path: Path) -> None:
    text = "domains: {user: {owner: u}}\ntopics:\n  - name: dreamscape.user.a\n"
    (spec,) = load_desired(write_topics(tmp_path, text)).topics
    assert (spec.partitions, spec.replication_factor, dict(spec.configs)) == (3, 1, {})
    assert spec.keyed is False
    assert spec.compacted is False


def test_keyed_and_compacted(tmp_path: Path) -> None:
    text = (
        "domains: {user: {owner: u}}\n"
        "topics:\n"
        "  - name: dreamscape.user.state\n"
        "    keyed: true\n"
        "    config:\n"
        "      cleanup.policy: [compact, delete]\n"
        "  - name: dreamscape.user.log\n"
        "    config: {cleanup.policy: ' delete '}\n"
    )
    desired = load_desired(write_topics(tmp_path, text))
    log, state = desired.topics
    assert state.keyed is True
    assert state.compacted is True
    assert state.configs["cleanup.policy"] == "compact,delete"
    assert log.compacted is False
    assert log.configs["cleanup.policy"] == "delete"


def test_settings_are_read(tmp_path: Path) -> None:
    text = (
        "settings: {strict_configs: true, prune_max_deletes: 3, prune_min_idle: 2d}\n"
        "domains: {user: {owner: u}}\ntopics: []\n"
    )
    desired = load_desired(write_topics(tmp_path, text))
    assert desired.strict_configs is True
    assert desired.prune_max_deletes == 3
    assert desired.prune_min_idle_ms == 2 * 86_400_000


# --- bad files ---------------------------------------------------------------------------

BAD_FILES = [
    pytest.param(
        BadFile(
            "prefixx: dreamscape.\n" + HEAD[len("version: 1\n") :] + TWO_TOPICS,
            ("topics.yaml:1: (top level)", "unknown key 'prefixx' (did you mean 'prefix'?)"),
        ),
        id="unknown-top-level-key",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    partition: 6\n",
            ("topics.yaml:7: topics[1]:", "unknown key 'partition' (did you mean 'partitions'?)"),
        ),
        id="unknown-topic-key",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    config:\n      retention.msx: 1d\n",
            (
                "topics.yaml:8: topics[1].config:",
                "unknown topic config 'retention.msx' (did you mean 'retention.ms'?)",
            ),
        ),
        id="unknown-topic-config-key",
    ),
    pytest.param(
        BadFile(
            "defaults:\n  config: {retention: 1d}\n" + HEAD + TWO_TOPICS,
            ("topics.yaml:2: defaults.config:", "unknown topic config 'retention'"),
        ),
        id="unknown-defaults-config-key",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: dreamscape.user.created\n    name: dreamscape.user.updated\n",
            ("topics.yaml:7: topics[0].name:", "duplicate key (first defined on line 6)"),
        ),
        id="duplicate-yaml-key",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "domains: {}\n",
            ("topics.yaml:8: domains:", "duplicate key (first defined on line 2)"),
        ),
        id="duplicate-top-level-yaml-key",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "  - name: dreamscape.user.created\n",
            ("topics.yaml:8: topics[2].name:", "duplicate topic 'dreamscape.user.created'"),
        ),
        id="duplicate-topic",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: dreamscape.user.créé\n",
            ("topics.yaml:6: topics[0].name:", "has characters Kafka forbids"),
        ),
        id="invalid-characters",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: 'dreamscape.user.a b'\n",
            ("topics.yaml:6: topics[0].name:", "has characters Kafka forbids"),
        ),
        id="space-in-name",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "  - name: dreamscape.user." + "x" * 240 + "\n",
            ("topics.yaml:8: topics[2].name:", "name is 256 characters; Kafka allows 249"),
        ),
        id="name-too-long",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: '.'\n",
            ("topics.yaml:6: topics[0].name:", "'.' is not a valid Kafka topic name"),
        ),
        id="dot",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: '..'\n",
            ("topics.yaml:6: topics[0].name:", "'..' is not a valid Kafka topic name"),
        ),
        id="dot-dot",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: dreamscape.user.a_b\n  - name: dreamscape.user.a.b\n",
            (
                "topics.yaml:7: topics[1].name:",
                "'dreamscape.user.a.b' collides with 'dreamscape.user.a_b' (topics[0])",
            ),
        ),
        id="metric-collision",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: dreamscape.user\n",
            ("topics.yaml:6: topics[0].name:", "breaks the convention"),
        ),
        id="convention-no-event",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: other.user.created\n",
            ("topics.yaml:6: topics[0].name:", "'other.user.created' breaks the convention"),
        ),
        id="convention-other-prefix",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: dreamscape.User.Created\n",
            ("topics.yaml:6: topics[0].name:", "(lower-case segments)"),
        ),
        id="convention-upper-case",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: dreamscape.usr.created\n",
            (
                "topics.yaml:6: topics[0].name:",
                "domain 'usr' is not declared under domains (did you mean 'user'?)",
            ),
        ),
        id="undeclared-domain",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    partitions: 0\n",
            ("topics.yaml:8: topics[1].partitions: must be at least 1 (got 0)",),
        ),
        id="partitions-0",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    replication_factor: 0\n",
            ("topics.yaml:8: topics[1].replication_factor: must be at least 1 (got 0)",),
        ),
        id="rf-0",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    partitions: '3'\n",
            ("topics.yaml:8: topics[1].partitions: expected an integer (got '3')",),
        ),
        id="partitions-string",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    keyed: 'yes'\n",
            ("topics.yaml:8: topics[1].keyed: expected true or false (got 'yes')",),
        ),
        id="keyed-string",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    config:\n      retention.ms: abc\n",
            (
                "topics.yaml:9: topics[1].config.retention.ms:",
                "expected an integer number of milliseconds",
                "got 'abc'",
            ),
        ),
        id="retention-abc",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    config:\n      cleanup.policy: sometimes\n",
            (
                "topics.yaml:9: topics[1].config.cleanup.policy:",
                "expected one of compact, delete",
                "got 'sometimes'",
            ),
        ),
        id="cleanup-sometimes",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    config: {min.insync.replicas: 0}\n",
            ("topics.yaml:8: topics[1].config.min.insync.replicas:", "must be >= 1, got 0"),
        ),
        id="min-isr-0",
    ),
    pytest.param(
        BadFile(
            HEAD + TWO_TOPICS + "    replication_factor: 2\n    config: {min.insync.replicas: 3}\n",
            (
                "topics.yaml:7: topics[1]:",
                "min.insync.replicas (3) is greater than the replication factor (2)",
            ),
        ),
        id="min-isr-above-rf",
    ),
    pytest.param(
        BadFile(
            "environments:\n  prod:\n    defaults:\n      config: {min.insync.replicas: 2}\n"
            + HEAD
            + "  - name: dreamscape.user.created\n",
            (
                "topics.yaml:10: topics[0]:",
                "min.insync.replicas (2) is greater than the replication factor (1) "
                "in environment 'prod'",
            ),
        ),
        id="min-isr-above-rf-in-env",
    ),
    pytest.param(
        BadFile(
            "environments:\n  dev:\n    topics:\n      dreamscape.user.craeted: {partitions: 1}\n"
            + HEAD
            + TWO_TOPICS,
            (
                "topics.yaml:4: environments.dev.topics.dreamscape.user.craeted:",
                "overrides undeclared topic 'dreamscape.user.craeted' "
                "(did you mean 'dreamscape.user.created'?)",
            ),
        ),
        id="env-override-undeclared-topic",
    ),
    pytest.param(
        BadFile(
            "environments:\n  dev:\n    defaults: {partition: 1}\n" + HEAD + TWO_TOPICS,
            (
                "topics.yaml:3: environments.dev.defaults:",
                "unknown key 'partition' (did you mean 'partitions'?)",
            ),
        ),
        id="env-defaults-unknown-key",
    ),
    pytest.param(
        BadFile(
            "environments:\n  dev:\n    topics:\n      dreamscape.user.created:\n"
            "        config: {retention.ms: forever}\n" + HEAD + TWO_TOPICS,
            (
                "topics.yaml:5: environments.dev.topics.dreamscape.user.created.config."
                "retention.ms:",
                "got 'forever'",
            ),
        ),
        id="env-override-bad-value",
    ),
    pytest.param(
        BadFile(
            HEAD
            + TWO_TOPICS
            + "consumer_groups:\n  - name: dreamscape-auth-service-group\n"
            + "    service: auth-service\n    topics: [dreamscape.user.craeted]\n",
            (
                "topics.yaml:11: consumer_groups[0].topics[0]:",
                "reads undeclared topic 'dreamscape.user.craeted' "
                "(did you mean 'dreamscape.user.created'?)",
            ),
        ),
        id="group-reads-undeclared-topic",
    ),
    pytest.param(
        BadFile(
            HEAD
            + TWO_TOPICS
            + "consumer_groups:\n  - name: auth-consumers\n    service: auth-service\n",
            (
                "topics.yaml:9: consumer_groups[0].name:",
                "'auth-consumers' breaks the convention dreamscape-<service>-group",
                "expected 'dreamscape-auth-service-group'",
            ),
        ),
        id="group-name-convention",
    ),
    pytest.param(
        BadFile(
            HEAD
            + TWO_TOPICS
            + "consumer_groups:\n  - name: dreamscape-auth-service-group\n"
            + "    servce: auth-service\n",
            ("topics.yaml:9: consumer_groups[0]:", "missing required key 'service'"),
        ),
        id="group-missing-service",
    ),
    pytest.param(
        BadFile(
            "version: 1\ndomains:\n  user: {ownr: u}\ntopics: []\n",
            ("topics.yaml:3: domains.user:", "unknown key 'ownr' (did you mean 'owner'?)"),
        ),
        id="domain-unknown-key",
    ),
    pytest.param(BadFile("", ("topics.yaml: the file is empty",)), id="empty-file"),
    pytest.param(
        BadFile("# only a comment\n", ("topics.yaml: the file is empty",)),
        id="comments-only",
    ),
    pytest.param(
        BadFile(None, ("topics.yaml: file not found",)),
        id="missing-file",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: [dreamscape.user.created\n  - name: x\n",
            ("topics.yaml:7: YAML syntax error",),
        ),
        id="yaml-syntax-error",
    ),
    pytest.param(
        BadFile(
            HEAD + "  - name: dreamscape.user.created\n\tpartitions: 3\n",
            ("topics.yaml:7: YAML syntax error",),
        ),
        id="yaml-tab",
    ),
    pytest.param(
        BadFile("- dreamscape.user.created\n", ("topics.yaml:1: the top level must be a mapping",)),
        id="top-level-list",
    ),
    pytest.param(
        BadFile(
            "version: 2\n" + HEAD[len("version: 1\n") :] + TWO_TOPICS,
            ("topics.yaml:1: version: expected 1 (got 2)",),
        ),
        id="version-2",
    ),
    pytest.param(
        BadFile(
            "version: 1\ndomains: {}\n",
            ("topics.yaml:1: (top level):", "missing required key 'topics'"),
        ),
        id="missing-topics",
    ),
    pytest.param(
        BadFile(
            "version: 1\ndomains: {}\ntopics: {}\n",
            ("topics.yaml:3: topics: expected a list (got a mapping)",),
        ),
        id="topics-not-a-list",
    ),
    pytest.param(
        BadFile(
            "settings:\n  prune_min_idle: soon\n" + HEAD + TWO_TOPICS,
            (
                "topics.yaml:2: settings.prune_min_idle:",
                "expected an integer number of milliseconds",
                "got 'soon'",
            ),
        ),
        id="prune-min-idle-bad",
    ),
    pytest.param(
        BadFile(
            "settings:\n  prune_max_deletes: 0\n" + HEAD + TWO_TOPICS,
            ("topics.yaml:2: settings.prune_max_deletes: must be at least 1 (got 0)",),
        ),
        id="prune-max-deletes-0",
    ),
    pytest.param(
        BadFile(
            b"version: 1\ndomains: {}\ntopics: []\n# caf\xe9\n",
            ("topics.yaml: cannot read: UnicodeDecodeError",),
        ),
        id="not-utf8",
    ),
]


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_file_names_its_location(tmp_path: Path, case: BadFile) -> None:
    path = write_topics(tmp_path, case.text)
    problems = problems_of(path)
    assert all(p.startswith(str(path)) for p in problems), problems
    # One problem carries both the location and the message.
    assert any(all(e in p for e in case.expected) for p in problems), problems


def test_read_topics_file_reports_structure_only(tmp_path: Path) -> None:
    # read_topics_file is the structural stage: it accepts a convention break that
    # load_desired refuses.
    path = write_topics(tmp_path, HEAD + "  - name: other.user.created\n")
    model, _ = read_topics_file(path)
    assert model.topics[0].name == "other.user.created"
    with pytest.raises(ConfigError):
        load_desired(path)


def test_all_structural_problems_are_reported(tmp_path: Path) -> None:
    text = (
        "versoin: 1\n"  # 1
        "domains:\n"  # 2
        "  user: {owner: u}\n"  # 3
        "topics:\n"  # 4
        "  - name: dreamscape.user.a\n"  # 5
        "    partitions: 0\n"  # 6
        "  - name: dreamscape.user.b\n"  # 7
        "    replicas: 3\n"  # 8
    )
    problems = problems_of(write_topics(tmp_path, text))
    assert len(problems) == 3, problems
    joined = "\n".join(problems)
    assert "topics.yaml:1: (top level): unknown key 'versoin'" in joined
    assert "topics.yaml:6: topics[0].partitions:" in joined
    assert "topics.yaml:7: topics[1]: unknown key 'replicas'" in joined


def test_all_semantic_problems_are_reported(tmp_path: Path) -> None:
    text = (
        "environments:\n"  # 1
        "  prod:\n"  # 2
        "    topics:\n"  # 3
        "      dreamscape.user.gone: {partitions: 2}\n"  # 4
        "settings: {prune_min_idle: soon}\n"  # 5
        "domains: {user: {owner: u}}\n"  # 6
        "topics:\n"  # 7
        "  - name: dreamscape.user.a\n"  # 8
        "    config:\n"  # 9
        "      retention.ms: abc\n"  # 10
        "      retention.msx: 1\n"  # 11
        "  - name: dreamscape.usr.b\n"  # 12
        "  - name: dreamscape.user.a\n"  # 13
        "  - name: Dreamscape.user.c\n"  # 14
        "consumer_groups:\n"  # 15
        "  - name: wrong\n"  # 16
        "    service: x\n"  # 17
        "    topics: [dreamscape.user.zzz]\n"  # 18
    )
    problems = problems_of(write_topics(tmp_path, text))
    expected = [
        "topics.yaml:4: environments.prod.topics.dreamscape.user.gone: overrides undeclared",
        "topics.yaml:5: settings.prune_min_idle:",
        "topics.yaml:10: topics[0].config.retention.ms:",
        "topics.yaml:9: topics[0].config: unknown topic config 'retention.msx'",
        "topics.yaml:12: topics[1].name: domain 'usr' is not declared",
        "topics.yaml:13: topics[2].name: duplicate topic 'dreamscape.user.a'",
        "topics.yaml:14: topics[3].name: 'Dreamscape.user.c' breaks the convention",
        "topics.yaml:16: consumer_groups[0].name: 'wrong' breaks the convention",
        "topics.yaml:18: consumer_groups[0].topics[0]: reads undeclared topic",
    ]
    for fragment in expected:
        assert sum(fragment in p for p in problems) == 1, (fragment, problems)
    assert len(problems) == len(expected), problems


def test_min_isr_is_checked_in_every_environment(tmp_path: Path) -> None:
    text = (
        "defaults: {replication_factor: 3, config: {min.insync.replicas: 2}}\n"
        "environments:\n"
        "  dev: {defaults: {replication_factor: 1}}\n"
        "  prod: {}\n"
        "domains: {user: {owner: u}}\n"
        "topics:\n"
        "  - name: dreamscape.user.a\n"
    )
    path = write_topics(tmp_path, text)
    # Even resolving for prod (valid there), dev's problem is reported.
    problems = problems_of(path, "prod")
    assert len(problems) == 1
    assert "in environment 'dev'" in problems[0]
    assert "topics.yaml:7: topics[0]:" in problems[0]


def test_config_error_summary_counts_the_rest(tmp_path: Path) -> None:
    text = HEAD + "  - name: dreamscape.usr.a\n  - name: dreamscape.usr.b\n"
    with pytest.raises(ConfigError) as info:
        load_desired(write_topics(tmp_path, text))
    assert len(info.value.problems) == 2
    assert info.value.message == f"{info.value.problems[0]} (and 1 more)"


# --- bugs, documented ----------------------------------------------------------------------


def test_name_with_trailing_newline_is_refused(tmp_path: Path) -> None:
    path = write_topics(tmp_path, HEAD + '  - name: "dreamscape.user.created\\n"\n')
    problems = problems_of(path)
    assert "topics.yaml:6: topics[0].name:" in problems[0]


def test_negative_prune_min_idle_is_refused(tmp_path: Path) -> None:
    path = write_topics(tmp_path, "settings: {prune_min_idle: -5}\n" + HEAD + TWO_TOPICS)
    problems = problems_of(path)
    assert "settings.prune_min_idle" in problems[0]


def test_model_defaults_match_the_file_models_defaults() -> None:
    # model.py may not import configs/filemodel, so it spells the defaults out; they must agree.
    from dreamscape_infra.topics import desired, filemodel, model
    from dreamscape_infra.topics.configs import parse_duration_ms

    assert parse_duration_ms(filemodel.DEFAULT_PRUNE_MIN_IDLE) == model.DEFAULT_PRUNE_MIN_IDLE_MS
    assert desired.DesiredState is model.DesiredState  # the old import path keeps working
