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

from absl import flags, logging

from genjax import cli

_CONFIG = cli.define_config_flag()
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
  cli.reject_arguments(argv)
  logging.get_absl_handler().addFilter(_QuietLibraries())
  import jax  # after flag parsing, so --help stays fast
  from genjax import host_memory
  host_memory.keep_freed_memory()  # steps reuse freed memory, not fresh pages
  if _DISTRIBUTED.value:
    jax.distributed.initialize(coordinator_address=_COORDINATOR.value,
                               num_processes=_NUM_PROCESSES.value,
                               process_id=_PROCESS_ID.value)
  from genjax import train  # imports TF (via TFDS) lazily too
  train.check_config(_CONFIG.value)  # a bad config fails before devices are set up
  logging.info("JAX %s, %d processes, devices: %s", jax.__version__,
               jax.process_count(), jax.devices())
  train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)


def run() -> None:
  """`python -m genjax.main`: a `UserError` anywhere ends it with one line, status 1."""
  cli.run_app(main)


if __name__ == "__main__":
  run()
