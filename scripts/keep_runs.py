r"""Keeps an experiment's finished runs in the repository, and puts them back.

    python scripts/keep_runs.py --workdir=runs/ssgan --to=experiments/results/semi_supervised_gan/kept_runs
    python scripts/keep_runs.py --workdir=runs/ssgan --to=experiments/results/semi_supervised_gan/kept_runs --restore

An experiment (`experiments/report.measure_runs`) keeps each finished run's
result in `WORKDIR/<run>/measured.json` and reads it instead of training the
run again. A long experiment spread over several machines or sessions keeps
those runs by copying each finished run directory, without its checkpoints and
TensorBoard files (the config, metrics, images, figures and measured.json:
kilobytes), to `--to`, which is committed; `--restore` copies kept runs back
into a fresh WORKDIR, so the experiment trains only the runs still missing and
its report lists the restored ones as reused. Runs already in WORKDIR are left
as they are either way.
"""

from __future__ import annotations

import os
import shutil

from absl import flags

from genjax import cli
from genjax.errors import UserError

_WORKDIR = flags.DEFINE_string("workdir", None, "The experiment's --workdir.")
_TO = flags.DEFINE_string("to", None, "Where kept runs live (a folder in the repository).")
_RESTORE = flags.DEFINE_bool("restore", False, "Copy kept runs from --to into --workdir.")

LEFT_OUT = ("checkpoints", "tensorboard")  # large, and not read by any report


def finished_runs(directory: str) -> list[str]:
  """Names of the run directories under `directory` that hold a measured.json."""
  if not os.path.isdir(directory):
    return []
  return sorted(name for name in os.listdir(directory)
                if os.path.isfile(os.path.join(directory, name, "measured.json")))


def copy_runs(source: str, destination: str) -> list[str]:
  """Copies each finished run of `source` that `destination` lacks; returns their names."""
  copied = []
  for name in finished_runs(source):
    target = os.path.join(destination, name)
    if os.path.isfile(os.path.join(target, "measured.json")):
      continue
    if os.path.exists(target):  # an unfinished run's leftovers: the kept run replaces them
      shutil.rmtree(target)
    shutil.copytree(os.path.join(source, name), target,
                    ignore=shutil.ignore_patterns(*LEFT_OUT, ".measure.lock"))
    copied.append(name)
  return copied


def main(argv):
  del argv
  if not _WORKDIR.value or not _TO.value:
    raise UserError("pass --workdir (the experiment's) and --to (the kept runs' folder)")
  source, destination = ((_TO.value, _WORKDIR.value) if _RESTORE.value
                         else (_WORKDIR.value, _TO.value))
  if not finished_runs(source):
    raise UserError(f"no finished runs (a run directory with measured.json) in {source}")
  copied = copy_runs(source, destination)
  print(f"copied {len(copied)} runs to {destination}: {', '.join(copied) or 'none new'}")


if __name__ == "__main__":
  cli.run_app(main)
