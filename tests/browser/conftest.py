"""Browser end-to-end fixtures: the product as a real server, driven by Debian's Chromium.

The audit table refuses DELETE and TRUNCATE (database triggers), so pytest-django's
transactional flush cannot clean up after a live server. Instead the product runs in a
subprocess against a database of its own, created for the session and dropped after it:
a new PostgreSQL database on the server named by DATABASE_URL when that is PostgreSQL,
otherwise a temporary SQLite file. Nothing here touches the test process's database.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from casework.demo import DEMO_PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots for people to look at (and of every page open when a test fails).
SHOTS_DIR = Path(os.environ.get("E2E_SHOTS_DIR", "/tmp/e2e-shots"))  # noqa: S108
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
SERVER_START_TIMEOUT = 30.0
DEFAULT_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class E2EServer:
    url: str
    database_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_admin_kwargs(url: str) -> dict:
    """Connection arguments for the server named by a PostgreSQL URL, on its `postgres` db."""
    parts = urlsplit(url)
    kwargs = {"dbname": "postgres", "host": parts.hostname or "127.0.0.1"}
    if parts.port:
        kwargs["port"] = parts.port
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password:
        kwargs["password"] = unquote(parts.password)
    return kwargs


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (`make browser` installs Debian's chromium)")
    return CHROMIUM


@contextlib.contextmanager
def fresh_database(prefix: str, tmp_path_factory) -> Iterator[str]:
    """A new, empty database of the kind DATABASE_URL names (else SQLite), dropped after."""
    outer = os.environ.get("DATABASE_URL", "").strip()
    if outer and urlsplit(outer).scheme in POSTGRES_SCHEMES:
        import psycopg
        from psycopg import sql

        name = f"{prefix}_{os.getpid()}"
        admin = _postgres_admin_kwargs(outer)
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with psycopg.connect(autocommit=True, **admin) as conn:
            conn.execute(drop)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urlsplit(outer)._replace(path=f"/{name}").geturl()
        finally:
            with psycopg.connect(autocommit=True, **admin) as conn:
                conn.execute(drop)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp(prefix) / 'e2e.sqlite3'}"


def server_env(database_url: str, local_dir: Path) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"},  # the real 404 page
        "DATABASE_URL": database_url,
        # Keys, static root and any default database of the server stay in a temp dir.
        "CASEWORK_LOCAL_DIR": str(local_dir),
        # The research layer's own database: a SQLite file beside it, whatever the casework one.
        "RESEARCH_DATABASE_URL": f"sqlite:///{local_dir / 'research.sqlite3'}",
        "DJANGO_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict, *command: str) -> str:
    done = subprocess.run(  # noqa: S603  (our own interpreter and manage.py)
        [sys.executable, str(REPO_ROOT / "manage.py"), *command],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.fail(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def serving(database_url: str, local_dir: Path, seed_args: tuple = ("--cases", "0")):
    """Migrate and seed the database, then serve the product on a free local port."""
    env = server_env(database_url, local_dir)
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    manage(env, "migrate", "--database", "research", "--no-input", "--verbosity", "0")
    manage(env, "seed_demo", *seed_args)
    port = _free_port()
    log_path = local_dir / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, str(REPO_ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}"]
            + ["--noreload"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    e2e = E2EServer(url=f"http://127.0.0.1:{port}", database_url=database_url, log_path=log_path)
    try:
        _wait_until_serving(server, f"{e2e.url}/accounts/login/", e2e)
        yield e2e
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@contextlib.contextmanager
def seeded_server(prefix: str, tmp_path_factory, cases: int, seed: int) -> Iterator[E2EServer]:
    """A server of a module's own, on a database of its own seeded with a caseload."""
    with (
        fresh_database(prefix, tmp_path_factory) as url,
        serving(
            url,
            tmp_path_factory.mktemp(f"{prefix}-local"),
            ("--cases", str(cases), "--seed", str(seed)),
        ) as server,
    ):
        yield server


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory) -> Iterator[str]:
    """A fresh, empty database for the server, dropped at the end of the session."""
    with fresh_database("casework_e2e", tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def e2e_server(chromium_path, e2e_database_url, tmp_path_factory) -> Iterator[E2EServer]:
    with serving(e2e_database_url, tmp_path_factory.mktemp("e2e-local")) as server:
        yield server


def _wait_until_serving(server: subprocess.Popen, url: str, e2e: E2EServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"The server exited with {server.returncode}:\n{e2e.log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (local http)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"The server did not answer {url} within {SERVER_START_TIMEOUT}s:\n{e2e.log()}")


@pytest.fixture(scope="session")
def browser(chromium_path):
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SHOTS_DIR


@pytest.fixture
def new_page(browser, e2e_server, shots_dir, request):
    """Open a page in a browser context of its own (own cookies, own session).

    `new_page(viewport={"width": 800, "height": 1100})` gives a page of that size. Pages
    still open when a test fails are saved as screenshots for the post-mortem.
    """
    contexts = []

    def open_page(viewport: dict | None = None):
        context = browser.new_context(
            base_url=e2e_server.url,
            locale="en-GB",
            timezone_id="UTC",
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page

    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    for index, context in enumerate(contexts):
        if failed:
            for number, page in enumerate(context.pages):
                name = f"FAILED-{request.node.name}-{index}-{number}.png"
                with contextlib.suppress(Exception):  # best effort, the test failed anyway
                    page.screenshot(path=str(shots_dir / name), full_page=True)
        context.close()
    if failed:
        shutil.copyfile(e2e_server.log_path, shots_dir / f"FAILED-{request.node.name}-server.log")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def signed_in(new_page):
    """Sign a demo user in through the login page; return their page, on the case list."""

    def sign_in(username: str, viewport: dict | None = None):
        page = new_page(viewport)
        page.goto("/accounts/login/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".topbar .who")).to_have_text(username)
        return page

    return sign_in
