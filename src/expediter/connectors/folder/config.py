"""Settings of a watched local folder (a shared drive, a folder another program drops files into)."""

from __future__ import annotations

import msgspec


class FolderSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Folders are local paths; relative ones are taken from the hub's ``data_dir`` (itself beside
    the catalog, see :func:`expediter.catalog.paths.data_dir`), never from the working folder."""

    inbox_dir: str
    """Where incoming files are picked up."""
    upload_dir: str = ""
    """Where files are written; empty means ``inbox_dir``."""
    done_dir: str = ""
    """Where read files go; empty means ``<inbox_dir>/done``."""
    failed_dir: str = ""
    """Where refused files go; empty means ``<inbox_dir>/failed``."""
    pattern: str = "*"
    """Which incoming files to pick up (shell pattern)."""
    stable_seconds: float = 2.0
    """How long a file's size must stay unchanged before it is read."""
