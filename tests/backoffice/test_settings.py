"""The configuration promises of the README: documented variables, clean deploy checks."""

import os
import re
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


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
