"""Files and folders only the service account may read: 0600 files, 0700 folders.

The process umask does it for everything created from then on; the explicit chmods below also repair
folders and files made before (by an older version, a copy, or an administrator's shell).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700


def apply_umask(value: str | int | None) -> None:
    """Set the process umask (``"077"`` by default); an unreadable value keeps 077 and says so."""
    try:
        mask = int(value, 8) if isinstance(value, str) else int(value if value is not None else 0o077)
    except ValueError:
        log.error("QLVB_UMASK=%r is not an octal number; using 077", value)
        mask = 0o077
    os.umask(mask & 0o777)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_uid == os.getuid():
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("cannot restrict %s to %o: not permitted", path, mode)


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create (with parents) or restrict a folder to its owner."""
    p = Path(path)
    missing = [q for q in [p, *p.parents] if not q.exists()]
    for q in reversed(missing):  # each level made here is owner-only (mkdir's mode skips parents)
        q.mkdir(exist_ok=True, mode=DIR_MODE)
        _chmod(q, DIR_MODE)
    _chmod(p, DIR_MODE)
    return p


def private_file(path: str | os.PathLike[str]) -> None:
    _chmod(Path(path), FILE_MODE)


def private_tree(root: str | os.PathLike[str]) -> None:
    """Restrict a folder and everything below it (symlinks are not followed)."""
    base = Path(root)
    if not base.exists():
        return
    _chmod(base, DIR_MODE)
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames:
            _chmod(Path(dirpath) / name, DIR_MODE)
        for name in filenames:
            full = Path(dirpath) / name
            if not full.is_symlink():
                _chmod(full, FILE_MODE)
