"""Decoded TFDS splits cached as .npy files, so a split is decoded by TensorFlow once.

Reading a prepared TFDS split costs a TensorFlow import and a decode of every
PNG (seconds per process on a 2-core CPU); every later run, test worker or
sweep member of the same machine then reads the cached uint8 arrays instead,
without importing TensorFlow. `genjax.data.read_split` uses it; nothing else
needs to.

A cache entry belongs to one prepared dataset version directory (e.g.
`.../mnist/3.0.1`), one split spec (`train`, `test[:500]`) and the
installed tensorflow-datasets version; it is ignored once that directory's
`dataset_info.json` changes (re-prepared data). Entries are written
atomically (a temporary directory renamed into place), so concurrent
processes never see half an entry, and a split missed by several processes
at once is decoded by one of them while the others wait (`decoding`, a
file lock; not on Windows, where each decodes).

Where: `$GENJAX_DATA_CACHE` if set (empty, `0` or `off` turn the cache off),
else `$XDG_CACHE_HOME/genjax/splits` (default `~/.cache/genjax/splits`).
Deleting the directory is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile

import numpy as np

try:
  import fcntl
except ImportError:  # Windows: no lock, concurrent misses each decode
  fcntl = None

_ARRAYS = ("image", "label")
_FORMAT = 1  # bump when the entry layout changes


def directory() -> str | None:
  """The cache directory, or None when the cache is turned off."""
  value = os.environ.get("GENJAX_DATA_CACHE")
  if value is not None:
    return None if value.strip().lower() in ("", "0", "off", "false") else value
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "genjax", "splits")


def _stamp(dataset_dir: str) -> str:
  """What invalidates an entry: the prepared data's info file and TFDS's version."""
  info = os.path.join(dataset_dir, "dataset_info.json")
  mtime = os.stat(info).st_mtime_ns if os.path.exists(info) else 0
  try:
    tfds_version = importlib.metadata.version("tensorflow-datasets")
  except importlib.metadata.PackageNotFoundError:
    tfds_version = "?"
  return f"{os.path.abspath(dataset_dir)}|{mtime}|{tfds_version}|{_FORMAT}"


def _entry(dataset_dir: str, spec: str) -> str | None:
  root = directory()
  if root is None:
    return None
  key = hashlib.sha256(f"{_stamp(dataset_dir)}|{spec}".encode()).hexdigest()[:24]
  return os.path.join(root, key)


@contextlib.contextmanager
def decoding(dataset_dir: str, spec: str):
  """Held while a missed split is decoded and saved: concurrent processes
  that miss the same split (test workers, sweep members) wait for one decode
  instead of each decoding it. Re-check `load` inside."""
  entry = _entry(dataset_dir, spec)
  try:
    if entry is None or fcntl is None:
      raise OSError
    os.makedirs(os.path.dirname(entry), exist_ok=True)
    lock_file = open(entry + ".lock", "w")
  except OSError:
    yield  # no cache, no lock
    return
  with lock_file:
    fcntl.flock(lock_file, fcntl.LOCK_EX)  # released on close, or when the process dies
    yield


def load(dataset_dir: str, spec: str) -> dict | None:
  """The cached split {"image", "label", "num_classes"}, or None on a miss."""
  entry = _entry(dataset_dir, spec)
  if entry is None or not os.path.isfile(os.path.join(entry, "meta.json")):
    return None
  try:
    with open(os.path.join(entry, "meta.json")) as f:
      meta = json.load(f)
    arrays = {k: np.load(os.path.join(entry, f"{k}.npy")) for k in _ARRAYS}
  except (OSError, ValueError):
    return None  # unreadable or damaged: read the split again
  return {**arrays, "num_classes": int(meta["num_classes"])}


def save(dataset_dir: str, spec: str, split: dict) -> None:
  """Stores a split read from TFDS; a cache that cannot be written is skipped."""
  entry = _entry(dataset_dir, spec)
  if entry is None or os.path.isdir(entry):
    return
  tmp = None
  try:
    os.makedirs(os.path.dirname(entry), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(entry), prefix=".partial-")
    for k in _ARRAYS:
      np.save(os.path.join(tmp, f"{k}.npy"), split[k])
    with open(os.path.join(tmp, "meta.json"), "w") as f:
      json.dump({"dataset_dir": os.path.abspath(dataset_dir), "spec": spec,
                 "num_classes": int(split["num_classes"])}, f)
    os.rename(tmp, entry)  # atomic; fails if another process got there first
    tmp = None
  except OSError:
    pass  # read-only home, full disk, a concurrent writer: the cache is only a speed-up
  finally:
    if tmp is not None:  # a half-written entry never stays behind
      shutil.rmtree(tmp, ignore_errors=True)
