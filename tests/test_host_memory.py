"""genjax.host_memory: freed large blocks are reused, not faulted in afresh."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

from genjax import host_memory

# Mallocs, touches and frees a 128 MiB block, then counts the page faults of
# touching a second one: glibc's defaults map it afresh (one fault per page),
# the kept heap hands back the first block's pages.
_SECOND_BLOCK_FAULTS = """
import ctypes, resource, sys
from genjax import host_memory
if sys.argv[1] == "keep":
  assert host_memory.keep_freed_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def touch(n):
  block = libc.malloc(n)
  ctypes.memset(block, 1, n)
  libc.free(block)
touch(1 << 27)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
touch(1 << 27)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _second_block_faults(mode: str) -> int:
  env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
  out = subprocess.run([sys.executable, "-c", _SECOND_BLOCK_FAULTS, mode], env=env,
                       capture_output=True, text=True, check=True)
  return int(out.stdout)


def test_keep_freed_memory_reuses_freed_blocks():
  if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
    assert host_memory.keep_freed_memory() is False  # nothing to set elsewhere
    return
  default = _second_block_faults("default")
  assert default >= (1 << 27) >> 21  # at least one fault per 2 MiB (huge) page
  assert _second_block_faults("keep") < default // 20
