"""Binding the reporting package into the app (called from trygg/app.py)."""

from __future__ import annotations

from flask import Flask

from reporting import models, service  # noqa: F401 - models must be registered with the metadata


def register(app: Flask) -> None:
    """Register reporting's blueprints and menu entries."""
