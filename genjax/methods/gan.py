r"""Generative adversarial networks: minimax and non-saturating, DCGAN, cGAN, InfoGAN.

A generator G maps latent noise z ~ p(z) to data space; a discriminator D
maps a sample to the probability that it is real. They play

    min_G max_D V(G, D) = E_{x ~ p_data} log D(x) + E_{z ~ p(z)} log(1 - D(G(z))),

updating one network while the other is held fixed (Goodfellow et al. 2014).
For a fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) +
p_g(x)), and with it V = 2 JS(p_data || p_g) - 2 ln 2: the global optimum is
p_g = p_data, where D = 1/2 everywhere and D's loss is 2 ln 2 = 1.386
(checked numerically in `genjax/evaluation/optimal_discriminator.py`).

Everything is computed from D's logit l (D = sigmoid(l)) so no log of a
saturated probability is ever taken:
    log D = -softplus(-l),     log(1 - D) = -softplus(l).

  d_loss          -E log D(x) - E log(1 - D(G(z)))
                  = E softplus(-l_real) + E softplus(l_fake).
  minimax         G minimises E log(1 - D(G(z))) = -E softplus(l_fake). Early
                  in training D rejects samples confidently (l_fake << 0) and
                  this loss is flat there: G's gradient vanishes ("saturates").
  non_saturating  G maximises E log D(G(z)), i.e. minimises E softplus(-l_fake):
                  same fixed point, strong gradients exactly when G is bad.

One `train_step` is Goodfellow's Algorithm 1 with k = `gan.d_steps`: k
discriminator updates, each on the step's real batch and a fresh batch of z
(the trainer hands one real batch per step; reusing it across the k D steps
keeps the step's data a function of the step number), then one generator
update against the updated D. Gradients of one network never touch the other
network's parameters or optimiser state.

Variants (config `model` group):
  kind="mlp"      the fully connected GAN of Goodfellow et al. 2014 (maxout D
                  with dropout on MNIST; linear output for the toys).
  kind="dcgan"    strided (transposed) convolutions + batch norm in G;
                  `d_batch_norm` adds batch norm to D (and Q) too, with the
                  real and fake batches normalised separately; `g_dense`
                  puts a dense + BN layer first in G (InfoGAN's MNIST G).
  conditional     G(z, y) and D(x, y) both see the one-hot class y (Mirza &
                  Osindero 2014); fake samples use the real batch's labels.
                  `d_projection` adds the projection discriminator's class
                  term (Miyato & Koyama 2018) to D's logit.
  info_categories / info_continuous
                  InfoGAN (Chen et al. 2016): G(z, c) with c1 ~ Cat(K) and
                  c2.. ~ U(-1, 1); a Q head on D's trunk predicts c from
                  G(z, c), and both G and D(+Q) minimise lambda * L_I with
                    L_I = CE(c1, Q_cat) + w_cont * sum_j (c_j - mu_j)^2 / 2,
                  the negative variational lower bound on I(c; G(z, c)) up to
                  constants (a unit-variance Gaussian Q for the continuous
                  codes). The categorical bound H(c1) - CE is logged as
                  `mi_lower_bound`; its ceiling is ln K = 2.30 for K = 10.

An exponential moving average of G's weights (`gan.ema_decay` > 0) is kept
for sampling; batch-norm running statistics are shared with the live G.
`gan.r1_weight` = gamma > 0 adds gamma * R1 to D's loss, R1 = E_data
||grad_x logit D(x)||^2 / 2 (Mescheder et al. 2018), logged as `d_r1`.

Config groups read here (missing keys take `DEFAULTS`): model, gan, evals,
plus `optimizer` (G) and `d_optimizer` (D), both `optimizer_config()` groups.
"""

from __future__ import annotations

import os

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

from genjax import config as config_lib
from genjax import methods
from genjax import toy_data
from genjax.config import ConfigDict
from genjax.errors import ConfigError, UserError
from genjax.evaluation import classifier as classifier_lib
from genjax.evaluation import optimal_discriminator, sample_quality
from genjax.models import conv as conv_lib
from genjax.models import gan_models
from genjax.optim import make_optimizer

GENERATOR_LOSSES = ("minimax", "non_saturating")

DEFAULTS = {
    "model": dict(
        kind="mlp", latent_dim=100, latent_dist="normal", conditional=False,
        d_projection=False,
        # mlp
        g_hidden=(1200, 1200), d_hidden=(240, 240), maxout_pieces=5, d_dropout=0.0,
        output_activation="sigmoid",
        # dcgan
        g_features=(128, 64), d_features=(64, 128), d_dense=0, conv_impl="fast",
        g_dense=0, d_batch_norm=False,
        compute_dtype="float32",  # float32 | bfloat16 (dcgan; params stay float32)
        # InfoGAN
        info_categories=0, info_continuous=0, q_hidden=128),
    "gan": dict(generator_loss="non_saturating", d_steps=1, ema_decay=0.0,
                info_weight=1.0, info_continuous_weight=1.0, r1_weight=0.0),
    "evals": dict(sample_quality=True, num_samples=10_000, batch_size=500, knn_k=3,
                  toy_num_samples=10_000, optimal_discriminator=True),
}


def gan_config(**model) -> ConfigDict:
  """`base_config()` with every GAN group filled in, so each key is overridable.

  Args:
    **model: overrides of the model group's defaults.

  Returns:
    A config with method "gan", groups model / gan / evals at their
    DEFAULTS, and Adam(2e-4, b1=0.5) for both `optimizer` (G) and
    `d_optimizer` (D), as in Radford et al. 2016.
  """
  c = config_lib.base_config()
  c.method = "gan"
  c.model = ConfigDict({**DEFAULTS["model"], **model})
  c.gan = ConfigDict(dict(DEFAULTS["gan"]))
  c.evals = ConfigDict(dict(DEFAULTS["evals"]))
  c.optimizer = config_lib.optimizer_config("adam", 2e-4)
  c.optimizer.b1 = 0.5
  c.d_optimizer = config_lib.optimizer_config("adam", 2e-4)
  c.d_optimizer.b1 = 0.5
  return c


def use_infogan_mnist_networks(c: ConfigDict) -> None:
  """Chen et al.'s InfoGAN MNIST networks and training budget, in place.

  A dense 1024 + BN layer first in G, dense 1024 at the end of D's trunk,
  batch norm in D (and Q), batch 128, 5000 updates, as in their released
  code. Used by configs/infogan_mnist.py:paper and, without the codes, by
  configs/dcgan_mnist.py:large; the measured results are in their docstrings.
  """
  c.model.g_dense = 1024
  c.model.d_dense = 1024
  c.model.d_batch_norm = True
  c.batch_size = 128
  c.total_steps = 5000


def settings(config: ConfigDict, group: str) -> ConfigDict:
  """The config group `group` with DEFAULTS filled in for missing keys."""
  return config_lib.group_with_defaults(config, group, DEFAULTS)


# --------------------------------------------------------------------------
# Losses (pure functions of logits, tested against hand-computed values)
# --------------------------------------------------------------------------


def discriminator_loss_per_example(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """-log D(x) - log(1 - D(G(z))) per pair: softplus(-l_real) + softplus(l_fake)."""
  return jax.nn.softplus(-real_logits) + jax.nn.softplus(fake_logits)


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """D's loss, E softplus(-l_real) + E softplus(l_fake); 2 ln 2 when D = 1/2."""
  return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def logits_and_r1(logit_fn: Callable[[jax.Array], jax.Array], x: jax.Array):
  """(logit_fn(x) [B], R1 penalty): E_x ||grad_x logit(x)||^2 / 2 over the batch.

  Mescheder et al. 2018's zero-centred gradient penalty on real data: it
  damps D's slope where the data is, which stops the two players'
  oscillation around the equilibrium (their Thm. 4.1). Each logit depends
  on its own example only, so the gradient of their sum gives every
  example's input gradient in one backward pass.
  """
  def total(x):
    logits = logit_fn(x)
    return jnp.sum(logits), logits

  grads, logits = jax.grad(total, has_aux=True)(x)
  penalty = 0.5 * jnp.mean(jnp.sum(jnp.square(grads.reshape(grads.shape[0], -1)), -1))
  return logits, penalty


def generator_loss_per_example(fake_logits: jax.Array, kind: str) -> jax.Array:
  """G's loss per sample from D's logits on G(z).

  Args:
    fake_logits: l = logit D(G(z)).
    kind: "minimax": log(1 - D) = -softplus(l) (saturates when D rejects);
      "non_saturating": -log D = softplus(-l).
  """
  if kind == "minimax":
    return -jax.nn.softplus(fake_logits)
  if kind == "non_saturating":
    return jax.nn.softplus(-fake_logits)
  raise ValueError(f"unknown generator loss {kind!r}; valid: {', '.join(GENERATOR_LOSSES)}")


def generator_loss(fake_logits: jax.Array, kind: str) -> jax.Array:
  """Mean of `generator_loss_per_example`."""
  return jnp.mean(generator_loss_per_example(fake_logits, kind))


def sample_latent(rng: jax.Array, n: int, dim: int, dist: str) -> jax.Array:
  """n latents z [n, dim]: N(0, I) for "normal", U(-1, 1)^dim for "uniform"."""
  if dist == "normal":
    return jax.random.normal(rng, (n, dim))
  return jax.random.uniform(rng, (n, dim), minval=-1.0, maxval=1.0)


def info_loss_per_example(q: jax.Array, categories: jax.Array, continuous: jax.Array,
                          num_categories: int, continuous_weight: float) -> jax.Array:
  """InfoGAN's L_I per sample: CE of the category + weighted Gaussian NLL of the rest.

  Args:
    q: Q head output [B, K + M]: K category logits, then M continuous means.
    categories: int [B] (ignored when K = 0).
    continuous: [B, M] codes in (-1, 1).
    num_categories: K.
    continuous_weight: weight of sum_j (c_j - mu_j)^2 / 2.

  Returns:
    [B].
  """
  loss = jnp.zeros(q.shape[0], q.dtype)
  if num_categories:
    loss = loss + optax.softmax_cross_entropy_with_integer_labels(
        q[:, :num_categories], categories)
  if continuous.shape[-1]:
    mu = q[:, num_categories:]
    loss = loss + continuous_weight * 0.5 * jnp.sum(jnp.square(continuous - mu), -1)
  return loss


# --------------------------------------------------------------------------
# Config checking and model construction
# --------------------------------------------------------------------------


def is_toy(data_name: str) -> bool:
  return data_name.startswith("toy_")


def validate(config: ConfigDict, data_info: methods.DataInfo | None = None) -> None:
  """Checks the GAN's model / gan / evals groups and both optimisers.

  Raises:
    ConfigError: naming the key, the bad value and what is allowed.
  """
  m, g = settings(config, "model"), settings(config, "gan")
  if m.kind not in ("mlp", "dcgan"):
    raise ConfigError(f"config.model.kind={m.kind!r}; valid: mlp, dcgan")
  if m.latent_dist not in ("normal", "uniform"):
    raise ConfigError(f"config.model.latent_dist={m.latent_dist!r}; valid: normal, uniform")
  if not isinstance(m.latent_dim, int) or m.latent_dim <= 0:
    raise ConfigError(f"config.model.latent_dim must be a positive integer, got {m.latent_dim}")
  if m.output_activation not in ("sigmoid", "linear"):
    raise ConfigError(
        f"config.model.output_activation={m.output_activation!r}; valid: sigmoid, linear")
  conv_lib.check_model_options(m)
  if not 0.0 <= m.d_dropout < 1.0:
    raise ConfigError(f"config.model.d_dropout must be in [0, 1), got {m.d_dropout}")
  if m.info_categories < 0 or m.info_continuous < 0:
    raise ConfigError("config.model.info_categories and info_continuous must be >= 0")
  if m.conditional and (m.info_categories or m.info_continuous):
    raise ConfigError("a GAN is either conditional (config.model.conditional) or an "
                      "InfoGAN (config.model.info_*), not both")
  if g.generator_loss not in GENERATOR_LOSSES:
    raise ConfigError(f"config.gan.generator_loss={g.generator_loss!r}; valid: "
                      f"{', '.join(GENERATOR_LOSSES)}")
  if not isinstance(g.d_steps, int) or g.d_steps < 1:
    raise ConfigError(f"config.gan.d_steps must be an integer >= 1, got {g.d_steps}")
  if not 0.0 <= g.ema_decay < 1.0:
    raise ConfigError(f"config.gan.ema_decay must be in [0, 1), got {g.ema_decay}")
  if g.r1_weight < 0:
    raise ConfigError(f"config.gan.r1_weight must be >= 0, got {g.r1_weight}")
  if g.info_weight < 0 or g.info_continuous_weight < 0:
    raise ConfigError("config.gan.info_weight and info_continuous_weight must be >= 0")
  if "d_optimizer" in config:
    config_lib.validate_optimizer(config.d_optimizer, "d_optimizer")
  if m.d_batch_norm and m.kind != "dcgan":
    raise ConfigError("config.model.d_batch_norm=True needs config.model.kind='dcgan'")
  if m.d_batch_norm and g.r1_weight > 0:
    # R1 takes each example's input gradient from one backward pass of the
    # summed logits; batch statistics couple the examples and break that.
    raise ConfigError("config.gan.r1_weight > 0 cannot be combined with "
                      "config.model.d_batch_norm=True")
  if m.d_projection and not m.conditional:
    raise ConfigError("config.model.d_projection=True needs config.model.conditional=True")
  if data_info is None:
    return
  if m.conditional and data_info.num_classes < 2:
    raise ConfigError("config.model.conditional=True needs a labelled dataset")
  if is_toy_shape(data_info.image_shape):
    if m.kind != "mlp":
      raise ConfigError("toy (point) datasets need config.model.kind='mlp'")
  elif m.kind == "dcgan":
    try:
      gan_models.check_dcgan_shape(data_info.image_shape)
    except ValueError as e:
      raise ConfigError(f"config.model.kind='dcgan': {e}") from None


def is_toy_shape(shape) -> bool:
  return len(shape) == 1


def make_models(config: ConfigDict, data_shape):
  """(generator, discriminator) Flax modules for the config's model group."""
  m = settings(config, "model")
  q_dim = m.info_categories + m.info_continuous
  if m.kind == "dcgan":
    dtype = jnp.dtype(m.compute_dtype)
    return (gan_models.DCGANGenerator(tuple(data_shape), tuple(m.g_features), m.conv_impl,
                                      dtype, m.g_dense),
            gan_models.DCGANDiscriminator(tuple(m.d_features), m.d_dense, m.conv_impl,
                                          q_dim, m.q_hidden, dtype, m.d_projection,
                                          m.d_batch_norm))
  return (gan_models.MLPGenerator(tuple(data_shape), tuple(m.g_hidden), m.output_activation),
          gan_models.MLPDiscriminator(tuple(m.d_hidden), m.maxout_pieces, m.d_dropout,
                                      q_dim, m.q_hidden, m.d_projection))


# --------------------------------------------------------------------------
# The method
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GanSteps:
  """The GAN's pure functions, including the separate D and G updates.

  `d_update(state, images, labels, rng)` and `g_update(state, labels, rng)`
  are exposed so tests can check that each touches only its own network;
  `generate(g_vars, rng, labels)` draws samples. `model_fns` are the
  model-level functions `genjax.load` exposes (see `genjax.methods`).
  """
  init: Callable
  d_update: Callable
  g_update: Callable
  train_step: Callable
  eval_step: Callable
  images: Callable
  final_eval: Callable
  generate: Callable
  model_fns: dict[str, Callable] = dataclasses.field(default_factory=dict)


@methods.register("gan", defaults=DEFAULTS, validate=validate)
def build(config: ConfigDict, *, data_info: methods.DataInfo,
          num_train_steps: int) -> methods.Method:
  """Builds the GAN method (see the module docstring)."""
  steps = make_steps(config, data_info=data_info, num_train_steps=num_train_steps)
  return methods.Method(init=steps.init, train_step=steps.train_step,
                        eval_step=steps.eval_step, images=steps.images,
                        final_eval=steps.final_eval, main_metric="d_loss",
                        model_fns=steps.model_fns)


def make_steps(config: ConfigDict, *, data_info: methods.DataInfo,
               num_train_steps: int) -> GanSteps:
  """The GAN's step functions for `config` (validated here)."""
  validate(config, data_info)
  m, g, evals = (settings(config, k) for k in ("model", "gan", "evals"))
  data_shape = tuple(data_info.image_shape)
  toy = is_toy_shape(data_shape)
  gen, disc = make_models(config, data_shape)
  g_tx = make_optimizer(config.optimizer, num_train_steps)
  d_tx = make_optimizer(config.get("d_optimizer", config.optimizer), num_train_steps)
  num_classes = data_info.num_classes
  n_cat, n_cont = m.info_categories, m.info_continuous
  info = bool(n_cat or n_cont)
  has_bn = m.kind == "dcgan"
  use_ema = g.ema_decay > 0

  # ---- latents ----------------------------------------------------------

  def draw_codes(rng, labels):
    """(z, g_cond, d_cond, (c1, c_cont)) for a batch whose real labels are `labels`."""
    b = labels.shape[0]
    kz, kc, kk = jax.random.split(rng, 3)
    z = sample_latent(kz, b, m.latent_dim, m.latent_dist)
    c1 = jax.random.randint(kc, (b,), 0, max(n_cat, 1))
    c_cont = jax.random.uniform(kk, (b, n_cont), minval=-1.0, maxval=1.0)
    return z, *conditions(labels, c1, c_cont), (c1, c_cont)

  def conditions(labels, c1, c_cont):
    """What G and D are given besides z / x: class one-hots or InfoGAN codes."""
    if m.conditional:
      y = jax.nn.one_hot(labels, num_classes)
      return y, y
    if info:
      parts = ([jax.nn.one_hot(c1, n_cat)] if n_cat else []) + [c_cont]
      return jnp.concatenate(parts, -1), None
    return None, None

  # ---- networks ---------------------------------------------------------

  def g_apply(g_vars, z, cond, train):
    """G(z); in training mode also the updated batch statistics."""
    if has_bn and train:
      x, updates = gen.apply(g_vars, z, cond, train=True, mutable=["batch_stats"])
      return x, updates["batch_stats"]
    return gen.apply(g_vars, z, cond, train=train), g_vars.get("batch_stats")

  def d_apply(d_vars, x, cond, rng=None):
    """D's (logit, q, batch_stats).

    With `rng`, in training mode: dropout on and, with D's batch norm, the
    batch's statistics (returned updated). Without, running averages.
    """
    if rng is None:
      return (*disc.apply(d_vars, x, cond), d_vars.get("batch_stats"))
    if m.d_batch_norm:
      out, updates = disc.apply(d_vars, x, cond, train=True, rngs={"dropout": rng},
                                mutable=["batch_stats"])
      return (*out, updates["batch_stats"])
    return (*disc.apply(d_vars, x, cond, train=True, rngs={"dropout": rng}), None)

  def sampling_vars(state):
    """G's variables for sampling: EMA weights if kept, running BN statistics."""
    params = state["g_ema"] if use_ema else state["g"]["params"]
    return {**state["g"], "params": params}

  def info_terms(q, codes):
    c1, c_cont = codes
    return info_loss_per_example(q, c1, c_cont, n_cat, g.info_continuous_weight)

  # ---- init / train -----------------------------------------------------

  def init(rng, batch):
    kg, kd, kz = jax.random.split(rng, 3)
    labels = batch["label"]
    z, g_cond, d_cond, _ = draw_codes(kz, labels)
    g_vars = dict(gen.init(kg, z, g_cond, train=False))
    x = gen.apply(g_vars, z, g_cond, train=False)
    d_vars = dict(disc.init(kd, x, d_cond))
    state = {"g": g_vars, "d": d_vars,
             "g_opt": g_tx.init(g_vars["params"]), "d_opt": d_tx.init(d_vars["params"])}
    if use_ema:
      state["g_ema"] = g_vars["params"]
    return state

  def d_update(state, x, labels, rng):
    """One discriminator (+Q) step with G fixed; G's variables pass through."""
    rng, k_real, k_fake = jax.random.split(rng, 3)
    z, g_cond, d_cond, codes = draw_codes(rng, labels)
    # G only supplies a constant sample here: no gradient reaches its params.
    fake = jax.lax.stop_gradient(g_apply(state["g"], z, g_cond, train=True)[0])

    def d_loss_fn(d_params):
      d_vars = {**state["d"], "params": d_params}
      if g.r1_weight > 0:  # (never with D's batch norm: see `validate`)
        real_logit, r1 = logits_and_r1(lambda x: d_apply(d_vars, x, d_cond, k_real)[0], x)
      else:
        # Real and fake batches go through D separately, so with batch
        # norm each is normalised by its own statistics (Radford et al.).
        real_logit, _, stats = d_apply(d_vars, x, d_cond, k_real)
        if m.d_batch_norm:
          d_vars = {**d_vars, "batch_stats": stats}
      fake_logit, q, stats = d_apply(d_vars, fake, d_cond, k_fake)
      loss = discriminator_loss(real_logit, fake_logit)
      aux = {"d_loss": loss, "d_real": jnp.mean(jax.nn.sigmoid(real_logit)),
             "d_fake": jnp.mean(jax.nn.sigmoid(fake_logit))}
      if g.r1_weight > 0:
        aux["d_r1"] = r1
        loss = loss + g.r1_weight * r1
      if info:
        i_loss = jnp.mean(info_terms(q, codes))
        aux["d_info_loss"] = i_loss
        loss = loss + g.info_weight * i_loss
      return loss, (stats, aux)

    d_params = state["d"]["params"]
    (_, (stats, metrics)), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d_params)
    updates, d_opt = d_tx.update(grads, state["d_opt"], d_params)
    new_d = {**state["d"], "params": optax.apply_updates(d_params, updates)}
    if m.d_batch_norm:
      new_d["batch_stats"] = stats
    new_state = {**state, "d": new_d, "d_opt": d_opt}
    return new_state, {**metrics, "d_grad_norm": optax.tree.norm(grads)}

  def g_update(state, labels, rng):
    """One generator step against the current, fixed, D (and Q)."""
    rng, k_drop = jax.random.split(rng)
    z, g_cond, d_cond, codes = draw_codes(rng, labels)
    g_vars = state["g"]

    def g_loss_fn(g_params):
      fake, batch_stats = g_apply({**g_vars, "params": g_params}, z, g_cond, train=True)
      # D in training mode (batch statistics of this fake batch); the
      # statistics it would update are dropped: D is fixed in G's step.
      fake_logit, q, _ = d_apply(state["d"], fake, d_cond, k_drop)
      loss = generator_loss(fake_logit, g.generator_loss)
      aux = {"g_loss": loss, "d_fake_g_step": jnp.mean(jax.nn.sigmoid(fake_logit))}
      if info:
        i_loss = jnp.mean(info_terms(q, codes))
        aux["info_loss"] = i_loss
        if n_cat:
          ce = optax.softmax_cross_entropy_with_integer_labels(q[:, :n_cat], codes[0])
          aux["mi_lower_bound"] = math.log(n_cat) - jnp.mean(ce)
        loss = loss + g.info_weight * i_loss
      return loss, (batch_stats, aux)

    (_, (batch_stats, metrics)), grads = jax.value_and_grad(
        g_loss_fn, has_aux=True)(g_vars["params"])
    updates, g_opt = g_tx.update(grads, state["g_opt"], g_vars["params"])
    g_params = optax.apply_updates(g_vars["params"], updates)
    new_g = {**g_vars, "params": g_params}
    if has_bn:
      new_g["batch_stats"] = batch_stats
    new_state = {**state, "g": new_g, "g_opt": g_opt}
    if use_ema:
      new_state["g_ema"] = jax.tree.map(
          lambda e, p: g.ema_decay * e + (1 - g.ema_decay) * p, state["g_ema"], g_params)
    return new_state, {**metrics, "g_grad_norm": optax.tree.norm(grads)}

  def train_step(state, batch, rng):
    """k = gan.d_steps D updates (fresh z each, same real batch), then one G update."""
    keys = jax.random.split(rng, g.d_steps + 1)
    for i in range(g.d_steps):
      state, d_metrics = d_update(state, batch["image"], batch["label"], keys[i])
    state, g_metrics = g_update(state, batch["label"], keys[-1])
    return state, {**d_metrics, **g_metrics}

  # ---- eval / images ----------------------------------------------------

  def eval_step(state, batch, rng):
    x, labels = batch["image"], batch["label"]
    z, g_cond, d_cond, codes = draw_codes(rng, labels)
    fake, _ = g_apply(sampling_vars(state), z, g_cond, train=False)
    real_logit, _, _ = d_apply(state["d"], x, d_cond)
    fake_logit, q, _ = d_apply(state["d"], fake, d_cond)
    out = {"d_loss": discriminator_loss_per_example(real_logit, fake_logit),
           "g_loss": generator_loss_per_example(fake_logit, g.generator_loss),
           "d_real": jax.nn.sigmoid(real_logit), "d_fake": jax.nn.sigmoid(fake_logit)}
    if info and n_cat:
      ce = optax.softmax_cross_entropy_with_integer_labels(q[:, :n_cat], codes[0])
      out["mi_lower_bound"] = math.log(n_cat) - ce
    if toy:
      # The data density at generated points: high when samples sit on modes.
      out["sample_log_density"] = toy_data.log_density(config.data.name, fake)
    return out

  def generate(g_vars, rng, labels):
    """Samples for given (conditional) labels; InfoGAN codes drawn at random."""
    z, g_cond, _, _ = draw_codes(rng, labels)
    return g_apply(g_vars, z, g_cond, train=False)[0]

  def images(state, batch, rng):
    g_vars = sampling_vars(state)
    if toy:
      return toy_images(g_vars, batch, rng)
    if m.conditional:
      # One row per class, one z per column: style fixed along a column.
      k = num_classes
      z = jnp.tile(latent(rng, 10)[None], (k, 1, 1)).reshape(k * 10, -1)
      y = jax.nn.one_hot(jnp.repeat(jnp.arange(k), 10), k)
      x = g_apply(g_vars, z, y, train=False)[0]
      return {"samples_by_class": x.reshape((k, 10) + data_shape)}
    if info:
      return info_grids(g_vars, rng)
    z = latent(rng, 64)
    return {"samples": g_apply(g_vars, z, None, train=False)[0].reshape((8, 8) + data_shape)}

  def latent(rng, n):
    return sample_latent(rng, n, m.latent_dim, m.latent_dist)

  def info_grids(g_vars, rng):
    """c1 by row (z per column), and c2/c3 traversals (-2..2) by column per category."""
    k = max(n_cat, 1)
    grids = {}

    def render(c1, c_cont, z, rows, cols):
      cond, _ = conditions(None, c1, c_cont)
      x = g_apply(g_vars, z, cond, train=False)[0]
      return x.reshape((rows, cols) + data_shape)

    if n_cat:
      z = jnp.tile(latent(rng, 10)[None], (k, 1, 1)).reshape(k * 10, -1)
      c1 = jnp.repeat(jnp.arange(k), 10)
      grids["c1_traversal"] = render(c1, jnp.zeros((k * 10, n_cont)), z, k, 10)
    values = jnp.linspace(-2.0, 2.0, 10)  # beyond the training range (-1, 1) too
    z_rows = jnp.repeat(latent(jax.random.fold_in(rng, 1), k), 10, axis=0)
    c1 = jnp.repeat(jnp.arange(k), 10)
    for j in range(n_cont):
      c_cont = jnp.zeros((k * 10, n_cont)).at[:, j].set(jnp.tile(values, k))
      grids[f"c{j + 2}_traversal"] = render(c1, c_cont, z_rows, k, 10)
    return grids

  def toy_images(g_vars, batch, rng):
    """2-D toys: histograms of data (left) and G's samples (right), dark = dense."""
    if data_shape[0] != 2:
      return {}
    mix = toy_data.mixture(config.data.name)
    bound = float(np.abs(mix.means).max()) + 1.0
    fake = generate(g_vars, rng, jnp.zeros((4096,), jnp.int32))

    def hist(points, bins=64):
      idx = jnp.clip(((points + bound) / (2 * bound) * bins).astype(jnp.int32), 0, bins - 1)
      h = jnp.zeros((bins, bins)).at[bins - 1 - idx[:, 1], idx[:, 0]].add(1.0)
      return 1.0 - jnp.sqrt(h / jnp.maximum(h.max(), 1.0))

    grid = jnp.stack([hist(batch["image"]), hist(fake)])[None, :, :, :, None]
    return {"samples": grid}

  # ---- final evaluation ---------------------------------------------------

  def final_eval(state, dataset, rng, workdir=None) -> dict[str, float]:
    g_vars = sampling_vars(state)
    if toy:
      return toy_final_eval(state, g_vars, dataset, rng, workdir)
    out = {}
    if info and n_cat:
      out.update(info_category_accuracy(state, dataset))
    if not evals.sample_quality or evals.num_samples <= 0:
      return out
    if not classifier_lib.available(dataset.name):
      logging.warning("no evaluation classifier for %s (%s); skipping sample quality",
                      dataset.name, classifier_lib.asset_path(dataset.name))
      return out
    out.update(sample_quality.evaluate_generator(
        lambda key, labels: generate(g_vars, key, labels), dataset, rng,
        num_samples=evals.num_samples, batch_size=evals.batch_size, k=evals.knn_k,
        conditional=m.conditional))
    return out

  def toy_final_eval(state, g_vars, dataset, rng, workdir):
    n = evals.toy_num_samples
    sampler = jax.jit(lambda key: generate(g_vars, key, jnp.zeros((n,), jnp.int32)))
    out = toy_data.mode_statistics(dataset.name, np.asarray(sampler(rng)))
    if data_shape[0] == 1 and evals.optimal_discriminator:
      gap = optimal_discriminator.check(
          lambda key, k: generate(g_vars, key, jnp.zeros((k,), jnp.int32)),
          dataset.name, jax.random.fold_in(rng, 1),
          plot_path=(os.path.join(workdir, "figures", "optimal_discriminator.png")
                     if workdir and jax.process_index() == 0 else None))
      out.update({k: v for k, v in gap.items() if np.ndim(v) == 0})
    return out

  def info_category_accuracy(state, dataset):
    """Q's category on real test images as a classifier, after Hungarian matching."""
    scale = dataset.eval_scale

    @jax.jit
    def predict(images):
      blocks = images.reshape((-1, config.eval_batch_size) + images.shape[1:])
      def one(xb):
        _, q, _ = d_apply(state["d"], xb.astype(jnp.float32) / scale, None)
        return jnp.argmax(q[:, :n_cat], -1)
      return jax.lax.map(one, blocks).reshape(-1)

    pred = np.asarray(predict(dataset.eval["image"]))[:dataset.num_eval]
    labels = np.asarray(dataset.eval["label"])[:dataset.num_eval]
    acc, mapping = sample_quality.hungarian_accuracy(pred, labels, max(n_cat, num_classes))
    logging.info("InfoGAN c1 -> class mapping: %s", mapping.tolist())
    return {"c1_hungarian_accuracy": acc}

  # ---- model functions (genjax.load) -------------------------------------

  def sample(state, rng, n, labels=None, codes=None):
    """n samples from the sampling weights (EMA if kept; BN running statistics).

    Conditional GANs: `labels` int [n], balanced 0, 1, .., K-1, 0, .. if None.
    InfoGAN: `codes` = (c1 int [n] or None, c_cont [n, M] or None); a None
    part is drawn from its prior as in training.
    """
    if labels is None:
      labels = jnp.arange(n) % num_classes if m.conditional else jnp.zeros((n,), jnp.int32)
    labels = jnp.asarray(labels, jnp.int32)
    g_vars = sampling_vars(state)
    if not (info and codes is not None):
      return generate(g_vars, rng, labels)
    z, _, _, (c1, c_cont) = draw_codes(rng, labels)
    given_c1, given_cont = codes
    c1 = c1 if given_c1 is None else jnp.asarray(given_c1, jnp.int32)
    c_cont = c_cont if given_cont is None else jnp.asarray(given_cont, jnp.float32)
    cond, _ = conditions(labels, c1, c_cont)
    return g_apply(g_vars, z, cond, train=False)[0]

  def discriminate(state, x, labels=None):
    """D(x) [N], the probability that x is real (eval mode: running statistics)."""
    d_cond = None
    if m.conditional:
      if labels is None:
        raise UserError("this conditional GAN's discriminator needs labels: "
                        "discriminate(x, labels)")
      d_cond = jax.nn.one_hot(jnp.asarray(labels, jnp.int32), num_classes)
    logit, _, _ = d_apply(state["d"], x, d_cond)
    return jax.nn.sigmoid(logit)

  def infer_codes(state, x):
    """Q's (category probabilities [N, K], continuous means [N, M]) for x."""
    _, q, _ = d_apply(state["d"], x, None)
    return jax.nn.softmax(q[:, :n_cat], -1), q[:, n_cat:]

  model_fns = {"sample": sample, "discriminate": discriminate}
  if info:
    model_fns["infer_codes"] = infer_codes
  return GanSteps(init=init, d_update=d_update, g_update=g_update, train_step=train_step,
                  eval_step=eval_step, images=images, final_eval=final_eval,
                  generate=generate, model_fns=model_fns)
