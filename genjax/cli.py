"""Command-line parsing shared by the launchers: `--config` and one-line errors.

`define_config_flag` gives `--config=PATH[:ARG]` with ml_collections'
`--config.a.b=v` overrides, loaded with the method's defaults filled in
before the config is locked (so every key a method reads can be
overridden). `parse_flags` is absl's flag parsing with every bad flag,
unknown key or bad value turned into one `UserError` line; `run_app` runs
a main function so that any `UserError` ends it with that one line.
"""

from __future__ import annotations

import re
import sys

from absl import app, flags
from ml_collections import config_flags

from genjax import config as config_lib
from genjax.errors import UserError


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


_NONE_OVERRIDE = re.compile(r"--config\.([\w.]+)=(None|none)")


def parse_flags(argv: list[str], flag_values=flags.FLAGS) -> list[str]:
  """absl's flag parsing, with every bad flag turned into one `UserError`.

  Unknown override keys get the nearest valid key; bad values, missing
  required flags and config-file errors keep their own one-line message.
  `--config.a.b=None` sets a key to None (ml_collections' int and float
  parsers cannot), e.g. `--config.total_steps=1000 --config.total_epochs=None`;
  `none` does too, except for a key holding a string, where "none" is a
  value of its own (`--config.loss.sparsity=none`).
  """
  nulls = [m.groups() for m in map(_NONE_OVERRIDE.fullmatch, argv) if m]
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
    for key, text in nulls:
      node, leaf = config_lib.dotted_parent(config, key)
      node[leaf] = "none" if text == "none" and isinstance(node[leaf], str) else None
  return remaining


def _raise_unknown_override(argv: list[str]) -> None:
  """Raises a ConfigError naming an override key the config lacks, if any."""
  specs = [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]
  keys = [a[2:].split("=", 1)[0].split(".", 1)[1] for a in argv
          if a.startswith("--config.")]
  if specs and keys:
    config_lib.check_keys_exist(config_lib.load_launcher_config(specs[-1]), keys)


def reject_arguments(argv: list[str]) -> None:
  """A command line's positional arguments (everything is a --flag) as a UserError."""
  if len(argv) > 1:
    raise UserError(f"unexpected arguments: {' '.join(argv[1:])} "
                    "(flags take the form --name=value)")


def run_app(main, flags_parser=parse_flags) -> None:
  """`absl.app.run(main)`; a `UserError` ends it with one `genjax: error:` line, status 1."""
  try:
    app.run(main, flags_parser=flags_parser)
  except UserError as e:
    print(f"genjax: error: {e}", file=sys.stderr)
    sys.exit(1)
