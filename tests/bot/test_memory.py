"""Handing freed memory back: on glibc Linux (this machine, CI) it trims; it never fails elsewhere."""

import sys

from bot.runtime.memory import release_freed_memory


def test_freed_memory_is_handed_back_on_glibc():
    assert release_freed_memory() is (sys.platform.startswith("linux") and not _musl())


def _musl() -> bool:
    import platform

    return platform.libc_ver()[0] != "glibc"
