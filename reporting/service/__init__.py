"""Reporting's operations, as a package: the modules follow (this one re-exports)."""

from __future__ import annotations

from reporting.service.intake import *  # noqa: F403
from reporting.service.intake import _open  # noqa: F401 - reporting.erasure uses it
