"""Trains and exports the small pretrained models shipped in `pretrained/`.

    python scripts/pretrained.py train  --workdir=runs/pretrained [--only=vae_mnist]
    python scripts/pretrained.py export --workdir=runs/pretrained [--only=vae_mnist]
    python scripts/pretrained.py table     # the README's table, from provenance.json

`train` runs each model's command below (`python -m genjax.main ...`, so an
interrupted run resumes); `export` writes `pretrained/<name>/` with
`Model.save` (parameters only, float16) plus `provenance.json`: the exact
command, the date, the training run's final metrics and the cheap headline
metric `genjax.zoo.headline` measures, which `tests/test_pretrained.py`
recomputes from the shipped files.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import genjax  # noqa: E402
from genjax import zoo  # noqa: E402

# name -> the config and flags of its training run (genjax.main arguments).
# Budgets are the configs' defaults, some cut to what a 2-core CPU trains in
# about two hours for all five together; the shipped numbers are these runs' own.
COMMANDS = {
    "vae_mnist": ["--config=configs/vae_mnist.py:epochs=30", "--config.evals.nll.samples=1000"],
    # Chollet's convolutional VAE with a 2-D latent (the latent-plane figures),
    # its config's default 30 epochs.
    "conv_vae_2d": ["--config=configs/conv_vae_mnist.py"],
    "cgan_mnist": ["--config=configs/cgan_mnist.py", "--config.total_steps=4000"],
    # The seed whose c1 accuracy was the median of three after the recipe's
    # 5000 steps in conditional_and_infogan (0.951 on 2026-11-25's code).
    "infogan_mnist": ["--config=configs/infogan_mnist.py:paper", "--config.seed=1",
                      "--config.total_steps=5000"],
    "dcgan_mnist": ["--config=configs/dcgan_mnist.py", "--config.gan.ema_decay=0.999",
                    "--config.total_steps=4000"],
}

_WORKDIR = flags.DEFINE_string("workdir", "runs/pretrained", "Where the training runs go.")
_ONLY = flags.DEFINE_list("only", None, "Names to process (default: all).")
_DTYPE = flags.DEFINE_string("dtype", "float16", "Storage dtype of the exported floats.")


def _command(name: str) -> list[str]:
  workdir = os.path.join(_WORKDIR.value, name)
  return ["python", "-m", "genjax.main", *COMMANDS[name], f"--workdir={workdir}"]


def train(name: str) -> None:
  cmd = _command(name)
  print(" ".join(cmd), flush=True)
  subprocess.run([sys.executable, *cmd[1:]], cwd=REPO, check=True)


def export(name: str) -> None:
  workdir = os.path.join(_WORKDIR.value, name)
  model = genjax.load(workdir)
  out = model.save(os.path.join(zoo.DIRECTORY, name), dtype=_DTYPE.value)
  shipped = genjax.load(out)  # headline measured on what is shipped (float16 weights)
  with open(os.path.join(workdir, "final_metrics.json")) as f:
    final = json.load(f)
  provenance = {
      "name": name, "command": " ".join(_command(name)), "step": model.step,
      "trained": datetime.datetime.fromtimestamp(
          os.path.getmtime(os.path.join(workdir, "final_metrics.json"))).strftime("%Y-%m-%d"),
      "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
      "dtype": _DTYPE.value, "final_metrics": final,
      "headline": zoo.headline(shipped),
      # The same on the trained float32 weights: what float16 storage costs.
      "headline_float32": zoo.headline(model)}
  with open(os.path.join(out, zoo.PROVENANCE), "w") as f:
    json.dump(provenance, f, indent=2, sort_keys=True)
  print(name, json.dumps(provenance["headline"]), flush=True)


# The final metrics the table shows, when a run has them.
_SHOWN = ("neg_elbo", "nll", "manifold_classes", "fd", "fd_floor", "precision", "recall",
          "conditional_accuracy", "c1_hungarian_accuracy")


def table() -> None:
  """Prints the README's markdown table of the shipped models."""
  print("| name | trained by | headline (shipped weights) | run's final metrics | size |")
  print("|---|---|---|---|---|")
  for name in zoo.names():
    folder = os.path.join(zoo.DIRECTORY, name)
    with open(os.path.join(folder, zoo.PROVENANCE)) as f:
      p = json.load(f)
    metrics = {**p["final_metrics"].get("eval", {}), **p["final_metrics"].get("final", {})}
    shown = ", ".join(f"{k} {metrics[k]:.4g}" for k in _SHOWN if k in metrics)
    headline = ", ".join(f"{k} {v:.4g}" for k, v in p["headline"].items())
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"| `{name}` | `{p['command']}` ({p['trained']}, step {p['step']}) | {headline} "
          f"| {shown} | {size / 2**20:.1f} MB |")


def main(argv):
  if len(argv) != 2 or argv[1] not in ("train", "export", "table"):
    raise app.UsageError("usage: pretrained.py train|export|table [--only=a,b]")
  if argv[1] == "table":
    return table()
  for name in _ONLY.value or list(COMMANDS):
    if name not in COMMANDS:
      raise app.UsageError(f"unknown model {name!r}; known: {', '.join(COMMANDS)}")
    (train if argv[1] == "train" else export)(name)


if __name__ == "__main__":
  app.run(main)
