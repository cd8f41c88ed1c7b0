"""Orbax checkpoints of the whole training state, safe against kills.

Orbax writes each checkpoint into a temporary directory and renames it into
place only when complete, so a SIGKILL or a full disk during a save leaves the
previous checkpoint as the latest one; `latest_step()` never sees a half
written directory. Saves are asynchronous (training continues while the
arrays are written); `close()` waits for the last one.
"""

from __future__ import annotations

import os

import orbax.checkpoint as ocp


class Checkpointer:
  """Periodic checkpoints of one run, in `workdir/checkpoints/<step>`."""

  def __init__(self, directory: str, keep: int):
    self._manager = ocp.CheckpointManager(
        os.path.abspath(directory),
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state) -> None:
    """Starts saving `state` as `step` (no-op if that step is already saved)."""
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.StandardSave(state), force=True)

  def restore(self, step: int, abstract):
    """Restores `step` as a tree of the shapes, dtypes and shardings in `abstract`
    (jax.ShapeDtypeStruct leaves, e.g. `Trainer.abstract_state()`)."""
    return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
