"""Helpers for tests that race real threads against a really committed database."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask.testing import FlaskClient


def in_parallel(clients: list[FlaskClient], attempt: Callable[[FlaskClient], Any]) -> Counter[int]:
    """Run `attempt` once per client, all released at the same moment; count the statuses."""
    start = threading.Barrier(len(clients))

    def run(client: FlaskClient) -> int:
        start.wait(timeout=30)
        return int(attempt(client).status_code)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return Counter(pool.map(run, clients))


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll `condition` until it holds; fail the test if it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
