"""Binding the risk package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask

from risk import api, demo, models, views  # noqa: F401 - models: the trends index
from trygg import demo as kernel_demo


def register(app: Flask) -> None:
    """Register the trends pages and API, their menu entries and the demo's incidents."""
    app.register_blueprint(api.bp)
    views.register(app)
    kernel_demo.register_seed_hook(demo.seed_incidents)
