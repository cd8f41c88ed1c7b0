"""Flax modules of variational autoencoders (no losses, no training).

A VAE has a probabilistic encoder q(z|x) = N(mean(x), diag(exp(log_variance(x))))
and a decoder that maps z to the parameters of p(x|z). The modules here only
compute those parameters; densities, sampling and objectives live in
`genjax/methods/vae.py` and `genjax/evaluation/likelihood.py`.

Two architectures, chosen by `config.model.arch`:

  mlp:  dense encoder x -> hidden... -> (mean, log_variance), mirrored dense
        decoder z -> hidden... -> pixels (Kingma & Welling's 784-500-20).
  conv: Chollet's Keras VAE: two 3x3 stride-2 convolutions (32, 64 filters),
        a small dense layer, the latent; the decoder mirrors it with stride-2
        transposed convolutions. Built from `genjax.models.conv.conv_layers`
        so the fast canonical-layout convolutions are used on CPU.

Decoders emit `outputs_per_pixel` values per pixel channel: 1 for a Bernoulli
(logits) or a Gaussian with fixed or per-pixel learned variance (means), 2
when the Gaussian variance is predicted per pixel from z (means and
log-variances, stacked on a new leading axis of the output tuple). A
per-pixel learned (z-independent) log-variance is a parameter of `VAE`
itself. Every module accepts any number of leading batch axes, so the
importance-sampled likelihood can decode [k, B, latent] samples in one call.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.models import conv as conv_lib
from genjax.models.mlp import MLP, activation


class MLPEncoder(nn.Module):
  """x [..., H, W, C] -> (mean, log_variance), each [..., latent_dim]."""
  hidden: Sequence[int]
  latent_dim: int
  activation: str = "relu"

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = x.reshape(x.shape[:x.ndim - 3] + (-1,))
    if self.hidden:
      h = MLP(tuple(self.hidden), self.activation, name="trunk")(h)
      h = activation(self.activation)(h)
    mean = nn.Dense(self.latent_dim, name="mean")(h)
    log_variance = nn.Dense(self.latent_dim, name="log_variance")(h)
    return mean, log_variance


class MLPDecoder(nn.Module):
  """z [..., latent] -> `outputs_per_pixel` arrays [..., H, W, C]."""
  hidden: Sequence[int]
  image_shape: tuple[int, int, int]
  outputs_per_pixel: int = 1
  activation: str = "relu"

  @nn.compact
  def __call__(self, z: jax.Array) -> tuple[jax.Array, ...]:
    pixels = math.prod(self.image_shape)
    widths = (*self.hidden, pixels * self.outputs_per_pixel)
    # Leading axes folded into one: XLA:CPU's 2-D matmuls beat the batched
    # dot_general a [k, B, latent] input becomes (~3% of an MLP VAE step).
    flat, batch_shape = _flatten_batch(z, 1)
    out = MLP(widths, self.activation, name="trunk")(flat)
    out = out.reshape(batch_shape + (self.outputs_per_pixel,) + tuple(self.image_shape))
    return tuple(out[..., i, :, :, :] for i in range(self.outputs_per_pixel))


def _flatten_batch(x: jax.Array, event_ndims: int) -> tuple[jax.Array, tuple[int, ...]]:
  batch_shape = x.shape[:x.ndim - event_ndims]
  return x.reshape((-1,) + x.shape[x.ndim - event_ndims:]), batch_shape


class ConvEncoder(nn.Module):
  """Strided 3x3 convolutions, a dense layer, then (mean, log_variance).

  `dtype` is the compute dtype (bfloat16 for mixed precision); parameters
  stay float32 and (mean, log_variance) come out float32, so sampling, the
  KL and the likelihood are computed in float32.
  """
  channels: Sequence[int] = (32, 64)
  dense: int = 16
  latent_dim: int = 2
  conv_impl: str = "fast"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    conv, _ = conv_lib.conv_layers(self.conv_impl)
    h, batch_shape = _flatten_batch(x, 3)
    for i, c in enumerate(self.channels):
      h = nn.relu(conv(c, (3, 3), strides=(2, 2), padding="SAME", dtype=self.dtype,
                       name=f"conv_{i}")(h))
    h = h.reshape(h.shape[0], -1)
    h = nn.relu(nn.Dense(self.dense, dtype=self.dtype, name="dense")(h))
    mean = nn.Dense(self.latent_dim, dtype=self.dtype, name="mean")(h)
    log_variance = nn.Dense(self.latent_dim, dtype=self.dtype, name="log_variance")(h)
    return (mean.reshape(batch_shape + (-1,)).astype(jnp.float32),
            log_variance.reshape(batch_shape + (-1,)).astype(jnp.float32))


class ConvDecoder(nn.Module):
  """Dense to a (H/2^n, W/2^n, channels[-1]) map, stride-2 transposed convs up.

  `dtype` is the compute dtype; the outputs are returned as float32.
  """
  image_shape: tuple[int, int, int]
  channels: Sequence[int] = (32, 64)  # the encoder's order; used reversed
  outputs_per_pixel: int = 1
  conv_impl: str = "fast"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: jax.Array) -> tuple[jax.Array, ...]:
    _, conv_transpose = conv_lib.conv_layers(self.conv_impl)
    height, width, c_out = self.image_shape
    factor = 2 ** len(self.channels)
    if height % factor or width % factor:
      raise ValueError(
          f"conv decoder needs image sides divisible by {factor}, got {self.image_shape}")
    h, batch_shape = _flatten_batch(z, 1)
    start = (height // factor, width // factor, self.channels[-1])
    h = nn.relu(nn.Dense(math.prod(start), dtype=self.dtype, name="dense")(h))
    h = h.reshape((-1,) + start)
    for i, c in enumerate(reversed(self.channels)):
      h = nn.relu(conv_transpose(c, (3, 3), strides=(2, 2), padding="SAME",
                                 dtype=self.dtype, name=f"deconv_{i}")(h))
    out = conv_transpose(c_out * self.outputs_per_pixel, (3, 3), strides=(1, 1),
                         padding="SAME", dtype=self.dtype, name="output")(h)
    out = out.astype(jnp.float32).reshape(batch_shape + (height, width, self.outputs_per_pixel, c_out))
    return tuple(out[..., i, :] for i in range(self.outputs_per_pixel))


class VAE(nn.Module):
  """An encoder and a decoder, plus an optional per-pixel log-variance.

  Attributes:
    encoder: maps x to (mean, log_variance) of q(z|x).
    decoder: maps z to a tuple of per-pixel parameter arrays.
    image_shape: (H, W, C).
    pixel_log_variance: create a learned, z-independent per-pixel Gaussian
      log-variance parameter (returned by `decode` as the second output).
  """
  encoder: nn.Module
  decoder: nn.Module
  image_shape: tuple[int, int, int]
  pixel_log_variance: bool = False

  def setup(self):
    if self.pixel_log_variance:
      self.log_variance = self.param("pixel_log_variance", nn.initializers.zeros_init(),
                                     tuple(self.image_shape))

  def encode(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """x [..., H, W, C] -> (mean, log_variance) [..., latent]."""
    return self.encoder(x)

  def decode(self, z: jax.Array) -> tuple[jax.Array, ...]:
    """z [..., latent] -> parameters of p(x|z), each [..., H, W, C]."""
    out = self.decoder(z)
    if self.pixel_log_variance:
      out = (out[0], jnp.broadcast_to(self.log_variance, out[0].shape))
    return out

  def __call__(self, x: jax.Array) -> tuple[jax.Array, ...]:
    """Initialisation path: decodes the posterior mean."""
    mean, _ = self.encode(x)
    return self.decode(mean)
