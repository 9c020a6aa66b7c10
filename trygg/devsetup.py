"""Create the development secret key and keyring under instance/ if they are missing.

Run by `make run` and `make test` (`python -m trygg.devsetup`), never by the app itself:
the application factory only reads configuration. Refuses in production.
"""

from __future__ import annotations

import sys

from trygg import settings


def main() -> int:
    values = settings.load()
    if values["env"] == "production":
        print("trygg.devsetup: refusing to create secrets in production", file=sys.stderr)
        return 2
    for path in settings.ensure_dev_secrets(values):
        print(f"created {path} (mode 0600)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
