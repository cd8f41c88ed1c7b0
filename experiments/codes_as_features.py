r"""Claim: codes learned without labels are good features when labels are few.

    python -m experiments.codes_as_features --workdir=runs/codes          # full budget
    python -m experiments.codes_as_features --workdir=runs/codes --quick  # minutes

It trains, each with its own config and architecture, the stacked AE
(`configs/ae_mnist.py`, 784-300-150), the sparse AE (`configs/sparse_ae_mnist.py`,
784-1000, KL penalty), the DAE (`configs/dae_mnist.py`, 784-300-150, Gaussian
sigma 0.5), the CAE (`configs/cae_mnist.py`, 784-256, lambda 8) and the VAE
(`configs/vae_mnist.py`, 784-500-20). TFDS `binarized_mnist` has no labels,
so the VAE is trained on MNIST with dynamic binarisation (a fresh Bernoulli
draw of every training image at every step) instead.

Every representation is then read on the same grey-level MNIST images, pixels
in [0, 1]: raw pixels, PCA with 150 components (the AE's and DAE's code size)
and with 20 (the VAE's), the four autoencoders' codes f(x) and the VAE's
posterior mean mu(x) (for the VAE, a grey level is the mean of the binary
pixels it was trained on). A linear probe (`genjax/evaluation/linear_probe.py`:
multinomial logistic regression, L-BFGS, with the AE run's `probe.l2` and
`probe.num_steps`) is fitted on the features of N labelled training images and
scored on all 10k test images, for N = 100, 1000 and all 60k labels (--quick:
10k). Codes come from each trained model's own `encode` (`TrainedRun.model`).

Budgets (epochs, full / --quick): AE 20 / 2, sparse AE 5 / 2, DAE 10 / 2,
CAE 5 / 2, VAE 100 / 5; the probes with 100 and 1000 labels are repeated on
3 random labelled subsets.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
from experiments import report as report_lib
from genjax import train
from genjax.evaluation import linear_probe, subspace

# (name, description, config, full epochs, quick epochs). Full budgets are the
# configs' own, except the VAE: 100 of its 200 epochs.
RUNS = (
    ("ae", "AE 784-300-150", "ae_mnist", 20.0, 2.0),
    ("sparse_ae", "sparse AE 784-1000", "sparse_ae_mnist", 5.0, 2.0),
    ("dae", "DAE 784-300-150", "dae_mnist", 10.0, 2.0),
    ("cae", "CAE 784-256", "cae_mnist", 5.0, 2.0),
    ("vae", "VAE 784-500-20 (mu)", "vae_mnist", 100.0, 5.0),
)
PCA_SIZES = (150, 20)
LABELS = (100, 1000, None)  # None: every training label
QUICK_LARGEST = 10000  # --quick probes 10k labels instead of all 60k
DRAWS = 3  # labelled subsets drawn per size (one for the largest)
# Up to this many labels every probe is padded to one width, so all
# representations share one compilation of the fit; above it the padded
# compute would cost more than compiling per representation.
SHARED_PROBE_ROWS = 4096
SHARED_PROBE_WIDTH = 1024


def _encoder(trained: train.TrainedRun):
  """encode(x [B, H, W, C] in [0, 1]) -> features [B, D] of a trained run.

  The autoencoders' codes f(x); the VAE's posterior mean (its `encode` gives
  q(z|x)'s mean and log-variance).
  """
  model = trained.model
  encode = model.function("encode")
  if model.config.method == "vae":
    return lambda x: encode(x)[0]
  return encode


def _probe(encode, ds, sizes, draws: int, key, probe_settings) -> tuple[int, dict]:
  """(feature width, {labels: [test accuracy per draw]}) of one representation.

  `probe_settings` holds the probe's l2 and num_steps (a run's `probe` group).
  """
  # Images already in [0, 1] (scale 1): the eval split without its padding rows.
  train_f = linear_probe.encode_all(encode, ds.images("train"), 1.0)
  test_f = linear_probe.encode_all(encode, ds.images("eval"), 1.0)
  train_labels, test_labels = ds.labels("train"), ds.labels("eval")
  width = train_f.shape[1]
  accs = {}
  for n in sizes:
    # Draw d is the same subset for every representation (same key), and
    # its first 100 labels are inside its first 1000. The largest size is
    # one fit: it is the expensive one, and with all labels nothing varies.
    accs[n] = []
    for d in range(1 if n == max(sizes) else draws):
      idx = jax.random.permutation(jax.random.fold_in(key, d), ds.num_train)[:n]
      rows = linear_probe.bucket(n)
      cols = max(width, SHARED_PROBE_WIDTH) if rows <= SHARED_PROBE_ROWS else width
      accs[n].append(linear_probe.probe(
          train_f[idx], train_labels[idx], test_f, test_labels,
          num_classes=ds.num_classes, l2=probe_settings.l2,
          num_steps=probe_settings.num_steps, pad_to=(rows, cols)))
  return width, accs


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="Learned codes as features for few labels",
      claim="Codes learned without labels (AE, sparse AE, DAE, CAE, VAE) are good features "
            "for semi-supervised learning: a linear classifier on them needs fewer labels "
            "than one on raw pixels or on PCA.",
      prediction="with 100 labels some learned code beats both raw pixels and PCA of the "
                 "AE's code size; the advantage shrinks as labels grow (with all 60k labels "
                 "a linear probe on pixels reaches about 92%).",
      quick=quick)
  draws = 1 if smoke else DRAWS
  encoders, trained, ds, probe_settings = _train_all(workdir, quick, smoke)
  representations = _representations(ds, encoders)
  largest = min(QUICK_LARGEST, ds.num_train) if quick else ds.num_train
  sizes = [largest if n is None else min(n, ds.num_train) for n in LABELS]
  key = jax.random.key(0)
  results, rows = {}, []
  for name, (description, encode) in representations.items():
    width, accs = _probe(encode, ds, sizes, draws, key, probe_settings)
    results[name] = {"description": description, "dim": width,
                     "accuracy": {str(n): float(np.mean(a)) for n, a in accs.items()},
                     "accuracy_draws": {str(n): [float(v) for v in a] for n, a in accs.items()},
                     **trained.get(name, {})}
    rows.append([description, width, *(
        f"{np.mean(a):.4f} +- {np.std(a):.4f}" if len(a) > 1 else f"{a[0]:.4f}"
        for a in accs.values())])
  rep.results = {"label_sizes": sizes, "draws": draws, "representations": results}
  all_label = "all" if largest == ds.num_train else "a subset"
  rep.table(f"Linear-probe test accuracy ({ds.num_eval} test images)",
            ["representation", "dim", *(f"{n} labels" for n in sizes[:-1]),
             f"{sizes[-1]} labels ({all_label})"], rows)
  report_lib.line_plot(
      os.path.join(workdir, "accuracy_vs_labels.png"), sizes,
      {r["description"]: [r["accuracy"][str(n)] for n in sizes] for r in results.values()},
      xlabel="labelled training images", ylabel="linear-probe test accuracy", log_x=True)
  rep.figure("Test accuracy against the number of labels", "accuracy_vs_labels.png")
  rep.table("Training runs", ["model", "config", "budget", "test recon loss (nats)",
                              "test neg. ELBO (nats)"],
            [[t["description"], t["config"], t["budget"], t.get("recon_loss", "-"),
              t.get("neg_elbo", "-")] for t in trained.values()])
  learned = [name for name, *_ in RUNS]
  acc = {name: {n: r["accuracy"][str(n)] for n in sizes} for name, r in results.items()}
  rep.text(_budget_text(results, trained, acc, learned, sizes, draws, ds, probe_settings))
  for statement, holds in verdicts(acc, learned, sizes):
    rep.verdict(statement, holds)
  return rep.write(workdir)


def _train_all(workdir: str, quick: bool, smoke: bool):
  """Trains every model of RUNS: (encoders, per-run summaries, the AE's dataset,
  the autoencoders' probe settings)."""
  # Each run's own evaluators (probes, Jacobian, denoising, the VAE's
  # 5000-sample NLL) are switched off: the probes are run here, the same way
  # for all.
  encoders, trained, ds, probe_settings = {}, {}, None, None
  for name, description, config_name, full_epochs, quick_epochs in RUNS:
    epochs = quick_epochs if quick else full_epochs
    if config_name == "vae_mnist":
      extra = dict(data__name="mnist", data__binarize="dynamic", evals={})
    else:
      extra = dict(evals={})
    cfg = report_lib.config(config_name, smoke=smoke, **{"total_epochs": epochs, **extra})
    trained_run = report_lib.train_run(cfg, os.path.join(workdir, name))
    final = trained_run.final
    encoders[name] = _encoder(trained_run)
    budget = f"{epochs:g} epochs" if cfg.total_epochs else f"{cfg.total_steps} steps"
    trained[name] = {"description": description, "config": config_name, "budget": budget,
                     **{k: final[k] for k in ("recon_loss", "mse", "neg_elbo") if k in final}}
    if name == "ae":
      ds = trained_run.trainer.dataset  # grey-level MNIST, the images every probe reads
      # The autoencoders' probe settings (its smoke variant: fewer L-BFGS steps).
      probe_settings = report_lib.config("ae_mnist", smoke=smoke).evals.probe
  return encoders, trained, ds, probe_settings


def _representations(ds, encoders: dict) -> dict:
  """name -> (description, encode(images) -> features): pixels, PCA, the learned codes."""
  # Unsupervised baselines on the same training images.
  train_x = np.asarray(ds.images("train")).reshape(ds.num_train, -1)
  mean, components, _ = subspace.pca(train_x)
  del train_x
  representations = {"pixels": ("raw pixels", lambda x: x.reshape(x.shape[0], -1))}
  for k in PCA_SIZES:
    u = jnp.asarray(components[:, :k], jnp.float32)
    m = jnp.asarray(mean, jnp.float32)
    representations[f"pca{k}"] = (
        f"PCA {k}", lambda x, u=u, m=m: (x.reshape(x.shape[0], -1) - m) @ u)
  for name, description, *_ in RUNS:
    representations[name] = (description, encoders[name])
  return representations


def _budget_text(results, trained, acc, learned, sizes, draws, ds, probe_settings) -> str:
  few, some, most = sizes
  best_few, best_most = (best_code(acc, learned, n) for n in (few, most))
  budgets = ", ".join(f"{t['description']} {t['budget']}" for t in trained.values())
  l2, num_steps = probe_settings.l2, probe_settings.num_steps
  return (
      f"Budgets: {budgets} (batch 128, Adam 1e-3, each config's schedule). Probes: "
      f"multinomial logistic regression, l2 {l2:g} on standardised features, {num_steps} "
      f"L-BFGS steps. The {few} and {some} labels are {draws} random subset(s), the same "
      "for every representation (mean +- std over them: differences below the std are "
      f"the luck of the draw). The last column uses {sizes[-1]} training labels"
      + (f" (a subset of the {ds.num_train})" if sizes[-1] < ds.num_train else "")
      + ", one fit. "
      f"Best learned code: {results[best_few]['description']} with {few} labels, "
      f"{results[best_most]['description']} with {most}. PCA is fitted on the "
      f"{ds.num_train} training images; every representation reads grey-level pixels "
      "in [0, 1] (the VAE was trained on dynamically binarised ones).")


def best_code(acc: dict[str, dict[int, float]], learned: list[str], labels: int) -> str:
  """The learned code whose probe is most accurate with `labels` labels."""
  return max(learned, key=lambda m: acc[m][labels])


def verdicts(acc: dict[str, dict[int, float]], learned: list[str], sizes: list[int]
             ) -> list[tuple[str, bool]]:
  """The claim's predicates, fixed before the runs.

  Args:
    acc: representation name ("pixels", "pca<k>", each learned code's run name
      incl. "vae") -> {label count: probe test accuracy}.
    learned: the learned codes' names.
    sizes: the three label counts (few, some, most).
  """
  few, some, most = sizes
  best_few, best_most = (best_code(acc, learned, n) for n in (few, most))
  return [
      (f"some learned code beats raw pixels with {few} labels",
       acc[best_few][few] > acc["pixels"][few]),
      (f"some learned code beats PCA {PCA_SIZES[0]} (the AE's code size) with {few} labels",
       acc[best_few][few] > acc[f"pca{PCA_SIZES[0]}"][few]),
      (f"every learned code beats raw pixels with {some} labels",
       all(acc[m][some] > acc["pixels"][some] for m in learned)),
      (f"the best learned code's lead over raw pixels is larger with {few} labels "
       f"than with {most}",
       acc[best_few][few] - acc["pixels"][few] > acc[best_most][most] - acc["pixels"][most]),
      (f"the VAE's 20-D posterior means beat PCA 20 with {few} labels",
       acc["vae"][few] > acc["pca20"][few]),
  ]

if __name__ == "__main__":
  report_lib.cli(run)
