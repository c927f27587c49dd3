"""A resolver that does not answer, for the responsiveness benchmark: Python imports this module at start-up
when its folder is on PYTHONPATH (the benchmark puts it there for the tracker process it starts, and imports
it itself). Names under `.unresolvable.invalid` block their lookup for RESOLVE_SECONDS and then fail, as a
lookup does when the name server never answers (glibc: 5 s per try, 2 tries); every other name resolves as
usual. Nothing outside benchmarks/ imports it.
"""

from __future__ import annotations

import socket
import time
from typing import Any

SUFFIX = ".unresolvable.invalid"
RESOLVE_SECONDS = 10.0
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.endswith(SUFFIX):
        time.sleep(RESOLVE_SECONDS)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    return _real_getaddrinfo(host, *args, **kwargs)


if getattr(socket.getaddrinfo, "__name__", "") != "_getaddrinfo":
    socket.getaddrinfo = _getaddrinfo
