r"""Claim: a GAN can be used for semi-supervised learning.

    python -m experiments.semi_supervised_gan --workdir=runs/ssgan          # ~25 min per SSGAN run alone (2-core CPU)
    python -m experiments.semi_supervised_gan --workdir=runs/ssgan --quick  # 6000 steps a run

Salimans et al. 2016 (Improved Techniques for Training GANs, Table 1): a
discriminator with K class logits and an implicit "fake" class, trained with
cross-entropy on 100 labelled MNIST images and the real / fake game on the
rest, its generator by feature matching, makes 93 +- 6.5 test errors of
10,000 (0.93%). This trains `configs/ssgan_mnist.py` for SEEDS (a seed also
picks which 100 training images are labelled, 10 per class) and, as the
baseline, the same D on those 100 labels alone (`:supervised_only`: no G, no
unlabelled data), and reads each run's `ssgan_test_error`: the class error of
D's parameter average on all 10,000 test images.

A second protocol trains both arms on Salimans et al.'s own labelled subset
(`data.labelled_draw="salimans2016"`, their script's default --seed_data=1)
for THEIR_SUBSET_SEEDS, the seed then changing only init and draws: their
script takes the subset from --seed_data, not --seed.

Verdicts, fixed before the full runs, on the 95% t interval over seeds
(`report.above`), for each protocol: the SSGAN's test error is at most
ERROR_GOAL; and it is below the labels-only D's, paired by seed. The median
over seeds is reported beside the mean.

Budgets: FULL_EPOCHS = 60 epochs (36,000 steps of batch 100) per run, a
fifth of the config's (and Salimans et al.'s) 300, so that a run finishes
within one working session (see HISTORY); --quick 6000 steps and two seeds.
Two invocations on one workdir share the runs (one per core). Finished runs
are kept in experiments/results/semi_supervised_gan/kept_runs/
(`scripts/keep_runs.py`; `--restore` puts them into a fresh workdir).
"""

from __future__ import annotations

import os

import numpy as np

from experiments import report as report_lib
from genjax import writers

SEEDS = (0, 1, 2, 3, 4)
QUICK_STEPS = 6000
FULL_EPOCHS = 60.0
ERROR_GOAL = 0.015  # issue 20's bar; Salimans et al. measured 0.0093
PAPER_ERROR = 0.0093
ARMS = {"ssgan": None, "labels_only": "supervised_only"}  # run name -> config variant
THEIR_SUBSET_SEEDS = (0, 1, 2)
THEIR_SEED_DATA = 1  # train_mnist_feature_matching.py's default --seed_data
THEIR_ARMS = {"ssgan_their_subset": None, "labels_only_their_subset": "supervised_only"}
HISTORY = (
    ("2026-12-03", "Before these rules, `configs/ssgan_mnist.py` seed 0 with D initialised "
                   "without its Gaussian noise (commit 5add0d5) ran 72,000 of its 180,000 "
                   "steps: test error 2.41%, flat at 2.3-2.4% from epoch 60; D's init was "
                   "then made as Salimans et al.'s (noise on; 32bcc52), see "
                   "experiments/results/configs/ssgan_mnist.md."),
    ("2026-12-04", "The runs under those rules (seed 0 to step ~60,000: 2.27% at 54,000, "
                   "falling ~0.02 points per 6,000 steps; seed 1 to 11,500) were lost with "
                   "the machine before any report. The config then took Salimans et al.'s "
                   "Adam (epsilon inside the square root) and feature-matching scale (mean "
                   "over features), and 16-bit Gaussian noise; every run restarted under it."),
    ("2026-12-05", "Under those rules (300 epochs a run) seed 0 reached ~150,000 of its "
                   "180,000 steps, test error 2.24% / 2.22% / 2.15% / 2.11% / 2.06% at steps "
                   "36,000 / 60,000 / 84,000 / 114,000 / 144,000, and was lost with the "
                   "machine (its second loss) before any other run. Runs must now finish "
                   "within one ~3-hour session, so the budget became 60 epochs (36,000 "
                   "steps, ~1 h a run alone); the threshold (1.5%), the seeds and the "
                   "aggregation are unchanged. Seed 0's trajectory above says the cut costs "
                   "~0.2 points of test error."),
    ("2026-12-05", "Under those rules the report said 2.34% / 2.48% / 2.34% over seeds 0 / 1 "
                   "/ 2 (labels only 22.97% / 22.61% / 22.56%): DISAGREES with the 1.5% bar, "
                   "AGREES with beating the labels-only D. A minimal port of Salimans et "
                   "al.'s script (a one-off, not in the tree; same data, networks, losses and "
                   "Adam) then reached 1.18% at the same 36,000 steps (seed 0). genjax's G "
                   "now matches features of a second, independent unlabelled batch (theirs: "
                   "`trainx_unl2`; genjax reused D's batch) and D's data-dependent init sees "
                   "500 images (theirs; genjax: one batch of 100), and every run of both "
                   "arms restarted; threshold, seeds, budget and aggregation unchanged."),
    ("2026-12-05", "Under those rules seeds 0 / 1 / 2 gave 2.26% / 2.28% / 1.19% (labels only "
                   "22.76% / 22.47% / 22.31%): the 1.5% bar INCONCLUSIVE (95% t interval "
                   "[0.36%, 3.46%], median 2.26%), beating the labels-only D AGREES. Their "
                   "confusion shows a two-valued outcome: seeds 0 and 1 put crossed sevens "
                   "into class 8 / 3 (124 / 116 of the 1,028 test sevens wrong; seed 2: 17), "
                   "and none of the three labelled subsets holds a crossed seven (~11% of the "
                   "training sevens). Three seeds are too few for the median of such an "
                   "outcome (Salimans et al. averaged 10 subsets): seeds 3 and 4 were added, "
                   "decided before their runs and before their subsets were looked at; "
                   "threshold, budget and aggregation unchanged."),
    ("2026-12-05", "Under those rules seeds 0-4 gave 2.26% / 2.28% / 1.19% / 2.72% / 1.48% "
                   "(median 2.26%; 1.5% bar INCONCLUSIVE, beating labels-only AGREES). "
                   "Their script draws the labelled subset from --seed_data (default 1), "
                   "apart from --seed, so runs that change only --seed share one subset, "
                   "which by the proxy above labels one crossed seven. Added, before any "
                   "run on it: the THEIR_ARMS protocol, that subset found among TFDS's rows, "
                   "seeds 0-2, with the same threshold, budget and aggregation."),
)


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="Semi-supervised GAN on MNIST with 100 labels",
      claim="A GAN can be used in semi-supervised learning: its discriminator, given K "
            "class outputs and an implicit fake class, learns to classify from a few labels "
            "plus the unlabelled data (Salimans et al. 2016).",
      prediction=f"with 100 labels the SSGAN's test error is at most {ERROR_GOAL:.1%} "
                 f"(Salimans et al.: {PAPER_ERROR:.2%}) and below that of the same D "
                 "trained on the 100 labels alone.",
      quick=quick, history=HISTORY)
  seeds = SEEDS[1:2] if smoke else SEEDS[:2] if quick else SEEDS  # smoke: seed 1 alone
  # Smoke runs train on a 1,024-image slice, where their subset does not exist.
  their_seeds = () if smoke else THEIR_SUBSET_SEEDS[:1] if quick else THEIR_SUBSET_SEEDS
  budget = ({"total_steps": QUICK_STEPS, "total_epochs": None} if quick
            else {"total_epochs": FULL_EPOCHS})
  protocols = ((ARMS, seeds, lambda seed: {"data__labelled_seed": seed}),
               (THEIR_ARMS, their_seeds, lambda seed: {
                   "data__labelled_seed": THEIR_SEED_DATA,
                   "data__labelled_draw": "salimans2016"}))
  tasks = {f"{arm}_seed{seed}": _task(os.path.join(workdir, f"{arm}_seed{seed}"), variant,
                                      dict(seed=seed, **subset(seed), **budget), smoke)
           for arms, arm_seeds, subset in protocols
           for arm, variant in arms.items() for seed in arm_seeds}
  measured = report_lib.measure_runs(tasks, workdir)
  results = {arm: {str(seed): measured[f"{arm}_seed{seed}"] for seed in arm_seeds}
             for arms, arm_seeds, _ in protocols for arm in arms}
  rep.results = {"seeds": list(seeds), "their_subset_seeds": list(their_seeds),
                 "by_arm": results, "summary": summarize(results)}
  _write_tables(rep, workdir, results)
  for statement, holds in verdicts(results):
    rep.verdict(statement, holds)
  return rep.write(workdir)


def _task(run_dir: str, variant: str | None, overrides: dict, smoke: bool):
  def measure() -> dict:
    cfg = report_lib.config("ssgan_mnist", variant, smoke=smoke, **overrides)
    report_lib.train_run(cfg, run_dir)
    final = report_lib.final_extras(run_dir)
    evals = [r for r in writers.read_metrics(run_dir, "eval") if "class_error" in r]
    return {"test_error": final["ssgan_test_error"], "test_errors": final["ssgan_test_errors"],
            "trajectory": [[r["step"], r["class_error"]] for r in evals]}
  return measure


def _errors(results: dict, arm: str) -> list[float]:
  return report_lib.per_seed(results[arm], "test_error")


def summarize(results: dict) -> dict:
  """Mean, 95% t interval (None with one seed) and median over seeds of each arm's test error
  (arms without runs, e.g. their subset in a smoke run, left out)."""
  out = {}
  for arm in results:
    errors = _errors(results, arm)
    if not errors:
      continue
    mean, low, high = (report_lib.t_interval(errors) if len(errors) > 1
                       else (errors[0], None, None))
    out[arm] = {"mean": mean, "low": low, "high": high, "median": float(np.median(errors))}
  return out


def verdicts(results: dict) -> list[tuple[str, bool | None]]:
  """The claim's predicates, fixed before the runs: two per protocol.

  `results`: {arm: {seed (str): {"test_error", ...}}} for the arms of ARMS
  and THEIR_ARMS, the same seeds in both arms of a protocol (no seeds:
  inconclusive).
  """
  out = []
  for (ssgan_arm, alone_arm), subset in ((ARMS, "random labelled subsets, one per seed"),
                                         (THEIR_ARMS, "Salimans et al.'s labelled subset")):
    ssgan, alone = _errors(results, ssgan_arm), _errors(results, alone_arm)
    out += [
        (f"SSGAN test error <= {ERROR_GOAL:.1%} with 100 labels (Salimans et al.: "
         f"{PAPER_ERROR:.2%}); {subset}; 95% t interval over seeds",
         report_lib.above([ERROR_GOAL - e for e in ssgan])),
        (f"SSGAN test error below the same D's trained on the 100 labels alone; {subset}; "
         "paired by seed, 95% t interval of the differences",
         report_lib.above([b - s for s, b in zip(ssgan, alone, strict=True)])),
    ]
  return out


def _write_tables(rep, workdir: str, results: dict) -> None:
  for (ssgan_arm, alone_arm), title in (
      (ARMS, "Test class error on the 10,000 MNIST test images (D's parameter average)"),
      (THEIR_ARMS, "On Salimans et al.'s labelled subset (their --seed_data=1): test class "
                   "error")):
    ssgan, alone = results[ssgan_arm], results[alone_arm]
    if ssgan:
      rep.table(title, ["seed", "SSGAN", "labels only", "labels only - SSGAN"],
                [[seed, ssgan[seed]["test_error"], alone[seed]["test_error"],
                  alone[seed]["test_error"] - ssgan[seed]["test_error"]] for seed in ssgan])
  rep.table("Over seeds", ["arm", "mean [95% t interval]", "median"],
            [[arm, report_lib.interval_cell(_errors(results, arm)),
              float(np.median(_errors(results, arm)))] for arm in results if results[arm]])
  _write_figure(rep, workdir, results)
  rep.text("Runs: `configs/ssgan_mnist.py` (SSGAN) and `configs/ssgan_mnist.py:"
           "supervised_only` (labels only) with `--config.seed=S --config.data."
           "labelled_seed=S` (their subset: `--config.data.labelled_draw=salimans2016 "
           f"--config.data.labelled_seed={THEIR_SEED_DATA}`); the networks and optimiser are "
           "the config's (experiments/results/configs/ssgan_mnist.md), the budget "
           f"{FULL_EPOCHS:.0f} epochs (the config's: 300; see the history). Errors count all "
           "10,000 test images. Intervals: 95% Student t over seeds.")


def _write_figure(rep, workdir: str, results: dict) -> None:
  """The SSGAN runs' test error over training (the labels-only D's sit at ~20%: tables)."""
  subsets = {"ssgan": "random subset", "ssgan_their_subset": "their subset"}
  curves = {f"seed {seed}, {subset}": dict(map(tuple, r["trajectory"]))  # step -> error
            for arm, subset in subsets.items() for seed, r in results[arm].items()}
  # Steps evaluated by every run (a run resumed with another eval cadence has more).
  steps = sorted(set.intersection(*(set(curve) for curve in curves.values())))
  if steps:
    series = {name: [curve[s] for s in steps] for name, curve in curves.items()}
    report_lib.line_plot(os.path.join(workdir, "test_error.png"), steps, series,
                         xlabel="training step", ylabel="test class error", log_y=True,
                         legend_outside=True)
    rep.figure("Test class error during training (D's parameter average)", "test_error.png")


if __name__ == "__main__":
  report_lib.cli(run)
