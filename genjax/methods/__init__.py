"""Model families, registered by name: `methods.build(config, ...)`.

A method is an objective plus pure step functions over a pytree state. The
trainer (`genjax/train.py`) owns jit, `lax.scan`, sharding, checkpoints and
logging; a method never touches them. Adding a model family is one new module
here that calls `register("name")` on a builder, plus Flax modules in
`genjax/models/` and a config in `configs/`.

The interface (all functions pure and jit-able except `final_eval`):

  init(rng, example_batch) -> state
      Parameters, optimiser state(s), batch statistics, EMA copies, ...
      A GAN keeps both networks and both optimiser states in one state.
  train_step(state, batch, rng) -> (state, metrics)
      One optimisation step on a global batch (a GAN does its D and G updates
      inside). `metrics` maps names to float32 scalars.
  eval_step(state, batch, rng) -> metrics
      Per-example float32 [B] values; the trainer takes masked means over the
      whole eval split, so padding never biases a metric.
  images(state, batch, rng) -> {name: float32 [rows, cols, H, W, C]}
      Image grids (reconstructions, samples) written as PNG at eval steps.
  final_eval(state, dataset, rng, workdir) -> {name: float}    (optional)
      Expensive end-of-run evaluations (IWAE NLL, linear probes, FID) that
      may compile their own functions and write figures into `workdir`
      (process 0 only); the numbers go to final_metrics.json.

A batch is {"image": float32 [B, H, W, C] in [0, 1], "label": int32 [B]}.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable

import jax

from genjax.config import ConfigDict
from genjax.errors import ConfigError

State = Any  # a pytree
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
  final_eval: Callable[..., dict[str, float]] | None = None
  # The metric a progress line, a sweep summary or a plot leads with.
  main_metric: str = "loss"


Builder = Callable[..., Method]
_BUILDERS: dict[str, Builder] = {}
# Modules imported on first use so that `methods.build` finds their builders.
_MODULES = {
    "autoencoder": "genjax.methods.autoencoder",
    "vae": "genjax.methods.vae",
    "gan": "genjax.methods.gan",
}


def register(name: str) -> Callable[[Builder], Builder]:
  """Decorator: `@register("vae") def build(config, *, data_info, num_train_steps)`."""
  def wrap(builder: Builder) -> Builder:
    if name in _BUILDERS and _BUILDERS[name] is not builder:
      raise ValueError(f"method {name!r} registered twice")
    _BUILDERS[name] = builder
    return builder
  return wrap


def names() -> list[str]:
  return sorted(set(_MODULES) | set(_BUILDERS))


def build(config: ConfigDict, *, data_info: DataInfo, num_train_steps: int) -> Method:
  """Builds the method named by `config.method`.

  Raises:
    ConfigError: unknown method, or the method rejects its config groups.
  """
  name = config.method
  if name not in _BUILDERS and name in _MODULES:
    importlib.import_module(_MODULES[name])
  if name not in _BUILDERS:
    raise ConfigError(
        f"unknown method {name!r}; registered methods: {', '.join(names())}")
  return _BUILDERS[name](config, data_info=data_info, num_train_steps=num_train_steps)
