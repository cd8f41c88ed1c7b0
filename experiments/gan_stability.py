r"""Claim: fully connected GANs are hard to train and work only on some datasets; DCGAN is more stable.

    python -m experiments.gan_stability --workdir=runs/gan_stability          # full budget
    python -m experiments.gan_stability --workdir=runs/gan_stability --quick  # minutes

For each seed, trains at the same number of generator updates and batch
size (one D step per G step):

* the fully connected GAN of Goodfellow et al. 2014 (`configs/gan_mnist.py`:
  maxout D with dropout, 1200-1200 ReLU G) and the DCGAN
  (`configs/dcgan_mnist.py`) on MNIST and on Fashion-MNIST (`data.name`);
* the fully connected toy GAN (`configs/gan_toy.py:dist=grid25`) on the
  25-Gaussian grid. There is no DCGAN there: 2-D points have no image
  structure to convolve, and the lecture's "successful only with a subset
  of datasets" is a statement about the fully connected GAN.

Every run's outcome is decided by `outcome()` with the thresholds below,
fixed before the five-seed runs: success, the discriminator winning
outright, mode collapse. Image runs are measured at the checkpoints after
a third, two thirds and all of the budget (`genjax.load(run, step=...)`):
Frechet distance in the shipped
classifier's features of `num_samples` samples against as many test images,
beside the train-vs-test floor at the same size, and the classes the
classifier reads in the samples.

Each run's measurements are kept in its sub-workdir (`measured.json`): a
re-run reads them, and a second invocation on the same workdir started
alongside the first (one per core) shares the runs with it.

Budgets: 3000 G updates of batch 64 per image run and the toy config's
20000 of batch 256 on the grid, 5 seeds each; --quick 300 / 2000, 2 seeds.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np

import genjax
from experiments import report as report_lib
from genjax import writers
from genjax.evaluation import sample_quality

ARCHS = {"fully connected": "gan_mnist", "DCGAN": "dcgan_mnist"}
IMAGE_DATASETS = ("mnist", "fashion_mnist")
# Success on images: the final Frechet distance within FD_FACTOR x the
# real-data floor, at least MIN_CLASSES of the 10 classes present (a class is
# present with >= CLASS_SHARE of its expected share of samples), and D not
# winning outright. 3000 updates (3.2 epochs) is a CPU budget: a DCGAN that
# trains is still far from the 10x-floor quality of long runs there (FD 188,
# 91x, in configs/dcgan_mnist.py's history), so the bar separates "learns
# the data" from "fails" rather than grading quality. Fixed after pilot runs
# of seed 0 on MNIST, before the five-seed runs: DCGAN FD 424 at 1000 steps
# with all ten classes; the fully connected GAN at 1000-3000 steps FD 930-1250
# with 1-4 classes in four variants (experiments/results/configs/gan_mnist.md).
FD_FACTOR = 100.0
MIN_CLASSES = 9
CLASS_SHARE = 0.1
# Grid: at least MIN_MODES of 25 modes covered, HIGH_QUALITY of the samples
# within 3 std of a mode, D not winning outright (the suggested bar of the issue).
MIN_MODES = 20
HIGH_QUALITY = 0.7
# D wins outright: the mean D(G(z)) of each of the last D_WIN_ROWS logged
# training rows (LOG_EVERY steps each) is below D_WIN.
D_WIN = 0.05
D_WIN_ROWS = 5
LOG_EVERY = 50
CHECKPOINTS = 3       # image runs are measured at 1/3, 2/3 and 3/3 of the budget
WILSON_Z = 1.959964   # 95% two-sided


# Changes before the five-seed runs but after pilots (kept in every report).
HISTORY = (
    ("2026-12-02", "the success bar became a final Frechet distance of at most 100x the "
                   "train-vs-test floor (the issue suggested 10x) after seed-0 pilots and before "
                   "the five-seed runs: a DCGAN that learns MNIST is at FD 424 after 1000 steps, "
                   "and four fully connected variants at 930-1250 "
                   "(experiments/results/configs/gan_mnist.md)."),
)


def outcome(run: dict) -> dict[str, bool]:
  """Success / D wins / collapse of one run, from its measurements.

  Args:
    run: image runs {"fd": [per checkpoint], "fd_floor", "classes_present",
      "d_fake_tail": [last logged mean D(G(z)) values]}; grid runs
      {"modes_covered", "high_quality_fraction", "d_fake_tail"}.
  """
  tail = run["d_fake_tail"][-D_WIN_ROWS:]
  d_wins = len(tail) == D_WIN_ROWS and all(d < D_WIN for d in tail)
  if "modes_covered" in run:
    collapsed = run["modes_covered"] < MIN_MODES
    good = run["high_quality_fraction"] >= HIGH_QUALITY
  else:
    collapsed = run["classes_present"] < MIN_CLASSES
    good = run["fd"][-1] <= FD_FACTOR * run["fd_floor"]
  return {"success": bool(good and not collapsed and not d_wins), "d_wins": bool(d_wins),
          "collapsed": bool(collapsed)}


def wilson(successes: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
  """The Wilson score interval of a binomial proportion (95% by default)."""
  if n == 0:
    return 0.0, 1.0
  p = successes / n
  centre = (p + z * z / (2 * n)) / (1 + z * z / n)
  half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
  return max(0.0, centre - half), min(1.0, centre + half)


def compare_rates(higher: list[bool], lower: list[bool]) -> bool | None:
  """True when `higher`'s success interval lies wholly above `lower`'s;
  False when its rate is not above `lower`'s; None (inconclusive) otherwise."""
  if sum(higher) / len(higher) <= sum(lower) / len(lower):
    return False
  if wilson(sum(higher), len(higher))[0] > wilson(sum(lower), len(lower))[1]:
    return True
  return None


def verdicts(successes: dict[tuple[str, str], list[bool]]) -> list[tuple[str, bool | None]]:
  """The claim's predicates on per-run successes, keyed (architecture, dataset).

  Each compares two success rates with `compare_rates` (Wilson 95% intervals):
  DCGAN above the fully connected GAN on each image dataset, and the fully
  connected GAN's rate on the grid above its rate on each image dataset.
  """
  def rate(key):
    runs = successes[key]
    lo, hi = wilson(sum(runs), len(runs))
    return f"{sum(runs)}/{len(runs)} [{lo:.2f}, {hi:.2f}]"

  out = []
  for data in IMAGE_DATASETS:
    dc, fc = ("DCGAN", data), ("fully connected", data)
    out.append((f"{data}: DCGAN succeeds more often than the fully connected GAN (successes, "
                f"95% Wilson interval: DCGAN {rate(dc)}, fully connected {rate(fc)})",
                compare_rates(successes[dc], successes[fc])))
  grid = ("fully connected", "grid25")
  for data in IMAGE_DATASETS:
    fc = ("fully connected", data)
    out.append((f"the fully connected GAN succeeds more often on the 25-Gaussian grid than "
                f"on {data} ({rate(grid)} vs {rate(fc)})",
                compare_rates(successes[grid], successes[fc])))
  return out


def _d_fake_tail(run_dir: str) -> list[float]:
  rows = writers.read_metrics(run_dir, "train")
  return [float(r["d_fake"]) for r in rows[-D_WIN_ROWS:]]


_REAL_FEATURES = {}  # (dataset name, n) -> _real_features(...): the same for every run


def _real_features(dataset, n: int) -> tuple[np.ndarray, float]:
  """(test features of n images, the train-vs-test Frechet floor at n)."""
  key = (dataset.name, n)
  if key not in _REAL_FEATURES:
    _REAL_FEATURES[key] = _compute_real_features(dataset, n)
  return _REAL_FEATURES[key]


def _compute_real_features(dataset, n: int) -> tuple[np.ndarray, float]:
  _, test = sample_quality.classifier_outputs(dataset.eval["image"][:n], dataset.name,
                                              dataset.eval_scale)
  _, train = sample_quality.classifier_outputs(dataset.train["image"][:n], dataset.name,
                                               dataset.train_scale)
  return test, sample_quality.frechet_distance(train, test)


def image_run(config_name: str, data: str, seed: int, steps: int, num_samples: int,
              run_dir: str, smoke: bool) -> dict:
  """Trains one image GAN, keeping CHECKPOINTS checkpoints; measures each."""
  every = max(steps // CHECKPOINTS, 1)
  total = every * CHECKPOINTS
  cfg = report_lib.config(config_name, smoke=smoke, smoke_extra={"total_steps": total}, **{
      "data.name": data, "seed": seed, "total_steps": total, "evals.sample_quality.enabled": False,
      "log_every_steps": LOG_EVERY, "steps_per_dispatch": LOG_EVERY,
      "eval_every_steps": every, "checkpoint_every_steps": every,
      "keep_checkpoints": CHECKPOINTS})
  trained = report_lib.train_run(cfg, run_dir)
  test_features, floor = _real_features(trained.trainer.dataset, num_samples)
  fds = []
  for step in range(every, total + 1, every):
    samples = genjax.load(run_dir, step=step).sample(num_samples, seed=seed)
    logits, features = sample_quality.classifier_outputs(samples, data)
    fds.append(sample_quality.frechet_distance(features, test_features))
  counts = np.bincount(np.asarray(logits).argmax(-1), minlength=10)  # the last checkpoint's
  present = int(np.sum(counts >= CLASS_SHARE * num_samples / 10))
  return {"fd": fds, "fd_floor": floor, "classes_present": present,
          "class_counts": counts.tolist(), "steps": total,
          "d_fake_tail": _d_fake_tail(run_dir), "final_d_fake": trained.final["d_fake"]}


def grid_run(seed: int, steps: int, run_dir: str, smoke: bool) -> dict:
  cfg = report_lib.config("gan_toy", "dist=grid25", smoke=smoke, **{
      "seed": seed, "total_steps": steps, "log_every_steps": LOG_EVERY,
      "steps_per_dispatch": LOG_EVERY})
  trained = report_lib.train_run(cfg, run_dir)
  final = report_lib.final_extras(run_dir)
  return {"modes_covered": final["modes_covered"],
          "high_quality_fraction": final["high_quality_fraction"],
          "d_fake_tail": _d_fake_tail(run_dir), "final_d_fake": trained.final["d_fake"]}


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="Fully connected GAN vs DCGAN: stability",
      claim="The first GANs used fully connected networks: difficult to train, successful "
            "only with a subset of datasets. Deep convolutional GANs (Radford et al. 2016) "
            "train more stably.",
      prediction="at the same number of generator updates, DCGAN succeeds in more seeds "
                 "than the fully connected GAN on MNIST and Fashion-MNIST, and the fully "
                 "connected GAN succeeds more often on the 25-Gaussian grid than on the "
                 "image datasets.",
      quick=quick, history=HISTORY)
  seeds = (0,) if smoke else (0, 1) if quick else (0, 1, 2, 3, 4)
  steps = 3 * report_lib.SMOKE_STEPS if smoke else 300 if quick else 3000
  grid_steps = 2000 if quick else 20000
  num_samples = report_lib.SMOKE_SAMPLES if smoke else 1000 if quick else 5000
  tasks, keys = {}, {}  # sub-workdir -> measure(), and -> (architecture, dataset)
  for data in IMAGE_DATASETS:
    for arch, config_name in ARCHS.items():
      for seed in seeds:
        name = f"{config_name}_{data}_seed{seed}"
        tasks[name] = functools.partial(image_run, config_name, data, seed, steps, num_samples,
                                        os.path.join(workdir, name), smoke)
        keys[name] = (arch, data)
  for seed in seeds:
    name = f"grid25_seed{seed}"
    tasks[name] = functools.partial(grid_run, seed, grid_steps, os.path.join(workdir, name),
                                    smoke)
    keys[name] = ("fully connected", "grid25")
  runs = {}  # (arch, dataset) -> per-seed measurements
  for name, measured in report_lib.measure_runs(tasks, workdir).items():
    runs.setdefault(keys[name], []).append(measured)
  for key, per_seed in runs.items():
    for seed, r in zip(seeds, per_seed):
      r.update(seed=seed, **outcome(r))
  successes = {key: [r["success"] for r in per_seed] for key, per_seed in runs.items()}
  rep.results = {f"{arch} / {data}": per_seed for (arch, data), per_seed in runs.items()}
  _tables(rep, runs, steps, grid_steps, num_samples)
  _trajectory_figure(rep, workdir, runs, steps)
  for statement, holds in verdicts(successes):
    rep.verdict(statement, holds)
  return rep.write(workdir)


def _tables(rep: report_lib.Report, runs: dict, steps: int, grid_steps: int,
            num_samples: int) -> None:
  summary = []
  for (arch, data), per_seed in runs.items():
    n = len(per_seed)
    ok, wins, coll = (sum(r[k] for r in per_seed) for k in ("success", "d_wins", "collapsed"))
    lo, hi = wilson(ok, n)
    summary.append([data, arch, f"{ok}/{n}", f"[{lo:.2f}, {hi:.2f}]", f"{wins}/{n}",
                    f"{coll}/{n}"])
  rep.table("Outcomes per (architecture, dataset)",
            ["dataset", "architecture", "successes", "95% Wilson interval", "D wins outright",
             "mode collapse"], summary)
  rows = []
  for (arch, data), per_seed in runs.items():
    if data == "grid25":
      continue
    for r in per_seed:
      rows.append([data, arch, r["seed"], *r["fd"], r["fd_floor"], r["fd"][-1] / r["fd_floor"],
                   r["classes_present"], r["final_d_fake"], r["success"], r["d_wins"],
                   r["collapsed"]])
  thirds = [f"FD at step {steps * i // CHECKPOINTS}" for i in range(1, CHECKPOINTS + 1)]
  rep.table(f"Image runs per seed (Frechet distance of {num_samples} samples vs as many test "
            "images, shipped classifier's features)",
            ["dataset", "architecture", "seed", *thirds, "floor", "FD / floor",
             "classes present", "D(G(z)) at the end", "success", "D wins", "collapse"], rows)
  rep.table(f"25-Gaussian grid per seed ({grid_steps} steps)",
            ["seed", "modes covered", "high-quality fraction", "D(G(z)) at the end", "success",
             "D wins", "collapse"],
            [[r["seed"], f"{r['modes_covered']:g}/25", r["high_quality_fraction"],
              r["final_d_fake"], r["success"], r["d_wins"], r["collapsed"]]
             for r in runs[("fully connected", "grid25")]])
  rep.text(
      f"Rules, fixed in `experiments/gan_stability.py` before the runs. An image run "
      f"succeeds when its final Frechet distance is at most {FD_FACTOR:g}x the train-vs-test "
      f"floor, at least {MIN_CLASSES} of the 10 classes are present (a class is present "
      f"when the classifier reads it in at least {CLASS_SHARE:.0%} of its expected share of "
      f"samples; fewer is mode collapse), and D does not win outright. A grid run succeeds "
      f"when at least {MIN_MODES} of 25 modes are covered (fewer: collapse) and at least "
      f"{HIGH_QUALITY:.0%} of samples lie within 3 std of a mode. D wins outright when the "
      f"mean D(G(z)) of each of the last {D_WIN_ROWS} logged training rows ({LOG_EVERY} "
      f"steps each) is below {D_WIN:g}. A comparison agrees when the higher rate's 95% "
      "Wilson interval lies wholly above the other's, disagrees when the rate is not "
      "higher, and is inconclusive otherwise. Image runs: batch 64, one D step per G step, "
      f"{steps} G updates, Adam as each config sets it; grid: `configs/gan_toy.py:dist="
      f"grid25`, {grid_steps} steps of batch 256.")


def _trajectory_figure(rep: report_lib.Report, workdir: str, runs: dict, steps: int) -> None:
  xs = [steps * i // CHECKPOINTS for i in range(1, CHECKPOINTS + 1)]
  for data in IMAGE_DATASETS:
    series = {f"{arch} seed {r['seed']}": r["fd"]
              for arch in ARCHS for r in runs[(arch, data)]}
    name = f"{data}_fd.png"
    report_lib.line_plot(os.path.join(workdir, name), xs, series, xlabel="generator updates",
                         ylabel="Frechet distance", log_y=True,
                         title=f"{data}: Frechet distance per seed")
    rep.figure(f"{data}: Frechet distance over training, every seed", name)


if __name__ == "__main__":
  report_lib.cli(run)
