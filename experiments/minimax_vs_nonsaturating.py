r"""Claim: the saturating generator loss learns slowly; the non-saturating one does not.

    python -m experiments.minimax_vs_nonsaturating --workdir=runs/minimax          # full budget
    python -m experiments.minimax_vs_nonsaturating --workdir=runs/minimax --quick  # minutes

Goodfellow et al. 2014 (Sec. 3): early in training D rejects G's samples
confidently, and log(1 - D(G(z))) saturates; maximising log D(G(z)) instead
has the same fixed point and strong gradients exactly when G is bad. Per
sample, d loss / d logit is -D(G(z)) for the minimax loss and
-(1 - D(G(z))) for the non-saturating one, so while D(G(z)) is small the
minimax gradient is smaller by about D / (1 - D).

Trains both `gan.generator_loss` values, everything else equal (same seed,
so the same initial G and D):

* `configs/gan_toy.py:dist=ring8` (8 Gaussians on a circle): modes covered
  and the fraction of samples within 3 std of a mode, over several seeds;
* `configs/dcgan_mnist.py`: Frechet distance in the project classifier's
  features. The DCGAN, because it is measured to train on a CPU budget; the
  fully connected architecture, made conditional, lost outright to its D
  (D(G(z)) 0.003 by step 1000, configs/gan_mnist.py);
* both log the G gradient norm (`g_grad_norm`) and D(G(z)) seen by the G
  step (`d_fake_g_step`) every few steps, compared over the first steps.

Budgets: ring8 20000 steps x 3 seeds per loss, MNIST 4000 steps (4.3
epochs) per loss; --quick ring8 2000 steps x 1 seed, MNIST 400 steps.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

from experiments import report as report_lib
from genjax import writers

LOSSES = ("minimax", "non_saturating")
EARLY_STEPS = 200    # "the first steps": the window the gradient norms are compared over
GRAD_RATIO = 0.5     # minimax's early G gradient must be at most this fraction of NS's
LOG_EVERY = 10       # train metrics logged (averaged) every LOG_EVERY steps


def _train_rows(run_dir: str) -> tuple[list[int], list[float], list[float]]:
  """(steps, g_grad_norm, d_fake_g_step) of every logged train row."""
  rows = writers.read_metrics(run_dir, "train")
  return ([r["step"] for r in rows], [r["g_grad_norm"] for r in rows],
          [r["d_fake_g_step"] for r in rows])


def _early_mean(steps, values, limit: int = EARLY_STEPS) -> float:
  """Mean of the rows logged within the first `limit` steps (at least the first row)."""
  picked = [v for s, v in zip(steps, values) if s <= limit] or values[:1]
  return float(np.mean(picked))


def _latest_png(run_dir: str, prefix: str) -> str | None:
  images = os.path.join(run_dir, "images")
  found = sorted(f for f in os.listdir(images) if f.startswith(prefix)) if os.path.isdir(
      images) else []
  return os.path.join(images, found[-1]) if found else None


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="Minimax vs non-saturating generator loss",
      claim="The saturating generator loss log(1 - D(G(z))) gives G little gradient while "
            "D confidently rejects its samples, so G learns slowly; the non-saturating "
            "-log D(G(z)) has the same fixed point and does not saturate (Goodfellow et "
            "al. 2014, Sec. 3).",
      prediction=f"over the first {EARLY_STEPS} steps the minimax G gradient norm is a "
                 f"fraction of the non-saturating one (about D(G(z)) / (1 - D(G(z)))); at "
                 "the same budget the non-saturating GAN covers at least as many ring modes "
                 "with more high-quality samples, and reaches a lower Frechet distance on "
                 "MNIST.",
      quick=quick)
  toy_steps, toy_seeds = (2000, (0,)) if quick else (20000, (0, 1, 2))
  mnist_steps = 400 if quick else 4000
  num_samples = report_lib.SMOKE_SAMPLES if smoke else 2000 if quick else 10_000
  early = {}  # (dataset, loss) -> (steps, g_grad_norm, d_fake_g_step) of seed 0
  toy, toy_cfg = _ring8(rep, workdir, toy_steps, toy_seeds, early, smoke)
  mnist, mnist_cfg = _mnist(rep, workdir, mnist_steps, num_samples, early, smoke)
  rep.results = {"ring8": toy, "mnist": mnist}
  rep.text(
      f"Budgets: ring8 `configs/gan_toy.py:dist=ring8` (MLP G and D, batch "
      f"{toy_cfg.batch_size}, Adam {toy_cfg.optimizer.lr:g} {toy_cfg.optimizer.schedule}, "
      f"R1 gamma {toy_cfg.gan.r1_weight:g}), {toy_cfg.total_steps} steps, seeds: "
      f"{', '.join(map(str, toy_seeds))}; MNIST `configs/dcgan_mnist.py` (batch "
      f"{mnist_cfg.batch_size}, Adam 2e-4 / b1 0.5 for G and D), {mnist_cfg.total_steps} "
      f"steps, seed 0, Frechet distance etc. over {num_samples} samples. Each pair of runs "
      "differs only in `gan.generator_loss`. Train metrics are means over blocks of "
      f"{LOG_EVERY} steps; 'first {EARLY_STEPS} steps' averages the blocks up to step "
      f"{EARLY_STEPS}. A mode is covered when it gets at least 10% of its expected share "
      "of samples within 3 std; 'high-quality' samples lie within 3 std of a mode.")
  rep.text(
      "Both losses are optimised with Adam, which divides each gradient coordinate by a "
      "running estimate of its scale: a uniformly smaller gradient is largely rescaled, so "
      "a smaller minimax gradient norm need not mean proportionally slower learning. What "
      "Adam cannot undo is the weighting inside the gradient: minimax weighs each sample "
      "by D(G(z)), so the samples D rejects most confidently (the worst ones) move least.")
  _ratio_table(rep, toy, mnist)
  _early_figures(rep, workdir, early)
  for prefix, title in (("ring8_", "ring8, {}: data (left) and G's samples (right)"),
                        ("mnist_", "MNIST DCGAN samples, {}")):
    for loss in LOSSES:
      name = f"{prefix}{loss}.png" if prefix == "ring8_" else f"{prefix}{loss}_samples.png"
      if os.path.exists(os.path.join(workdir, name)):
        rep.figure(title.format(loss), name)
  for statement, holds in verdicts(toy, mnist):
    rep.verdict(statement, holds)
  return rep.write(workdir)


_LOGGING = {"log_every_steps": LOG_EVERY, "steps_per_dispatch": LOG_EVERY}


def _ring8(rep, workdir: str, steps: int, seeds, early: dict, smoke: bool):
  """Trains both losses on the 8-Gaussian ring per seed: (results, the last config)."""
  results, rows = {}, []
  for loss in LOSSES:
    per_seed = []
    for seed in seeds:
      cfg = report_lib.config("gan_toy", f"dist=ring8,loss={loss}", smoke=smoke, **{
          "seed": seed, "total_steps": steps, **_LOGGING})
      run_dir = os.path.join(workdir, f"ring8_{loss}_seed{seed}")
      final = report_lib.train_run(cfg, run_dir).final
      with open(os.path.join(run_dir, "final_metrics.json")) as f:
        modes = json.load(f)["final"]
      train_steps, grads, d_fake = _train_rows(run_dir)
      if seed == seeds[0]:
        early[("ring8", loss)] = (train_steps, grads, d_fake)
        hist = _latest_png(run_dir, "samples_")
        if hist:
          shutil.copy(hist, os.path.join(workdir, f"ring8_{loss}.png"))
      per_seed.append({"seed": seed, "modes_covered": modes["modes_covered"],
                       "high_quality_fraction": modes["high_quality_fraction"],
                       "sample_log_density": final["sample_log_density"],
                       "d_fake": final["d_fake"],
                       "early_g_grad_norm": _early_mean(train_steps, grads),
                       "early_d_fake": _early_mean(train_steps, d_fake)})
    results[loss] = {
        "runs": per_seed,
        **{f"mean_{k}": float(np.mean([r[k] for r in per_seed]))
           for k in ("modes_covered", "high_quality_fraction", "early_g_grad_norm",
                     "early_d_fake")}}
    rows += [[loss, r["seed"], f"{r['modes_covered']:g}/8", r["high_quality_fraction"],
              r["sample_log_density"], r["d_fake"], r["early_d_fake"], r["early_g_grad_norm"]]
             for r in per_seed]
  rep.table(f"8-Gaussian ring (final eval over {cfg.evals.modes.num_samples} samples)",
            ["generator loss", "seed", "modes covered", "high-quality fraction",
             "mean log p_data(G(z))", "D(G(z)) at the end",
             f"D(G(z)), first {EARLY_STEPS} steps",
             f"G grad norm, first {EARLY_STEPS} steps"], rows)
  return results, cfg


def _mnist(rep, workdir: str, steps: int, num_samples: int, early: dict, smoke: bool):
  """Trains both losses on the MNIST DCGAN, seed 0: (results, the last config)."""
  results, rows = {}, []
  for loss in LOSSES:
    cfg = report_lib.config("dcgan_mnist", f"loss={loss}", smoke=smoke, **{
        "total_steps": steps, "eval_every_steps": steps,
        "evals.sample_quality.num_samples": num_samples, **_LOGGING})
    run_dir = os.path.join(workdir, f"mnist_{loss}")
    final = report_lib.train_run(cfg, run_dir).final
    with open(os.path.join(run_dir, "final_metrics.json")) as f:
      quality = json.load(f)["final"]
    train_steps, grads, d_fake = _train_rows(run_dir)
    early[("mnist", loss)] = (train_steps, grads, d_fake)
    grid = _latest_png(run_dir, "samples_")
    if grid:
      shutil.copy(grid, os.path.join(workdir, f"mnist_{loss}_samples.png"))
    r = results[loss] = {
        "fd": quality["fd"], "fd_floor": quality["fd_floor"],
        "classifier_score": quality["classifier_score"],
        "precision": quality["precision"], "recall": quality["recall"],
        "d_real": final["d_real"], "d_fake": final["d_fake"],
        "early_g_grad_norm": _early_mean(train_steps, grads),
        "early_d_fake": _early_mean(train_steps, d_fake)}
    rows.append([loss, r["fd"], r["fd_floor"], r["classifier_score"], r["precision"],
                 r["recall"], r["d_real"], r["d_fake"], r["early_d_fake"],
                 r["early_g_grad_norm"]])
  rep.table(f"MNIST DCGAN (final eval, {int(quality['num_quality_samples'])} samples vs "
            "as many test images, project classifier features)",
            ["generator loss", "Frechet distance", "floor (train vs test)",
             "classifier score", "precision", "recall", "D(x) at the end",
             "D(G(z)) at the end", f"D(G(z)), first {EARLY_STEPS} steps",
             f"G grad norm, first {EARLY_STEPS} steps"], rows)
  return results, cfg


def _ratio_table(rep, toy: dict, mnist: dict) -> None:
  """Measured early gradient ratio beside the one the mean D(G(z)) predicts."""
  # Each sample's gradient is weighted by D (minimax) or 1 - D (non-saturating):
  # the ratio of the mean weights each G saw is what the gradient-norm ratio
  # should roughly follow. Near 1 when D is not confident: no saturation then.
  rows = []
  for name, group, key, d_key in (("ring8", toy, "mean_early_g_grad_norm", "mean_early_d_fake"),
                                  ("MNIST", mnist, "early_g_grad_norm", "early_d_fake")):
    d_mm, d_ns = group["minimax"][d_key], group["non_saturating"][d_key]
    rows.append([name, d_mm, d_ns, d_mm / (1 - d_ns),
                 group["minimax"][key] / group["non_saturating"][key]])
  rep.table(f"Early G gradient ratio (first {EARLY_STEPS} steps), measured vs predicted",
            ["data", "D(G(z)), minimax run", "D(G(z)), non-saturating run",
             "predicted ratio D_mm / (1 - D_ns)", "measured ratio minimax / non-saturating"],
            rows)


def _early_figures(rep, workdir: str, early: dict) -> None:
  """G's gradient norm and D(G(z)) over the first steps, per dataset and loss."""
  for dataset, title in (("ring8", "8-Gaussian ring"), ("mnist", "MNIST DCGAN")):
    steps = early[(dataset, LOSSES[0])][0]
    window = [i for i, s in enumerate(steps) if s <= max(5 * EARLY_STEPS, steps[0])]
    xs = [steps[i] for i in window]
    for column, ylabel, suffix, what, short in (
        (1, "G gradient norm", "grad_norm", "G gradient norm", "G grad norm"),
        (2, "D(G(z)) in the G step", "d_fake", "D(G(z))", "D(G(z))")):
      series = {f"{loss}: {short}": [early[(dataset, loss)][column][i] for i in window]
                for loss in LOSSES}
      name = f"{dataset}_early_{suffix}.png"
      report_lib.line_plot(os.path.join(workdir, name), xs, series, xlabel="training step",
                           ylabel=ylabel, log_y=column == 1,
                           title=f"{title}: first {xs[-1]} steps")
      rep.figure(f"{title}: {what} over the first steps", name)


def verdicts(toy: dict[str, dict[str, float]], mnist: dict[str, dict[str, float]]
             ) -> list[tuple[str, bool]]:
  """The claim's predicates, fixed before the runs.

  Args:
    toy: per loss ("minimax", "non_saturating") the ring8 means over seeds
      {"mean_early_g_grad_norm", "mean_modes_covered", "mean_high_quality_fraction"}.
    mnist: per loss {"early_g_grad_norm", "fd"}.
  """
  out = []
  for name, group, key in (("ring8", toy, "mean_early_g_grad_norm"),
                           ("MNIST", mnist, "early_g_grad_norm")):
    mm, ns = group["minimax"][key], group["non_saturating"][key]
    out.append((f"{name}: minimax's G gradient norm over the first {EARLY_STEPS} steps is "
                f"at most {GRAD_RATIO:g}x the non-saturating one's (measured {mm:.3g} vs "
                f"{ns:.3g}, ratio {mm / ns:.2f})", mm <= GRAD_RATIO * ns))
  mm, ns = toy["minimax"], toy["non_saturating"]
  out.append((
      "ring8: the non-saturating GAN covers at least as many modes and has a higher "
      f"high-quality fraction (means over seeds: modes {ns['mean_modes_covered']:.2f} vs "
      f"{mm['mean_modes_covered']:.2f}, fraction {ns['mean_high_quality_fraction']:.3f} vs "
      f"{mm['mean_high_quality_fraction']:.3f})",
      ns["mean_modes_covered"] >= mm["mean_modes_covered"]
      and ns["mean_high_quality_fraction"] > mm["mean_high_quality_fraction"]))
  out.append((f"MNIST: the non-saturating DCGAN reaches a lower Frechet distance "
              f"({mnist['non_saturating']['fd']:.1f} vs minimax {mnist['minimax']['fd']:.1f})",
              mnist["non_saturating"]["fd"] < mnist["minimax"]["fd"]))
  return out

if __name__ == "__main__":
  report_lib.cli(run)
