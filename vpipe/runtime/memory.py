"""Memory an op freed, given back to the operating system before the next op runs.

glibc's allocator keeps freed memory for reuse, and raises its threshold for serving large
blocks from their own mappings as such blocks are freed (up to 32 MB): after that, an op's
large temporaries (a decoded track, a matrix over every frame of the recording) come from the
heap and stay resident once freed, under the next op's own. Over a run of rows the process
then grows with the recording's length although nothing holds it. Measured (122 s source, 4
rows, shared work cached): peak RSS 1167 MB without trimming, 1054 MB with the heap trimmed
after every op that ran, each trim 0.1-2 ms. Without glibc (no `malloc_trim`) nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    # the C library the interpreter is linked with (not ctypes.util.find_library: that runs
    # a compiler or ldconfig in a child process, a copy of this large one for a moment)
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


def release_freed() -> bool:
    """Return the heap's free memory to the system; whether the allocator could be asked."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
