"""Deterministic autoencoders: h = f(x), r = g(h), minimise L(x, g(f(x))).

One method covers the plain family: undercomplete or overcomplete (any
`model.code_dim`), stacked (`model.hidden`), tied decoder weights, and the
purely linear autoencoder (`model.activation="linear"`,
`model.output_activation="linear"`, `loss.reconstruction="mse"`), whose
optimum spans the same subspace as PCA's leading components.

Reconstruction losses are summed over pixels and averaged over the batch:
  bce: Bernoulli cross-entropy of x under sigmoid(logits), in nats per image;
       needs `output_activation="sigmoid"` (the decoder emits logits).
  mse: squared error of output_activation(decoder output), per image.
`mse` in the metrics is always the mean squared error per pixel, so runs with
different losses can be compared on one number.

Config groups read here:
  model: hidden, code_dim, mirror_decoder, decoder_hidden, activation,
         code_activation, output_activation, tied
  loss:  reconstruction ("bce" | "mse")
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax

from genjax import methods
from genjax.config import ConfigDict
from genjax.errors import ConfigError
from genjax.models import mlp
from genjax.optim import make_optimizer

PIXEL_AXES = (-3, -2, -1)


def reconstruction_loss(kind: str, output: jax.Array, x: jax.Array,
                        output_activation: str) -> jax.Array:
  """Per-example reconstruction loss, summed over pixels.

  Args:
    kind: "bce" (output are logits) or "mse".
    output: decoder pre-activation output [B, H, W, C].
    x: targets in [0, 1], same shape.
    output_activation: applied to `output` before "mse".

  Returns:
    float32 [B].
  """
  if kind == "bce":
    return optax.sigmoid_binary_cross_entropy(output, x).sum(PIXEL_AXES)
  r = mlp.activation(output_activation)(output)
  return jnp.square(r - x).sum(PIXEL_AXES)


def validate(config: ConfigDict) -> None:
  """Checks the autoencoder's `model` and `loss` groups."""
  m = config.model
  sizes = [*m.hidden, m.code_dim, *(m.decoder_hidden if not m.mirror_decoder else ())]
  if any((not isinstance(s, int)) or s <= 0 for s in sizes):
    raise ConfigError(
        f"autoencoder layer sizes must be positive integers; got hidden={tuple(m.hidden)}, "
        f"code_dim={m.code_dim}, decoder_hidden={tuple(m.decoder_hidden)}")
  for key in ("activation", "code_activation", "output_activation"):
    if m[key] not in mlp.ACTIVATIONS:
      raise ConfigError(
          f"config.model.{key}={m[key]!r}; valid: {', '.join(sorted(mlp.ACTIVATIONS))}")
  if config.loss.reconstruction not in ("bce", "mse"):
    raise ConfigError(
        f"config.loss.reconstruction={config.loss.reconstruction!r}; valid: bce, mse")
  if config.loss.reconstruction == "bce" and m.output_activation != "sigmoid":
    raise ConfigError(
        "config.loss.reconstruction='bce' needs config.model.output_activation='sigmoid'")
  if m.tied and not m.mirror_decoder:
    raise ConfigError("config.model.tied=True needs config.model.mirror_decoder=True")


def make_model(config: ConfigDict, image_shape) -> mlp.MLPAutoencoder:
  m = config.model
  return mlp.MLPAutoencoder(
      image_shape=tuple(image_shape),
      hidden=tuple(m.hidden),
      code_dim=m.code_dim,
      decoder_hidden=None if m.mirror_decoder else tuple(m.decoder_hidden),
      activation=m.activation,
      code_activation=m.code_activation,
      tied=m.tied,
  )


def reconstruction_grid(x: jax.Array, r: jax.Array, cols: int = 8) -> jax.Array:
  """Interleaves rows of inputs and reconstructions: [2 * rows, cols, H, W, C]."""
  n = (x.shape[0] // cols) * cols
  if n == 0:
    cols, n = x.shape[0], x.shape[0]
  x = x[:n].reshape((-1, cols) + x.shape[1:])
  r = r[:n].reshape((-1, cols) + r.shape[1:])
  return jnp.stack([x, r], axis=1).reshape((-1, cols) + x.shape[2:])


@methods.register("autoencoder")
def build(config: ConfigDict, *, data_info: methods.DataInfo,
          num_train_steps: int) -> methods.Method:
  """Builds the autoencoder method (see the module docstring)."""
  validate(config)
  model = make_model(config, data_info.image_shape)
  tx = make_optimizer(config.optimizer, num_train_steps)
  loss_kind = config.loss.reconstruction
  out_act = config.model.output_activation
  num_pixels = math.prod(data_info.image_shape)

  def forward(params, x):
    h, out = model.apply({"params": params}, x)
    rec = reconstruction_loss(loss_kind, out, x, out_act)
    mse = jnp.square(mlp.activation(out_act)(out) - x).sum(PIXEL_AXES) / num_pixels
    return h, out, rec, mse

  def init(rng, batch):
    params = model.init(rng, batch["image"])["params"]
    return {"params": params, "opt_state": tx.init(params)}

  def train_step(state, batch, rng):
    del rng  # the plain autoencoder is deterministic

    def loss_fn(params):
      _, _, rec, mse = forward(params, batch["image"])
      loss = rec.mean()
      return loss, {"recon_loss": loss, "mse": mse.mean()}

    (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"])
    updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
    params = optax.apply_updates(state["params"], updates)
    metrics = {"loss": loss, **metrics, "grad_norm": optax.global_norm(grads)}
    return {"params": params, "opt_state": opt_state}, metrics

  def eval_step(state, batch, rng):
    del rng
    h, _, rec, mse = forward(state["params"], batch["image"])
    return {"loss": rec, "recon_loss": rec, "mse": mse,
            "code_mean_abs": jnp.abs(h).mean(-1)}

  def images(state, batch, rng):
    del rng
    x = batch["image"]
    _, out = model.apply({"params": state["params"]}, x)
    r = jnp.clip(mlp.activation(out_act)(out), 0.0, 1.0)
    return {"reconstructions": reconstruction_grid(x, r)}

  return methods.Method(init=init, train_step=train_step, eval_step=eval_step,
                        images=images, main_metric="recon_loss")
