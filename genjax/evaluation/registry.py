r"""Evaluators chosen in the config, in the style of big_vision's `evals`.

    c.evals.probe = dict(type="linear_probe", sizes=(100, 1000))  # once, at the end
    c.evals.jacobian = dict(type="jacobian_norm", with_evals=True)  # at every eval
    --config.evals.probe.enabled=False   --config.evals.nll.samples=1000

Each entry of `config.evals` is one evaluator: `type` picks it from the table
below, `with_evals` / `every` say when it runs besides the end of training,
`enabled=False` turns it off, and the other keys are the type's options
(missing ones take the type's defaults, filled in before the config is
locked, so each can be overridden from the command line). A config file
that sets `evals` lists all of its evaluators; one that does not gets its
method's (`genjax.methods`, `defaults["evals"]`).

  (default)         once, after the last step: its metrics go to
                    final_metrics.json's "final" and the metrics file's "final" row.
  with_evals=True   also with each of the run's evals (`eval_every_steps`,
                    `eval_at_start`): its metrics join the eval rows.
  every=N           also every N optimiser steps (at the chunk that crosses a
                    multiple of N), into the eval rows as well.

An evaluator is a function `run(ctx, spec, name) -> {metric: float}` of a
trained `genjax.model.Model` (`ctx.model`: its public functions only, never a
method's internals) and the run's `genjax.data.Dataset` (`ctx.dataset`:
`images(split)`, `labels(split)`, the on-device splits). Random evaluators
use `ctx.rng`, fixed per evaluator name and seed, so every eval of a run sees
the same draws. Figures go under `ctx.workdir` (process 0 only). An evaluator
that jits the model's functions takes them with the state as an argument
(`ctx.model.jitted_state_function`, `code_function`, `batched(..., state=...)`), so
one that runs at every eval traces and compiles once per run, not with each
eval's weights as constants.

  type                   needs            metrics
  linear_probe           encode           probe_{codes,pixels}_acc_<N>
  jacobian_norm          encode           jacobian_frobenius
  denoising_psnr         reconstruct      psnr_noisy_input, psnr_denoised, psnr_median<k>, mse_noisy
  iwae_nll               log_likelihood   <name>, <name>_samples, <name>_seconds
  active_units           encode           active_units, latent_dim
  latent_plane           decode, encode   manifold_classes, manifold_confident_fraction
  sample_quality         sample           fd, fd_floor, precision, recall, ...
  code_accuracy          infer_codes      c1_hungarian_accuracy
  classifier_error       classify         <name>_test_error, <name>_test_errors
  toy_modes              sample           modes_covered, num_modes, high_quality_fraction
  optimal_discriminator  sample           od_max_gap, od_mean_gap, od_jsd_from_d, ...
  toy_jsd                sample           jsd_kde (JSD of p_data and a KDE of p_g, 1-D)

Adding one: `@registry.register("name", needs=(...), option=default, ...)` on
`run` in a module of `genjax/evaluation/`, and its module in `_MODULES`.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib
import zlib
from typing import Any, Callable

import jax

from genjax import xla_options
from genjax.config import ConfigDict
from genjax.errors import ConfigError

COMMON = {"type": "", "every": 0, "with_evals": False, "enabled": True}
# The module that registers each type, imported on first use.
_MODULES = {
    "linear_probe": "genjax.evaluation.linear_probe",
    "jacobian_norm": "genjax.evaluation.jacobian",
    "denoising_psnr": "genjax.evaluation.image_quality",
    "iwae_nll": "genjax.evaluation.likelihood",
    "active_units": "genjax.evaluation.likelihood",
    "latent_plane": "genjax.evaluation.latent_plane",
    "sample_quality": "genjax.evaluation.sample_quality",
    "code_accuracy": "genjax.evaluation.sample_quality",
    "classifier_error": "genjax.evaluation.sample_quality",
    "toy_modes": "genjax.evaluation.optimal_discriminator",
    "optimal_discriminator": "genjax.evaluation.optimal_discriminator",
    "toy_jsd": "genjax.evaluation.optimal_discriminator",
}


@dataclasses.dataclass(frozen=True)
class Context:
  """What an evaluator reads: the trained model, the run's data, a key, the workdir."""
  model: Any  # genjax.model.Model
  dataset: Any  # genjax.data.Dataset
  rng: jax.Array
  workdir: str | None

  @property
  def config(self) -> ConfigDict:
    return self.model.config


# (spec, config, data_info) -> None; raises ConfigError for what `run` cannot do.
Check = Callable[[ConfigDict, ConfigDict, Any], None]


@dataclasses.dataclass(frozen=True)
class EvaluatorType:
  run: Callable[[Context, ConfigDict, str], dict[str, float]]
  options: dict[str, Any]
  needs: tuple[str, ...]
  check: Check | None


_TYPES: dict[str, EvaluatorType] = {}


def register(name: str, *, needs: tuple[str, ...] = (), check: Check | None = None,
             **options: Any):
  """Decorator: `@register("type", needs=("encode",), option=default) def run(ctx, spec, name)`."""
  def wrap(run):
    _TYPES[name] = EvaluatorType(run=run, options=dict(options), needs=tuple(needs), check=check)
    return run
  return wrap


def types() -> list[str]:
  return sorted(_MODULES)


def lookup(type_name: str, where: str) -> EvaluatorType:
  """The registered evaluator type, or a ConfigError naming the valid ones."""
  if type_name not in _TYPES and type_name in _MODULES:
    importlib.import_module(_MODULES[type_name])
  if type_name not in _TYPES:
    raise ConfigError(f"{where}.type={type_name!r} is not an evaluator; valid: "
                      f"{', '.join(types())}")
  return _TYPES[type_name]


def specs(config: ConfigDict) -> dict[str, ConfigDict]:
  """{name: spec} of `config.evals`, in name order (the order they run in)."""
  evals = config.get("evals") or {}
  return {name: evals[name] for name in sorted(evals)}


def fill_defaults(evals: ConfigDict) -> None:
  """Adds each spec's missing common and type options, in place (unlocked config)."""
  for spec in evals.values():
    if not isinstance(spec, ConfigDict) or spec.get("type") not in _MODULES:
      continue  # left for `validate` to report
    options = {**COMMON, **lookup(spec.type, "").options}
    for key, value in options.items():
      if key not in spec:
        spec[key] = value


def validate(config: ConfigDict, supports: tuple[str, ...] | None = None,
             data_info: Any = None) -> None:
  """Checks every evaluator spec; with `supports` (the model's functions) and
  `data_info` also that the model and data can give what it needs.

  Raises:
    ConfigError: naming the evaluator, the key and what is allowed.
  """
  for name, spec in specs(config).items():
    where = f"config.evals.{name}"
    if not isinstance(spec, ConfigDict) or "type" not in spec:
      raise ConfigError(f"{where} must be a dict with a 'type' (an evaluator: "
                        f"{', '.join(types())}), got {spec!r}")
    kind = lookup(spec.type, where)
    known = {**COMMON, **kind.options}
    for key in spec:
      if key not in known:
        near = difflib.get_close_matches(key, list(known), n=1)
        raise ConfigError(f"{where}.{key}: unknown option of a {spec.type} evaluator"
                          + (f"; did you mean {near[0]!r}?" if near else "")
                          + f"; valid: {', '.join(sorted(known))}")
    if not isinstance(spec.every, int) or spec.every < 0:
      raise ConfigError(f"{where}.every must be 0 (only at the end) or a number of steps, "
                        f"got {spec.every!r}")
    if not spec.get("enabled", True) or supports is None:
      continue
    missing = [fn for fn in kind.needs if fn not in supports]
    if missing:
      raise ConfigError(f"{where} ({spec.type}) needs the model function(s) "
                        f"{', '.join(missing)}, which a {config.method} model lacks (it has "
                        f"{', '.join(supports)}); remove it or set {where}.enabled=False")
    if kind.check is not None:
      try:
        kind.check(spec, config, data_info)
      except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None


def due(config: ConfigDict, prev: int, step: int, at_eval: bool, final: bool = False
        ) -> list[str]:
  """Names of the enabled evaluators that run after the chunk (prev, step].

  `at_eval`: the run evaluates at `step`; `final`: `step` is the last one, where
  every evaluator runs (those without `with_evals` or `every` only then).
  """
  names = []
  for name, spec in specs(config).items():
    if not spec.enabled:
      continue
    every = spec.every
    if final or (spec.with_evals and at_eval) or (every > 0 and step // every > prev // every):
      names.append(name)
  return names


def run(names: list[str], ctx_for: Callable[[str], Context]) -> tuple[dict, dict]:
  """Runs evaluators `names`; returns (metrics of periodic ones, of once-at-the-end ones).

  Raises:
    ConfigError: two evaluators report the same metric.
  """
  periodic, once = {}, {}
  for name in names:
    ctx = ctx_for(name)
    spec = ctx.config.evals[name]
    out = lookup(spec.type, f"config.evals.{name}").run(ctx, spec, name)
    target = periodic if spec.with_evals or spec.every else once
    clash = sorted((set(periodic) | set(once)) & set(out))
    if clash:
      raise ConfigError(f"config.evals.{name} reports {', '.join(clash)}, which another "
                        "evaluator reports too; remove or disable one of them")
    target.update({k: float(v) for k, v in out.items()})
  return periodic, once


def key_for(rng: jax.Array, name: str) -> jax.Array:
  """The evaluator's own key: the run's evaluation key folded with its name."""
  return jax.random.fold_in(rng, zlib.crc32(name.encode()) & 0x7FFFFFFF)


@dataclasses.dataclass(frozen=True)
class Code:
  """h = f(x) of a model's `encode(state, x)` (an autoencoder's code, a VAE's
  posterior mean), as a function of (state, x).

  Two of them compare equal when their encode is the same function, so an
  evaluator jitted over one (`batched(..., state=...)`) traces once per run,
  not at every evaluation, and the weights stay arguments, not constants.
  """
  encode: Callable[..., Any]

  def __call__(self, state, x):
    out = self.encode(state, x)
    return out[0] if isinstance(out, tuple) else out


def code_function(model) -> Code:
  """The model's code as a function of (state, x); pass `model.state`."""
  return Code(model.state_function("encode"))


def codes(model) -> Callable[[jax.Array], jax.Array]:
  """The model's code of an input batch with its state bound in, as a
  jit-able function of x (for evaluators that run once per run)."""
  code, state = code_function(model), model.state
  return lambda x: code(state, x)


def local(tree):
  """Arrays replicated over several devices (the dataset's splits, on every
  device of the run's mesh, across processes too) as this process's copy on
  its first device, where a `Model` keeps its state: a jitted function of the
  state and such inputs then runs on that one device, in every process alike."""
  device = jax.local_devices()[0]

  def one(a):
    if isinstance(a, jax.Array) and len(a.sharding.device_set) > 1 and a.is_fully_replicated:
      return jax.device_put(a.addressable_data(0), device)
    return a
  return jax.tree.map(one, tree)


@functools.lru_cache(maxsize=64)
def _jitted(fn: Callable[..., Any]):
  # Keyed by fn's equality: a `Code`-like dataclass of the same model
  # functions finds the jitted function (and its traces) of earlier calls.
  return xla_options.jit(fn)


def batched(fn: Callable[..., Any], *arrays, batch_size: int, state: Any = None) -> Any:
  """`fn` (jit-able, rows independent) over equal-length arrays in batches of
  `batch_size`; the last batch is padded, so `fn` compiles once. With `state`,
  `fn(state, *batches)`: then give a hashable fn that is equal across calls
  (e.g. a frozen dataclass of model functions, as `Code`), and every call
  reuses one trace; replicated inputs are taken on the state's device
  (`local`). Returns numpy."""
  import numpy as np
  n = len(arrays[0])
  if state is None:
    jitted, lead = xla_options.jit(fn), ()
  else:
    jitted, lead, arrays = _jitted(fn), (state,), local(arrays)
  outs = []
  for start in range(0, n, batch_size):
    parts = [a[start:start + batch_size] for a in arrays]
    real = len(parts[0])
    pad = batch_size - real
    if pad:
      parts = [np.concatenate([np.asarray(p), np.zeros((pad,) + p.shape[1:], p.dtype)])
               for p in parts]
    out = jax.device_get(jitted(*lead, *parts))
    outs.append(jax.tree.map(lambda o, r=real: np.asarray(o)[:r], out))
  return jax.tree.map(lambda *o: np.concatenate(o), *outs)
