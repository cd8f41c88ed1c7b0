"""Launcher: `python -m genjax.main --config=configs/ae_mnist.py --workdir=DIR`.

Flags:
  --config      a config file, optionally with a variant after a colon
                (`configs/ae_mnist.py:runlocal`); override any value with
                `--config.optimizer.lr=3e-4`. The config is locked, so a
                misspelt key is an error, not a silently new field.
  --workdir     where everything the run produces goes; re-running the same
                command resumes from its latest checkpoint.
  --jax_distributed   call `jax.distributed.initialize()` first (multi-host
                GPU clusters and TPU pods). On Cloud TPU, SLURM and other
                clusters JAX finds the coordinator itself; elsewhere pass
                --coordinator_address, --num_processes and --process_id
                (e.g. two CPU processes on 127.0.0.1, as the tests do).

A `genjax.errors.UserError` (bad config, missing data, NaN loss) ends the run
with one line on stderr and exit status 1.
"""

from __future__ import annotations

import logging as std_logging
import os
import sys

# TensorFlow is only TFDS's reader here: keep its C++ start-up chatter out.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags

from genjax.errors import UserError  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file, e.g. configs/ae_mnist.py[:runlocal].", lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and images.")
_DISTRIBUTED = flags.DEFINE_bool(
    "jax_distributed", False, "Initialise jax.distributed (multi-host runs).")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "host:port of process 0 (with --jax_distributed).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "With --jax_distributed.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "With --jax_distributed.")
flags.mark_flags_as_required(["config", "workdir"])


class _QuietLibraries(std_logging.Filter):
  """Drops INFO lines from Orbax and TFDS (dozens per checkpoint); keeps warnings."""

  def filter(self, record: std_logging.LogRecord) -> bool:
    noisy = "/orbax/" in record.pathname or "/tensorflow_datasets/" in record.pathname
    return record.levelno >= std_logging.WARNING or not noisy


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  logging.get_absl_handler().addFilter(_QuietLibraries())
  import jax  # after flag parsing, so --help stays fast
  if _DISTRIBUTED.value:
    jax.distributed.initialize(coordinator_address=_COORDINATOR.value,
                               num_processes=_NUM_PROCESSES.value,
                               process_id=_PROCESS_ID.value)
  from genjax import train  # imports TF (via TFDS) lazily too
  logging.info("JAX %s, %d processes, devices: %s", jax.__version__,
               jax.process_count(), jax.devices())
  try:
    train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)
  except UserError as e:
    logging.error("%s", e)
    print(f"genjax: error: {e}", file=sys.stderr)
    sys.exit(1)


def run() -> None:
  # Config-file errors (unknown variant option, bad value) are raised while
  # absl parses flags, before main() runs: report them as one line too.
  try:
    app.run(main)
  except UserError as e:
    print(f"genjax: error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  run()
