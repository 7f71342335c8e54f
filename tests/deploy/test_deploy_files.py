"""The deployment files, checked without a container engine: compose.yaml against the Compose
Specification's JSON schema and for what NeonHub needs of it, the Dockerfile's instructions, the
entrypoint's commands and gunicorn's worker count."""

from __future__ import annotations

import json
import re
import runpy
import shlex
import socket
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from neonhub.gunicorn_conf import default_workers

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("compose_spec") / "compose-spec.json"
APP_SERVICES = ("migrate", "web", "worker")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def entrypoint_commands() -> dict[str, str]:
    """The entrypoint's case branches: command name -> its body."""
    text = (ROOT / "deploy" / "entrypoint.sh").read_text()
    body = text[text.index('case "$command" in') : text.index("esac")]
    return dict(re.findall(r"^\s{4}([\w*]+)\)\n(.*?);;", body, flags=re.S | re.M))


# --- compose.yaml ---------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(compose):
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    errors = [str(e).splitlines()[0] for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_catches_a_mistake(compose):
    """The schema is strict enough to matter: a misspelt key or a wrong depends_on fails."""
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["worker"]["helthcheck"] = {}
    assert len(list(validator.iter_errors(broken))) == 2


def test_compose_runs_web_workers_postgres_redis_and_a_one_shot_migrate(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    # One image, built here, for everything NeonHub runs; the entrypoint's commands.
    for name, command in (("migrate", "migrate"), ("web", "web"), ("worker", "worker")):
        assert services[name]["image"] == "neonhub:latest" and services[name]["build"] == "."
        assert services[name]["command"] == [command]
        assert command in entrypoint_commands()
    assert services["migrate"]["restart"] == "no"


def test_web_and_workers_start_after_migrate_succeeded_and_the_services_are_healthy(compose):
    services = compose["services"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_every_long_running_service_has_a_health_check(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    # The web server's probe is /healthz?check=ready through the entrypoint.
    assert services["web"]["healthcheck"]["test"][1:] == [
        "/app/deploy/entrypoint.sh",
        "health",
        "ready",
    ]
    assert "deploy/healthcheck.py" in entrypoint_commands()["health"]
    worker_check = services["worker"]["healthcheck"]["test"]
    assert worker_check[1:4] == ["python", "manage.py", "healthcheck"]


def test_workers_scale_and_share_the_secrets_database_broker_and_files(compose):
    services = compose["services"]
    worker = services["worker"]
    # Scalable: no fixed container name and no published port.
    assert "container_name" not in worker and "ports" not in worker
    assert worker["deploy"]["replicas"] >= 1
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert services[name]["env_file"] == ".env"
        for key in ("NEONHUB_SECRET_KEY", "NEONHUB_ENCRYPTION_KEYS"):
            # Required (compose refuses to start without): never one generated per container.
            assert env[key] == f"${{{key}:?set {key} in .env}}"
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert "neonhub-var:/app/var" in services[name]["volumes"]


def test_every_named_volume_is_declared(compose):
    used = {
        v.split(":")[0]
        for s in compose["services"].values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert used and used <= set(compose["volumes"])


# --- Dockerfile -----------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_from_a_builder():
    steps = dockerfile()
    stages = [args for word, args in steps if word == "FROM"]
    assert (
        len(stages) == 2 and stages[0].endswith("AS builder") and stages[1].endswith("AS runtime")
    )
    runtime = steps[[i for i, (w, _) in enumerate(steps) if w == "FROM"][1] :]
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in runtime
    builder = steps[: len(steps) - len(runtime)]
    assert any(w == "RUN" and "--constraint requirements.lock" in a for w, a in builder)
    # No build tools or pip cache copied over: only the virtualenv comes from the builder.
    assert [a for w, a in runtime if w == "COPY" and "--from" in a] == [
        "--from=builder /opt/venv /opt/venv"
    ]


def test_dockerfile_runs_as_a_user_that_is_not_root():
    steps = dockerfile()
    users = [a for w, a in steps if w == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (w, _) in enumerate(steps) if w == "USER")
    start = max(i for i, (w, _) in enumerate(steps) if w in ("ENTRYPOINT", "CMD"))
    assert last_user < start
    useradd = next(a for w, a in steps if w == "RUN" and "useradd" in a)
    assert users[-1].split(":")[0] in shlex.split(useradd)


def test_dockerfile_checks_health_collects_static_files_and_starts_the_entrypoint():
    steps = dockerfile()
    healthcheck = next(a for w, a in steps if w == "HEALTHCHECK")
    assert '"/app/deploy/entrypoint.sh", "health"' in healthcheck
    collect = next(a for w, a in steps if w == "RUN" and "collectstatic" in a)
    # Throwaway secrets for the build, so no secrets file is generated into the image.
    assert "NEONHUB_SECRET_KEY=" in collect and "rm -rf /app/var" in collect
    assert ("ENTRYPOINT", '["/app/deploy/entrypoint.sh"]') in steps
    assert ("CMD", '["web"]') in steps
    env = " ".join(a for w, a in steps if w == "ENV")
    assert "NEONHUB_STATIC_ROOT=/app/staticfiles" in env  # outside the var/ volume


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", "var/", ".venv", ".git"):
        assert entry in ignored


# --- entrypoint and gunicorn ------------------------------------------------------------------------


def test_entrypoint_offers_the_commands_and_only_migrate_migrates():
    commands = entrypoint_commands()
    assert {"web", "worker", "migrate", "manage", "health"} <= set(commands)
    assert "gunicorn -c python:neonhub.gunicorn_conf" in commands["web"]
    assert "manage.py qcluster" in commands["worker"]
    for name in ("web", "worker", "migrate", "manage"):
        assert commands[name].strip().startswith("wait_for_database")
    assert [n for n, body in commands.items() if "migrate" in body] == ["migrate"]


@pytest.mark.parametrize(
    "url,cores,expected",
    [
        ("", 1, 2),
        ("", 2, 2),
        ("sqlite:///var/neonhub.sqlite3", 8, 8),
        ("postgres://u@db:5432/neonhub", 2, 5),
        ("postgresql://u@db/neonhub", 8, 17),
        ("pgsql://u@db/neonhub", 1, 3),
    ],
)
def test_gunicorn_workers_default_by_database_and_cores(url, cores, expected):
    assert default_workers(url, cores) == expected


def test_web_concurrency_wins(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    config = runpy.run_path(str(ROOT / "neonhub" / "gunicorn_conf.py"))
    assert config["workers"] == 7
    monkeypatch.delenv("WEB_CONCURRENCY")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/neonhub")
    config = runpy.run_path(str(ROOT / "neonhub" / "gunicorn_conf.py"))
    assert config["workers"] == 2 * config["_cores"]() + 1


# --- deploy/healthcheck.py (the image's HEALTHCHECK) --------------------------------------------------


@pytest.fixture
def probe():
    return runpy.run_path(str(ROOT / "deploy" / "healthcheck.py"))["main"]


@pytest.mark.parametrize(
    "allowed,host",
    [
        (None, "localhost"),
        ("*", "localhost"),
        ("hub.example.com,localhost", "hub.example.com"),
        (".example.com", "example.com"),
    ],
)
def test_the_probe_asks_for_ready_with_a_host_django_accepts(
    probe, httpserver, monkeypatch, allowed, host
):
    monkeypatch.setenv("PORT", str(httpserver.port))
    if allowed is None:
        monkeypatch.delenv("NEONHUB_ALLOWED_HOSTS", raising=False)
    else:
        monkeypatch.setenv("NEONHUB_ALLOWED_HOSTS", allowed)
    httpserver.expect_request(
        "/healthz", query_string="check=ready", headers={"Host": host}
    ).respond_with_json({"status": "ok", "checks": {}})
    assert probe(["healthcheck.py"]) == 0
    httpserver.check_assertions()


def test_the_probe_fails_on_503_and_on_silence(probe, httpserver, monkeypatch):
    monkeypatch.setenv("PORT", str(httpserver.port))
    httpserver.expect_request("/healthz", query_string="check=live").respond_with_json(
        {"status": "fail"}, status=503
    )
    assert probe(["healthcheck.py", "live"]) == 1
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PORT", str(unused.getsockname()[1]))
        assert probe(["healthcheck.py", "live"]) == 1
