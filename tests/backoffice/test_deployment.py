"""What can be checked of the Docker deployment without a Docker engine."""

import importlib.util
import json
import re
import runpy
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from tests.processes import GUNICORN_CONFIG, server_argv

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = ROOT / "Dockerfile"
APP_SERVICES = ["sandbox", "web", "worker", "beat"]


def command_of(service: str) -> list[str]:
    command = COMPOSE["services"][service]["command"]
    if command[:2] == ["sh", "-c"]:
        words = shlex.split(command[2])
        return words[1:] if words[0] == "exec" else words
    return command


def test_compose_has_every_service_with_a_health_check():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_app_services_use_the_compose_network_services():
    for name in APP_SERVICES:
        env = COMPOSE["services"][name]["environment"]
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert "sandbox:8090" in env["INFINITEPAY_TEST_URL"]
    assert COMPOSE["services"]["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_does_not_start_without_the_secrets_and_runs_production_settings():
    for name in APP_SERVICES:
        env = COMPOSE["services"][name]["environment"]
        for variable in ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"]:
            # ${VAR:?message}: compose stops with the message when VAR is unset or empty.
            assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", env[variable]), name
        assert env["DEBUG"] == "${DEBUG:-false}"


def test_web_migrates_then_runs_gunicorn_on_the_wsgi_app():
    words = command_of("web")
    assert words[:4] == ["python", "manage.py", "migrate", "--noinput"]
    assert "migrate" in get_commands()
    gunicorn = words[words.index("gunicorn") + 1]
    module, _, attribute = gunicorn.partition(":")
    assert importlib.util.find_spec(module) is not None
    assert attribute == "application"


def test_production_serves_with_the_settings_the_benchmarks_measure():
    """The web service, the image and the test and benchmark servers share gunicorn.conf.py."""
    compose_words = command_of("web")
    image_words = json.loads(re.search(r"^CMD (.+)$", DOCKERFILE.read_text(), re.M).group(1))
    bench_words = server_argv(port=8000, workers=1, threads=1)
    for words in (compose_words, image_words, bench_words):
        assert Path(words[words.index("--config") + 1]).name == "gunicorn.conf.py"
        assert "--worker-class" not in words and "-k" not in words
    settings = runpy.run_path(str(GUNICORN_CONFIG))
    assert settings["worker_class"] == "gthread"
    assert COMPOSE["services"]["web"]["environment"]["WEB_THREADS"] == "${WEB_THREADS:-8}"


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_services_point_at_the_project_app(service):
    words = command_of(service)
    assert words[:3] == ["celery", "-A", "backoffice"]
    assert importlib.util.find_spec("backoffice.celery") is not None


def test_worker_uses_a_thread_pool():
    words = command_of("worker")
    assert words[words.index("--pool") + 1] == "threads"


def test_sandbox_command_is_a_runnable_module():
    words = command_of("sandbox")
    assert words[:2] == ["python", "-m"]
    assert importlib.util.find_spec(f"{words[2]}.__main__") is not None


def test_every_variable_compose_uses_is_documented():
    used = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


def test_dockerfile_copies_what_exists_and_serves_the_wsgi_app():
    dockerfile = DOCKERFILE.read_text()
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert source == "." or (ROOT / source).exists(), source
    assert '"backoffice.wsgi:application"' in dockerfile


def test_healthz_answers_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
