"""Keep the memory a compiled step frees for its next call instead of handing
it back to the operating system (Linux with glibc).

    from genjax import host_memory
    host_memory.keep_freed_memory()   # once, early in a training process

On CPU, each call of a compiled JAX function allocates its temporaries afresh
and frees them when it returns. glibc's malloc serves a block above its largest
automatic threshold (32 MiB) with a fresh `mmap` and unmaps it when freed, so
every call of a step with large temporaries (a DCGAN step at batch 128) faults
its pages in again, zero-filled by the kernel: thousands of page faults a
step. Raising glibc's mmap and trim thresholds (`mallopt`) keeps freed blocks
in the heap, where the next call reuses them. The price: the process's resident
memory stays near its peak instead of shrinking between calls.

genjax's command lines call this (the launcher, `genjax.sample`, the
experiments; `scripts/benchmark.py` too, whose `--host_memory=default`
measures without); the library itself leaves the process's malloc alone.
Elsewhere (macOS, musl) it does nothing and returns False.
"""

from __future__ import annotations

import ctypes
import platform

# mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_KEEP_BYTES = 1 << 30  # blocks below 1 GiB come from the heap; up to 1 GiB stays free in it


def keep_freed_memory() -> bool:
  """Sets glibc's thresholds (process-wide); True if they took effect."""
  if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
    return False
  try:
    libc = ctypes.CDLL("libc.so.6")
  except OSError:
    return False
  if not libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES):
    return False
  # mallopt(3) documents 32 MiB as the mmap threshold's upper limit (the glibc
  # here, 2.36, takes more); where it is refused, no mmap at all (every block
  # from the heap) does the same job.
  return bool(libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES) or libc.mallopt(_M_MMAP_MAX, 0))
