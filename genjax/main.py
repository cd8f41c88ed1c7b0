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
import re
import sys

# TensorFlow is only TFDS's reader here: keep its C++ start-up chatter out.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags

from genjax import config as config_lib  # noqa: E402
from genjax.errors import UserError  # noqa: E402



class _ConfigFileParser(flags.ArgumentParser):
  """Loads `--config=PATH[:ARG]` with its method's defaults filled in, locked.

  ml_collections applies `--config.a.b=v` after the file is loaded and locked,
  so keys a config file leaves to its method's defaults must exist by then.
  Errors (missing file, unknown method) are `ConfigError`s, reported as one line.
  """

  def parse(self, argument):
    return config_lib.load_launcher_config(argument)

  def flag_type(self):
    return "config object"


def define_config_flag(flag_values=flags.FLAGS, argv: list[str] | None = None):
  """Defines `--config` (and its `--config.a.b=v` overrides) in `flag_values`.

  `argv` is where ml_collections looks for the overrides (sys.argv if None).
  """
  flag = config_flags.DEFINE_config_file(
      "config", None, "Config file, e.g. configs/ae_mnist.py[:runlocal].",
      flag_values=flag_values, lock_config=True, sys_argv=argv)
  flag_values["config"].parser = _ConfigFileParser()
  return flag


_CONFIG = define_config_flag()
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
    raise UserError(f"unexpected arguments: {' '.join(argv[1:])} (flags take the form --name=value)")
  logging.get_absl_handler().addFilter(_QuietLibraries())
  import jax  # after flag parsing, so --help stays fast
  if _DISTRIBUTED.value:
    jax.distributed.initialize(coordinator_address=_COORDINATOR.value,
                               num_processes=_NUM_PROCESSES.value,
                               process_id=_PROCESS_ID.value)
  from genjax import train  # imports TF (via TFDS) lazily too
  train.check_config(_CONFIG.value)  # a bad config fails before devices are set up
  logging.info("JAX %s, %d processes, devices: %s", jax.__version__,
               jax.process_count(), jax.devices())
  train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)


_NONE_OVERRIDE = re.compile(r"--config\.([\w.]+)=(None|none)")


def parse_flags(argv: list[str], flag_values=flags.FLAGS) -> list[str]:
  """absl's flag parsing, with every bad flag turned into one `UserError`.

  Unknown override keys get the nearest valid key; bad values, missing
  required flags and config-file errors keep their own one-line message.
  `--config.a.b=None` sets a key to None (ml_collections' int and float
  parsers cannot), e.g. `--config.total_steps=1000 --config.total_epochs=None`.
  """
  nulls = [m.group(1) for m in map(_NONE_OVERRIDE.fullmatch, argv) if m]
  try:
    remaining = flag_values([a for a in argv if not _NONE_OVERRIDE.fullmatch(a)])
  except UserError:
    raise
  except (flags.Error, KeyError, AttributeError, ValueError, TypeError) as e:
    _raise_unknown_override(argv)
    text = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
    raise UserError(" ".join(str(text).split())) from None
  if nulls:
    _raise_unknown_override(argv)
    config = flag_values["config"].value
    for key in nulls:
      node, leaf = config_lib.dotted_parent(config, key)
      node[leaf] = None
  return remaining


def _raise_unknown_override(argv: list[str]) -> None:
  """Raises a ConfigError naming an override key the config lacks, if any."""
  specs = [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
  keys = [a[2:].split("=", 1)[0].split(".", 1)[1] for a in argv
          if a.startswith("--config.")]
  if specs and keys:
    config_lib.check_keys_exist(config_lib.load_launcher_config(specs[-1]), keys)


def run() -> None:
  """`python -m genjax.main`: a `UserError` anywhere ends it with one line, status 1."""
  try:
    app.run(main, flags_parser=parse_flags)
  except UserError as e:
    print(f"genjax: error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  run()
