"""The GAN's pure step functions: init, the D and G updates, train and eval steps.

Each function takes a `GanParts` first (bind it with `functools.partial`)
and is otherwise a pure function of pytrees, as `genjax.methods` asks. The
state is a `GanState`: both networks' Flax variables, both optimiser states
and the EMA of G's params.

One `train_step` is Goodfellow et al.'s Algorithm 1 with k = `d_steps`: k
`d_update`s on the step's real batch, each with fresh z, then one `g_update`
against the updated D (with `reuse_fake`, `reused_fake_step`: G's update
goes through the D update's own fake batch). Each update differentiates and
changes only its own network's variables and optimiser state.

The semi-supervised GAN (`GanParts.semi_supervised`) reads the batch's
labelled minibatch too: D's loss is `gan_losses.semi_supervised_d_loss`, and
with `unsupervised_weight` = 0 a step is `supervised_update` alone (the
labels-only baseline: no G, no unlabelled data). With generator loss
"feature_matching" G matches the mean of D's last hidden features on the
batch's "second_image" if it has one (semi-supervised data: a real batch
drawn independently of D's), else on the step's real batch.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from genjax import toy_data
from genjax.methods import gan_losses
from genjax.methods.gan_conditioning import Conditioning, Inputs, LatentPrior, draw_inputs
from genjax.methods.gan_networks import Networks


@struct.dataclass
class GanState:
  """A GAN's state.

  Attributes:
    g, d: G's and D's Flax variables ({"params": ..., "batch_stats": ...} with
      batch norm; a loaded model whose G samples with EMA weights keeps only
      G's batch statistics).
    g_opt, d_opt: their optimiser states (None in a loaded model).
    g_ema: the EMA of G's params (gan.ema_decay > 0), else None.
    d_ema: {"params": EMA of D's params started from zeros, "weight": the
      same EMA of the constant 1} (gan.d_ema_decay > 0), else None; their
      ratio is D's debiased average (`evaluation_d`).
  """
  g: dict
  d: dict
  g_opt: Any = None
  d_opt: Any = None
  g_ema: Any = None
  d_ema: Any = None


@dataclasses.dataclass(frozen=True)
class GanParts:
  """Everything a GAN's step functions are built from.

  Attributes:
    networks: G and D (`gan_networks.Networks`).
    conditioning: the conditioning strategy (`gan_conditioning`).
    prior: p(z).
    g_tx, d_tx: G's and D's optimisers.
    generator_loss: one of `gan_losses.GENERATOR_OBJECTIVES`.
    d_steps: D updates per G update.
    r1_weight: gamma of the R1 penalty in D's loss (0: none).
    ema_decay: decay of the EMA of G's params kept for sampling (0: none).
    d_ema_decay: decay of the average of D's params that classifies (0: none).
    data_shape: the shape of one example ([D] for toy point data).
    data_name: the dataset's name (toys: the mixture whose density is known).
    semi_supervised: D's q output is K class logits, trained on the batch's
      labelled minibatch (Salimans et al. 2016).
    unsupervised_weight: w of the real / fake loss in the semi-supervised
      D's loss; 0 trains D on the labels alone.
    reuse_fake: G's update backpropagates through the D update's fake batch
      (one G forward pass a step) instead of drawing its own z.
  """
  networks: Networks
  conditioning: Conditioning
  prior: LatentPrior
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  generator_loss: str
  d_steps: int
  r1_weight: float
  ema_decay: float
  data_shape: tuple[int, ...]
  data_name: str
  semi_supervised: bool = False
  unsupervised_weight: float = 0.5
  d_ema_decay: float = 0.0
  reuse_fake: bool = False

  @property
  def toy(self) -> bool:
    """Whether the data are points of a toy distribution rather than images."""
    return len(self.data_shape) == 1


def draw(parts: GanParts, rng: jax.Array, labels: jax.Array) -> Inputs:
  """z, G's and D's conditions and the codes for a batch with these real labels."""
  return draw_inputs(rng, labels, parts.prior, parts.conditioning)


def sampling_variables(parts: GanParts, state) -> dict:
  """G's variables for sampling: EMA weights if kept, running BN statistics."""
  params = state.g_ema if parts.ema_decay > 0 else state.g["params"]
  return {**state.g, "params": params}


def generate(parts: GanParts, g_vars: dict, rng: jax.Array, labels: jax.Array) -> jax.Array:
  """Samples of G (eval mode) for these labels (conditional GANs); codes drawn at random."""
  inputs = draw(parts, rng, labels)
  return parts.networks.generate(g_vars, inputs.z, inputs.g_cond, train=False)[0]


def init(parts: GanParts, rng: jax.Array, batch) -> GanState:
  """Both networks' variables and optimiser states (and the EMAs); see the module docstring."""
  key_g, key_d, key_inputs = jax.random.split(rng, 3)
  inputs = draw(parts, key_inputs, batch["label"])
  g_vars, d_vars = parts.networks.init(key_g, key_d, inputs.z, inputs.g_cond,
                                       batch["image"], inputs.d_cond)
  return GanState(g=g_vars, d=d_vars, g_opt=parts.g_tx.init(g_vars["params"]),
                  d_opt=parts.d_tx.init(d_vars["params"]),
                  g_ema=g_vars["params"] if parts.ema_decay > 0 else None,
                  d_ema=_zero_average(d_vars["params"]) if parts.d_ema_decay > 0 else None)


def _zero_average(params) -> dict:
  return {"params": jax.tree.map(jnp.zeros_like, params), "weight": jnp.zeros((), jnp.float32)}


def evaluation_d(parts: GanParts, state: GanState) -> dict:
  """D's variables for classifying: its debiased parameter average if kept, else D's own.

  Salimans et al. 2016 test their semi-supervised D with an exponential
  moving average of its parameters (decay 0.9999): D is trained with noise
  on every layer and its raw weights jitter from step to step. Dividing by
  the average's total weight (1 - decay^t, as in Adam's moments) keeps
  early evaluations from being pulled towards the zeros it starts from.
  Before D's first step (no average yet) it is D itself.
  """
  if state.d_ema is None:
    return state.d
  weight = state.d_ema["weight"]
  average = lambda a, p: jnp.where(weight > 0, a / jnp.maximum(weight, 1e-30), p)
  return {**state.d, "params": jax.tree.map(average, state.d_ema["params"], state.d["params"])}


def _d_on_real(parts: GanParts, d_vars: dict, x: jax.Array, d_cond, rng: jax.Array):
  """(D's logits on the real batch, D's variables for the fake batch, R1 or None)."""
  nets = parts.networks
  if parts.r1_weight > 0:  # never with D's batch norm (see `gan.validate`)
    logits, r1 = gan_losses.logits_and_r1(
        lambda x: nets.discriminate(d_vars, x, d_cond, rng)[0], x)
    return logits, d_vars, r1
  logits, _, stats = nets.discriminate(d_vars, x, d_cond, rng)
  if nets.d_batch_norm:
    # Real and fake batches go through D separately, each normalised by its
    # own statistics (Radford et al. 2016); the running averages this pass
    # updated carry on into the fake pass.
    d_vars = {**d_vars, "batch_stats": stats}
  return logits, d_vars, None


def _labelled_terms(parts: GanParts, d_vars: dict, labelled, rng: jax.Array):
  """(class logits on the labelled images, their labels, metrics)."""
  images, labels = labelled
  _, class_logits, _ = parts.networks.discriminate(d_vars, images, None, rng)
  error = gan_losses.classification_error_per_example(class_logits, labels)
  return class_logits, labels, {"train_class_error": jnp.mean(error)}


def _d_objective(parts: GanParts, d_params, d_vars: dict, x: jax.Array, fake: jax.Array,
                 inputs: Inputs, key_real: jax.Array, key_fake: jax.Array, labelled=None):
  """D's loss (+ R1, + the conditioning's terms) and aux (D's batch statistics, metrics)."""
  d_vars = {**d_vars, "params": d_params}
  real_logit, d_vars, r1 = _d_on_real(parts, d_vars, x, inputs.d_cond, key_real)
  fake_logit, q, stats = parts.networks.discriminate(d_vars, fake, inputs.d_cond, key_fake)
  if parts.semi_supervised:
    class_logits, labels, metrics = _labelled_terms(parts, d_vars, labelled,
                                                    jax.random.fold_in(key_fake, 1))
    loss, parts_of_loss = gan_losses.semi_supervised_d_loss(
        class_logits, labels, real_logit, fake_logit, parts.unsupervised_weight)
    metrics = {"d_loss": loss, **metrics, **parts_of_loss}
  else:
    loss = gan_losses.discriminator_loss(real_logit, fake_logit)
    metrics = {"d_loss": loss}
  metrics.update(d_real=jnp.mean(jax.nn.sigmoid(real_logit)),
                 d_fake=jnp.mean(jax.nn.sigmoid(fake_logit)))
  if r1 is not None:
    metrics["d_r1"] = r1
    loss = loss + parts.r1_weight * r1
  loss, metrics = parts.conditioning.add_d_terms(loss, metrics, q, inputs.codes)
  return loss, (stats, metrics)


def _apply_d_gradients(parts: GanParts, state: GanState, grads, stats):
  """(the state after one D optimiser step (and D's new batch statistics, if any),
  {"d_grad_norm": the gradients' global norm})."""
  d_params = state.d["params"]
  updates, d_opt = parts.d_tx.update(grads, state.d_opt, d_params)
  new_d = {**state.d, "params": optax.apply_updates(d_params, updates)}
  if parts.networks.d_batch_norm:
    new_d["batch_stats"] = stats
  d_ema = state.d_ema
  if parts.d_ema_decay > 0:
    d_ema = ema_update(d_ema, {"params": new_d["params"], "weight": jnp.ones((), jnp.float32)},
                       parts.d_ema_decay)
  return state.replace(d=new_d, d_opt=d_opt, d_ema=d_ema), {"d_grad_norm": optax.tree.norm(grads)}


def d_update(parts: GanParts, state: GanState, x: jax.Array, labels: jax.Array, rng: jax.Array,
             labelled=None):
  """One discriminator (+Q) step on real images x with G fixed.

  Args:
    parts, state: the GAN and its state.
    x, labels: the real batch.
    rng: a key.
    labelled: the semi-supervised GAN's (labelled images, labels); else None.

  Returns:
    (the state with new `d` and `d_opt`, metrics); G's entries pass through.
  """
  rng, key_real, key_fake = jax.random.split(rng, 3)
  inputs = draw(parts, rng, labels)
  fake = parts.networks.generate(state.g, inputs.z, inputs.g_cond, train=True)[0]
  return _d_step(parts, state, x, fake, inputs, (key_real, key_fake), labelled)


def _d_step(parts: GanParts, state: GanState, x: jax.Array, fake: jax.Array, inputs: Inputs,
            keys: tuple[jax.Array, jax.Array], labelled=None):
  """`d_update` on a given fake batch (drawn with `inputs`); keys for D on real, fake."""
  key_real, key_fake = keys
  # G only supplies a constant sample here: no gradient reaches its params.
  fake = jax.lax.stop_gradient(fake)
  objective = lambda p: _d_objective(parts, p, state.d, x, fake, inputs, key_real,
                                     key_fake, labelled)
  (_, (stats, metrics)), grads = jax.value_and_grad(objective, has_aux=True)(
      state.d["params"])
  new_state, norm = _apply_d_gradients(parts, state, grads, stats)
  return new_state, {**metrics, **norm}


def supervised_update(parts: GanParts, state: GanState, labelled, rng: jax.Array):
  """One D step on the labelled minibatch alone (cross-entropy; G untouched).

  The semi-supervised GAN's baseline: the same D, trained on the labels only.
  """
  def objective(d_params):
    d_vars = {**state.d, "params": d_params}
    class_logits, labels, metrics = _labelled_terms(parts, d_vars, labelled, rng)
    loss = jnp.mean(gan_losses.supervised_loss_per_example(class_logits, labels))
    return loss, {"d_loss": loss, "d_supervised_loss": loss, **metrics}

  (_, metrics), grads = jax.value_and_grad(objective, has_aux=True)(state.d["params"])
  new_state, norm = _apply_d_gradients(parts, state, grads, None)
  return new_state, {**metrics, **norm}


def _feature_matching(parts: GanParts, state: GanState, fake: jax.Array, images: jax.Array,
                      inputs: Inputs, key_d: jax.Array):
  """(||E f(x) - E f(G(z))||^2 on D's last hidden layer, D's logits and q on the fake batch)."""
  nets = parts.networks
  fake_logit, q, fake_features = nets.discriminate_with_features(
      state.d, fake, inputs.d_cond, key_d)
  _, _, real_features = nets.discriminate_with_features(
      state.d, images, inputs.d_cond, jax.random.fold_in(key_d, 1))
  loss = gan_losses.feature_matching_loss(jax.lax.stop_gradient(real_features), fake_features)
  return loss, fake_logit, q


def _g_objective(parts: GanParts, g_params, state: GanState, inputs: Inputs, key_d: jax.Array,
                 images: jax.Array | None = None):
  """G's loss (+ the conditioning's terms) and aux (G's batch statistics, metrics)."""
  fake, batch_stats = parts.networks.generate({**state.g, "params": g_params}, inputs.z,
                                              inputs.g_cond, train=True)
  loss, metrics = _g_loss_on(parts, state, fake, inputs, key_d, images)
  return loss, (batch_stats, metrics)


def _g_loss_on(parts: GanParts, state: GanState, fake: jax.Array, inputs: Inputs,
               key_d: jax.Array, images: jax.Array | None):
  """G's loss (+ the conditioning's terms) as a function of its fake batch, and metrics."""
  if parts.generator_loss == "feature_matching":
    loss, fake_logit, q = _feature_matching(parts, state, fake, images, inputs, key_d)
  else:
    # D in training mode (batch statistics of this fake batch); the
    # statistics it would update are dropped: D is fixed in G's step.
    fake_logit, q, _ = parts.networks.discriminate(state.d, fake, inputs.d_cond, key_d)
    loss = gan_losses.generator_loss(fake_logit, parts.generator_loss)
  metrics = {"g_loss": loss, "d_fake_g_step": jnp.mean(jax.nn.sigmoid(fake_logit))}
  return parts.conditioning.add_g_terms(loss, metrics, q, inputs.codes)


def ema_update(ema, params, decay: float):
  """decay * ema + (1 - decay) * params, leaf by leaf."""
  return jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, ema, params)


def g_update(parts: GanParts, state: GanState, labels: jax.Array, rng: jax.Array,
             images: jax.Array | None = None):
  """One generator step against the current, fixed, D (and Q).

  Args:
    parts, state: the GAN and its state.
    labels: the real batch's labels (conditional GANs give them to G).
    rng: a key.
    images: the real batch, whose D features feature matching targets
      (needed only with generator loss "feature_matching").

  Returns:
    (the state with new `g`, `g_opt` and `g_ema`, metrics); D's entries pass through.
  """
  if parts.generator_loss == "feature_matching" and images is None:
    raise ValueError("feature matching needs the real batch: g_update(..., images=x)")
  rng, key_d = jax.random.split(rng)
  inputs = draw(parts, rng, labels)
  g_vars = state.g
  objective = lambda p: _g_objective(parts, p, state, inputs, key_d, images)
  (_, (batch_stats, metrics)), grads = jax.value_and_grad(objective, has_aux=True)(
      g_vars["params"])
  state, norm = _apply_g_gradients(parts, state, grads, batch_stats)
  return state, {**metrics, **norm}


def _apply_g_gradients(parts: GanParts, state: GanState, grads, batch_stats):
  """(the state after one G optimiser step (G's new batch statistics, its EMA),
  {"g_grad_norm": the gradients' global norm})."""
  g_vars = state.g
  updates, g_opt = parts.g_tx.update(grads, state.g_opt, g_vars["params"])
  g_params = optax.apply_updates(g_vars["params"], updates)
  new_g = {**g_vars, "params": g_params}
  if parts.networks.g_batch_norm:
    new_g["batch_stats"] = batch_stats
  new_state = state.replace(g=new_g, g_opt=g_opt)
  if parts.ema_decay > 0:
    new_state = new_state.replace(g_ema=ema_update(state.g_ema, g_params, parts.ema_decay))
  return new_state, {"g_grad_norm": optax.tree.norm(grads)}


def reused_fake_step(parts: GanParts, state: GanState, x: jax.Array, labels: jax.Array,
                     rng: jax.Array, images: jax.Array, labelled=None):
  """One D update, then one G update through the *same* fake batch (`reuse_fake`).

  G runs forward once: D's update sees its output as a constant, and G's
  gradient is its loss under the updated D, pulled back through that forward
  pass (`jax.vjp`), as PyTorch's DCGAN example does. `d_update` then
  `g_update` draw a fresh z for G's update instead (Goodfellow's Algorithm 1).
  """
  key_inputs, key_real, key_fake, key_g = jax.random.split(rng, 4)
  inputs = draw(parts, key_inputs, labels)
  generate = lambda p: parts.networks.generate({**state.g, "params": p}, inputs.z,
                                               inputs.g_cond, train=True)
  fake, pull_back, batch_stats = jax.vjp(generate, state.g["params"], has_aux=True)
  state, d_metrics = _d_step(parts, state, x, fake, inputs, (key_real, key_fake), labelled)
  loss_on = lambda f: _g_loss_on(parts, state, f, inputs, key_g, images)
  d_fake, g_metrics = jax.grad(loss_on, has_aux=True)(fake)
  (grads,) = pull_back(d_fake)
  state, norm = _apply_g_gradients(parts, state, grads, batch_stats)
  return state, {**d_metrics, **g_metrics, **norm}


def train_step(parts: GanParts, state: GanState, batch, rng: jax.Array):
  """k = d_steps D updates (fresh z each, same real batch), then one G update
  (with `reuse_fake`: `reused_fake_step`).

  The semi-supervised GAN's D updates also read the batch's "labelled_image"
  and "labelled_label", and its G's feature matching the "second_image";
  with `unsupervised_weight` = 0 the step is one `supervised_update` and
  nothing else.
  """
  labelled = None
  if parts.semi_supervised:
    labelled = (batch["labelled_image"], batch["labelled_label"])
    if parts.unsupervised_weight == 0:
      return supervised_update(parts, state, labelled, rng)
  # Feature matching targets a batch D has not just stepped on, if the data
  # holds one (semi-supervised runs: `genjax.data`), as Salimans et al.'s code.
  target = batch.get("second_image", batch["image"])
  if parts.reuse_fake:  # d_steps == 1 (checked in gan.validate)
    return reused_fake_step(parts, state, batch["image"], batch["label"], rng, target, labelled)
  keys = jax.random.split(rng, parts.d_steps + 1)
  for i in range(parts.d_steps):
    state, d_metrics = d_update(parts, state, batch["image"], batch["label"], keys[i],
                                labelled)
  state, g_metrics = g_update(parts, state, batch["label"], keys[-1], target)
  return state, {**d_metrics, **g_metrics}


def eval_step(parts: GanParts, state: GanState, batch, rng: jax.Array) -> dict[str, jax.Array]:
  """Per-example D and G losses, D's outputs, and the conditioning's and toys' extras.

  D runs in evaluation mode on the real batch and on samples of the
  sampling weights (`sampling_variables`). `d_loss` is the real / fake loss
  alone; a semi-supervised D adds its `class_error` and `class_nll` on the
  eval batch's labels (from its parameter average if kept: `evaluation_d`).
  """
  x, labels = batch["image"], batch["label"]
  inputs = draw(parts, rng, labels)
  fake, _ = parts.networks.generate(sampling_variables(parts, state), inputs.z, inputs.g_cond,
                                    train=False)
  real_logit, real_q, _ = parts.networks.discriminate(state.d, x, inputs.d_cond)
  fake_logit, q, _ = parts.networks.discriminate(state.d, fake, inputs.d_cond)
  if state.d_ema is not None:
    real_q = parts.networks.discriminate(evaluation_d(parts, state), x, None)[1]
  out = {"d_loss": gan_losses.discriminator_loss_per_example(real_logit, fake_logit),
         "d_real": jax.nn.sigmoid(real_logit), "d_fake": jax.nn.sigmoid(fake_logit)}
  if parts.generator_loss != "feature_matching":  # feature matching has no per-sample loss
    out["g_loss"] = gan_losses.generator_loss_per_example(fake_logit, parts.generator_loss)
  if parts.semi_supervised:  # D as a classifier of the eval split
    out["class_error"] = gan_losses.classification_error_per_example(real_q, labels)
    out["class_nll"] = gan_losses.supervised_loss_per_example(real_q, labels)
  out.update(parts.conditioning.eval_terms(q, inputs.codes))
  if parts.toy:
    # The data density at generated points: high when samples sit on modes.
    out["sample_log_density"] = toy_data.log_density(parts.data_name, fake)
  return out
