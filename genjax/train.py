"""The one training loop every method runs through.

    train_and_evaluate(config, workdir)

1. Load the dataset onto every device; build the method named by the config.
2. Initialise the state (jitted, replicated), or restore the latest checkpoint.
3. Loop over compiled chunks: each dispatch runs `config.steps_per_dispatch`
   optimiser steps inside `lax.scan`, drawing its own batches on device, with
   the state donated. The host touches results only at log, eval and
   checkpoint steps.
4. At the end: final checkpoint, eval, image grids, the method's final
   evaluation, `final_metrics.json`.

Randomness is a pure function of (seed, step): batch order, dynamic
binarisation and the method's own noise all come from keys folded with the
step number, so a run resumed from any checkpoint repeats an uninterrupted
run exactly (on the same device count and platform).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import signal
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging
from jax import lax

from genjax import config as config_lib
from genjax import data as data_lib
from genjax import methods, parallel, viz, writers, xla_options
from genjax import model as model_lib
from genjax.checkpointing import Checkpointer
from genjax.config import ConfigDict
from genjax.errors import ConfigError, NonFiniteError, UserError
from genjax.evaluation import registry

FINAL_METRICS = writers.FINAL_METRICS


def _crossed(prev: int, new: int, every: int) -> bool:
  """True if (prev, new] contains a multiple of `every`."""
  return new // every > prev // every


class Trainer:
  """Compiled pieces of one run: the scanned train chunk, eval, image grids.

  Kept separate from the host loop so benchmarks and tests can time and
  inspect them (`num_chunk_traces` counts compilations of the chunk).
  """

  def __init__(self, config: ConfigDict, method: methods.Method,
               dataset: data_lib.Dataset, mesh):
    self.config = config
    self.method = method
    self.dataset = dataset
    self.mesh = mesh
    self.num_chunk_traces = 0
    replicated = parallel.replicated(mesh)
    self._batch_sharding = parallel.batch_sharded(mesh)
    jit = xla_options.jit  # jax.jit with genjax's XLA:CPU options
    self.compiled_chunk = jit(
        self._train_chunk, static_argnames="num_steps", donate_argnums=0,
        out_shardings=(replicated, replicated))
    self._epoch_permutation = jit(
        lambda rng, epoch: data_lib.epoch_permutation(
            jax.random.split(rng)[0], epoch, dataset.num_train), out_shardings=replicated)
    # Under jit, so that several processes build the same global array.
    self._stack = jit(lambda *perms: jnp.stack(perms), out_shardings=replicated)
    self._permutations: dict[tuple, jax.Array] = {}  # (key, epoch) -> its order (a few kept)
    # One step per dispatch, as a hand-written flax loop does it (the
    # benchmark's baseline): the host passes each step's batch indices.
    self.train_step = jit(
        self._train_one, donate_argnums=0, out_shardings=(replicated, replicated))
    self.evaluate = jit(self._evaluate, out_shardings=replicated)
    self.images = jit(method.images, out_shardings=replicated) if method.images else None
    self.init = jit(method.init, out_shardings=replicated)

  def _constrain(self, tree):
    return lax.with_sharding_constraint(tree, self._batch_sharding)

  def _batch_for_step(self, train, perms, row, step, rng):
    """The global batch of `step`, whose epoch's order is `perms[row]`."""
    b = self.config.batch_size
    spe = self.dataset.steps_per_epoch(b)
    idx = lax.dynamic_slice(perms, (row, (step % spe) * b), (1, b))[0]
    return self._constrain(self.dataset.train_batch(train, self._constrain(idx), rng))

  def _step(self, state, train, perms, row, step, rng):
    step_rng = jax.random.split(rng)[1]  # [0] orders the data (see chunk_permutations)
    key = jax.random.fold_in(step_rng, step)
    batch = self._batch_for_step(train, perms, row, step, jax.random.fold_in(key, 0))
    return self.method.train_step(state, batch, jax.random.fold_in(key, 1))

  def chunk_permutations(self, rng, start_step: int, num_steps: int) -> jax.Array:
    """The orders of the epochs that steps [start_step, start_step + num_steps) visit.

    int32 [num_steps // steps_per_epoch + 2, num_train]: row e is epoch
    start_step // steps_per_epoch + e, a pure function of (rng, epoch), so a
    resumed run draws the same batches. Each epoch's order is computed once,
    on the host's schedule, not inside the scanned steps (a `lax.cond` there
    cost about 5% of an MLP VAE's step).
    """
    spe = self.dataset.steps_per_epoch(self.config.batch_size)
    first = start_step // spe
    # Cached per (key, epoch): a caller may pass several keys to one trainer.
    key = tuple(np.asarray(jax.random.key_data(rng)).ravel().tolist())
    wanted = [(key, e) for e in range(first, first + num_steps // spe + 2)]
    for k in wanted:
      if k not in self._permutations:
        self._permutations[k] = self._epoch_permutation(rng, jnp.int32(k[1]))
    for k in [k for k in self._permutations if k[0] != key or k[1] < first]:
      del self._permutations[k]
    return self._stack(*(self._permutations[k] for k in wanted))

  def train_chunk(self, state, train, start_step, rng, *, num_steps: int):
    """`num_steps` optimiser steps from `start_step` (the compiled chunk; donates `state`)."""
    perms = self.chunk_permutations(rng, int(start_step), num_steps)
    return self.compiled_chunk(state, train, perms, jnp.int32(start_step), rng,
                               num_steps=num_steps)

  def _train_chunk(self, state, train, perms, start_step, rng, *, num_steps):
    """`num_steps` optimiser steps from `start_step`; metrics stacked [num_steps].

    In a chunk of at least SAMPLE_FROM_STEPS steps, sampled metrics
    (`sampled_metric`: gradient norms) are computed by its last step only,
    stacked [1]: the other steps drop them, and XLA with them the extra pass
    over the gradients (~9% of an MLP VAE's step). Shorter chunks (runlocal
    runs, tests) compute them every step: the split compiles the step twice
    (+1 s for a DCGAN step), which a short chunk would not win back.
    """
    self.num_chunk_traces += 1
    spe = self.dataset.steps_per_epoch(self.config.batch_size)
    first_epoch = start_step // spe

    def body(state, i, sampled=False):
      step = start_step + i
      state, metrics = self._step(state, train, perms, step // spe - first_epoch, step, rng)
      return state, metrics if sampled else unsampled(metrics)

    if num_steps < SAMPLE_FROM_STEPS:
      return lax.scan(lambda state, i: body(state, i, sampled=True), state,
                      jnp.arange(num_steps))
    state, metrics = lax.scan(body, state, jnp.arange(num_steps - 1))
    state, last = body(state, num_steps - 1, sampled=True)
    return state, {k: jnp.concatenate([metrics[k], v[None]]) if k in metrics else v[None]
                   for k, v in last.items()}

  def _train_one(self, state, train, indices, rng):
    """One optimiser step on the examples `indices` (int32 [batch_size])."""
    batch = self.dataset.train_batch(train, self._constrain(indices), jax.random.fold_in(rng, 0))
    return self.method.train_step(state, self._constrain(batch), jax.random.fold_in(rng, 1))

  def _evaluate(self, state, eval_arrays, rng):
    """Masked means of the method's per-example metrics over the eval split."""
    size = self.config.eval_batch_size
    num_batches = eval_arrays["mask"].shape[0] // size

    def one_batch(i):
      batch = self.dataset.eval_batch(eval_arrays, i * size, size)
      mask = batch.pop("mask")
      values = self.method.eval_step(state, self._constrain(batch), jax.random.fold_in(rng, i))
      return {k: jnp.sum(jnp.where(mask > 0, v, 0.0)) for k, v in values.items()}

    sums = lax.map(one_batch, jnp.arange(num_batches))
    return {k: v.sum() / self.dataset.num_eval for k, v in sums.items()}

  def init_state(self, rng):
    """A fresh, replicated method state, initialised on the first training rows
    (`config.init_examples` of them, at most the training set; default one batch)."""
    ds = self.dataset
    n = min(self.config.get("init_examples") or self.config.batch_size, ds.num_train)
    return self.init(rng, ds.train_batch(ds.train, jnp.arange(n), rng))

  def abstract_state(self):
    """Shapes, dtypes and shardings of the state, without computing it (restores)."""
    replicated = parallel.replicated(self.mesh)
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated),
                        jax.eval_shape(self.init_state, jax.random.key(0)))

  def image_batch(self):
    n = min(self.config.num_image_examples, self.dataset.num_eval)
    return self.dataset.eval_batch(self.dataset.eval, 0, n) if n else None


SAMPLE_FROM_STEPS = 20  # chunks this long compute sampled metrics at their last step only


def sampled_metric(name: str) -> bool:
  """Train metrics a chunk computes at its last step only: the diagnostics
  that cost a pass of their own over the gradients (`*grad_norm`)."""
  return name.endswith("grad_norm")


def unsampled(metrics: dict[str, Any]) -> dict[str, Any]:
  """`metrics` less the sampled ones (`sampled_metric`): what every step of a
  long chunk but its last keeps, so that XLA drops their computation."""
  return {k: v for k, v in metrics.items() if not sampled_metric(k)}


def _check_finite(step: int, split: str, metrics: dict[str, Any]) -> None:
  for name, value in metrics.items():
    if not np.all(np.isfinite(value)):
      raise NonFiniteError(
          f"non-finite {split} metric {name!r} ({value}) at step {step}; "
          "stopping. The last good checkpoint is kept (lower the learning "
          "rate or enable config.optimizer.grad_clip_norm)")


class _SigtermFlag:
  """Turns SIGTERM into a flag the loop checks after each chunk."""

  def __init__(self):
    self.raised = False
    self._previous = None

  def __enter__(self):
    try:
      self._previous = signal.signal(signal.SIGTERM, self._handle)
    except ValueError:  # not the main thread (e.g. a sweep worker thread)
      self._previous = None
    return self

  def _handle(self, signum, frame):
    del signum, frame
    logging.warning("SIGTERM received: saving a checkpoint and stopping")
    self.raised = True

  def __exit__(self, *exc):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)


def _save_config(config: ConfigDict, workdir: str) -> None:
  if jax.process_index() != 0:
    return
  path = os.path.join(workdir, "config.json")
  text = config.to_json_best_effort(indent=2, sort_keys=True)
  if os.path.exists(path):
    with open(path) as f:
      old = f.read()
    if old != text:
      logging.warning("config differs from the one saved in %s; the run "
                      "continues with the new config and overwrites it", path)
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.write(text)
  os.replace(tmp, path)


DATA_INFO = "data_info.json"


def _save_data_info(dataset: data_lib.Dataset, workdir: str) -> None:
  """What `genjax.load` needs to rebuild the model without reading the data."""
  if jax.process_index() == 0:
    _write_json(os.path.join(workdir, DATA_INFO), {
        "dataset": dataset.name, "image_shape": list(dataset.image_shape),
        "num_classes": int(dataset.num_classes), "num_train": int(dataset.num_train)})


def _write_json(path: str, obj: dict) -> None:
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2, sort_keys=True)
  os.replace(tmp, path)


def check_config(config: ConfigDict) -> ConfigDict:
  """Every check that needs no data; returns `config` with its method's defaults.

  Raises:
    ConfigError: a bad trainer key, unknown method or bad method group.
  """
  config_lib.validate(config)
  config = methods.with_defaults(config)
  methods.validate(config)
  return config


def check_workdir(workdir: str) -> None:
  """Fails early, before data is read, if `workdir` cannot be created or written."""
  existing = workdir
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
    what = "is not a directory" if not os.path.isdir(existing) else "is not writable"
    raise UserError(f"cannot use --workdir={workdir}: {existing} {what}")


def build(config: ConfigDict):
  """Validates the config, loads data, builds the method and the Trainer.

  Returns:
    (trainer, num_train_steps); `trainer.config` has the method's defaults
    filled in.
  """
  config = check_config(config)
  mesh = parallel.make_mesh()
  parallel.check_divisible(config.batch_size, "batch_size")
  parallel.check_divisible(config.eval_batch_size, "eval_batch_size")
  dataset = data_lib.load(config.data, mesh=mesh, eval_batch_size=config.eval_batch_size)
  if dataset.num_train < config.batch_size:
    raise ConfigError(
        f"config.batch_size={config.batch_size} exceeds the {dataset.num_train} "
        "training examples")
  total = config_lib.num_train_steps(config, dataset.num_train)
  info = methods.DataInfo(image_shape=dataset.image_shape,
                          num_classes=dataset.num_classes, num_train=dataset.num_train)
  method = methods.build(config, data_info=info, num_train_steps=total)
  registry.validate(config, tuple(method.model_fns), info)
  return Trainer(config, method, dataset, mesh), total


@dataclasses.dataclass(frozen=True)
class TrainedRun:
  """What `train` leaves in memory: no need to rebuild and reload the run.

  Attributes:
    trainer: the compiled pieces, with `trainer.dataset` loaded and
      `trainer.config` the run's config with its method's defaults.
    state: the method state at `step` (the final one unless stopped early).
    step: the last optimiser step taken.
    final: the final eval metrics ({} if stopped by SIGTERM before any eval).
    workdir: the run's workdir.
    model: (property) the trained `genjax.model.Model`, built on `state`.
    initial_model: (property) the untrained `Model` at step 0 (the same initial
      parameters as this run).
  """
  trainer: Trainer
  state: Any
  step: int
  final: dict[str, float]
  workdir: str | None = None

  @functools.cached_property
  def model(self) -> model_lib.Model:
    """The trained model, as `genjax.load(workdir)` would return it (no reload)."""
    return trained_model(self.trainer, self.state, self.step, self.workdir)

  @functools.cached_property
  def initial_model(self) -> model_lib.Model:
    """The same model at step 0: the run's own initial parameters (its seed's
    `init` key), untrained. The control for "does training matter"."""
    initial = self.trainer.init_state(_rngs(self.trainer.config)["init"])
    return trained_model(self.trainer, initial, 0, None)


def trained_model(trainer: Trainer, state, step: int, workdir: str | None) -> model_lib.Model:
  """A `Model` of the training `state`: its model part, on this process's first device."""
  device = jax.local_devices()[0]
  method = trainer.method
  kept = method.model_state(state)
  kept = jax.tree.map(  # replicated over the mesh: one copy on one device
      lambda a: jax.device_put(a.addressable_data(0), device)
      if isinstance(a, jax.Array) else a, kept)
  ds = trainer.dataset
  info = methods.DataInfo(image_shape=tuple(ds.image_shape), num_classes=ds.num_classes,
                          num_train=ds.num_train)
  return model_lib.Model(config=trainer.config, step=step, state=kept, data_info=info,
                         model_fns=method.model_fns, workdir=workdir)


def train_and_evaluate(config: ConfigDict, workdir: str) -> dict[str, float]:
  """Trains `config` in `workdir` (see `train`); returns the final eval metrics."""
  return train(config, workdir).final


def train(config: ConfigDict, workdir: str) -> TrainedRun:
  """Trains `config` in `workdir`, resuming from its latest checkpoint.

  Args:
    config: a config built on `genjax.config.base_config()`.
    workdir: where checkpoints, metrics, image grids and the config go.

  Returns:
    The trained run: its state, its model (`.model`) and the final eval
    metrics (also written to `workdir/final_metrics.json`). A finished run is
    restored, not retrained.

  Raises:
    UserError subclasses for bad configs, missing data and diverged training.
  """
  workdir = os.path.abspath(workdir)
  check_workdir(workdir)
  trainer, total = build(config)
  config, dataset = trainer.config, trainer.dataset
  os.makedirs(workdir, exist_ok=True)
  writers.say("dataset %s: %d train / %d eval examples of shape %s; %d devices; "
              "%d steps of batch %d (%.2f epochs)", dataset.name, dataset.num_train,
              dataset.num_eval, dataset.image_shape, jax.device_count(), total,
              config.batch_size, total / dataset.steps_per_epoch(config.batch_size))
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), config.keep_checkpoints)
  writer = None
  try:
    state, step = _init_or_restore(trainer, ckpt)
    writer = writers.MetricWriter(workdir)
    # Rows past the checkpoint are from a killed attempt; a fresh start keeps none
    # (not even a step-0 eval, which eval_at_start writes again).
    writer.truncate_after(step if step > 0 else -1)
    _save_config(config, workdir)
    _save_data_info(dataset, workdir)
    final_path = os.path.join(workdir, FINAL_METRICS)
    if step >= total and os.path.exists(final_path):
      writers.say("run already finished at step %d (%s); nothing to do", step, final_path)
      with open(final_path) as f:
        return TrainedRun(trainer, state, step, json.load(f)["eval"], workdir)
    loop = _Loop(trainer, workdir, writer, ckpt, total)
    state, step, last_eval, stopped = loop.run(state, step)
    if stopped:  # by SIGTERM
      return TrainedRun(trainer, state, step, last_eval or {}, workdir)
    return TrainedRun(trainer, state, step, loop.finish(state, step), workdir)
  finally:
    ckpt.close()
    if writer is not None:
      writer.close()


def _init_or_restore(trainer: Trainer, ckpt: Checkpointer) -> tuple[Any, int]:
  """(state, step): the latest checkpoint's, else a fresh initialisation."""
  latest = ckpt.latest_step()
  if latest is None:
    return trainer.init_state(_rngs(trainer.config)["init"]), 0
  # Restoring needs only the state's shapes: no initialisation to throw away.
  # A changed model fails here (ConfigError), before the workdir is written.
  state = ckpt.restore(latest, trainer.abstract_state())
  writers.say("resumed from the checkpoint at step %d", int(latest))
  return state, int(latest)


def _rngs(config: ConfigDict) -> dict[str, jax.Array]:
  """The run's keys, all derived from config.seed (fixed order: resume-safe)."""
  root = jax.random.key(config.seed)
  names = ("init", "train", "eval", "images", "final")
  return {name: jax.random.fold_in(root, i) for i, name in enumerate(names)}


class _Loop:
  """The host loop of one run: scanned chunks, metric logging, checkpoints, evals.

  Train metrics of a chunk stay on device until a log step (no sync per
  chunk); throughput excludes the first chunk (compilation), evals and saves.
  """

  def __init__(self, trainer: Trainer, workdir: str, writer, ckpt: Checkpointer, total: int):
    self.trainer, self.workdir, self.writer, self.ckpt = trainer, workdir, writer, ckpt
    self.config, self.total = trainer.config, total
    self.rngs = _rngs(trainer.config)
    self.pending: list[tuple[int, int, Any]] = []  # (first step, num steps, metrics)
    self.previous_metrics = None  # the last dispatched chunk's, to wait on
    self.train_s, self.timed_steps = 0.0, 0
    self.started = self.resumed_at = time.perf_counter()

  def run(self, state, step: int):
    """Trains from `step` to the end or until SIGTERM.

    Returns:
      (state, step, the last periodic eval's metrics or None, stopped by SIGTERM).
    """
    config, last_eval = self.config, None
    every = config.log_every_steps, config.checkpoint_every_steps, config.eval_every_steps
    if step == 0 and config.eval_at_start:  # the untrained baseline of every eval metric
      last_eval, _ = self.evaluate(state, 0, registry.due(config, 0, 0, at_eval=True))
    with _SigtermFlag() as sigterm:
      first_chunk = True
      while step < self.total:
        n = min(config.steps_per_dispatch, self.total - step)
        t0 = time.perf_counter()
        state, metrics = self.trainer.train_chunk(
            state, self.trainer.dataset.train, step, self.rngs["train"],
            num_steps=n)
        self.pending.append((step, n, metrics))
        # At most two chunks in flight: wait for the one before this (the
        # device stays busy with this one), so a SIGTERM is seen within about
        # a chunk; unbounded, the dispatch ran ~8 chunks ahead (80 s of SSGAN).
        if self.previous_metrics is not None:
          jax.block_until_ready(self.previous_metrics)
        self.previous_metrics = metrics
        prev, step = step, step + n
        if first_chunk:  # keep compile time out of the throughput figures
          jax.block_until_ready(state)
          writers.say("first chunk of %d steps compiled and ran in %.1fs", n,
                      time.perf_counter() - t0)
          first_chunk, self.resumed_at = False, time.perf_counter()
        else:
          self.timed_steps += n
        stop, finished = sigterm.raised, step >= self.total
        if _crossed(prev, step, every[0]) or finished or stop:
          with self.untimed(state):
            self.flush(step)
        if _crossed(prev, step, every[1]) or finished or stop:
          with self.untimed(state):
            self.flush(step)  # never checkpoint a state with NaN metrics
            self.ckpt.save(step, state)
        if stop:
          self.ckpt.wait()
          logging.warning("stopped by SIGTERM at step %d; re-run the same command "
                          "to resume", step)
          return state, step, last_eval, True
        at_eval = _crossed(prev, step, every[2]) and not finished
        due = [] if finished else registry.due(config, prev, step, at_eval)
        if at_eval or due:
          with self.untimed(state):
            last_eval, _ = self.evaluate(state, step, due, with_method=at_eval)
    return state, step, last_eval, False

  @contextlib.contextmanager
  def untimed(self, state):
    """Stops the throughput clock (after the dispatched steps finish) inside."""
    jax.block_until_ready(state)
    self.train_s += time.perf_counter() - self.resumed_at
    yield
    self.resumed_at = time.perf_counter()

  def flush(self, at_step: int) -> None:
    """Fetches pending chunk metrics, checks them, writes and shows their mean."""
    if not self.pending:
      return
    fetched = jax.device_get([m for _, _, m in self.pending])
    stacked: dict[str, list] = {}
    for (first, n, _), chunk_metrics in zip(self.pending, fetched):
      for name, values in chunk_metrics.items():
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:  # values are the chunk's last len(values) steps
          _check_finite(first + n - len(values) + int(bad[0]) + 1, "train",
                        {name: values[bad[0]]})
        stacked.setdefault(name, []).append(values)
    self.pending.clear()
    means = {k: float(np.mean(np.concatenate(v))) for k, v in stacked.items()}
    rate = float("nan")
    if self.timed_steps:
      rate = self.timed_steps / max(self.train_s, 1e-9)
      means["steps_per_sec"] = rate
      means["examples_per_sec"] = rate * self.config.batch_size
    self.writer.write(at_step, "train", means)
    writers.say("%s", writers.progress_line(
        at_step, self.total, rate * self.config.batch_size, (self.total - at_step) / rate,
        means, self.trainer.method.main_metric))
    self.train_s, self.timed_steps = 0.0, 0

  def evaluate(self, state, at_step: int, evaluators: list[str],
               with_method: bool = True) -> tuple[dict[str, float], dict[str, float]]:
    """The method's eval metrics over the eval split (and image grids) and
    `evaluators`; writes the eval row (method metrics and periodic evaluators).

    Returns:
      (the eval row, the metrics of evaluators that run only at the end).
    """
    metrics = self.method_metrics(state, at_step) if with_method else {}
    periodic, once = self.run_evaluators(state, at_step, evaluators)
    metrics.update(periodic)
    self.writer.write(at_step, "eval", metrics)
    writers.say("eval at step %d: %s", at_step,
                " ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())))
    return metrics, once

  def method_metrics(self, state, at_step: int) -> dict[str, float]:
    """The method's eval_step means over the eval split; writes the image grids."""
    trainer = self.trainer
    metrics = jax.device_get(trainer.evaluate(state, trainer.dataset.eval, self.rngs["eval"]))
    _check_finite(at_step, "eval", metrics)
    image_batch = trainer.image_batch()
    if trainer.images is not None and image_batch is not None:
      # Every process runs the (SPMD) computation; process 0 writes the files.
      grids = jax.device_get(trainer.images(state, image_batch, self.rngs["images"]))
      if jax.process_index() == 0:
        for name, grid in grids.items():
          viz.save_grid(os.path.join(self.workdir, "images", f"{name}_{at_step:08d}.png"),
                        grid)
      self.writer.write_images(at_step, grids)
    return {k: float(v) for k, v in metrics.items()}

  def run_evaluators(self, state, at_step: int, names: list[str]) -> tuple[dict, dict]:
    """(periodic, once-at-the-end) metrics of `config.evals` entries `names`."""
    if not names:
      return {}, {}
    t0 = time.perf_counter()
    model = trained_model(self.trainer, state, at_step, self.workdir)
    periodic, once = registry.run(names, lambda name: registry.Context(
        model=model, dataset=self.trainer.dataset, workdir=self.workdir,
        rng=registry.key_for(self.rngs["final"], name)))
    _check_finite(at_step, "eval", {**periodic, **once})
    writers.say("evaluators %s at step %d (%.1fs)", ", ".join(names), at_step,
                time.perf_counter() - t0)
    return periodic, once

  def finish(self, state, step: int) -> dict[str, float]:
    """The final eval with every enabled evaluator; writes final_metrics.json.

    Evaluators that run only here go to the "final" row and entry; the
    periodic ones (`with_evals`, `every`) join the final eval row.
    """
    self.ckpt.wait()
    method = self.trainer.method
    final, extras = self.evaluate(
        state, step, registry.due(self.config, step, step, at_eval=True, final=True))
    if extras:
      writers.say("final evaluation: %s", " ".join(f"{k}={v:.4g}" for k, v in extras.items()))
      self.writer.write(step, "final", extras)
    shown = {k: v for k, v in {**final, **extras}.items()
             if k == method.main_metric or k in extras}
    writers.say("finished: step %d/%d in %s; %s", step, self.total,
                writers.format_duration(time.perf_counter() - self.started),
                " ".join(f"{k}={v:.4g}" for k, v in shown.items())[:300])
    if jax.process_index() == 0:
      _write_json(os.path.join(self.workdir, FINAL_METRICS),
                  {"step": step, "eval": final, "final": extras,
                   "main_metric": method.main_metric,
                   "compilations": self.trainer.num_chunk_traces})
    return final
