r"""Run a config's ablation sweep: one launcher run per point, then a summary.

    python scripts/sweep.py --config=configs/sparse_ae_mnist.py --workdir=runs/sparse_sweep
    python scripts/sweep.py --config=configs/sparse_ae_mnist.py:runlocal --workdir=/tmp/sw --parallel=2
    python scripts/sweep.py --config=configs/sparse_ae_mnist.py --workdir=runs/sw --dry_run

Each run is `python -m genjax.main --config=... --config.<key>=<value>
--workdir=DIR/<name>`; `--dry_run` prints those commands (one per line) for a
cluster scheduler instead of running them. Re-running skips finished runs and
resumes interrupted ones. Writes DIR/summary.csv, DIR/summary.md and
DIR/sweep_<key>.png (the main final metric against each swept value).
Exits 1 if any run failed (after running all of them).
"""

from __future__ import annotations

import shlex
import sys

from absl import app, flags

from genjax import sweep
from genjax.errors import UserError

_CONFIG = flags.DEFINE_string("config", None, "Config file with a sweep(add), [:variant].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Parent directory of the runs.")
_PARALLEL = flags.DEFINE_integer("parallel", 1, "Runs at a time (local processes).")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print the commands, run nothing.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  try:
    runs = sweep.load_sweep(_CONFIG.value)
  except UserError as e:
    print(f"sweep: error: {e}", file=sys.stderr)
    sys.exit(1)
  if _DRY_RUN.value:
    for run in runs:
      print(shlex.join(sweep.command(_CONFIG.value, run, _WORKDIR.value, python="python")))
    return
  outcomes = sweep.run_all(_CONFIG.value, runs, _WORKDIR.value, parallel=_PARALLEL.value)
  rows = sweep.summarize(runs, _WORKDIR.value, outcomes)
  failed = [r["run"] for r in rows if not str(r["status"]).startswith(("ok", "skipped"))]
  print(f"[sweep] {len(rows) - len(failed)}/{len(rows)} runs ok; summary in "
        f"{_WORKDIR.value}/summary.md")
  if failed:
    print(f"[sweep] failed: {', '.join(failed)}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
