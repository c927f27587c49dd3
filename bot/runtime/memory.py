"""Memory a bulk job freed, handed back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any


@functools.cache
def _malloc_trim() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)  # glibc only (not musl)


def release_freed_memory() -> bool:
    """Give the pages a bulk job freed back to the system (glibc's `malloc_trim`); whether it could.

    glibc keeps freed pages for reuse by the thread that freed them: after an evaluation of a million models
    (SQLite's 64 MiB page cache, its batches) the process would stay at that peak, and what it builds next
    (Discord's name index, in another thread) would add to it rather than reuse it.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
