r"""Claim: a VAE is a likelihood model; its IWAE estimate measures log p(x) on test data.

    python -m experiments.vae_likelihood --workdir=runs/vae_likelihood          # full budget
    python -m experiments.vae_likelihood --workdir=runs/vae_likelihood --quick  # minutes

Trains on static binarized MNIST (Larochelle's binarisation, the setting of
the published numbers it is compared with):

* Burda et al.'s 784-200-200-50 tanh model trained on the ELBO (their "VAE",
  k=1) and on the IWAE bound with k=5 (`configs/iwae_mnist.py`), SEEDS each;
* the 784-500-2 VAE, whose 2-D latent plane is drawn as a manifold grid
  (decoded through the Gaussian inverse CDF) and a scatter of test means,
  SEEDS too;
* Kingma & Welling's 784-500-20 ReLU VAE (`configs/vae_mnist.py`), one seed,
  for the table only;
* the two Burda models on dynamically binarised MNIST (a fresh Bernoulli draw
  of the 60k training images every step; `configs/iwae_mnist.py:data=mnist`),
  the setting of Burda et al.'s Table 1, one seed each: measured beside their
  numbers, not a verdict (cost: 54M training examples each, ~1.6 h of
  training for the pair at the idle rates `configs/iwae_mnist.py`'s history
  records, 13.9k / 30.7k examples/s; three seeds would triple it).

For each it reports the test negative ELBO and the test NLL estimated with
k=5000 importance samples, with the NLL's two standard errors: of the
importance sampling (delta method from each image's own weights) and of the
finite test set. Each Burda model is compared with Burda et al.'s number for
the same objective, k and binarisation (their Appendix D, static binarised
MNIST, one stochastic layer): within 1 nat is a reproduction. Two invocations
on one workdir share the runs (`report.measure_runs`).
"""

from __future__ import annotations

import json
import os
import shutil

from experiments import report as report_lib

SEEDS = (0, 1, 2)
TOLERANCE = 1.0  # nats: "reproduces the published number"
# Test NLL (nats, k=5000) on static binarized MNIST, Burda et al. 2016, Appendix D
# (3280 epochs; one stochastic layer). Quoted as nbip/IWAE's README tabulates
# them; 88.71 and 87.10 (IWAE, k=50) were genjax's earlier quotes of the same table.
PUBLISHED = {
    "burda_vae": ("Burda et al. 2016, App. D, VAE k=1", 88.71),
    "burda_iwae": ("Burda et al. 2016, App. D, IWAE k=5", 87.63),
    # Table 1 (dynamically binarised MNIST, one stochastic layer, 3280 epochs).
    "burda_vae_dynamic": ("Burda et al. 2016, Table 1, VAE k=1, dynamic", 86.76),
    "burda_iwae_dynamic": ("Burda et al. 2016, Table 1, IWAE k=5, dynamic", 85.54),
}
# {model: (description, configs/iwae_mnist.py variant)}; each trains with its
# config's own budget (900 epochs).
BURDA = {
    "burda_vae": ("784-200-200-50 tanh, ELBO", "objective=elbo,k=1"),
    "burda_iwae": ("784-200-200-50 tanh, IWAE k=5", None),
    "burda_vae_dynamic": ("784-200-200-50 tanh, ELBO, dynamic binarisation",
                          "objective=elbo,k=1,data=mnist"),
    "burda_iwae_dynamic": ("784-200-200-50 tanh, IWAE k=5, dynamic binarisation", "data=mnist"),
}
HISTORY = (
    ("2026-12-03", "Rules replaced before any run under them (issue 21 items 2 and 4): three "
     "seeds per trained claim with 95% t intervals; each Burda model against the published "
     "number of its own setting (IWAE k=5: 87.63, was compared with IWAE k=50: 87.10) within "
     "1 nat (was: IWAE NLL <= 90); importance-sampling and test-set standard errors reported. "
     "The run under the old rules (2026-11-24, one seed, same budgets): k=5000 NLL 784-500-20 "
     "VAE 92.27, Burda ELBO 89.00, Burda IWAE k=5 87.67; 4/4 agreed (IWAE < ELBO-trained; "
     "IWAE <= 90; all ten digits in the 2-D manifold; NLL <= -ELBO, now a sanity check)."),
    ("2026-12-05", "Added before any run under the 2026-12-03 rules (issue 21 item 4): the "
     "two Burda models on dynamically binarised MNIST, one seed each, reported beside Burda "
     "et al.'s Table 1 (86.76 / 85.54); no verdict rests on them."),
)
# A smoke run's importance samples (the runlocal variants' own).
SMOKE_NLL = dict(evals__nll__samples=20, model__nll_chunk_size=10)


def _runs(quick: bool, smoke: bool = False):
  """{run name: (description, config name, config arg, overrides, seed)}."""
  # Full: each config's own budget (900 / 900 / 50 / 200 epochs). Quick: a
  # few epochs and k=500 importance samples.
  budget = dict(total_epochs=5.0, evals__nll__samples=500) if quick else {}
  seeds = SEEDS[1:2] if smoke else SEEDS[:2] if quick else SEEDS  # smoke: seed 1 alone
  runs = {}
  for seed in seeds:
    for model in ("burda_vae", "burda_iwae"):
      description, arg = BURDA[model]
      runs[f"{model}_seed{seed}"] = (description, "iwae_mnist", arg, budget, seed)
    runs[f"latent_2d_seed{seed}"] = ("784-500-2 ReLU VAE", "vae_mnist", "latent_dim=2,epochs=50",
                                     {**budget, "evals__nll__samples": 500}, seed)
  runs[f"kingma_vae_seed{seeds[0]}"] = ("784-500-20 ReLU VAE", "vae_mnist", None, budget,
                                        seeds[0])
  if not smoke:  # the static runs' code path; kept out of the suite's time
    for model in ("burda_vae_dynamic", "burda_iwae_dynamic"):
      description, arg = BURDA[model]
      runs[f"{model}_seed{seeds[0]}"] = (description, "iwae_mnist", arg, budget, seeds[0])
  return runs


def _measure(run_dir: str, config_name: str, arg, overrides: dict, seed: int, smoke: bool):
  """Trains one run and returns what the report needs from it."""
  def measure():
    cfg = report_lib.config(config_name, arg, smoke=smoke, smoke_extra=SMOKE_NLL, seed=seed,
                            **overrides)
    neg_elbo = report_lib.train_run(cfg, run_dir).final["neg_elbo"]
    with open(os.path.join(run_dir, "final_metrics.json")) as f:
      extras = json.load(f)["final"]  # the evaluators' results
    keep = ("nll", "manifold", "active_units", "latent_dim")
    return {"neg_elbo": neg_elbo, "epochs": cfg.total_epochs,
            **{k: v for k, v in extras.items() if k.startswith(keep)}}
  return measure


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="VAE likelihoods on binarized MNIST",
      claim="A VAE trained on the ELBO is a likelihood model whose test log-likelihood "
            "can be estimated by importance sampling (k=5000); training on the IWAE "
            "bound gives a better likelihood; a 2-D latent space organises the digits.",
      prediction="Burda's IWAE k=5 model has a lower NLL than the same network trained on "
                 "the ELBO; each is within 1 nat of Burda et al.'s number for its setting "
                 "(88.71 / 87.63, static binarisation); the 2-D manifold shows all ten digits.",
      quick=quick, history=HISTORY)
  runs = _runs(quick, smoke)
  results = report_lib.measure_runs(
      {name: _measure(os.path.join(workdir, name), *spec[1:], smoke)
       for name, spec in runs.items()}, workdir)
  rep.results = results
  _tables(rep, runs, results)
  _figures(rep, workdir, runs)
  for statement, holds in verdicts(results):
    rep.verdict(statement, holds)
  for statement, holds in sanity_checks(results):
    rep.sanity(statement, holds)
  return rep.write(workdir)


def _by_model(results: dict, model: str, key: str = "nll") -> list[float]:
  """Per-seed values of `key` for one model ("burda_vae", ...), in seed order."""
  return [r[key] for name, r in results.items() if name.rsplit("_seed", 1)[0] == model]


def _tables(rep, runs: dict, results: dict) -> None:
  rows = []
  for name, (description, *_, seed) in runs.items():
    r = results[name]
    published = PUBLISHED.get(name.rsplit("_seed", 1)[0])
    rows.append([description, seed, r["epochs"], r["neg_elbo"], r["nll"], r["nll_is_stderr"],
                 r["nll_test_stderr"], int(r["nll_samples"]),
                 f"{int(r['active_units'])}/{int(r['latent_dim'])}",
                 f"{published[1]} ({published[0]})" if published else "-"])
  rep.table("Test set (10k MNIST digits: Larochelle's static binarisation, or for the "
            "dynamic rows one fixed Bernoulli draw), nats per image",
            ["model", "seed", "epochs", "neg. ELBO", "NLL", "NLL s.e. (importance sampling)",
             "NLL s.e. (test set)", "k", "active units", "published NLL"], rows)
  rep.table("Burda models over seeds (mean [95% t interval]; dynamic rows: one seed, "
            "no verdict)",
            ["model", "NLL", "published", "bar"],
            [[model, report_lib.interval_cell(_by_model(results, model), ".4g"), value,
              f"{value - TOLERANCE:g} to {value + TOLERANCE:g}"]
             for model, (_, value) in PUBLISHED.items() if _by_model(results, model)])
  rep.text("NLL is -log (1/k) sum_i p(x, z_i) / q(z_i|x) with z_i ~ q(z|x), one draw of k "
           "samples per test image (`genjax/evaluation/likelihood.py`). Its importance-sampling "
           "standard error is sqrt(sum_i Var_i) / N with each image's delta-method variance "
           "sum w^2 / (sum w)^2 - 1/k; the test-set one is std_i(NLL_i) / sqrt(N). Burda et "
           "al. train for 3280 epochs with a stepwise decaying learning rate; the configs "
           "here use cosine decay over their own (shorter) budgets.")


def _figures(rep, workdir: str, runs: dict) -> None:
  """The first seed's 2-D manifold and scatter, and its IWAE model's samples."""
  first = min(seed for *_, seed in runs.values())
  figures = os.path.join(workdir, f"latent_2d_seed{first}", "figures")
  for name, title in (("latent_manifold.png", "2-D latent manifold (20x20 grid)"),
                      ("latent_scatter.png", "Test-set posterior means by label")):
    if os.path.exists(os.path.join(figures, name)):
      shutil.copy(os.path.join(figures, name), os.path.join(workdir, name))
      rep.figure(f"{title}, seed {first}", name)
  images = os.path.join(workdir, f"burda_iwae_seed{first}", "images")
  samples = sorted(p for p in os.listdir(images) if p.startswith("samples_"))
  if samples:
    shutil.copy(os.path.join(images, samples[-1]), os.path.join(workdir, "samples.png"))
    rep.figure(f"Samples from the prior (IWAE model, seed {first})", "samples.png")


def sanity_checks(results: dict[str, dict[str, float]]) -> list[tuple[str, bool]]:
  """Identities (a failure is a bug, not a refuted claim). Args: as `verdicts`."""
  return [("NLL (IWAE k) below the negative ELBO for every run (the IWAE bound is "
           "never looser than the ELBO)",
           all(r["nll"] < r["neg_elbo"] for r in results.values()))]


def verdicts(results: dict[str, dict[str, float]]) -> list[tuple[str, bool | None]]:
  """The claim's predicates, fixed before the runs: 95% t intervals over seeds.

  Args:
    results: {"<model>_seed<s>": {"nll", "neg_elbo", ...; "manifold_classes"
      for the latent_2d runs}} for models burda_vae, burda_iwae, latent_2d.
  """
  vae, iwae = _by_model(results, "burda_vae"), _by_model(results, "burda_iwae")
  classes = _by_model(results, "latent_2d", "manifold_classes")
  return [
      ("IWAE k=5 training gives a lower NLL than ELBO training of the same network "
       "(paired over seeds)", report_lib.above([v - i for v, i in zip(vae, iwae)])),
      (f"the ELBO-trained Burda model's NLL is within {TOLERANCE:g} nat of Burda et al.'s "
       f"{PUBLISHED['burda_vae'][1]} (VAE, k=1, static binarisation)",
       report_lib.within(vae, PUBLISHED["burda_vae"][1], TOLERANCE)),
      (f"the IWAE k=5 Burda model's NLL is within {TOLERANCE:g} nat of Burda et al.'s "
       f"{PUBLISHED['burda_iwae'][1]} (IWAE, k=5, static binarisation)",
       report_lib.within(iwae, PUBLISHED["burda_iwae"][1], TOLERANCE)),
      ("the project classifier reads all ten digits in the 2-D manifold grid (classes "
       "found: 95% interval above 9.5)", report_lib.above(classes, 9.5)),
  ]


if __name__ == "__main__":
  report_lib.cli(run)
