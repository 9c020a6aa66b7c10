"""A web worker does not import the heavy libraries that only a few requests need.

fpdf2 (with numpy and fontTools), Pillow, APScheduler, segno, openpyxl and pypdf took a
worker from about 90 to about 130 MB before it served anything (issue 17: peak memory
per worker ≤ 150 MB). The PDF exports, image attachments, the scheduler, the TOTP QR code
and the XLSX exports import them when they run; this checks that building the app and
serving pages does not.

The check runs in a fresh interpreter: the test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from trygg.settings import PROJECT_ROOT

HEAVY = ("fpdf", "PIL", "apscheduler", "segno", "openpyxl", "pypdf", "numpy", "fontTools")

# Builds the app as a worker does (`trygg.app:create_app()`, here with the suite's
# settings), serves pages through the test client, and prints, for each heavy package
# that got imported, the first of our own files on the stack that imported it.
WORKER = """
import json, sys, traceback

heavy = set(json.loads(sys.argv[1]))
settings = json.loads(sys.argv[2])
root = sys.argv[3]
imported_by = {}


class Witness:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in heavy and top not in imported_by:
            ours = [
                f
                for f in traceback.extract_stack()
                if f.filename.startswith(root) and "site-packages" not in f.filename
            ]
            where = ours[-1] if ours else None
            imported_by[top] = f"{where.filename[len(root):]}:{where.lineno}" if where else "?"
        return None


sys.meta_path.insert(0, Witness())

from trygg.app import create_app

app = create_app(settings)
client = app.test_client()
statuses = {path: client.get(path).status_code for path in ("/login", "/", "/healthz")}
loaded = {top: imported_by.get(top, "?") for top in heavy if top in sys.modules}
print(json.dumps({"statuses": statuses, "loaded": loaded}))
"""


def run_worker(settings: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(HEAVY), json.dumps(settings), f"{PROJECT_ROOT}/"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_web_worker_imports_none_of_the_heavy_libraries(settings):
    result = run_worker(settings)
    assert result["statuses"] == {"/login": 200, "/": 302, "/healthz": 200}
    loaded = result["loaded"]
    assert not loaded, "imported by a web worker: " + ", ".join(
        f"{top} (by {where})" for top, where in sorted(loaded.items())
    )
