"""What every experiment writes: report.md, results.json and its figures.

A report states the claim, what the theory predicts, the measured table, the
verdict (does the measurement agree?), the budget (full or --quick) and the
wall time. Training runs go into sub-workdirs of the experiment's workdir
through `train_run` (`genjax.train.train`), so an interrupted experiment
resumes and a finished one re-renders its report without training again (its
runs are restored from their checkpoints).

Every experiment module defines `run(workdir, quick, smoke=False) -> str`
(the report's path): `workdir` holds its runs, figures and report; `quick`
is the reduced budget (minutes); `smoke` a tiny budget on a data subset for
the tests (numbers meaningless). `cli(run)` is its command line.

Every experiment builds its configs with `config(name, arg, smoke=smoke, ...)`:
with smoke=True that is the config's `runlocal` variant (tiny widths and
data) with a tiny step budget on top (`smoke_overrides`), whatever the
experiment's own budget. `train_run` returns the trained run in memory
(`genjax.train.TrainedRun`), with no rebuild and reload: analyses use its
`.model` (what `genjax.load(workdir)` returns: encode, reconstruct, sample,
... and `.function(name)` for JAX transformations) and the images of
`.trainer.dataset` (`images(split)`, `labels(split)`), and import nothing
from `genjax.methods` (tests/test_experiments.py checks every experiment).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from typing import Any, Callable

import numpy as np

from genjax import host_memory, train
from genjax.config import ConfigDict, load_config_file

try:
  import fcntl
except ImportError:  # Windows: runs are not locked (one invocation at a time)
  fcntl = None

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Smoke budgets (tests only): steps per training run and samples per
# sample-quality or sweep pass. Experiments use these rather than their own.
SMOKE_STEPS = 20
SMOKE_SAMPLES = 200


def config(name: str, arg: str | None = None, *, smoke: bool = False,
           smoke_extra: dict[str, Any] | None = None, **overrides: Any) -> ConfigDict:
  """configs/<name>.py:get_config(arg) with dotted overrides (use `__` for dots).

  Args:
    name: the config file's name in configs/.
    arg: its variant string (the text after the colon), or None.
    smoke: a smoke run (tests only): the config's `runlocal` variant
      (`smoke_variant`), and `smoke_overrides` applied after `overrides`, so
      the experiment's own budget is replaced by a tiny one.
    smoke_extra: further overrides for a smoke run only (ignored otherwise),
      applied last.
    **overrides: dotted keys (`a.b` or `a__b`) to values.
  """
  overrides = {**overrides, **smoke_overrides(smoke, **(smoke_extra or {}))}
  overrides = {k.replace("__", "."): v for k, v in overrides.items()}
  return load_config_file(os.path.join(REPO, "configs", f"{name}.py"),
                          smoke_variant(arg, smoke), overrides)


def smoke_variant(arg: str | None, smoke: bool) -> str | None:
  """`arg` with the config's `runlocal` variant added if `smoke`, else `arg`.

  Every config's runlocal variant shrinks its networks and data to what
  trains in seconds (the same family, tiny widths): the smoke test checks an
  experiment's plumbing, and full-size compiles would dominate its time.
  """
  if not smoke:
    return arg
  return f"{arg},runlocal" if arg else "runlocal"


def smoke_overrides(smoke: bool, **extra: Any) -> dict[str, Any]:
  """The tiny budget of a smoke run (tests only), or {}.

  Numbers from a smoke run mean nothing; it checks an experiment's plumbing
  end to end (training, analysis, report). Data sizes, batch sizes and
  widths are the runlocal variant's (`smoke_variant`); this only replaces
  the experiment's step budget, which it sets after the variant.
  """
  if not smoke:
    return {}
  return {"total_epochs": None, "total_steps": SMOKE_STEPS, "steps_per_dispatch": 10, **extra}


def line_plot(path: str, xs, series: dict[str, Any], *, xlabel: str, ylabel: str,
              log_x: bool = False, log_y: bool = False, title: str | None = None,
              legend_outside: bool = False) -> None:
  """One PNG with a line per entry of `series` (label -> y values over `xs`);
  `legend_outside` puts the legend right of the axes (many series)."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  fig, ax = plt.subplots(figsize=(7.5 if legend_outside else 5, 3.5))
  for label, ys in series.items():
    ax.plot(xs, ys, "o-", label=label)
  if log_x:
    ax.set_xscale("log", base=2 if all(float(x).is_integer() for x in xs) else 10)
  if log_y:
    ax.set_yscale("log")
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  if title:
    ax.set_title(title)
  if legend_outside:
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
  else:
    ax.legend()
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def rows_grid(rows: list, cols: int) -> np.ndarray:
  """Equally long image batches interleaved as the rows of an image grid.

  For each group of `cols` examples the grid has one row per batch in `rows`
  (e.g. clean, noisy, denoised), so each column follows one example.

  Args:
    rows: batches [N, H, W, C] (numpy or jax); a last partial group is dropped.
    cols: examples per grid row.

  Returns:
    [len(rows) * (N // cols), cols, H, W, C], for `genjax.viz.save_grid`.
  """
  n = (len(rows[0]) // cols) * cols
  blocks = [np.asarray(r)[:n].reshape((-1, cols) + tuple(r.shape[1:])) for r in rows]
  return np.stack(blocks, axis=1).reshape((-1, cols) + tuple(rows[0].shape[1:]))


def cli(run: Callable[[str, bool], str]) -> None:
  """The command line of one experiment: `python -m experiments.NAME --workdir=DIR [--quick]`.

  Flags are defined here, when the module runs as a script, not at import:
  `python -m experiments --all` and the tests import every experiment into one
  process, where module-level flags of the same name would collide.
  """
  from absl import app, flags
  flags.DEFINE_string("workdir", None, "Where runs, figures and report go.")
  flags.DEFINE_bool("quick", False, "Reduced budget (a few minutes).")
  flags.mark_flags_as_required(["workdir"])

  def main(argv):
    if len(argv) > 1:
      raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    host_memory.keep_freed_memory()  # as the launcher: steps reuse freed memory
    print(run(flags.FLAGS.workdir, flags.FLAGS.quick))

  app.run(main)


# Runs of the current report that started from an earlier checkpoint (an
# interrupted experiment resumed, or a finished run reused): the report names
# them, because their earlier training time is not in its wall time.
_RESUMED: list[tuple[str, int]] = []
# Runs whose measured.json this invocation read rather than wrote (measure_runs).
_REUSED: list[str] = []


def train_run(cfg: ConfigDict, workdir: str) -> train.TrainedRun:
  """Trains (or resumes, or just restores) one run; returns it in memory.

  Returns:
    `genjax.train.TrainedRun`: `.final` the final eval metrics, `.model` the
    trained `genjax.model.Model`, `.trainer` its compiled pieces
    (`.trainer.dataset` loaded, `.trainer.config` the config with its
    method's defaults). A finished run is restored from its checkpoint, not
    retrained.

  Raises:
    RuntimeError: training stopped before the end (SIGTERM): re-run the
      experiment to resume it; an analysis of a half-trained run would be
      silently wrong.
  """
  saved = _latest_saved_step(workdir)
  if saved:
    _RESUMED.append((os.path.basename(os.path.normpath(workdir)), saved))
  run = train.train(cfg, workdir)
  if not os.path.exists(os.path.join(workdir, train.FINAL_METRICS)):
    raise RuntimeError(f"training in {workdir} stopped at step {run.step} before the end; "
                       "re-run the experiment to resume it")
  return run


def final_extras(run_dir: str) -> dict[str, float]:
  """A finished run's end-only evaluator metrics (e.g. a classifier's test
  error, sample quality): the "final" entry of its final_metrics.json.
  `TrainedRun.final` holds the run's final eval metrics, not these."""
  with open(os.path.join(run_dir, train.FINAL_METRICS)) as f:
    return json.load(f)["final"]


def measure_runs(tasks: dict[str, Callable[[], dict[str, Any]]], workdir: str
                 ) -> dict[str, dict[str, Any]]:
  """{name: measure()} for each task, kept in `workdir/name/measured.json`.

  `measure()` trains the run in `workdir/name` and returns a JSON-able dict.
  A re-run experiment reads kept results instead of measuring again. Two
  invocations of an experiment on the same workdir may run at once (one per
  core): each run is locked while it is trained and measured, an invocation
  first takes the runs nobody holds, then waits for the others and reads
  their results (on Windows, without locks, run one invocation at a time).
  """
  results, busy = {}, []
  for name, measure in tasks.items():
    got = _measured_once(os.path.join(workdir, name), measure, wait=False)
    if got is None:
      busy.append(name)
    else:
      results[name] = got
  for name in busy:
    results[name] = _measured_once(os.path.join(workdir, name), tasks[name], wait=True)
  return {name: results[name] for name in tasks}


def _measured_once(run_dir: str, measure, wait: bool) -> dict[str, Any] | None:
  """The kept or fresh result of one run; None if another process holds it and not `wait`."""
  os.makedirs(run_dir, exist_ok=True)
  path = os.path.join(run_dir, "measured.json")
  with open(os.path.join(run_dir, ".measure.lock"), "w") as lock:
    if fcntl is not None:
      try:  # released on close, or when the process dies
        fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
      except BlockingIOError:
        return None
    if not os.path.exists(path):
      result = measure()
      with open(path + ".partial", "w") as f:
        json.dump(result, f, default=float)
      os.replace(path + ".partial", path)
    else:
      _REUSED.append(os.path.basename(os.path.normpath(run_dir)))
    with open(path) as f:
      return json.load(f)


# What keep_runs leaves out of a kept run: large, and read by no report.
_NOT_KEPT = ("checkpoints", "tensorboard", ".measure.lock")


def _not_kept(directory: str, names: list[str]) -> set[str]:
  """copytree's ignore: _NOT_KEPT, and all but the last of each periodic image
  (`<kind>_<step>.png`, ~20 of each kind in a run; a report shows the last)."""
  del directory
  periodic = {}  # kind -> its images
  for name in names:
    kind, _, step = name.removesuffix(".png").rpartition("_")
    if name.endswith(".png") and step.isdigit():
      periodic.setdefault(kind, []).append(name)
  older = {n for images in periodic.values() for n in sorted(images)[:-1]}  # zero-padded steps
  return {n for n in names if n in _NOT_KEPT} | older


def finished_runs(directory: str) -> list[str]:
  """Names of the run directories under `directory` that hold a measured.json."""
  if not os.path.isdir(directory):
    return []
  return sorted(name for name in os.listdir(directory)
                if os.path.isfile(os.path.join(directory, name, "measured.json")))


def keep_runs(source: str, destination: str) -> list[str]:
  """Copies each finished run of `source` that `destination` lacks; returns their names.

  A run is copied without its checkpoints, TensorBoard files and all but the
  last of each periodic image (what is left, kilobytes, is what
  `measure_runs` and the reports read), so a folder of kept runs can be
  committed and copied back into a fresh workdir, where `measure_runs`
  reuses them (scripts/keep_runs.py).
  """
  copied = []
  for name in finished_runs(source):
    target = os.path.join(destination, name)
    if os.path.isfile(os.path.join(target, "measured.json")):
      continue
    if os.path.exists(target):  # an unfinished run's leftovers: the kept run replaces them
      shutil.rmtree(target)
    shutil.copytree(os.path.join(source, name), target, ignore=_not_kept)
    copied.append(name)
  return copied


def _latest_saved_step(workdir: str) -> int:
  directory = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(directory):
    return 0
  return max((int(n) for n in os.listdir(directory) if n.isdigit()), default=0)


@dataclasses.dataclass
class Report:
  """Accumulates an experiment's findings, then writes them."""
  name: str
  claim: str
  prediction: str
  quick: bool
  started: float = dataclasses.field(default_factory=time.time)
  sections: list[str] = dataclasses.field(default_factory=list)
  results: dict[str, Any] = dataclasses.field(default_factory=dict)
  verdicts: list[tuple[str, bool | None]] = dataclasses.field(default_factory=list)
  sanity_checks: list[tuple[str, bool]] = dataclasses.field(default_factory=list)
  # (date, what changed and the numbers of the run that preceded the change):
  # each experiment's HISTORY, kept in every report it writes.
  history: tuple[tuple[str, str], ...] = ()

  def __post_init__(self):
    _RESUMED.clear()
    _REUSED.clear()

  def table(self, title: str, columns: list[str], rows: list[list[Any]]) -> None:
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(format_cell(v) for v in row) + " |" for row in rows]
    self.sections.append("\n".join(lines))

  def figure(self, title: str, filename: str) -> None:
    self.sections.append(f"### {title}\n\n![{title}]({filename})")

  def text(self, text: str) -> None:
    self.sections.append(text)

  def verdict(self, statement: str, holds: bool | None) -> None:
    """Records a verdict: True agrees, False disagrees, None is inconclusive
    (the measurement's interval does not decide the predicate)."""
    self.verdicts.append((statement, None if holds is None else bool(holds)))

  def sanity(self, statement: str, holds: bool) -> None:
    """Records a sanity check: an identity or a fact true by construction (NLL
    <= -ELBO, the penalised model has the smallest penalty). It is not a
    claim: failing one means a bug in the measurement, not a refuted theory."""
    self.sanity_checks.append((statement, bool(holds)))

  def write(self, workdir: str) -> str:
    """Writes report.md and results.json; returns the report's path."""
    wall = time.time() - self.started
    budget = ("--quick (reduced budget: numbers are indicative, not final)"
              if self.quick else "full")
    lines = [f"# {self.name}", "", f"**Claim.** {self.claim}", "",
             f"**Theory predicts.** {self.prediction}", "",
             f"**Budget:** {budget}. **Wall time:** {wall / 60:.1f} min "
             "(2-core CPU unless stated; includes all training except the earlier part "
             "of runs listed as resumed).", ""]
    if _RESUMED:
      lines += ["**Resumed from earlier checkpoints:** " + ", ".join(
          f"{name} (from step {step})" for name, step in _RESUMED) + ".", ""]
    if _REUSED:
      lines += [f"**Measured by an earlier or a concurrent invocation and reused** (their "
                f"training is not in the wall time): {len(_REUSED)} runs, "
                + ", ".join(_REUSED) + ".", ""]
    lines += ["## Verdict", ""]
    lines += [verdict_line(s, ok) for s, ok in self.verdicts]
    if self.sanity_checks:
      lines += ["", "## Sanity checks", "",
                "Identities and facts true by construction, not claims: a failure here "
                "means a bug in the measurement.", ""]
      lines += [f"- {'PASSES' if ok else 'FAILS'}: {s}" for s, ok in self.sanity_checks]
    if self.history:
      lines += ["", "## History", "",
                "Thresholds, budgets or aggregation rules changed after a run had been "
                "measured, or while it ran, with the numbers that run gave:", ""]
      lines += [f"- {date}: {change}" for date, change in self.history]
    lines += ["", "## Measurements", ""]
    lines += [s + "\n" for s in self.sections]
    path = os.path.join(workdir, "report.md")
    with open(path, "w") as f:
      f.write("\n".join(lines))
    with open(os.path.join(workdir, "results.json"), "w") as f:
      json.dump({"name": self.name, "quick": self.quick, "wall_s": wall,
                 "resumed_runs": dict(_RESUMED), "reused_runs": list(_REUSED),
                 "verdicts": [{"statement": s, "agrees": ok} for s, ok in self.verdicts],
                 "sanity_checks": [{"statement": s, "passes": ok}
                                   for s, ok in self.sanity_checks],
                 "history": [{"date": d, "change": c} for d, c in self.history],
                 "results": self.results}, f, indent=2, default=float)
    return path


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
  """(mean, low, high): Student's t interval for the mean of `values` (>= 2 of them)."""
  from scipy import stats
  v = np.asarray(values, np.float64)
  if v.size < 2:
    raise ValueError(f"a t interval needs at least 2 values, got {v.size}")
  mean = float(v.mean())
  half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
  return mean, mean - half, mean + half


def above(values, threshold: float = 0.0) -> bool | None:
  """A verdict from seeds: True if the 95% t interval of their mean lies above
  `threshold`, False if it lies below, None (inconclusive) if it covers it or
  there is one seed only (a smoke run)."""
  if len(values) < 2:
    return None
  _, low, high = t_interval(values)
  return True if low > threshold else False if high < threshold else None


def within(values, target: float, tolerance: float) -> bool | None:
  """A verdict from seeds: True if the 95% t interval of their mean lies inside
  target +- tolerance, False if it lies wholly outside, None (inconclusive)
  if it straddles an edge or there is one seed only (a smoke run)."""
  if len(values) < 2:
    return None
  _, low, high = t_interval(values)
  if target - tolerance <= low and high <= target + tolerance:
    return True
  return False if high < target - tolerance or low > target + tolerance else None


def every(verdicts: list[bool | None]) -> bool | None:
  """Interval verdicts that must all hold, joined: False if any disagrees,
  True if all agree, else None (inconclusive)."""
  return False if False in verdicts else True if all(verdicts) else None


def per_seed(by_seed: dict[str, dict[str, Any]], key: str) -> list[float]:
  """[r[key] for each seed's results r], in seed order: the values an interval
  verdict (`above`, `within`, `interval_cell`) is computed from."""
  return [r[key] for r in by_seed.values()]


def interval_cell(values, fmt: str = ".4g") -> str:
  """A report cell "mean [low, high]": the 95% t interval of `values` (one
  value: the value alone)."""
  if len(values) < 2:
    return f"{values[0]:{fmt}}"
  mean, low, high = t_interval(values)
  return f"{mean:{fmt}} [{low:{fmt}}, {high:{fmt}}]"


def verdict_line(statement: str, agrees: bool | None) -> str:
  """A verdict as report.md lists it: AGREES, DISAGREES or INCONCLUSIVE."""
  label = "INCONCLUSIVE" if agrees is None else "AGREES" if agrees else "DISAGREES"
  return f"- {label}: {statement}"


def format_cell(v: Any) -> str:
  """A table cell as report.md writes it (floats to 4 significant digits)."""
  if isinstance(v, float):
    return f"{v:.4g}"
  return str(v)


def read_table(report_path: str, title: str) -> list[list[str]]:
  """The rows (cells as written, header excluded) of the report's table whose title
  starts with `title`: what `Report.table` wrote, read back (tests, tools).

  Raises:
    KeyError: no table with that title.
  """
  with open(report_path) as f:
    lines = f.read().splitlines()
  for i, line in enumerate(lines):
    if line.startswith("### ") and line[4:].startswith(title) and i + 3 < len(lines) \
        and lines[i + 2].startswith("| "):
      rows = []
      for row in lines[i + 4:]:
        if not row.startswith("| "):
          break
        rows.append([cell.strip() for cell in row[2:-2].split(" | ")])
      return rows
  raise KeyError(f"no table titled {title!r} in {report_path}")
