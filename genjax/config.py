"""Shared config pieces: the trainer's defaults, `:variant` parsing, validation.

Every file in `configs/` builds on `base_config()` and fills in `method`,
`data` and `model`. The trainer reads only the keys defined here; each method
reads its own `model` / `loss` groups and validates them when it is built.

Durations are given as `total_steps` OR `total_epochs`, exactly one of them
set (the other None), as in big_vision. Intervals (`log_every_steps`, ...) are
in optimiser steps; events fire at the end of the scanned chunk that crosses
a multiple of the interval, so chunk boundaries stay fixed and resuming from
any checkpoint replays the same steps.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
from typing import Any, Mapping

import ml_collections
from ml_collections import config_dict

from genjax.errors import ConfigError

ConfigDict = ml_collections.ConfigDict


def base_config() -> ConfigDict:
  """Returns the trainer-level defaults shared by every config file."""
  c = ConfigDict()
  c.method = ""  # name in the methods registry, e.g. "autoencoder"
  c.seed = 0

  c.data = ConfigDict()
  c.data.name = "mnist"  # any TFDS image dataset with an `image` feature
  c.data.data_dir = config_dict.placeholder(str)  # None: $TFDS_DATA_DIR or TFDS's default
  c.data.train_split = "train"
  c.data.eval_split = "test"
  c.data.download = True  # try TFDS's download when the data is not prepared
  # "none": pixels in [0, 1]; "dynamic": a fresh Bernoulli(x) draw every
  # training step and one fixed draw for evaluation (Salakhutdinov & Murray).
  c.data.binarize = "none"
  # Cap the examples read from each split (runlocal and tests); None = all.
  c.data.max_train_examples = config_dict.placeholder(int)
  c.data.max_eval_examples = config_dict.placeholder(int)

  c.batch_size = 128  # global batch, split over all devices
  c.eval_batch_size = 1000
  # Training examples the method's init sees (None: one batch): data-dependent
  # initialisations (the SSGAN D's weight norm) take their statistics from them.
  c.init_examples = config_dict.placeholder(int)
  c.total_steps = config_dict.placeholder(int)
  c.total_epochs = config_dict.placeholder(float)
  c.steps_per_dispatch = 100  # optimiser steps per compiled lax.scan chunk
  c.log_every_steps = 200
  c.eval_every_steps = 2000
  c.eval_at_start = False  # also evaluate the initial state (step 0) of a fresh run
  c.checkpoint_every_steps = 2000
  c.keep_checkpoints = 2
  c.num_image_examples = 32  # test images in each reconstruction grid

  c.optimizer = optimizer_config()
  c.model = ConfigDict()
  return c


def optimizer_config(name: str = "adam", lr: float = 1e-3) -> ConfigDict:
  """An optimiser group; GANs hold two of these (generator, discriminator)."""
  return ConfigDict(dict(
      name=name,  # adam | adamw | sgd | momentum | rmsprop
      lr=lr,
      b1=0.9,
      b2=0.999,
      # Adam's denominator sqrt(v_hat + eps_root) + eps. Salimans et al.'s
      # Theano Adam (the SSGAN's reference) has eps=0, eps_root=1e-8: an
      # effective floor of 1e-4 on the gradient's RMS, so that near-zero,
      # noise-only gradients give near-zero steps rather than full-size ones.
      eps=1e-8,
      eps_root=0.0,
      momentum=0.9,  # sgd with momentum / rmsprop
      weight_decay=0.0,  # decoupled (adamw) or added to the gradient (others)
      schedule="constant",  # constant | cosine | linear (decay to 0 at the end)
      warmup_steps=0,
      grad_clip_norm=0.0,  # 0 disables global-norm clipping
  ))


def parse_arg(arg: str | None, **defaults: Any) -> ConfigDict:
  """Parses a config variant string such as "runlocal,code_dim=2".

  Args:
    arg: the text after the colon in `--config=configs/x.py:ARG`, or None.
    **defaults: the accepted options and their default values; the type of
      each default decides how its value is parsed (a bare name sets a bool).

  Returns:
    A ConfigDict of all options, defaults overridden by `arg`.

  Raises:
    ConfigError: an option that is not in `defaults`, or a bad value.
  """
  opts = ConfigDict(dict(defaults))
  if not arg:
    return opts
  for item in arg.split(","):
    item = item.strip()
    if not item:
      continue
    key, has_value, value = item.partition("=")
    if key not in defaults:
      raise ConfigError(
          f"unknown config variant option {key!r}; valid options: "
          f"{', '.join(sorted(defaults)) or '(none)'}")
    default = defaults[key]
    if not has_value:
      if not isinstance(default, bool):
        raise ConfigError(f"config variant option {key!r} needs a value")
      opts[key] = True
      continue
    opts[key] = parse_like(default, value, f"config variant option {key}")
  return opts


def parse_like(default: Any, text: str, what: str) -> Any:
  """Parses `text` as a value of `default`'s type (bool, int, float or str).

  Raises:
    ConfigError: naming `what`, when `text` is not such a value.
  """
  try:
    if isinstance(default, bool):
      if text.lower() not in ("true", "false", "1", "0"):
        raise ValueError(text)
      return text.lower() in ("true", "1")
    if isinstance(default, int):
      return int(text)
    if isinstance(default, float):
      return float(text)
    return text
  except ValueError:
    raise ConfigError(f"{what}={text!r} is not a valid {type(default).__name__}") from None


def group_with_defaults(config: ConfigDict, group: str,
                        defaults: Mapping[str, Mapping[str, Any]]) -> ConfigDict:
  """`config.<group>` with `defaults[group]` filled in for the keys it lacks.

  Lets a method add config keys without breaking configs written before them.
  """
  out = ConfigDict(dict(defaults.get(group, {})))
  given = config.get(group)
  if given is not None:
    for key, value in given.items():
      out[key] = value
  return out


def shrink_for_runlocal(c: ConfigDict, *, total_steps: int, train_examples: int = 1024,
                        eval_examples: int = 256, batch_size: int = 32,
                        eval_batch_size: int = 128, steps_per_dispatch: int = 10,
                        log_every: int = 10, eval_every: int | None = None,
                        checkpoint_every: int | None = None, image_examples: int = 16) -> None:
  """The trainer half of every config's `:runlocal` variant: tiny data, few steps.

  Each config then shrinks its own model; together they finish in seconds
  (tests, smoke runs). Evals and checkpoints default to once, at the end.
  """
  c.data.max_train_examples = train_examples
  c.data.max_eval_examples = eval_examples
  c.batch_size = batch_size
  c.eval_batch_size = eval_batch_size
  c.total_epochs = None
  c.total_steps = total_steps
  c.steps_per_dispatch = steps_per_dispatch
  c.log_every_steps = log_every
  c.eval_every_steps = eval_every or total_steps
  c.checkpoint_every_steps = checkpoint_every or total_steps
  c.num_image_examples = image_examples


# The `:runlocal` size of each evaluator type's costly options (smaller values kept).
_RUNLOCAL_EVALS = {
    "linear_probe": dict(sizes=(100,), num_steps=20),
    "jacobian_norm": dict(examples=16),
    "iwae_nll": dict(samples=20),
    "sample_quality": dict(num_samples=200, batch_size=100),
    "toy_modes": dict(num_samples=1000),
    "optimal_discriminator": dict(steps=200, batch_size=256, num_gen_samples=100_000,
                                  hidden=(32, 32)),
    "toy_jsd": dict(num_samples=20_000),
}


def shrink_evals_for_runlocal(c: ConfigDict) -> None:
  """The evaluator half of a `:runlocal` variant: each of `c.evals` at a
  size that runs in a second or two (numbers only ever lowered; tuples, such
  as probe sizes or network widths, replaced)."""
  for spec in (c.get("evals") or {}).values():
    for key, small in _RUNLOCAL_EVALS.get(spec.get("type"), {}).items():
      if isinstance(small, tuple) or key not in spec:
        spec[key] = small
      else:
        spec[key] = min(spec[key], small) if spec[key] else small


def num_train_steps(config: ConfigDict, num_train_examples: int) -> int:
  """Resolves total_steps / total_epochs (exactly one set) to a step count."""
  check_duration(config)
  if config.total_steps is not None:
    return int(config.total_steps)
  epochs = config.total_epochs
  steps_per_epoch = num_train_examples // config.batch_size
  return max(1, math.ceil(epochs * steps_per_epoch))


def check_duration(config: ConfigDict) -> None:
  """Exactly one of total_steps / total_epochs, and positive."""
  steps, epochs = config.total_steps, config.total_epochs
  if (steps is None) == (epochs is None):
    raise ConfigError(
        "set exactly one of config.total_steps and config.total_epochs "
        f"(got total_steps={steps}, total_epochs={epochs}); e.g. "
        "--config.total_steps=1000 --config.total_epochs=None")
  if steps is not None and steps <= 0:
    raise ConfigError(f"config.total_steps must be positive, got {steps}")
  if epochs is not None and not epochs > 0:
    raise ConfigError(f"config.total_epochs must be positive, got {epochs}")


_POSITIVE_INTS = ("batch_size", "eval_batch_size", "steps_per_dispatch",
                  "log_every_steps", "eval_every_steps",
                  "checkpoint_every_steps", "keep_checkpoints")


def validate(config: ConfigDict) -> None:
  """Checks the trainer-level keys; methods check their own groups.

  Raises:
    ConfigError: naming the key, the bad value and what is allowed.
  """
  if not config.method:
    raise ConfigError("config.method is empty; name a registered method")
  for key in _POSITIVE_INTS:
    value = config[key]
    if not isinstance(value, int) or value <= 0:
      raise ConfigError(f"config.{key} must be a positive integer, got {value!r}")
  check_duration(config)
  if config.num_image_examples < 0:
    raise ConfigError("config.num_image_examples must be >= 0")
  if config.data.binarize not in ("none", "dynamic"):
    raise ConfigError(
        f"config.data.binarize must be 'none' or 'dynamic', got "
        f"{config.data.binarize!r}")
  for key in ("max_train_examples", "max_eval_examples"):
    value = config.data[key]
    if value is not None and value <= 0:
      raise ConfigError(f"config.data.{key} must be positive or None, got {value}")
  # .get: configs saved before the key existed (old workdirs, shipped models) lack it.
  init_examples = config.get("init_examples")
  if init_examples is not None and init_examples <= 0:
    raise ConfigError(f"config.init_examples must be positive or None, got {init_examples}")
  validate_optimizer(config.optimizer, "optimizer")


def validate_optimizer(opt: ConfigDict, where: str) -> None:
  """Checks one optimiser group (see `optimizer_config`)."""
  if opt.name not in ("adam", "adamw", "sgd", "momentum", "rmsprop"):
    raise ConfigError(
        f"config.{where}.name={opt.name!r} is not one of adam, adamw, sgd, "
        "momentum, rmsprop")
  if not opt.lr > 0:
    raise ConfigError(f"config.{where}.lr must be positive, got {opt.lr}")
  if opt.schedule not in ("constant", "cosine", "linear"):
    raise ConfigError(
        f"config.{where}.schedule={opt.schedule!r} is not one of constant, "
        "cosine, linear")
  if opt.warmup_steps < 0 or opt.weight_decay < 0 or opt.grad_clip_norm < 0:
    raise ConfigError(
        f"config.{where}: warmup_steps, weight_decay and grad_clip_norm must "
        "be >= 0")
  if opt.eps < 0 or opt.eps_root < 0 or opt.eps + opt.eps_root <= 0:
    raise ConfigError(
        f"config.{where}: eps and eps_root must be >= 0 and not both 0 (Adam "
        f"would divide by zero), got eps={opt.eps}, eps_root={opt.eps_root}")


def import_config_file(path: str):
  """Imports a config file as a module (its get_config, sweep, ...).

  Raises:
    ConfigError: the file does not exist.
  """
  if not os.path.isfile(path):
    raise ConfigError(f"config file {path!r} not found")
  name = os.path.splitext(os.path.basename(path))[0]
  spec = importlib.util.spec_from_file_location(f"genjax_config_{name}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_config_file(path: str, arg: str | None = None,
                     overrides: Mapping[str, Any] | None = None) -> ConfigDict:
  """Loads `get_config(arg)` from a config file and applies dotted overrides.

  The programmatic twin of `--config=path:arg --config.a.b=value`, for
  experiments, scripts and tests.

  Raises:
    ConfigError: missing file, or an override naming an unknown key.
  """
  config = with_method_defaults(import_config_file(path).get_config(arg))
  for key, value in (overrides or {}).items():
    try:
      node, leaf = dotted_parent(config, key)
    except ConfigError as e:
      raise ConfigError(f"{e} in {path}") from None
    node[leaf] = value
  return config


def with_method_defaults(config: ConfigDict) -> ConfigDict:
  """`config` with every key its method reads present (see methods.with_defaults)."""
  from genjax import methods  # methods build on this module
  validate_method_name(config)
  return methods.with_defaults(config)


def validate_method_name(config: Any) -> None:
  if not isinstance(config, ConfigDict) or "method" not in config:
    raise ConfigError("a config file's get_config() must return a ConfigDict built on "
                      "genjax.config.base_config()")
  if not config.method:
    raise ConfigError("config.method is empty; name a registered method")


def load_launcher_config(spec: str) -> ConfigDict:
  """The config of `--config=PATH[:ARG]`: method defaults filled in, then locked.

  Raises:
    ConfigError: missing file, bad variant option, unknown method.
  """
  path, _, arg = spec.partition(":")
  config = load_config_file(path, arg or None)
  config.lock()
  return config


def all_keys(config: ConfigDict, prefix: str = "") -> list[str]:
  """Every leaf key of `config` as a dotted path ("optimizer.lr", ...)."""
  keys = []
  for key, value in config.items():
    if isinstance(value, ConfigDict):
      keys.extend(all_keys(value, f"{prefix}{key}."))
    else:
      keys.append(prefix + key)
  return keys


def check_keys_exist(config: ConfigDict, keys) -> None:
  """Raises ConfigError for the first dotted key not in `config`, naming the nearest."""
  valid = all_keys(config)
  groups = {k.rsplit(".", 1)[0] for k in valid if "." in k}
  for key in keys:
    if key in valid or key in groups:
      continue
    parent, _, leaf = key.rpartition(".")
    if parent in groups:  # a misspelt leaf of a real group: match within it
      siblings = [k.rsplit(".", 1)[1] for k in valid if k.startswith(parent + ".")]
      near = [f"{parent}.{k}" for k in difflib.get_close_matches(leaf, siblings, n=1, cutoff=0.6)]
    else:
      near = difflib.get_close_matches(key, valid + sorted(groups), n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise ConfigError(f"unknown config key {key!r}{hint}")


def dotted_parent(config: ConfigDict, key: str) -> tuple[ConfigDict, str]:
  """The group holding a dotted key ("optimizer.lr" -> (config.optimizer, "lr")).

  Raises:
    ConfigError: the key does not exist.
  """
  node = config
  *parents, leaf = key.split(".")
  try:
    for p in parents:
      node = node[p]
    if leaf not in node:
      raise KeyError(leaf)
  except (KeyError, TypeError):
    check_keys_exist(config, [key])
    raise ConfigError(f"unknown config key {key!r}") from None
  return node, leaf
