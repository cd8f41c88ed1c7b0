"""Orbax checkpoints of the whole training state, safe against kills.

Orbax writes each checkpoint into a temporary directory and renames it into
place only when complete, so a SIGKILL or a full disk during a save leaves the
previous checkpoint as the latest one; `latest_step()` never sees a half
written directory. Saves are asynchronous (training continues while the
arrays are written); `close()` waits for the last one.

On disk a typed state (a method's dataclass) is a dict of its fields, the
fields that are None (no EMA, no step) left out: the layout of the dict
states genjax used before, so checkpoints from either load into either.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import jax
import orbax.checkpoint as ocp

from genjax.errors import ConfigError


class Checkpointer:
  """Periodic checkpoints of one run, in `workdir/checkpoints/<step>`."""

  def __init__(self, directory: str, keep: int):
    self._directory = os.path.abspath(directory)
    self._manager = ocp.CheckpointManager(
        self._directory, item_handlers=ocp.StandardCheckpointHandler(),
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state) -> None:
    """Starts saving `state` as `step` (no-op if that step is already saved)."""
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.StandardSave(_on_disk(state)), force=True)

  def restore(self, step: int, abstract):
    """Restores `step` as a tree of the shapes, dtypes and shardings in `abstract`
    (jax.ShapeDtypeStruct leaves, e.g. `Trainer.abstract_state()`).

    Raises:
      ConfigError: the checkpoint holds a different tree or different shapes
        (a run re-launched with a changed model), before anything is read.
    """
    self._check_matches(step, _on_disk(abstract))
    restored = self._manager.restore(step, args=ocp.args.StandardRestore(_on_disk(abstract)))
    return type(abstract)(**restored) if dataclasses.is_dataclass(abstract) else restored

  def _check_matches(self, step: int, abstract) -> None:
    stored = _shapes(self._manager.item_metadata(step))
    wanted = _shapes(abstract)
    where = f"the checkpoint in {os.path.dirname(self._directory)} (step {step})"
    fix = "use a new --workdir, or the config it was trained with (its config.json)"
    for path in sorted(stored.keys() ^ wanted.keys()):
      holds = "holds" if path in stored else "lacks"
      raise ConfigError(f"{where} was written by a different model: it {holds} {path}, "
                        f"which the config's model does not; {fix}")
    for path in sorted(stored, key=lambda p: (not p.startswith("params"), p)):
      if stored[path] != wanted[path]:
        raise ConfigError(
            f"{where} was written by a different model: {path} has shape "
            f"{stored[path][0]} ({stored[path][1]}), the config gives {wanted[path][0]} "
            f"({wanted[path][1]}); {fix}")

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def _on_disk(state: Any) -> Any:
  """A typed state as the dict of its fields that are not None; other trees as they are."""
  if not dataclasses.is_dataclass(state):
    return state
  fields = ((f.name, getattr(state, f.name)) for f in dataclasses.fields(state))
  return {name: value for name, value in fields if value is not None}


def _shapes(tree) -> dict[str, tuple[tuple[int, ...], str]]:
  """{"params/encoder/kernel": (shape, dtype)} for each array leaf of `tree`."""
  out = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    name = "/".join(str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k))))
                    for k in path)
    out[name] = (tuple(leaf.shape), str(leaf.dtype))
  return out
