"""The login limit holds across real server processes sharing one database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.factories import Factory, page_token
from trygg.roles import Role

TRYGG_SCRIPT = Path(sys.executable).parent / "trygg"
WRONG = "not the right passphrase"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """A browser of one server: its own cookies, CSRF tokens from the login page."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def log_in(self, email: str, password: str) -> int:
        _, page = self.request("/login")
        status, _ = self.request(
            "/login", {"csrf_token": page_token(page), "email": email, "password": password}
        )
        return status


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(TRYGG_SCRIPT), "dev", "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server on port {port} did not start:\n{log.read_text()}")


def test_five_failures_spread_over_two_servers_throttle_both(
    make_app, scratch_database, base_settings, tmp_path
):
    user = Factory(make_app(database_url=scratch_database)).user(Role.EMPLOYEE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGG_")}
    env.update(
        DATABASE_URL=scratch_database,
        TRYGG_ENV="testing",
        TRYGG_SECRET_KEY=base_settings["secret_key"],
        TRYGG_KEYRING_PATH=base_settings["keyring_path"],
        TRYGG_INSTANCE_PATH=str(tmp_path),
        TRYGG_ARGON2_MEMORY_KIB="8",
        TRYGG_ARGON2_TIME_COST="1",
    )
    ports = [free_port(), free_port()]
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for index, port in enumerate(ports):
            servers.append(start_server(port, env, tmp_path / f"server{index}.log"))
        for index, (port, server) in enumerate(zip(ports, servers, strict=True)):
            wait_until_up(port, server, tmp_path / f"server{index}.log")
        browsers = [Browser(f"http://127.0.0.1:{port}") for port in ports]

        for browser in (browsers[0], browsers[1], browsers[0], browsers[1], browsers[0]):
            assert browser.log_in(user.email, WRONG) == 401
        for browser in browsers:
            assert browser.log_in(user.email, user.password) == 429
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
