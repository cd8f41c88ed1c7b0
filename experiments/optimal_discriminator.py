r"""Claim: for a fixed G the best discriminator is D* = p_data / (p_data + p_g).

    python -m experiments.optimal_discriminator --workdir=runs/optimal_d          # full budget
    python -m experiments.optimal_discriminator --workdir=runs/optimal_d --quick  # minutes

Trains the GAN of `configs/gan_toy.py:dist=mog1d` (1-D mixture of three
Gaussians, so p_data is known exactly) for three seeds, then for each
trained generator:

* freezes G, trains a fresh discriminator to convergence and compares it
  with D* on a grid (`genjax.evaluation.optimal_discriminator.check`, the
  same check as the toy GAN's `optimal_discriminator` evaluator): max and mean |D - D*| where
  p_data + p_g exceeds 1% of its peak (Goodfellow et al. 2014, Prop. 1);
* measures how far p_g is from p_data, as the theory's value of the game
  puts it: V(G, D*) = -ln 4 + 2 JSD(p_data, p_g) (Thm. 1), so the fresh D's
  loss gives JSD >= ln 2 - loss / 2; and during training, at every eval
  from step 0, the JSD of the densities (the run's `toy_jsd` evaluator:
  p_data smoothed, a KDE of 200k G samples), its trajectory;
* reads the GAN's own discriminator at the end of training: mean D(x) on
  the 10k test points (eval `d_real`), which the theory puts at 1/2 once
  p_g = p_data (reported, not judged: it is 1/2 for many p_g != p_data).

A control runs the same check with G replaced by an exact sampler of
p_data, where D* = 1/2 everywhere: its gap is the floor of the measuring
procedure itself (finite D training, the kernel density estimate of p_g).

Budgets: 20000 GAN steps per seed; --quick 3000. The check's own budget
(12000 D steps, 2M G samples) is the same in both.
"""

from __future__ import annotations

import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from experiments import report as report_lib
from genjax import toy_data, train, writers
from genjax.evaluation import optimal_discriminator

SEEDS = (0, 1, 2)
DATA = "toy_mog1d"
TARGET_GAP = 0.05        # the project's target for max |D - D*| over the support
JSD_TARGET = 0.1         # nats (ln 2 = 0.693 for disjoint p_g, p_data): "p_g close to p_data"
JSD_FALL = 0.25          # the last eval's JSD at most this fraction of step 0's


# Changes after a measured run (kept in every report: experiments/report.py).
HISTORY = (
    ("2026-11-24", "the first full-budget run trained the check's D for 6000 steps: seed 1's "
                   "max |D - D*| was 0.056, over the 0.05 bar, so that verdict DISAGREED. The "
                   "check was lengthened to 12000 D steps for every seed (and the control) and "
                   "the run repeated; seed 1 then measured 0.040."),
    ("2026-12-02", "the verdict 'the GAN's own D is about 1/2 on real data' (|mean D(x) - 1/2| "
                   "<= 0.1; it agreed, 0.502-0.515, but holds for many p_g != p_data) was "
                   "replaced by two JSD verdicts. The 0.1-nat bar on the fresh D's JSD was set "
                   "after the previous run had measured 0.076 / 0.020 / 0.027 from its fresh "
                   "D, so it is no blind prediction; the trajectory rule (last eval <= 1/4 of "
                   "step 0) was set before any trajectory was measured."),
)


def _check_kwargs(smoke: bool) -> dict:
  """The check's budget: D training steps and G samples for p_g's density estimate."""
  if smoke:
    return dict(steps=200, num_gen_samples=20_000, hidden=(32, 32), batch_size=512, lr=3e-3)
  return dict(steps=12000, num_gen_samples=2_000_000, hidden=(256, 256, 256), batch_size=4096,
              lr=3e-3)


def _trained_networks(trained: train.TrainedRun):
  """(sample(key, n) from the trained G, D(x) of the GAN's own discriminator)."""
  model = trained.model
  # The model's JAX functions, not its numpy-level methods: the check jits
  # sample(key, n) itself, and reads one draw of n points per key.
  return model.function("sample"), jax.jit(model.function("discriminate"))


def _gaps(d, d_star, mask) -> tuple[float, float]:
  """(max, mean) of |d - d_star| over the grid points in the support mask."""
  gap = np.abs(np.asarray(d) - np.asarray(d_star))[np.asarray(mask)]
  return float(gap.max()), float(gap.mean())


def _listed(values) -> str:
  return ", ".join(f"{v:.3f}" for v in values)


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="The optimal discriminator",
      claim="For a fixed generator the discriminator that minimises the GAN's D loss is "
            "D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Prop. 1); "
            "at the end of GAN training p_g is close to p_data, where the value of the game "
            "V(G, D*) = -ln 4 + 2 JSD(p_data, p_g) is near its minimum (Thm. 1).",
      prediction=f"a fresh D trained against the frozen G matches D* on the support: "
                 f"max |D - D*| <= {TARGET_GAP} (the project's target); the JSD that D "
                 f"measures is small at the end (<= {JSD_TARGET} nats, ln 2 = 0.693 for "
                 f"disjoint distributions) and fell during training (the last eval's JSD "
                 f"of the densities <= {JSD_FALL:g} x step 0's).",
      quick=quick, history=HISTORY)
  steps = 3000 if quick else 20000
  seeds = SEEDS[1:2] if smoke else SEEDS  # smoke: seed 1 alone
  check_kwargs = _check_kwargs(smoke)
  results, rows, d_rows, curves, jsd_curves = {}, [], [], {}, {}
  for seed in seeds:
    r, cfg, curves[seed], jsd_curves[seed] = _seed(workdir, seed, steps, check_kwargs, smoke)
    results[f"seed{seed}"] = r
    rows.append([seed, f"{r['modes_covered']:g}/{r['num_modes']:g}",
                 r["high_quality_fraction"], r["od_max_gap"], r["od_mean_gap"],
                 r["od_weighted_gap"], r["od_d_loss"], r["od_jsd_from_d"], r["od_jsd_kde"],
                 r["gan_d_max_gap"], r["gan_d_mean_gap"]])
    d_rows.append([seed, r["d_real"], r["d_fake"], r["d_loss"], abs(r["d_real"] - 0.5),
                   r["jsd_start"], r["jsd_end"]])
    del r["num_modes"]  # in the table only
  # The control: D* = 1/2 exactly, so any gap is the procedure's own error.
  control = optimal_discriminator.check(toy_data.sampler(DATA), DATA, jax.random.key(999),
                                        plot_path=os.path.join(workdir, "optimal_d_control.png"),
                                        **check_kwargs)
  results["control_p_g_equals_p_data"] = {
      k: control[k] for k in ("od_max_gap", "od_mean_gap", "od_weighted_gap", "od_d_loss",
                              "od_jsd_from_d", "od_jsd_kde")}
  rows.append(["control (G = exact p_data sampler)", "-", "-", control["od_max_gap"],
               control["od_mean_gap"], control["od_weighted_gap"], control["od_d_loss"],
               control["od_jsd_from_d"], control["od_jsd_kde"], "-", "-"])
  rep.results = results
  rep.table("Fresh D (G frozen) against D*, on the support (p_data + p_g > 1% of peak)",
            ["seed", "modes covered", "high-quality fraction", "max gap", "mean gap",
             "density-weighted gap", "fresh D loss", "JSD from D (nats)",
             "JSD of the densities (nats)", "GAN's own D: max gap",
             "GAN's own D: mean gap"], rows)
  rep.table("The GAN's own discriminator at the end of training (eval, 10k test points)",
            ["seed", "mean D(x) real", "mean D(G(z))", "d_loss", "distance of D(x) from 1/2",
             "JSD of the densities at step 0 (nats)", "at the last eval"], d_rows)
  _describe(rep, cfg, check_kwargs, seeds)
  _figures(rep, workdir, curves)
  _jsd_figure(rep, workdir, jsd_curves)
  for statement, holds in verdicts([results[f"seed{s}"] for s in seeds], control):
    rep.verdict(statement, holds)
  return rep.write(workdir)


def _seed(workdir: str, seed: int, steps: int, check_kwargs: dict, smoke: bool):
  """Trains one GAN and checks its D: (measurements, config, (eval steps, D(x),
  D(G(z))), (eval steps, JSD of the densities))."""
  # The method's own optimal-D check is off: it is run here instead, where
  # the grid arrays are kept to compare the GAN's own D with D* too.
  cfg = report_lib.config("gan_toy", "dist=mog1d", smoke=smoke, **{
      "seed": seed, "total_steps": steps, "eval_every_steps": max(steps // 10, 10),
      "evals.optimal_discriminator.enabled": False})
  run_dir = os.path.join(workdir, f"mog1d_seed{seed}")
  trained = report_lib.train_run(cfg, run_dir)
  final = trained.final
  with open(os.path.join(run_dir, "final_metrics.json")) as f:
    modes = json.load(f)["final"]
  sample, d_gan = _trained_networks(trained)
  od = optimal_discriminator.check(sample, DATA, jax.random.key(1000 + seed),
                                   plot_path=os.path.join(workdir, f"optimal_d_seed{seed}.png"),
                                   **check_kwargs)
  gan_max, gan_mean = _gaps(d_gan(jnp.asarray(od["grid"])[:, None]), od["d_star"], od["mask"])
  measured = {
      "od_max_gap": od["od_max_gap"], "od_mean_gap": od["od_mean_gap"],
      "od_weighted_gap": od["od_weighted_gap"], "od_d_loss": od["od_d_loss"],
      "od_jsd_from_d": od["od_jsd_from_d"], "od_jsd_kde": od["od_jsd_kde"],
      "gan_d_max_gap": gan_max, "gan_d_mean_gap": gan_mean,
      "d_real": final["d_real"], "d_fake": final["d_fake"], "d_loss": final["d_loss"],
      "modes_covered": modes["modes_covered"],
      "high_quality_fraction": modes["high_quality_fraction"], "num_modes": modes["num_modes"]}
  evals = writers.read_metrics(run_dir, "eval")
  curve = ([r["step"] for r in evals if "d_real" in r], [r["d_real"] for r in evals if "d_real" in r],
           [r["d_fake"] for r in evals if "d_real" in r])
  jsd = ([r["step"] for r in evals], [r["jsd_kde"] for r in evals])
  measured.update(jsd_start=jsd[1][0], jsd_end=jsd[1][-1], jsd_steps=jsd[0], jsd_trajectory=jsd[1])
  return measured, cfg, curve, jsd


def _describe(rep, cfg, check_kwargs: dict, seeds) -> None:
  rep.text(
      f"Budgets: `configs/gan_toy.py:dist=mog1d` (G z ~ N(0, I_{cfg.model.latent_dim}) -> "
      f"{cfg.model.g_hidden} ReLU -> x, D {cfg.model.d_hidden} LeakyReLU -> logit, Adam "
      f"{cfg.optimizer.lr:g} / b1 0.5 {cfg.optimizer.schedule}, R1 gamma "
      f"{cfg.gan.r1_weight:g}, batch {cfg.batch_size}), {cfg.total_steps} steps per seed, seeds "
      f"{', '.join(map(str, seeds))}. The optimal-D check trains a fresh "
      f"{'x'.join(map(str, check_kwargs['hidden']))} MLP discriminator (Adam "
      f"{check_kwargs['lr']:g}, cosine decay, {check_kwargs['steps']} steps of "
      f"{check_kwargs['batch_size']} real + {check_kwargs['batch_size']} generated points) "
      "against the frozen G and estimates p_g by a kernel density estimate of "
      f"{check_kwargs['num_gen_samples']:,} G samples; D* uses the exact p_data "
      "convolved with the same kernel (a ratio of equally smoothed densities, so the "
      "KDE's widening of the tails cancels). "
      "gap = |D(x) - D*(x)| on a 401-point grid, over the points where p_data + p_g "
      "exceeds 1% of its peak; the density-weighted gap weighs the grid by "
      "(p_data + p_g) / 2. The fresh D loss at equilibrium would be "
      f"2 ln 2 = {2 * math.log(2):.3f}. How far p_g is from p_data, as the theory's "
      "V(G, D*) = -ln 4 + 2 JSD(p_data, p_g) puts it: JSD from D = ln 2 - (fresh D loss) / 2, "
      "a lower bound up to sampling noise; JSD of the densities from the smoothed p_data "
      "and the KDE of p_g on the grid (0 when p_g = p_data, ln 2 = 0.693 when disjoint). "
      "'GAN's own D' is the discriminator the GAN trained "
      "alongside G, read on the same grid: it was never trained to convergence against "
      "the final G, so it need not equal D*.")
  rep.text(
      "The control row replaces G by an exact sampler of p_data, where D* = 1/2 "
      "everywhere: its gap is what the measuring procedure reports for a perfect "
      "generator (sampling noise of the KDE in the tails, and D sees few samples there). "
      "A trained G's gap can only be read above that floor.")


def _figures(rep, workdir: str, curves: dict) -> None:
  for seed in curves:
    rep.figure(f"D and D* over x, seed {seed} (G frozen after training)",
               f"optimal_d_seed{seed}.png")
  rep.figure("Control: G = exact p_data sampler (D* = 1/2)", "optimal_d_control.png")
  eval_steps = next(iter(curves.values()))[0]  # every seed evaluates at the same steps
  series = {f"D(x) real, seed {s}": c[1] for s, c in curves.items()}
  series.update({f"D(G(z)), seed {s}": c[2] for s, c in curves.items()})
  series["1/2"] = [0.5] * len(eval_steps)
  report_lib.line_plot(os.path.join(workdir, "d_during_training.png"), eval_steps, series,
                       xlabel="training step", ylabel="mean D on the eval set")
  rep.figure("The GAN's own D on real test points and on samples, during training",
             "d_during_training.png")


def _jsd_figure(rep, workdir: str, jsd_curves: dict) -> None:
  steps = next(iter(jsd_curves.values()))[0]
  series = {f"seed {s}": c[1] for s, c in jsd_curves.items()}
  report_lib.line_plot(os.path.join(workdir, "jsd_during_training.png"), steps, series,
                       xlabel="training step", ylabel="JSD(p_data, p_g), nats")
  rep.figure("JSD of the densities during training (toy_jsd at every eval, from step 0)",
             "jsd_during_training.png")


def verdicts(seeds: list[dict[str, float]], control: dict[str, float]
             ) -> list[tuple[str, bool]]:
  """The claim's predicates (see HISTORY for when each was set): each must hold
  in every seed.

  Args:
    seeds: per seed {"od_max_gap", "od_weighted_gap", "od_jsd_from_d",
      "jsd_start", "jsd_end"}.
    control: the exact-sampler control's {"od_max_gap"} (reported, not judged).
  """
  return [
      (f"fresh D matches D*: max |D - D*| <= {TARGET_GAP} on the support, every seed "
       f"(measured {_listed(r['od_max_gap'] for r in seeds)}; control "
       f"{control['od_max_gap']:.3f})",
       all(r["od_max_gap"] <= TARGET_GAP for r in seeds)),
      (f"fresh D matches D* where the mass is: density-weighted |D - D*| <= "
       f"{TARGET_GAP}, every seed (measured {_listed(r['od_weighted_gap'] for r in seeds)})",
       all(r["od_weighted_gap"] <= TARGET_GAP for r in seeds)),
      (f"p_g is close to p_data at the end: the JSD from the fresh D (ln 2 - its loss / 2) "
       f"<= {JSD_TARGET} nats, every seed (measured "
       f"{_listed(r['od_jsd_from_d'] for r in seeds)})",
       all(r["od_jsd_from_d"] <= JSD_TARGET for r in seeds)),
      (f"training moves p_g towards p_data: the JSD of the densities at the last eval <= "
       f"{JSD_FALL:g} x its value at step 0, every seed (measured "
       + ", ".join(f"{r['jsd_start']:.3f} -> {r['jsd_end']:.3f}" for r in seeds) + ")",
       all(r["jsd_end"] <= JSD_FALL * r["jsd_start"] for r in seeds)),
  ]

if __name__ == "__main__":
  report_lib.cli(run)
