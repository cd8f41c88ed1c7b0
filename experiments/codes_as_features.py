r"""Claim: codes learned without labels are good features when labels are few.

    python -m experiments.codes_as_features --workdir=runs/codes          # full budget
    python -m experiments.codes_as_features --workdir=runs/codes --quick  # minutes

Two invocations on the same workdir may run at once (one per core): each
(model, seed) is a separate measured run (`report.measure_runs`).

It trains, each with its own config and architecture, at SEEDS: the stacked
AE (`configs/ae_mnist.py`, 784-300-150), the sparse AE
(`configs/sparse_ae_mnist.py`, 784-1000, KL penalty), the DAE
(`configs/dae_mnist.py`, 784-300-150, Gaussian sigma 0.5), the CAE
(`configs/cae_mnist.py`, 784-256, lambda 8) and the VAE (`configs/vae_mnist.py`,
784-500-20, on MNIST with dynamic binarisation: TFDS `binarized_mnist` has no
labels). Controls, so that a gain can be attributed:
- the same encoder untrained (`TrainedRun.initial_model`: the run's own
  initial parameters, i.e. random features of the same width and
  architecture);
- the same architecture and budget trained with its regulariser at 0 (sparse
  AE KL weight 0, DAE without noise, CAE lambda 0, VAE KL weight 0);
- raw pixels and PCA with 150 (the AE's code size) and 20 (the VAE's) components.

Linear probes (`genjax/evaluation/linear_probe.py`, multinomial logistic
regression, L-BFGS, the AE config's `probe.l2` / `probe.num_steps`) read every
representation on grey-level MNIST in [0, 1], fitted on N labelled training
images and scored on all 10k test images: N = 100 and 1000 (DRAWS random
subsets per seed, the same for every representation of that seed) and all 60k
(learned codes and baselines only; --quick: 10k). Fine-tuning
(`genjax/evaluation/fine_tune.py`: encoder + softmax head, Adam) of the AE,
DAE and CAE encoders as in Rifai et al. 2011, and of the same networks from
their random initialisation, with 100 / 1000 / all labels.

Verdicts (`verdicts`) are over seeds: each seed's value is the mean over its
draws, differences are paired by seed, and a verdict agrees only if the 95%
t interval over seeds lies on the predicted side of its threshold
(`report.above`), disagrees if it lies on the other side, else inconclusive.
"""

from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import numpy as np
from experiments import report as report_lib
from genjax.evaluation import fine_tune, linear_probe, subspace

# (name, description, config, full epochs, quick epochs). Full budgets are the
# configs' own, except the VAE: 50 of its 200 epochs.
RUNS = (
    ("ae", "AE 784-300-150", "ae_mnist", 20.0, 2.0),
    ("sparse_ae", "sparse AE 784-1000", "sparse_ae_mnist", 5.0, 2.0),
    ("dae", "DAE 784-300-150", "dae_mnist", 10.0, 2.0),
    ("cae", "CAE 784-256", "cae_mnist", 5.0, 2.0),
    ("vae", "VAE 784-500-20 (mu)", "vae_mnist", 50.0, 5.0),
)
# The regulariser-at-0 control of each regularised run: config overrides.
UNREGULARISED = {
    "sparse_ae": ("KL weight 0", dict(loss__kl_weight=0.0)),
    "dae": ("no noise", dict(noise__kind="none")),
    "cae": ("lambda 0", dict(loss__contractive_weight=0.0)),
    "vae": ("KL weight 0", dict(loss__beta=0.0)),
}
FINE_TUNED = ("ae", "dae", "cae")  # Rifai et al. 2011's comparison
SEEDS = (0, 1, 2)
PCA_SIZES = (150, 20)
LABELS = (100, 1000, None)  # None: every training label
QUICK_LARGEST = 10000  # --quick probes 10k labels instead of all 60k
DRAWS = 3  # labelled subsets drawn per size and seed (one for the largest)
# Fine-tuning budget: max(FT_MIN_STEPS, FT_EPOCHS epochs of the labelled set).
FT_EPOCHS, FT_MIN_STEPS, FT_BATCH, FT_LR = 20, 1000, 128, 1e-3
# Rifai et al. 2011, MNIST test error after fine-tuning with all labels.
RIFAI_ERRORS = {"cae": 0.0114, "dae": 0.0118, "ae": 0.0178}
CAE_ERROR_GOAL = 0.013  # issue 21: genjax's fine-tuned CAE at or below 1.3%
# Up to this many labels every probe is padded to one width, so all
# representations share one compilation of the fit.
SHARED_PROBE_ROWS = 4096
SHARED_PROBE_WIDTH = 1024

HISTORY = (
    ("2026-11-24", "the first design (one seed, no controls; verdicts on the best of the five "
                   "codes) reported 3/5 agree: with 100 labels CAE 0.7925 / sparse AE 0.7930 "
                   "vs pixels 0.7630 and PCA-150 0.7643; every code beat pixels at 1000 "
                   "labels; the best code's lead over pixels did not shrink with labels "
                   "(0.030 at 100, 0.048 at 60k); the VAE's means lost to PCA-20 (0.748 vs "
                   "0.761). Redesigned 2026-12-03 (issue 21): three seeds with t intervals, "
                   "means over the codes instead of the best one, untrained and "
                   "regulariser-at-0 controls, fine-tuning; the VAE budget 100 -> 50 epochs."),
)


def _features_fn(model):
  """encode(x [B, H, W, C] in [0, 1]) -> features [B, D]: codes f(x); for the
  VAE its posterior mean (its `encode` gives mean and log-variance)."""
  encode = model.function("encode")
  if model.config.method == "vae":
    return lambda x: encode(x)[0]
  return encode


def _subsets(ds, sizes, draws: int, seed: int):
  """{n: [index arrays]}: the seed's labelled subsets, the same for every
  representation; draw d's first 100 are inside its first 1000."""
  key = jax.random.fold_in(jax.random.key(0), seed)
  return {n: [jax.random.permutation(jax.random.fold_in(key, d), ds.num_train)[:n]
              for d in range(1 if n == max(sizes) else draws)] for n in sizes}


def _probe(encode, ds, subsets: dict, probe_settings) -> dict[str, list[float]]:
  """{labels: [test accuracy per draw]} of one representation."""
  train_f = linear_probe.encode_all(encode, ds.images("train"), 1.0)
  test_f = linear_probe.encode_all(encode, ds.images("eval"), 1.0)
  train_labels, test_labels = ds.labels("train"), ds.labels("eval")
  width = train_f.shape[1]
  accs = {}
  for n, draws in subsets.items():
    rows = linear_probe.bucket(n)
    cols = max(width, SHARED_PROBE_WIDTH) if rows <= SHARED_PROBE_ROWS else width
    accs[str(n)] = [linear_probe.probe(
        train_f[idx], train_labels[idx], test_f, test_labels, num_classes=ds.num_classes,
        l2=probe_settings.l2, num_steps=probe_settings.num_steps, pad_to=(rows, cols))
        for idx in draws]
  return accs


def _fine_tunes(model, ds, subsets: dict, budget: tuple[int, int], seed: int) -> dict:
  """{labels: test accuracy} of `model`'s encoder fine-tuned on draw 0 of each size."""
  epochs, min_steps = budget
  encode, out = model.state_function("encode"), {}
  train_x, train_y = ds.images("train"), ds.labels("train")
  test_x, test_y = ds.images("eval"), ds.labels("eval")  # once, not per size
  for n, draws in subsets.items():
    idx = draws[0]
    steps = max(min_steps, math.ceil(epochs * n / FT_BATCH))
    out[str(n)] = fine_tune.fine_tune(
        encode, model.state, train_x[idx], train_y[idx], test_x, test_y,
        num_classes=ds.num_classes, num_steps=steps, batch_size=FT_BATCH,
        lr=FT_LR, key=jax.random.key(seed))["test_accuracy"]
  return out


def _baselines(ds, subsets: dict, probe_settings) -> dict[str, dict]:
  """Probes of raw pixels and PCA (fitted on the training images)."""
  train_x = np.asarray(ds.images("train")).reshape(ds.num_train, -1)
  mean, components, _ = subspace.pca(train_x)
  del train_x
  m = jnp.asarray(mean, jnp.float32)
  fns = {"pixels": lambda x: x.reshape(x.shape[0], -1)}
  for k in PCA_SIZES:
    u = jnp.asarray(components[:, :k], jnp.float32)
    fns[f"pca{k}"] = lambda x, u=u: (x.reshape(x.shape[0], -1) - m) @ u
  return {name: _probe(fn, ds, subsets, probe_settings) for name, fn in fns.items()}


def _settings(quick: bool, smoke: bool) -> dict:
  """What this invocation runs: models, seeds, draws, fine-tuning budget."""
  runs = [r for r in RUNS if not smoke or r[0] in ("ae", "cae")]
  names = [r[0] for r in runs]
  # A smoke run trains seed 1 alone (not the default 0: a seed that does not
  # reach its run shows); its verdicts are then all inconclusive.
  seeds = SEEDS[1:2] if smoke else SEEDS[:2] if quick else SEEDS
  return {"runs": runs, "seeds": seeds,
          "draws": 1 if smoke else DRAWS,
          "unregularised": [n for n in UNREGULARISED if n in names],
          # A smoke run fine-tunes one model: compiles dominate its time.
          "fine_tuned": ["cae"] if smoke else [n for n in FINE_TUNED if n in names],
          "fine_tune_budget": (1, 20) if smoke else (2, 200) if quick else
                              (FT_EPOCHS, FT_MIN_STEPS)}


def _measure(workdir: str, run: tuple, seed: int, quick: bool, smoke: bool, setting: dict,
             control: str | None = None):
  """measure(): trains one (model, seed) and returns its probes (and fine-tunes)."""
  name, description, config_name, full_epochs, quick_epochs = run

  def measure() -> dict:
    epochs = quick_epochs if quick else full_epochs
    # Each run's own evaluators are off: the probes run here, the same for all.
    extra = dict(evals={}, seed=seed)
    if config_name == "vae_mnist":
      extra.update(data__name="mnist", data__binarize="dynamic")
    if control:
      extra.update(UNREGULARISED[name][1])
    cfg = report_lib.config(config_name, smoke=smoke, total_epochs=epochs, **extra)
    run_name = f"{name}{'_' + control if control else ''}_seed{seed}"
    trained = report_lib.train_run(cfg, os.path.join(workdir, run_name))
    ds = trained.trainer.dataset
    largest = min(QUICK_LARGEST, ds.num_train) if quick else ds.num_train
    sizes = [largest if n is None else min(n, ds.num_train) for n in LABELS]
    probe_settings = report_lib.config("ae_mnist", smoke=smoke).evals.probe
    subsets = _subsets(ds, sizes, setting["draws"], seed)
    few_sizes = {n: v for n, v in subsets.items() if n != largest}
    final = trained.final
    out = {"train": {k: final[k] for k in ("recon_loss", "mse", "neg_elbo") if k in final},
           "budget": f"{epochs:g} epochs" if cfg.total_epochs else f"{cfg.total_steps} steps",
           "sizes": sizes,
           "probe": _probe(_features_fn(trained.model), ds,
                           few_sizes if control else subsets, probe_settings)}
    if control:
      return out
    out["untrained_probe"] = _probe(_features_fn(trained.initial_model), ds, few_sizes,
                                    probe_settings)
    if name in setting["fine_tuned"]:
      budget = setting["fine_tune_budget"]
      out["fine_tune"] = {
          "pretrained": _fine_tunes(trained.model, ds, subsets, budget, seed),
          "random_init": _fine_tunes(trained.initial_model, ds, subsets, budget, seed)}
    if name == "ae":
      out["baselines"] = _baselines(ds, subsets, probe_settings)
    return out

  return measure


def run(workdir: str, quick: bool, smoke: bool = False) -> str:
  """Trains what the claim needs, measures it and writes the report (see experiments/report.py)."""
  os.makedirs(workdir, exist_ok=True)
  rep = report_lib.Report(
      name="Learned codes as features for few labels",
      claim="Codes learned without labels (AE, sparse AE, DAE, CAE, VAE) are good features "
            "for semi-supervised learning: a linear classifier on them needs fewer labels "
            "than one on raw pixels or on PCA, and unsupervised pretraining helps a network "
            "trained on few labels.",
      prediction="with 100 labels the learned codes beat raw pixels, PCA, the same encoders "
                 "untrained and the same architectures trained without their regulariser; "
                 "the advantage shrinks as labels grow; fine-tuning a pretrained encoder "
                 "beats the same network from random initialisation with 100 labels, and the "
                 "fine-tuned CAE reaches Rifai et al.'s ~1.1-1.3% test error with all labels.",
      quick=quick, history=HISTORY)
  setting = _settings(quick, smoke)
  tasks = {}
  for seed in setting["seeds"]:
    for r in setting["runs"]:
      tasks[f"{r[0]}_seed{seed}"] = _measure(workdir, r, seed, quick, smoke, setting)
      if r[0] in setting["unregularised"]:
        tasks[f"{r[0]}_unreg_seed{seed}"] = _measure(workdir, r, seed, quick, smoke, setting,
                                                     control="unreg")
  measured = report_lib.measure_runs(tasks, workdir)
  summary = summarize(measured, setting)
  rep.results = {"per_run": measured, "summary": summary,
                 "seeds": list(setting["seeds"]), "draws": setting["draws"]}
  _write_tables(rep, workdir, summary, setting)
  for statement, holds in verdicts(summary, setting):
    rep.verdict(statement, holds)
  return rep.write(workdir)


def summarize(measured: dict, setting: dict) -> dict:
  """Per-seed values (each the mean over draws), seeds in order.

  Returns {"sizes": [few, some, most], "probe": {representation: {labels:
  [per seed]}}, "fine_tune": {model: {"pretrained" | "random_init": {labels:
  [per seed]}}}, "train": {run: {metric: [per seed]}}}. Representations:
  "pixels", "pca<k>", each run's name, "<name>_untrained", "<name>_unreg";
  "budget": {run: its training budget}.
  """
  seeds = setting["seeds"]
  probe, ft, train, budget = {}, {}, {}, {}

  def add(rep_name, accs):
    for n, draws in accs.items():
      probe.setdefault(rep_name, {}).setdefault(n, []).append(float(np.mean(draws)))

  for seed in seeds:
    for name, *_ in setting["runs"]:
      m = measured[f"{name}_seed{seed}"]
      budget[name] = m["budget"]
      add(name, m["probe"])
      add(f"{name}_untrained", m["untrained_probe"])
      for b, accs in m.get("baselines", {}).items():
        add(b, accs)
      for kind, accs in m.get("fine_tune", {}).items():
        for n, a in accs.items():
          ft.setdefault(name, {}).setdefault(kind, {}).setdefault(n, []).append(a)
      runs = [(name, m)]
      if name in setting["unregularised"]:
        u = measured[f"{name}_unreg_seed{seed}"]
        add(f"{name}_unreg", u["probe"])
        runs.append((f"{name}_unreg", u))
      for run_name, r in runs:
        for k, v in r["train"].items():
          train.setdefault(run_name, {}).setdefault(k, []).append(v)
  sizes = measured[f"ae_seed{seeds[0]}"]["sizes"]
  return {"sizes": sizes, "probe": probe, "fine_tune": ft, "train": train, "budget": budget}


def _diff(a: list[float], b: list[float]) -> list[float]:
  return [x - y for x, y in zip(a, b)]


def _mean_over(series: list[list[float]]) -> list[float]:
  """Per seed, the mean over several representations' per-seed values."""
  return [float(v) for v in np.mean(np.asarray(series), axis=0)]


def verdicts(summary: dict, setting: dict) -> list[tuple[str, bool | None]]:
  """The claim's predicates, fixed before the runs (see the module docstring).

  `summary` is `summarize`'s; `setting` names the runs, the regularised runs
  with a control, and the fine-tuned runs. "The codes" is the mean over the
  learned codes, per seed.
  """
  few, some, most = (str(n) for n in summary["sizes"])
  acc, ft = summary["probe"], summary["fine_tune"]
  learned = [r[0] for r in setting["runs"]]
  codes = {n: _mean_over([acc[m][n] for m in learned]) for n in (few, some, most)}
  out = [
      (f"with {few} labels the learned codes (mean over the {len(learned)}) beat raw pixels",
       report_lib.above(_diff(codes[few], acc["pixels"][few]))),
      (f"with {few} labels the learned codes beat PCA {PCA_SIZES[0]} (the AE's code size)",
       report_lib.above(_diff(codes[few], acc[f"pca{PCA_SIZES[0]}"][few]))),
      (f"with {some} labels every learned code beats raw pixels",
       report_lib.every([report_lib.above(_diff(acc[m][some], acc["pixels"][some]))
                         for m in learned])),
      (f"the codes' lead over raw pixels is larger with {few} labels than with {most}",
       report_lib.above(_diff(_diff(codes[few], acc["pixels"][few]),
                              _diff(codes[most], acc["pixels"][most])))),
      (f"with {few} labels the learned codes beat the same encoders untrained (random "
       "features of the same architecture)",
       report_lib.above(_diff(codes[few], _mean_over([acc[f"{m}_untrained"][few]
                                                     for m in learned])))),
  ]
  if "vae" in learned:
    out.append((f"with {few} labels the VAE's 20-D posterior means beat PCA 20",
                report_lib.above(_diff(acc["vae"][few], acc["pca20"][few]))))
  for m in setting["unregularised"]:
    out.append((f"with {few} labels the {m} code beats the same architecture trained with "
                f"its regulariser at 0 ({UNREGULARISED[m][0]})",
                report_lib.above(_diff(acc[m][few], acc[f"{m}_unreg"][few]))))
  tuned = setting["fine_tuned"]
  pre = _mean_over([ft[m]["pretrained"][few] for m in tuned])
  scratch = _mean_over([ft[m]["random_init"][few] for m in tuned])
  out.append((f"fine-tuned with {few} labels, the pretrained {' / '.join(tuned)} encoders "
              "(mean) beat the same networks from random initialisation",
              report_lib.above(_diff(pre, scratch))))
  if "cae" in tuned:
    errors = [1.0 - a for a in ft["cae"]["pretrained"][most]]
    out.append((f"the fine-tuned CAE's test error with {most} labels is at most "
                f"{CAE_ERROR_GOAL:.1%} (Rifai et al. 2011: {RIFAI_ERRORS['cae']:.2%})",
                report_lib.above([CAE_ERROR_GOAL - e for e in errors])))
  return out


def _description(name: str) -> str:
  """A representation's name as the report writes it."""
  described = {r[0]: r[1] for r in RUNS}
  if name == "pixels":
    return "raw pixels"
  if name.startswith("pca"):
    return f"PCA {name[3:]}"
  if name.endswith("_untrained"):
    return f"{described[name.removesuffix('_untrained')]}, untrained"
  if name.endswith("_unreg"):
    base = name.removesuffix("_unreg")
    return f"{described[base]}, {UNREGULARISED[base][0]}"
  return described[name]


def _write_tables(rep, workdir: str, summary: dict, setting: dict) -> None:
  """The probe and fine-tuning tables, the figure and the budget text."""
  sizes = [str(n) for n in summary["sizes"]]
  acc, ft = summary["probe"], summary["fine_tune"]
  seeds = setting["seeds"]
  rep.table(f"Linear-probe test accuracy (mean over {len(seeds)} seeds, 95% t interval; "
            "each seed the mean over its draws)",
            ["representation", *(f"{n} labels" for n in sizes)],
            [[_description(name), *(report_lib.interval_cell(v[n], ".4f") if n in v else "-"
                                    for n in sizes)]
             for name, v in acc.items()])
  rep.table("Linear-probe test accuracy per seed",
            ["representation", "labels", *(f"seed {s}" for s in seeds)],
            [[_description(name), n, *v[n]] for name, v in acc.items() for n in sizes
             if n in v])
  rep.table("Fine-tuned test error (encoder + softmax; mean over seeds, 95% t interval)",
            ["network", "start", *(f"{n} labels" for n in sizes), "Rifai et al. 2011 (all)"],
            [[_description(m), kind, *(report_lib.interval_cell([1 - a for a in ft[m][kind][n]],
                                                                ".4f")
                                       for n in sizes),
              f"{RIFAI_ERRORS[m]:.2%}" if kind == "pretrained" else "-"]
             for m in ft for kind in ("pretrained", "random_init")])
  report_lib.line_plot(
      os.path.join(workdir, "accuracy_vs_labels.png"), [int(n) for n in sizes],
      {_description(name): [float(np.mean(v[n])) for n in sizes]
       for name, v in acc.items() if all(n in v for n in sizes)},
      xlabel="labelled training images", ylabel="linear-probe test accuracy (mean over seeds)",
      log_x=True)
  rep.figure("Test accuracy against the number of labels", "accuracy_vs_labels.png")
  rep.table("Training runs (mean over seeds)", ["run", "test recon loss (nats)",
                                                "test neg. ELBO (nats)"],
            [[_description(name), float(np.mean(t["recon_loss"])),
              float(np.mean(t["neg_elbo"])) if "neg_elbo" in t else "-"]
             for name, t in summary["train"].items()])
  rep.text(_budget_text(setting, summary))


def _budget_text(setting: dict, summary: dict) -> str:
  budgets = ", ".join(f"{r[1]} {summary['budget'][r[0]]}" for r in setting["runs"])
  epochs, min_steps = setting["fine_tune_budget"]
  few, some, most = summary["sizes"]
  return (
      f"Seeds {', '.join(map(str, setting['seeds']))}; budgets: {budgets} (each config's "
      "batch, optimiser and schedule); the regulariser-at-0 controls train for the same "
      f"budget. Probes: {few} and {some} labels drawn {setting['draws']} time(s) per seed "
      f"(the same subsets for every representation of a seed), {most} labels one fit. "
      f"Fine-tuning: the draw-0 subset of each size, Adam {FT_LR:g} cosine-decayed, batch "
      f"{FT_BATCH}, max({min_steps}, {epochs} epochs) steps, no early stopping. Every "
      "representation reads grey-level pixels in [0, 1] (the VAE was trained on dynamically "
      "binarised ones). A verdict agrees if the 95% t interval over seeds lies on its side, "
      "disagrees if it lies on the other, else is inconclusive.")


if __name__ == "__main__":
  report_lib.cli(run)
