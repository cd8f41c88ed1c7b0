"""The GAN's two networks, built from the model group, and how to apply them.

`make_models` picks the Flax modules (`genjax.models.gan_models`); `Networks`
applies them with the right batch-norm and dropout handling, so the step
functions never ask whether a network has batch norm:

  generate(g_vars, z, cond, train)         -> (x, G's batch statistics)
  discriminate(d_vars, x, cond, rng=None)  -> (logit, q, D's batch statistics)
  discriminate_with_features(d_vars, x, cond, rng=None)
                                           -> (logit, q, D's last hidden features)

For the semi-supervised GAN's D (kind "ssgan_mlp") q is its class logits.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.config import ConfigDict
from genjax.models import gan_models

Variables = dict  # a Flax variable collection: {"params": ..., ["batch_stats": ...]}


def make_models(model: ConfigDict, data_shape,
                num_logits: int = 1) -> tuple[nn.Module, nn.Module]:
  """(generator, discriminator) Flax modules.

  Args:
    model: the GAN's model group with every key set (see `gan.DEFAULTS`).
    data_shape: the shape of one example, [H, W, C] or [D] for points.
    num_logits: class logits of the "ssgan_mlp" D (K for the semi-supervised
      GAN, 1 for a plain real / fake D); other kinds have one logit.
  """
  if model.kind == "ssgan_mlp":
    return (gan_models.SSGANGenerator(tuple(data_shape), tuple(model.g_hidden)),
            gan_models.SSGANDiscriminator(tuple(model.d_hidden), num_logits,
                                          model.d_input_noise, model.d_hidden_noise))
  q_dim = model.info_categories + model.info_continuous
  if model.kind == "dcgan":
    dtype = jnp.dtype(model.compute_dtype)
    return (gan_models.DCGANGenerator(tuple(data_shape), tuple(model.g_features),
                                      model.conv_impl, dtype, model.g_dense),
            gan_models.DCGANDiscriminator(tuple(model.d_features), model.d_dense,
                                          model.conv_impl, q_dim, model.q_hidden, dtype,
                                          model.d_projection, model.d_batch_norm))
  return (gan_models.MLPGenerator(tuple(data_shape), tuple(model.g_hidden),
                                  model.output_activation),
          gan_models.MLPDiscriminator(tuple(model.d_hidden), model.maxout_pieces,
                                      model.d_dropout, q_dim, model.q_hidden,
                                      model.d_projection))


@dataclasses.dataclass(frozen=True)
class Networks:
  """G and D with their batch-norm handling.

  Attributes:
    generator: z [B, Z], cond -> x (`gan_models` call convention).
    discriminator: x, cond -> (logit [B], q [B, Q] | None).
    g_batch_norm: whether G has batch norm (the DCGAN's and SSGAN's do).
    d_batch_norm: whether D (and Q) have batch norm.
  """
  generator: nn.Module
  discriminator: nn.Module
  g_batch_norm: bool
  d_batch_norm: bool

  @classmethod
  def from_model_group(cls, model: ConfigDict, data_shape, num_logits: int = 1) -> Networks:
    generator, discriminator = make_models(model, data_shape, num_logits)
    return cls(generator, discriminator, model.kind in ("dcgan", "ssgan_mlp"),
               model.d_batch_norm)

  def init(self, rng_g: jax.Array, rng_d: jax.Array, z: jax.Array, g_cond,
           x: jax.Array, d_cond) -> tuple[Variables, Variables]:
    """(G's, D's) variables; D is initialised on the real batch `x`.

    Real data, not G's first samples, because the SSGAN D's weight-norm
    layers take their initial scales from the init batch's statistics; and
    in training mode (its Gaussian noise on), as Salimans et al.'s code
    does: the scales then normalise signal plus noise, which keeps the noise
    at its intended share of each layer's input (those scales never train).
    Other D's parameters do not depend on the init pass.
    """
    g_vars = dict(self.generator.init(rng_g, z, g_cond, train=False))
    rngs = {"params": rng_d, "dropout": jax.random.fold_in(rng_d, 1)}
    return g_vars, dict(self.discriminator.init(rngs, x, d_cond, train=True))

  def generate(self, g_vars: Variables, z: jax.Array, cond, train: bool):
    """(G(z), G's batch statistics): updated ones when training with batch norm."""
    if self.g_batch_norm and train:
      x, updates = self.generator.apply(g_vars, z, cond, train=True, mutable=["batch_stats"])
      return x, updates["batch_stats"]
    return self.generator.apply(g_vars, z, cond, train=train), g_vars.get("batch_stats")

  def discriminate(self, d_vars: Variables, x: jax.Array, cond, rng: jax.Array | None = None):
    """D's (logit, q, batch statistics).

    With `rng`, in training mode: dropout on and, with D's batch norm, the
    batch's own statistics (returned updated; None without batch norm).
    Without `rng`, evaluation mode: running averages, returned unchanged.
    """
    if rng is None:
      return (*self.discriminator.apply(d_vars, x, cond), d_vars.get("batch_stats"))
    if self.d_batch_norm:
      out, updates = self.discriminator.apply(d_vars, x, cond, train=True,
                                              rngs={"dropout": rng}, mutable=["batch_stats"])
      return (*out, updates["batch_stats"])
    return (*self.discriminator.apply(d_vars, x, cond, train=True, rngs={"dropout": rng}),
            None)

  def discriminate_with_features(self, d_vars: Variables, x: jax.Array, cond,
                                 rng: jax.Array | None = None):
    """D's (logit, q, last hidden features [B, F]); modes as in `discriminate`.

    Batch-norm statistics this pass would update are dropped: it serves the
    generator's feature matching, whose step leaves D alone.
    """
    mutable = ["intermediates"]
    kwargs = {}
    if rng is not None:
      kwargs = {"train": True, "rngs": {"dropout": rng}}
      if self.d_batch_norm:
        mutable.append("batch_stats")
    (logit, q), updates = self.discriminator.apply(d_vars, x, cond, mutable=mutable, **kwargs)
    return logit, q, updates["intermediates"]["features"][-1]
