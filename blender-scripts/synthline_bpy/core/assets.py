"""Asset files a plan names (model files, belt photos), with no bpy."""
from __future__ import annotations

import os
from typing import Tuple


class BadAsset(ValueError):
    """A model file or photo that is missing, unsupported, corrupt or holds no mesh."""


def file_key(path: str) -> Tuple[str, int, int]:
    """(path, mtime_ns, size): a cached import is stale when the file's key changed."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise BadAsset(f"cannot read model file {path}: {e.strerror or e}") from None
    if not os.path.isfile(path):
        raise BadAsset(f"model file {path} is not a regular file")
    return (path, st.st_mtime_ns, st.st_size)
