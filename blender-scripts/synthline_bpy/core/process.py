"""What the render process owns outside Blender's data: its resident size and its private
scratch directory. No bpy."""
from __future__ import annotations

import os
import shutil
import tempfile


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def private_index_dir(root: str = "") -> str:
    """<tmp>/synthline-index/<pid>, removing the directories of processes that are gone.

    A server killed by a signal or os.abort() cannot clean up after itself, so the next one
    does; otherwise every crash would leave a directory behind in /tmp.
    """
    root = root or os.path.join(tempfile.gettempdir(), "synthline-index")
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):
        if name.isdigit() and int(name) != os.getpid():
            try:
                os.kill(int(name), 0)
            except ProcessLookupError:
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
            except PermissionError:
                pass  # alive, another user's
    path = os.path.join(root, str(os.getpid()))
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path
