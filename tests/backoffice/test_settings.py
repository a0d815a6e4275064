"""The configuration promises of the README: documented variables, clean deploy checks, and
production refusing to start with a missing or published secret."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from backoffice.checks import check_production_secrets
from backoffice.development import DEVELOPMENT_SECRET_KEYS, development_encryption_key

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def test_every_environment_variable_is_documented_in_env_example():
    used = set(
        re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', (ROOT / "backoffice/settings.py").read_text())
    )
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used, "settings read no variables?"
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "Q9#x!pZ@2v$Lm^7wR&tY*uI(oP)aSdFgHjKl",
        "ALLOWED_HOSTS": "shop.example.com",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- production refuses the development secrets ------------------------------------------

PUBLISHED_KEY = "dev-only-secret-key-change-me-in-production-0123456789abcdef"
PRODUCTION_KEY = "k" * 20 + "Q9#x!pZ@2v$Lm^7wR&tY*uI(oP)aSdFgHjKl"


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """DEBUG=false with nothing else set: neither SECRET_KEY nor FIELD_ENCRYPTION_KEYS."""
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "ALLOWED_HOSTS": "shop.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
    }
    return env | overrides


def run(argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    ("secret_key", "problem"),
    [
        ("", "SECRET_KEY is not set"),
        (PUBLISHED_KEY, "SECRET_KEY is a development value"),
        ("change-me-to-50-random-characters-for-production-use", "development value"),
    ],
)
def test_production_refuses_a_missing_or_published_secret_key(settings, secret_key, problem):
    settings.DEBUG = False
    settings.SECRET_KEY = secret_key
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    errors = check_production_secrets(None)
    assert [e.id for e in errors] == ["backoffice.E001"]
    assert problem in errors[0].msg


@pytest.mark.parametrize("derived_from", [PUBLISHED_KEY, PRODUCTION_KEY])
def test_production_refuses_a_development_encryption_key(settings, derived_from):
    settings.DEBUG = False
    settings.SECRET_KEY = PRODUCTION_KEY
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        development_encryption_key(derived_from),
    ]
    errors = check_production_secrets(None)
    assert [e.id for e in errors] == ["backoffice.E002"]
    assert "key number 2" in errors[0].msg


def test_development_runs_with_the_development_secrets(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = PUBLISHED_KEY
    settings.FIELD_ENCRYPTION_KEYS = [development_encryption_key(PUBLISHED_KEY)]
    assert check_production_secrets(None) == []


def test_the_deploy_check_names_what_production_lacks(tmp_path):
    result = run([sys.executable, "manage.py", "check", "--deploy"], production_env(tmp_path))
    assert result.returncode == 1
    assert "(backoffice.E001) SECRET_KEY is not set" in result.stderr
    assert "(integrations.E001) FIELD_ENCRYPTION_KEYS is empty" in result.stderr


def test_the_web_server_refuses_to_start(tmp_path):
    env = production_env(tmp_path, SECRET_KEY=PUBLISHED_KEY)
    result = run([sys.executable, "-c", "import backoffice.wsgi"], env)
    assert result.returncode != 0
    assert "The web server refuses to start" in result.stderr
    assert "backoffice.E001" in result.stderr
    assert "integrations.E001" in result.stderr


@pytest.mark.parametrize("command", [["worker", "--pool", "solo"], ["beat"]])
def test_celery_refuses_to_start(tmp_path, command):
    env = production_env(tmp_path, SECRET_KEY=PUBLISHED_KEY)
    argv = [sys.executable, "-m", "celery", "-A", "backoffice", *command]
    if command[0] == "beat":
        argv += ["--schedule", str(tmp_path / "beat-schedule")]
    result = run(argv, env)
    assert result.returncode != 0
    assert "refuses to start" in result.stdout + result.stderr
    assert "backoffice.E001" in result.stdout + result.stderr


def test_env_example_publishes_no_secret_that_production_accepts():
    values = dict(re.findall(r"^#?\s*(SECRET_KEY|FIELD_ENCRYPTION_KEYS)=(.*)$", ENV_EXAMPLE, re.M))
    assert values.keys() == {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}
    assert values["SECRET_KEY"] in {"", *DEVELOPMENT_SECRET_KEYS}
    assert values["FIELD_ENCRYPTION_KEYS"] == ""


# --- settings have no side effects -------------------------------------------------------


def test_importing_the_settings_creates_no_folder(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'database' / 'db.sqlite3'}",
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
    }
    run([sys.executable, "-c", "import backoffice.settings"], env).check_returncode()
    assert list(tmp_path.iterdir()) == []

    # Starting Django gives the SQLite file its folder; the broker makes its own when used.
    run(
        [sys.executable, "-c", "import django; django.setup()"],
        env | {"DJANGO_SETTINGS_MODULE": "backoffice.settings"},
    ).check_returncode()
    assert [p.name for p in tmp_path.iterdir()] == ["database"]
