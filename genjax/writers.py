"""Where a run's measurements go: JSONL, TensorBoard events, the console.

`metrics.jsonl` holds one JSON object per line, {"step": s, "split": "train" |
"eval", name: value, ...}; it is the file sweeps and experiments read. On
resume, rows logged after the restored checkpoint are dropped so that the file
reads as if the run had never been interrupted.
"""

from __future__ import annotations

import json
import math
import os
from typing import Mapping

import jax
import numpy as np
from absl import flags
from absl import logging

# Written by train.train_and_evaluate when a run completes; its presence is
# what marks a run finished (sweeps skip such runs).
FINAL_METRICS = "final_metrics.json"


class MetricWriter:
  """Writes scalar metrics of process 0 to JSONL and TensorBoard."""

  def __init__(self, workdir: str):
    self._active = jax.process_index() == 0
    self._jsonl_path = os.path.join(workdir, "metrics.jsonl")
    self._tb = None
    if self._active:
      from tensorboardX import SummaryWriter
      self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"), flush_secs=30)

  def truncate_after(self, step: int) -> None:
    """Drops JSONL rows with a step beyond `step` (those not in the checkpoint)."""
    if not self._active or not os.path.exists(self._jsonl_path):
      return
    with open(self._jsonl_path) as f:
      lines = f.readlines()
    kept = []
    for line in lines:
      try:
        if json.loads(line)["step"] <= step:
          kept.append(line)
      except (ValueError, KeyError):
        pass  # a line cut short by a kill: drop it
    if len(kept) != len(lines):
      tmp = self._jsonl_path + ".tmp"
      with open(tmp, "w") as f:
        f.writelines(kept)
      os.replace(tmp, self._jsonl_path)

  def write(self, step: int, split: str, metrics: Mapping[str, float]) -> None:
    if not self._active:
      return
    row = {"step": int(step), "split": split}
    row.update({k: _jsonable(v) for k, v in metrics.items()})
    with open(self._jsonl_path, "a") as f:
      f.write(json.dumps(row) + "\n")
    for k, v in metrics.items():
      self._tb.add_scalar(f"{split}/{k}", float(v), int(step))

  def write_images(self, step: int, grids: Mapping[str, np.ndarray]) -> None:
    """Image grids ([rows, cols, H, W, C] in [0, 1]) to TensorBoard's Images tab."""
    if not self._active:
      return
    from genjax import viz
    for name, grid in grids.items():
      image = viz.grid_to_uint8(grid)
      self._tb.add_image(f"images/{name}", image, int(step),
                         dataformats="HW" if image.ndim == 2 else "HWC")

  def close(self) -> None:
    if self._tb is not None:
      self._tb.close()


def _jsonable(v) -> float | None:
  v = float(v)
  return v if math.isfinite(v) else None if math.isnan(v) else str(v)


def read_metrics(workdir: str, split: str | None = None) -> list[dict]:
  """Reads metrics.jsonl rows (optionally of one split) in order."""
  path = os.path.join(workdir, "metrics.jsonl")
  rows = []
  if os.path.exists(path):
    with open(path) as f:
      for line in f:
        row = json.loads(line)
        if split is None or row["split"] == split:
          rows.append(row)
  return rows


# absl's log lines then name say()'s caller (train.py:N), not this file.
logging.ABSLLogger.register_frame_to_skip(__file__, "say")


def _under_absl_app() -> bool:
  return flags.FLAGS.is_parsed()


def say(message: str, *args) -> None:
  """Progress for the user wherever training runs.

  Under `absl.app.run` (the launcher, experiments, sweeps) this is an absl
  INFO line. Called from a notebook or a plain Python script, absl hides INFO
  lines until its flags are parsed, so the line is printed to stdout instead:
  `train_and_evaluate` shows progress without any logging set-up.
  """
  if _under_absl_app():
    logging.info(message, *args)
  elif jax.process_index() == 0:
    print(message % args if args else message, flush=True)


def format_duration(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  h, rem = divmod(seconds, 3600)
  m, s = divmod(rem, 60)
  return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def progress_line(step: int, total: int, examples_per_sec: float, eta_s: float,
                  metrics: Mapping[str, float], main: str) -> str:
  """One console line: step, throughput, ETA and the main losses first."""
  keys = [main] + [k for k in ("loss",) if k != main and k in metrics]
  rest = [k for k in sorted(metrics) if k not in keys and not k.endswith("_per_sec")]
  keys += rest[:4]
  shown = " ".join(f"{k}={metrics[k]:.4g}" for k in keys if k in metrics)
  speed = "" if math.isnan(examples_per_sec) else (
      f"{examples_per_sec:,.0f} ex/s | ETA {format_duration(eta_s)} | ")
  return f"step {step}/{total} ({100.0 * step / total:.1f}%) | {speed}{shown}"
