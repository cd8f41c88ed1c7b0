"""Model families, registered by name: `methods.build(config, ...)`.

A method is an objective plus pure step functions over a pytree state. The
trainer (`genjax/train.py`) owns jit, `lax.scan`, sharding, checkpoints and
logging; a method never touches them. Adding a model family is one new module
here that calls `register("name", defaults=..., validate=...)` on a builder,
plus Flax modules in `genjax/models/` and a config in `configs/`. `defaults`
lists every config key the method reads ({group: {key: value}}); config files
set only what differs, and the launcher fills in the rest before it locks the
config, so `--config.<group>.<key>=v` works for all of them. `validate`
checks the groups without data, before a dataset is read.

The interface (all functions pure and jit-able):

  init(rng, example_batch) -> state
      Parameters, optimiser state(s), batch statistics, EMA copies, ... in a
      typed pytree (a flax struct dataclass: `TrainState`, or the GAN's
      `gan_steps.GanState` with both networks and both optimiser states).
  train_step(state, batch, rng) -> (state, metrics)
      One optimisation step on a global batch (a GAN does its D and G updates
      inside). `metrics` maps names to float32 scalars. The trainer logs
      their means over each log window, except metrics named `*grad_norm`
      (`train.sampled_metric`), which it computes at the last step of each
      chunk of `train.SAMPLE_FROM_STEPS` steps or more: the diagnostics that
      cost a pass of their own over the gradients.
  eval_step(state, batch, rng) -> metrics
      Per-example float32 [B] values; the trainer takes masked means over the
      whole eval split, so padding never biases a metric.
  images(state, batch, rng) -> {name: float32 [rows, cols, H, W, C]}
      Image grids (reconstructions, samples) written as PNG at eval steps.

Everything else measured on a trained model (IWAE NLL, linear probes, sample
quality, ...) is an evaluator of `genjax/evaluation/`, chosen in
`config.evals` (genjax/evaluation/registry.py), which reads the model
functions below; a method's `defaults["evals"]` are the evaluators its
configs get when they list none.

Model functions (`model_fns`, optional; what `genjax.load` exposes): pure,
jit-able functions of the trained state, by name. Images are float32
[N, H, W, C] in [0, 1]; `n` and `k` must be static under jit.
  autoencoders   encode(state, x) -> h; decode(state, h) -> x;
                 reconstruct(state, x) -> x
  VAEs           encode(state, x) -> (mean, log_variance); decode(state, z)
                 -> mean image; reconstruct(state, x) (decodes the posterior
                 mean); sample(state, rng, n) -> [n, H, W, C] mean images;
                 log_likelihood(state, x, rng, k, with_variance=False) -> [N]
                 IWAE-k log p(x) in nats (and its importance-sampling
                 variance [N]); elbo(state, x, rng) -> [N] one-sample ELBO in nats
  GANs           sample(state, rng, n, labels=None, codes=None) (EMA weights
                 and running BN statistics when kept; conditional: `labels`
                 [n] int, balanced 0, 1, .. if None; InfoGAN: `codes` =
                 (c1 [n] int, c_cont [n, M]), drawn if None);
                 discriminate(state, x, labels=None) -> [N] D(x);
                 InfoGAN: infer_codes(state, x) -> (category probabilities
                 [N, K], continuous means [N, M]) from Q
The trainer calls them only through the evaluators.

A batch is {"image": float32 [B, H, W, C] in [0, 1], "label": int32 [B]}.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
from typing import Any, Callable

import jax
from flax import struct

from genjax.config import ConfigDict
from genjax.errors import ConfigError
from genjax.evaluation import registry

State = Any  # a pytree: a method's typed state (TrainState, gan_steps.GanState)
Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class DataInfo:
  """What a method may know about its data when it is built."""
  image_shape: tuple[int, int, int]
  num_classes: int
  num_train: int


@dataclasses.dataclass(frozen=True)
class Method:
  """The pure functions of one model family, closed over its config."""
  init: Callable[[jax.Array, Batch], State]
  train_step: Callable[[State, Batch, jax.Array], tuple[State, Metrics]]
  eval_step: Callable[[State, Batch, jax.Array], Metrics]
  images: Callable[[State, Batch, jax.Array], dict[str, jax.Array]] | None = None
  # The metric a progress line, a sweep summary or a plot leads with.
  main_metric: str = "loss"
  # Model-level functions by name (see the module docstring); not used in training.
  model_fns: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
  # The part of a training state (or of its abstract shapes) the model
  # functions read, without optimiser state: all that `genjax.load` keeps and
  # `Model.save` stores. The default keeps the whole state.
  model_state: Callable[[State], State] = lambda state: state


@struct.dataclass
class TrainState:
  """The state of a one-network method (autoencoders, VAEs).

  Attributes:
    params: the network's Flax parameters.
    opt_state: the optimiser's state (None in a loaded model).
    step: the optimiser step, for objectives that depend on it (the VAE's KL
      warm-up); None where nothing reads it.
  """
  params: Any
  opt_state: Any = None
  step: Any = None


def params_only(state: TrainState) -> TrainState:
  """A `Method.model_state`: the parameters, without optimiser state or step."""
  return state.replace(opt_state=None, step=None)


Builder = Callable[..., Method]
Validator = Callable[[ConfigDict], None]
_BUILDERS: dict[str, Builder] = {}
_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {}
_VALIDATORS: dict[str, Validator] = {}
# Modules imported on first use so that `methods.build` finds their builders.
_MODULES = {
    "autoencoder": "genjax.methods.autoencoder",
    "vae": "genjax.methods.vae",
    "gan": "genjax.methods.gan",
}


def register(name: str, *, defaults: dict[str, dict[str, Any]] | None = None,
             validate: Validator | None = None) -> Callable[[Builder], Builder]:
  """Decorator: `@register("vae", defaults=..., validate=...) def build(config, *, ...)`.

  Args:
    name: the value of `config.method` that selects this builder.
    defaults: {group: {key: default}} for every config key the method reads;
      `with_defaults` fills them into a config before it is locked, so each
      one can be overridden from the command line.
    validate: checks the method's config groups without data, so a bad
      config fails before a dataset is read or a workdir is created.
  """
  def wrap(builder: Builder) -> Builder:
    if name in _BUILDERS and _BUILDERS[name] is not builder:
      raise ValueError(f"method {name!r} registered twice")
    _BUILDERS[name] = builder
    _DEFAULTS[name] = {g: dict(keys) for g, keys in (defaults or {}).items()}
    if validate is not None:
      _VALIDATORS[name] = validate
    return builder
  return wrap


def names() -> list[str]:
  return sorted(set(_MODULES) | set(_BUILDERS))


def _lookup(name: str) -> None:
  """Imports the module of method `name` (registering it) or fails clearly."""
  if name not in _BUILDERS and name in _MODULES:
    importlib.import_module(_MODULES[name])
  if name not in _BUILDERS:
    raise ConfigError(
        f"unknown method {name!r} (config.method); registered methods: {', '.join(names())}")


def default_groups(name: str) -> dict[str, dict[str, Any]]:
  """{group: {key: default}} of every config key method `name` reads."""
  _lookup(name)
  return copy.deepcopy(_DEFAULTS[name])


def with_defaults(config: ConfigDict) -> ConfigDict:
  """A copy of `config` with its method's missing groups and keys filled in.

  Config files set only what differs from a method's defaults; ml_collections
  locks a config before applying `--config.a.b=v`, so every key a method reads
  must exist by then. The copy keeps `config`'s lock state.

  Raises:
    ConfigError: `config.method` is not a registered method.
  """
  out = copy.deepcopy(config)
  defaults = default_groups(config.method)
  with out.unlocked():
    # A config that lists evaluators lists all of them; one that lists none
    # gets the method's. Each evaluator's own options are then filled in.
    if "evals" not in out or out.evals is None:
      out.evals = ConfigDict(defaults.get("evals", {}))
    for group, keys in defaults.items():
      if group == "evals":
        continue
      if group not in out or out[group] is None:
        out[group] = ConfigDict()
      for key, value in keys.items():
        if key not in out[group]:
          out[group][key] = value
    registry.fill_defaults(out.evals)
  return out


def validate(config: ConfigDict) -> None:
  """The method's own checks of its config groups, before any data is read.

  Raises:
    ConfigError: unknown method, or a bad value in its groups.
  """
  _lookup(config.method)
  if config.method in _VALIDATORS:
    _VALIDATORS[config.method](config)
  registry.validate(config)


def build(config: ConfigDict, *, data_info: DataInfo, num_train_steps: int) -> Method:
  """Builds the method named by `config.method`.

  Raises:
    ConfigError: unknown method, or the method rejects its config groups.
  """
  _lookup(config.method)
  return _BUILDERS[config.method](config, data_info=data_info,
                                  num_train_steps=num_train_steps)
