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
their random initialisation, with 100 / 1000 / all labels. And Rifai et
al.'s own setting for their 1.14%: the CAE widened to 784-1000 (RIFAI_*),
fine-tuned on 50k labels with the network chosen by its error on the other
10k, against the same network pretrained with lambda 0 and from random
initialisation.

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
# Rifai et al. 2011's setting for the fine-tuning goal: the CAE widened to one
# 1000-unit sigmoid layer, fine-tuned on the first 50k training images with
# the network chosen by its error on the last 10k (early stopping), against
# the same network pretrained with lambda 0 (a plain AE) and from random
# initialisation. Lambda, pretraining epochs and the fine-tuning recipe
# were chosen on that validation split (seed 0 pilots, 2026-12-03; best
# validation errors: lambda 1 / 20 epochs 1.42-1.49% with Adam 1e-3-3e-3 for
# 30 epochs, lambda 4 / 40 epochs 1.59%; with dropout 0.5 on the code, Adam
# 3e-3, 60 epochs 1.17%), not on the test set.
RIFAI_WIDTH, RIFAI_WEIGHT, RIFAI_EPOCHS = 1000, 1.0, 20.0
RIFAI_FT_EPOCHS, RIFAI_FT_LR, RIFAI_FT_DROPOUT = 60, 3e-3, 0.5
RIFAI_VALID_FRACTION = 1 / 6  # 10k of MNIST's 60k training images
RIFAI_STARTS = ("cae", "ae", "random_init")  # what the fine-tuned network starts from
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
    ("2026-12-03", "the redesign's run: 3/12 agree, 3 disagree, 6 inconclusive; the fine-tuned "
                   "CAE 784-256 (genjax's config, fixed budget) at 2.49% test error against "
                   "the 1.3% goal, its random-init twin 2.48%. Added afterwards, before any "
                   "of their runs: Rifai et al.'s setting (784-1000, validation-chosen "
                   "network; three verdicts); the twelve verdicts and their runs unchanged."),
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


def _rifai_fine_tune(model, ds, epochs: int, seed: int) -> dict[str, float]:
  """Test error of `model`'s encoder fine-tuned in Rifai et al.'s setting.

  Trains on the first (1 - RIFAI_VALID_FRACTION) of the training images,
  scores the validation rest after every epoch and reports the test error of
  the best-scoring network.
  """
  x, y = ds.images("train"), ds.labels("train")
  n_train = ds.num_train - round(ds.num_train * RIFAI_VALID_FRACTION)
  epoch = math.ceil(n_train / FT_BATCH)
  r = fine_tune.fine_tune(
      model.state_function("encode"), model.state, x[:n_train], y[:n_train],
      ds.images("eval"), ds.labels("eval"), num_classes=ds.num_classes,
      num_steps=epochs * epoch, batch_size=FT_BATCH, lr=RIFAI_FT_LR,
      key=jax.random.key(seed), valid=(x[n_train:], y[n_train:]), valid_every=epoch,
      feature_dropout=RIFAI_FT_DROPOUT)
  return {"test_error": 1.0 - r["test_accuracy"], "valid_error": 1.0 - r["valid_accuracy"],
          "best_epoch": r["best_step"] / epoch}


def _measure_rifai(workdir: str, seed: int, quick: bool, smoke: bool, start: str):
  """measure(): the 1000-unit network pretrained as `start` ("cae" or "ae",
  i.e. lambda 0) and fine-tuned; the "cae" run also fine-tunes its own
  initial parameters (the "random_init" start, the same for both runs)."""

  def measure() -> dict:
    epochs, ft_epochs = (2.0, 2) if quick else (RIFAI_EPOCHS, RIFAI_FT_EPOCHS)
    weight = RIFAI_WEIGHT if start == "cae" else 0.0
    cfg = report_lib.config("cae_mnist", smoke=smoke, total_epochs=epochs, evals={}, seed=seed,
                            model__code_dim=RIFAI_WIDTH, loss__contractive_weight=weight,
                            smoke_extra=dict(model__code_dim=16))
    trained = report_lib.train_run(cfg, os.path.join(workdir, f"rifai_{start}_seed{seed}"))
    ds = trained.trainer.dataset
    out = {"train": {"recon_loss": trained.final["recon_loss"]},
           start: _rifai_fine_tune(trained.model, ds, ft_epochs, seed)}
    if start == "cae":
      out["random_init"] = _rifai_fine_tune(trained.initial_model, ds, ft_epochs, seed)
    return out

  return measure


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
                              (FT_EPOCHS, FT_MIN_STEPS),
          "rifai": "cae" in names}


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
    if setting["rifai"]:
      for start in RIFAI_STARTS[:2]:
        tasks[f"rifai_{start}_seed{seed}"] = _measure_rifai(workdir, seed, quick, smoke, start)
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
  out = {"sizes": sizes, "probe": probe, "fine_tune": ft, "train": train, "budget": budget}
  if setting["rifai"]:
    out["rifai"] = _summarize_rifai(measured, seeds)
  return out


def _summarize_rifai(measured: dict, seeds) -> dict:
  """{start: {"test_error" | "valid_error" | "best_epoch": [per seed]},
  "<start>_recon_loss": [per seed] for the pretrained starts}."""
  out = {}
  for seed in seeds:
    for start in RIFAI_STARTS[:2]:
      m = measured[f"rifai_{start}_seed{seed}"]
      out.setdefault(f"{start}_recon_loss", []).append(m["train"]["recon_loss"])
      for s in RIFAI_STARTS:
        for k, v in m.get(s, {}).items():
          out.setdefault(s, {}).setdefault(k, []).append(v)
  return out


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
  if setting["rifai"]:
    out.extend(_rifai_verdicts(summary["rifai"]))
  return out


def _rifai_verdicts(rifai: dict) -> list[tuple[str, bool | None]]:
  """Rifai et al.'s setting: the goal, and what the pretraining and the
  contraction add (paired by seed)."""
  err = {s: rifai[s]["test_error"] for s in RIFAI_STARTS}
  width = f"784-{RIFAI_WIDTH}"
  return [
      (f"Rifai et al.'s setting: the fine-tuned CAE {width}'s test error is at most "
       f"{CAE_ERROR_GOAL:.1%} (theirs {RIFAI_ERRORS['cae']:.2%})",
       report_lib.above([CAE_ERROR_GOAL - e for e in err["cae"]])),
      (f"Rifai et al.'s setting: CAE pretraining lowers the {width} network's test error "
       "below the same network from random initialisation",
       report_lib.above(_diff(err["random_init"], err["cae"]))),
      (f"Rifai et al.'s setting: the contraction helps: CAE pretraining beats the same "
       f"pretraining with lambda 0 (theirs: {RIFAI_ERRORS['cae']:.2%} vs AE "
       f"{RIFAI_ERRORS['ae']:.2%})",
       report_lib.above(_diff(err["ae"], err["cae"]))),
  ]


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
  if setting["rifai"]:
    _write_rifai_table(rep, summary["rifai"], seeds)


def _write_rifai_table(rep, rifai: dict, seeds) -> None:
  starts = {"cae": f"CAE, lambda {RIFAI_WEIGHT:g}", "ae": "AE (lambda 0)",
            "random_init": "random initialisation"}
  rep.table(f"Rifai et al.'s setting: the 784-{RIFAI_WIDTH} network fine-tuned with 50k "
            "labels, chosen by its error on the other 10k (mean over seeds, 95% t interval)",
            ["pretraining", "test error", "validation error", "chosen epoch",
             *(f"test error seed {s}" for s in seeds), "Rifai et al. 2011"],
            [[label, report_lib.interval_cell(rifai[s]["test_error"], ".4f"),
              report_lib.interval_cell(rifai[s]["valid_error"], ".4f"),
              report_lib.interval_cell(rifai[s]["best_epoch"], ".3g"), *rifai[s]["test_error"],
              f"{RIFAI_ERRORS[s]:.2%}" if s in RIFAI_ERRORS else "-"]
             for s, label in starts.items()])
  rep.text(
      f"Rifai et al.'s setting: the CAE widened to {RIFAI_WIDTH} sigmoid units (tied decoder), "
      f"pretrained {RIFAI_EPOCHS:g} epochs with lambda {RIFAI_WEIGHT:g} or 0 (test recon loss "
      f"{np.mean(rifai['cae_recon_loss']):.2f} / {np.mean(rifai['ae_recon_loss']):.2f} nats), "
      f"then encoder + softmax fine-tuned with Adam {RIFAI_FT_LR:g} cosine-decayed over "
      f"{RIFAI_FT_EPOCHS} epochs of the first 50k training images, batch {FT_BATCH}, dropout "
      f"{RIFAI_FT_DROPOUT:g} on the code while training, scored on the last 10k after every "
      "epoch; the test error is the best-scoring epoch's.")


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
