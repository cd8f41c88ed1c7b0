r"""Claim: a linear autoencoder trained with squared error learns PCA's subspace.

    python -m experiments.pca_vs_linear_ae --workdir=runs/pca          # full budget
    python -m experiments.pca_vs_linear_ae --workdir=runs/pca --quick  # minutes

Each (k, seed) is a measured run (`report.measure_runs`): two invocations on one
workdir share the work.

For code sizes k in {2, 8, 32} and SEEDS it trains `configs/linear_ae_mnist.py` (784-k-784,
no non-linearity, MSE) and the stacked non-linear `configs/ae_mnist.py` with a
k-unit code, then compares with PCA fitted on the same training images:

* principal angles between the linear decoder's column space and the top-k
  PCA subspace (theory: all zero at the optimum, Baldi & Hornik 1989);
* test reconstruction MSE per pixel: linear AE vs PCA (theory: equal at the
  optimum) and non-linear AE vs PCA (the non-linear AE should do better).
"""

from __future__ import annotations

import os

import numpy as np
from experiments import report as report_lib
from experiments.report import per_seed
from genjax.evaluation import subspace

CODE_SIZES = (2, 8, 32)
SEEDS = (0, 1, 2)
MSE_MARGIN = 1.01  # linear AE MSE / PCA MSE below this
MEDIAN_ANGLE_BAR, LARGEST_ANGLE_BAR = 5.0, 10.0  # degrees

HISTORY = (
    ("2026-11-24", "one seed (0), verdicts on that seed's values: 4/4 agree (linear / PCA "
                   "MSE 1.000 / 0.9998 / 1.000, largest angles 0.53 / 6.59 / 0.60 degrees, "
                   "non-linear AE MSE 0.0414 / 0.0179 / 0.0053 vs PCA 0.0557 / 0.0374 / "
                   "0.0168 at k = 2 / 8 / 32). Re-run 2026-12-03 (issue 21) over three "
                   "seeds, each verdict on the 95% t interval of its per-seed values."),
)


def _pixels(ds, split: str) -> np.ndarray:
  """A run's `Dataset` split as float64 rows [N, H * W * C] of pixels in [0, 1]."""
  images = np.asarray(ds.images(split))
  return images.reshape(len(images), -1).astype(np.float64)


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="PCA vs linear autoencoder",
      claim="An undercomplete autoencoder with a linear decoder and squared error "
            "learns the same subspace as PCA; a non-linear one beats PCA at the same code size.",
      prediction="principal angles between decoder column space and the top-k PCA "
                 "subspace near 0; linear-AE test MSE equal to PCA's; non-linear AE MSE lower.",
      quick=quick, history=HISTORY)
  linear_epochs = 3.0 if quick else 20.0
  nonlinear_epochs = 2.0 if quick else 20.0
  seeds = SEEDS[1:2] if smoke else SEEDS[:2] if quick else SEEDS  # smoke: seed 1 alone
  code_sizes = CODE_SIZES[:2] if smoke else CODE_SIZES
  pca = {}  # the PCA of the images every run reads (one data config), computed once
  tasks = {f"k{k}_seed{seed}": _task(workdir, smoke, k, seed, linear_epochs, nonlinear_epochs,
                                     pca)
           for seed in seeds for k in code_sizes}
  measured = report_lib.measure_runs(tasks, workdir)
  results = {f"k={k}": {str(seed): measured[f"k{k}_seed{seed}"] for seed in seeds}
             for k in code_sizes}
  rep.results = {"seeds": list(seeds), "by_k": results}
  _tables(rep, results, linear_epochs, nonlinear_epochs)
  ks = list(code_sizes)
  report_lib.line_plot(
      os.path.join(workdir, "mse_vs_k.png"), ks,
      {label: [np.mean(per_seed(results[f"k={k}"], key)) for k in ks] for key, label in (
          ("pca_mse", "PCA"), ("linear_ae_mse", "linear AE"),
          ("nonlinear_ae_mse", "non-linear AE"))},
      xlabel="code size k", ylabel="test MSE per pixel (mean over seeds)", log_x=True)
  rep.figure("Test MSE against code size", "mse_vs_k.png")
  for statement, holds in verdicts(results):
    rep.verdict(statement, holds)
  return rep.write(workdir)


def _task(workdir: str, smoke: bool, k: int, seed: int, linear_epochs: float,
          nonlinear_epochs: float, pca: dict):
  """measure(): trains the linear and the non-linear AE with code size k at `seed`."""
  def measure() -> dict:
    # Probes and Jacobians are other experiments' business: skip them here.
    lin_cfg = report_lib.config("linear_ae_mnist", smoke=smoke, seed=seed, **{
        "model.code_dim": k, "total_epochs": linear_epochs, "evals": {}})
    lin_run = report_lib.train_run(lin_cfg, os.path.join(workdir, f"linear_k{k}_seed{seed}"))
    if not pca:
      ds = lin_run.trainer.dataset
      train_x = _pixels(ds, "train")
      pca["test_x"] = _pixels(ds, "eval")
      pca["mean"], pca["components"], pca["variances"] = subspace.pca(train_x)
      del train_x
    # The one read of a method's state layout in the experiments: the model's
    # `decode` clips its output to [0, 1], so no model function gives the
    # linear decoder's weights W (nor its exact Jacobian where pixels clip).
    decoder = np.asarray(lin_run.model.state.params["decoder_0"]["kernel"])  # [k, 784]
    angles = np.degrees(subspace.principal_angles(decoder.T, pca["components"][:, :k]))
    nl_cfg = report_lib.config("ae_mnist", smoke=smoke, seed=seed, **{
        "model.code_dim": k, "total_epochs": nonlinear_epochs, "evals": {}})
    nl = report_lib.train_run(nl_cfg, os.path.join(workdir, f"nonlinear_k{k}_seed{seed}"))
    variances = pca["variances"]
    return {"largest_angle_deg": float(angles[-1]),
            "median_angle_deg": float(np.median(angles)),
            "angles_deg": [float(a) for a in angles],
            "eigengap_ratio": float(variances[k - 1] / variances[k]),
            "linear_ae_mse": lin_run.final["mse"], "nonlinear_ae_mse": nl.final["mse"],
            "pca_mse": subspace.pca_reconstruction_mse(pca["test_x"], pca["mean"],
                                                       pca["components"], k),
            "explained_variance": float(variances[:k].sum() / variances.sum())}
  return measure


def _mse_ratios(by_seed: dict) -> list[float]:
  return [r["linear_ae_mse"] / r["pca_mse"] for r in by_seed.values()]


def _tables(rep: report_lib.Report, results: dict, linear_epochs: float,
            nonlinear_epochs: float) -> None:
  rep.table("Test reconstruction and subspace agreement (mean over seeds, 95% t interval)",
            ["k", "largest angle (deg)", "median angle (deg)", "linear/PCA MSE",
             "PCA MSE", "non-linear AE MSE", "var_k / var_k+1"],
            [[k.removeprefix("k="), report_lib.interval_cell(per_seed(r, "largest_angle_deg")),
              report_lib.interval_cell(per_seed(r, "median_angle_deg")),
              report_lib.interval_cell(_mse_ratios(r)),
              per_seed(r, "pca_mse")[0], report_lib.interval_cell(per_seed(r, "nonlinear_ae_mse")),
              per_seed(r, "eigengap_ratio")[0]] for k, r in results.items()])
  rep.table("Per seed", ["k", "seed", "largest angle (deg)", "median angle (deg)",
                         "linear AE MSE", "PCA MSE", "linear/PCA", "non-linear AE MSE"],
            [[k.removeprefix("k="), seed, r["largest_angle_deg"], r["median_angle_deg"],
              r["linear_ae_mse"], r["pca_mse"], r["linear_ae_mse"] / r["pca_mse"],
              r["nonlinear_ae_mse"]] for k, by_seed in results.items()
             for seed, r in by_seed.items()])
  rep.text(f"Budgets: linear AE {linear_epochs:g} epochs (Adam 3e-3, cosine decay), "
           f"non-linear AE {nonlinear_epochs:g} epochs (Adam 1e-3); batch 128; seeds "
           f"{', '.join(next(iter(results.values())))}. MSE is per "
           "pixel on the 10k MNIST test images; PCA is fitted on the 60k training images. "
           "Gradient descent converges along each principal direction at a rate set by "
           "the gap between the variances it separates (`var_k / var_k+1` near 1 means a "
           "nearly flat loss), so the largest angle is the slowest statistic to reach 0; "
           "the MSE, which weighs directions by their variance, converges first. A verdict "
           "agrees if the 95% t interval over seeds lies on its side of the bar at every k, "
           "disagrees if it lies on the other side at some k, else is inconclusive.")


def verdicts(results: dict[str, dict[str, dict]]) -> list[tuple[str, bool | None]]:
  """The claim's predicates, fixed before the runs: each must hold at every k.

  Args:
    results: {"k=<k>": {seed: {"pca_mse", "linear_ae_mse", "nonlinear_ae_mse",
      "median_angle_deg", "largest_angle_deg"}}}.
  """
  rs = list(results.values())
  above = report_lib.above
  return [
      (f"linear-AE test MSE within {MSE_MARGIN - 1:.0%} of PCA's for every k",
       report_lib.every([above([MSE_MARGIN - v for v in _mse_ratios(r)]) for r in rs])),
      (f"median principal angle below {MEDIAN_ANGLE_BAR:g} degrees for every k",
       report_lib.every([above([MEDIAN_ANGLE_BAR - v for v in per_seed(r, "median_angle_deg")])
               for r in rs])),
      # A small k has well separated eigenvalues, so its subspace is well defined;
      # at k = 32 the 32nd and 33rd variances are close and the slowest direction
      # converges slowly, so the largest angle is the harshest statistic there.
      (f"largest principal angle below {LARGEST_ANGLE_BAR:g} degrees for every k",
       report_lib.every([above([LARGEST_ANGLE_BAR - v for v in per_seed(r, "largest_angle_deg")])
               for r in rs])),
      ("non-linear AE beats PCA at every k",
       report_lib.every([above([p - n for p, n in zip(per_seed(r, "pca_mse"),
                                            per_seed(r, "nonlinear_ae_mse"))]) for r in rs])),
  ]


if __name__ == "__main__":
  report_lib.cli(run)
