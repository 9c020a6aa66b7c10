"""A gunicorn worker's start (config/gunicorn.conf.py → trygg.serving): every template
compiled and both catalogues loaded before the first request, and what the worker holds
frozen out of the garbage collector's full pauses."""

from __future__ import annotations

import gc
import runpy
from types import SimpleNamespace

from flask import Flask

from trygg.settings import PROJECT_ROOT


def test_a_worker_compiles_every_template_and_freezes_what_it_holds(app: Flask) -> None:
    hook = runpy.run_path(str(PROJECT_ROOT / "config" / "gunicorn.conf.py"))["post_worker_init"]
    frozen = gc.get_freeze_count()
    try:
        hook(SimpleNamespace(wsgi=app))
        assert gc.get_freeze_count() > frozen + 100_000
        compiled = {name for _loader, name in app.jinja_env.cache}  # type: ignore[union-attr]
        templates = app.jinja_env.list_templates(extensions=["html", "txt"])
        assert len(templates) > 50
        assert set(templates) <= compiled
    finally:
        gc.unfreeze()  # the test process is not a worker


def test_another_flask_app_is_served_as_it_is() -> None:
    """The benchmarks' bare Flask baseline runs with the same gunicorn file: untouched."""
    hook = runpy.run_path(str(PROJECT_ROOT / "config" / "gunicorn.conf.py"))["post_worker_init"]
    frozen = gc.get_freeze_count()
    hook(SimpleNamespace(wsgi=Flask("baseline")))
    assert gc.get_freeze_count() == frozen
