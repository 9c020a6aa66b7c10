"""Looking for plaintext on disk, including temporary files that were never linked."""

from __future__ import annotations

import os
from pathlib import Path

PROC_FD = Path("/proc/self/fd")


def can_see_unlinked_files() -> bool:
    """Linux shows this process's open files, deleted or not, under /proc/self/fd."""
    return PROC_FD.is_dir()


def files_holding(directory: Path, marker: bytes) -> list[str]:
    """Files under `directory` that contain `marker`.

    Temporary files are unlinked at once (or made with O_TMPFILE and never linked), so
    a directory listing does not show them: the ones this process holds open are read
    through /proc/self/fd.
    """
    found: list[str] = []
    for path in directory.rglob("*"):
        if path.is_file() and marker in path.read_bytes():
            found.append(str(path))
    if not can_see_unlinked_files():
        return found
    prefix = str(directory.resolve()) + os.sep
    for entry in PROC_FD.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:  # closed since the listing
            continue
        if not target.startswith(prefix):
            continue
        try:
            data = entry.read_bytes()
        except OSError:
            continue
        if marker in data:
            found.append(target)
    return found
