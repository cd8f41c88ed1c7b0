"""Ablation sweeps: a config's `sweep(add)` expanded into launcher runs.

A config file defines its ablation next to its defaults:

    def sweep(add):
      for lam in (1e-4, 1e-3, 1e-2):
        add(**{"model.l1_weight": lam})      # dotted keys, or
        # add(model__l1_weight=lam)          # "__" for the dots

`python scripts/sweep.py --config=configs/X.py[:variant] --workdir=DIR` turns
each `add` into one run of `python -m genjax.main` in `DIR/<name>`, where the
name lists the overrides (`l1_weight=0.001`). Finished runs (with
`final_metrics.json`) are skipped; interrupted ones resume from their own
checkpoints, because a run is just the launcher on its own workdir. A failing
run is recorded in the summary and does not stop the others.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import itertools
import json
import os
import re
import subprocess
import sys
from typing import Any, Callable, Iterable, Mapping

from genjax.config import import_config_file
from genjax.errors import ConfigError
from genjax.writers import FINAL_METRICS


@dataclasses.dataclass(frozen=True)
class Run:
  """One point of a sweep."""
  name: str
  overrides: dict[str, Any]


def _format_value(value: Any) -> str:
  """How a value is written on the command line (config_flags parses it back)."""
  if isinstance(value, str):
    return value
  if isinstance(value, float):
    return repr(value)
  return repr(value).replace(" ", "")


def _short_name(overrides: Mapping[str, Any]) -> str:
  parts = []
  keys = list(overrides)
  for key in keys:
    leaf = key.rsplit(".", 1)[-1]
    # Use the full key when two swept keys share a last component.
    label = key if sum(k.rsplit(".", 1)[-1] == leaf for k in keys) > 1 else leaf
    parts.append(f"{label}={_format_value(overrides[key])}")
  name = ",".join(parts) or "default"
  return re.sub(r"[^A-Za-z0-9_.,=+-]", "_", name)


def load_sweep(config_arg: str) -> list[Run]:
  """Imports the config file and expands its `sweep(add)` into runs.

  Args:
    config_arg: "configs/x.py" or "configs/x.py:variant" (the variant is
      passed on to each run, not to `sweep`).

  Raises:
    ConfigError: no such file, no `sweep` function, or a duplicate run.
  """
  path = config_arg.split(":", 1)[0]
  module = import_config_file(path)
  if not hasattr(module, "sweep"):
    raise ConfigError(f"{path} defines no sweep(add) function")
  runs: list[Run] = []

  def add(overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    merged = dict(overrides or {})
    merged.update({k.replace("__", "."): v for k, v in kwargs.items()})
    run = Run(_short_name(merged), merged)
    if any(r.name == run.name for r in runs):
      raise ConfigError(f"sweep in {path} adds the run {run.name!r} twice")
    runs.append(run)

  module.sweep(add)
  if not runs:
    raise ConfigError(f"sweep(add) in {path} added no runs")
  return runs


def grid(add: Callable[..., None], axes: Mapping[str, Iterable[Any]]) -> None:
  """Adds the Cartesian product of `axes` ({dotted key: values}) to a sweep."""
  keys = list(axes)
  for values in itertools.product(*(list(axes[k]) for k in keys)):
    add(dict(zip(keys, values)))


def command(config_arg: str, run: Run, workdir: str,
            python: str = sys.executable) -> list[str]:
  """The exact launcher command of one run."""
  return [python, "-m", "genjax.main", f"--config={config_arg}",
          *(f"--config.{k}={_format_value(v)}" for k, v in run.overrides.items()),
          f"--workdir={os.path.join(workdir, run.name)}"]


def _run_one(config_arg: str, run: Run, workdir: str) -> dict[str, Any]:
  run_dir = os.path.join(workdir, run.name)
  if os.path.exists(os.path.join(run_dir, FINAL_METRICS)):
    return {"status": "skipped (finished)"}
  os.makedirs(run_dir, exist_ok=True)
  with open(os.path.join(run_dir, "launcher.log"), "a") as log:
    proc = subprocess.run(command(config_arg, run, workdir), stdout=log,
                          stderr=subprocess.STDOUT, cwd=os.getcwd())
  if proc.returncode == 0 and os.path.exists(os.path.join(run_dir, FINAL_METRICS)):
    return {"status": "ok"}
  with open(os.path.join(run_dir, "launcher.log")) as f:
    lines = [l.strip() for l in f if l.strip()]
  errors = [l for l in lines if "error" in l.lower()]
  return {"status": f"failed (exit {proc.returncode})",
          "error": (errors or lines or ["no output"])[-1][:300]}


def run_all(config_arg: str, runs: list[Run], workdir: str, parallel: int = 1,
            log: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
  """Runs (or skips) every run, `parallel` processes at a time."""
  os.makedirs(workdir, exist_ok=True)
  outcomes: dict[str, dict[str, Any]] = {}
  with concurrent.futures.ThreadPoolExecutor(max_workers=max(parallel, 1)) as pool:
    futures = {pool.submit(_run_one, config_arg, r, workdir): r for r in runs}
    for future in concurrent.futures.as_completed(futures):
      run = futures[future]
      outcomes[run.name] = future.result()
      log(f"[sweep] {run.name}: {outcomes[run.name]['status']}")
  return outcomes


def summarize(runs: list[Run], workdir: str,
              outcomes: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
  """Writes summary.csv, summary.md and one plot per swept key.

  Returns:
    The summary rows: run name, status, overrides, final eval metrics.
  """
  outcomes = outcomes or {}
  rows, metric_names, main_metric = [], [], None
  for run in runs:
    row: dict[str, Any] = {"run": run.name}
    row.update(run.overrides)
    path = os.path.join(workdir, run.name, FINAL_METRICS)
    status = dict(outcomes.get(run.name, {}))
    if os.path.exists(path):
      with open(path) as f:
        final = json.load(f)
      main_metric = main_metric or final.get("main_metric")
      metrics = {**final.get("eval", {}), **final.get("final", {})}
      for k in metrics:
        if k not in metric_names:
          metric_names.append(k)
      row.update(metrics)
      row["status"] = "ok" if not status or status["status"].startswith(("ok", "skipped")) else status["status"]
    else:
      row["status"] = status.get("status", "not run")
      if status.get("error"):
        row["error"] = status["error"]
    rows.append(row)
  keys = list(dict.fromkeys(k for r in runs for k in r.overrides))
  columns = ["run", "status", *keys, *metric_names, "error"]
  with open(os.path.join(workdir, "summary.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
  with open(os.path.join(workdir, "summary.md"), "w") as f:
    f.write(f"# Sweep summary ({len(runs)} runs)\n\n")
    if main_metric:
      f.write(f"Main metric: `{main_metric}` (final eval).\n\n")
    f.write("| " + " | ".join(columns) + " |\n")
    f.write("|" + "---|" * len(columns) + "\n")
    for row in rows:
      f.write("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |\n")
  if main_metric:
    _plot(rows, keys, main_metric, workdir)
  return rows


def _cell(value: Any) -> str:
  if isinstance(value, float):
    return f"{value:.5g}"
  return str(value).replace("|", "/")


def _plot(rows, keys, metric, workdir) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  for key in keys:
    points = [(r[key], r[metric]) for r in rows
              if key in r and isinstance(r.get(metric), (int, float))]
    if not points:
      continue
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x, _ in points)
    xs = [x for x, _ in points] if numeric else [str(x) for x, _ in points]
    ax.plot(xs, [y for _, y in points], "o")
    if numeric and min(xs) > 0 and max(xs) / min(xs) >= 100:
      ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel(f"final eval {metric}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(workdir, f"sweep_{key.replace('.', '_')}.png"), dpi=120)
    plt.close(fig)
