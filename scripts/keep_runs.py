r"""Keeps an experiment's finished runs in the repository, and puts them back.

    python scripts/keep_runs.py --workdir=runs/ssgan --to=experiments/results/semi_supervised_gan/kept_runs
    python scripts/keep_runs.py --workdir=runs/ssgan --to=experiments/results/semi_supervised_gan/kept_runs --restore

An experiment keeps each finished run's result in `WORKDIR/<run>/measured.json`
and reads it instead of training the run again. A long experiment spread over
several machines or sessions keeps those runs by copying each finished run
directory, without its checkpoints, TensorBoard files and all but the last of
each periodic image (what is left is ~100 KB: config, metrics, the last
images, figures, measured.json), to `--to`, which is committed;
`--restore` copies kept runs back into a fresh WORKDIR, so the experiment
trains only the runs still missing and its report lists the restored ones as
reused. Runs already finished at the destination are left as they are.
"""

from __future__ import annotations

import os
import sys

from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments import report  # noqa: E402  (the repository's experiments package)
from genjax import cli  # noqa: E402
from genjax.errors import UserError  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", None, "The experiment's --workdir.")
_TO = flags.DEFINE_string("to", None, "Where kept runs live (a folder in the repository).")
_RESTORE = flags.DEFINE_bool("restore", False, "Copy kept runs from --to into --workdir.")


def main(argv):
  del argv
  if not _WORKDIR.value or not _TO.value:
    raise UserError("pass --workdir (the experiment's) and --to (the kept runs' folder)")
  source, destination = ((_TO.value, _WORKDIR.value) if _RESTORE.value
                         else (_WORKDIR.value, _TO.value))
  if not report.finished_runs(source):
    raise UserError(f"no finished runs (a run directory with measured.json) in {source}")
  copied = report.keep_runs(source, destination)
  print(f"copied {len(copied)} runs to {destination}: {', '.join(copied) or 'none new'}")


if __name__ == "__main__":
  cli.run_app(main)
