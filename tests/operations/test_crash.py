"""kill -9 during submissions, on the engine under test: 5 worker kills and 5 whole-server
kills at random moments of requests (bench/crash.py; `make crash` does 100 per engine).

Every acknowledged report is whole and opens, every other attempt left nothing (or a
whole report, when the kill fell between the commit and the answer), references have
no gap, and `trygg audit verify` passes (bench/crash_check.py lists what is checked).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from bench import crash

KILLS = 10


def test_kill_9_mid_submission_leaves_acknowledged_reports_whole_and_nothing_else(
    make_app, scratch_database, base_settings, tmp_path
):
    app = make_app(database_url=scratch_database)
    env = crash.server_env(
        tmp_path, scratch_database, Path(base_settings["keyring_path"]), secrets.token_urlsafe(48)
    )
    seed = secrets.randbelow(2**32)
    result = crash.run(app, env, tmp_path, kills=KILLS, seed=seed)
    summary = f"seed {seed}: {result.summary()}"

    assert result.verdict.problems == [], summary
    assert result.kills == {"worker": KILLS // 2, "server": KILLS // 2}, summary
    # Two answers after every kill before the next one: the server always recovered.
    assert result.verdict.acknowledged >= 2 * KILLS + 2, summary
    # The kills did cut requests off (a whole-server kill cuts every one in flight).
    assert result.verdict.broken >= 1, summary
