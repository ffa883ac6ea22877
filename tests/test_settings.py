"""Production mode fails closed and passes Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "p" * 20 + "-production-secret-key-with-enough-entropy-9f3k2",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "BLIND_INDEX_KEY": "b" * 10 + "-blind-index-key-of-its-own-7h2",
    "ALLOWED_HOSTS": "casework.example.org",
    "DATABASE_URL": "postgres://casework@db.internal:5432/casework",
    "RESEARCH_DATABASE_URL": "postgres://research@db.internal:5432/research",
}


def _manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEY",
        "BLIND_INDEX_KEY",
        "ALLOWED_HOSTS",
        "RESEARCH_DATABASE_URL",
    ],
)
def test_production_refuses_to_start_without_each_secret(missing, tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    env["CASEWORK_LOCAL_DIR"] = str(tmp_path)
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr
    assert not (tmp_path / "dev-keys.json").exists()


def test_production_refuses_a_blind_index_key_equal_to_the_encryption_key(tmp_path):
    env = {**PRODUCTION, "BLIND_INDEX_KEY": PRODUCTION["FIELD_ENCRYPTION_KEY"]}
    result = _manage("check", env={**env, "CASEWORK_LOCAL_DIR": str(tmp_path)})
    assert result.returncode != 0 and "must differ" in result.stderr


def test_production_refuses_a_research_database_reached_as_the_casework_user(tmp_path):
    env = {
        **PRODUCTION,
        "RESEARCH_DATABASE_URL": "postgres://casework@db.internal:5432/research",
        "CASEWORK_LOCAL_DIR": str(tmp_path),
    }
    result = _manage("check", env=env)
    assert result.returncode != 0 and "credentials of its own" in result.stderr


def test_production_passes_check_deploy_without_warnings(tmp_path):
    env = {**PRODUCTION, "CASEWORK_LOCAL_DIR": str(tmp_path)}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_generates_its_keys_once(tmp_path):
    env = {"CASEWORK_LOCAL_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    assert _manage("check", env=env).returncode == 0
    keys = (tmp_path / "dev-keys.json").read_text()
    assert _manage("check", env=env).returncode == 0
    assert (tmp_path / "dev-keys.json").read_text() == keys
    assert oct((tmp_path / "dev-keys.json").stat().st_mode & 0o777) == "0o600"


def test_an_invalid_encryption_key_is_reported(tmp_path):
    env = {"CASEWORK_LOCAL_DIR": str(tmp_path), "FIELD_ENCRYPTION_KEY": "not-a-key"}
    result = _manage("check", env=env)
    assert result.returncode != 0
