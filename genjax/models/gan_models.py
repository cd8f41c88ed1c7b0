"""Generators and discriminators for genjax's GAN family (Flax linen, no losses).

Two shapes of network, each with optional conditioning and an optional
InfoGAN Q head:

  MLPGenerator / MLPDiscriminator
      Fully connected, as in Goodfellow et al. 2014 (MNIST: G 100 -> 1200 ->
      1200 -> 784 with ReLU and a sigmoid output; D with maxout units) and
      the toy-distribution GANs (linear output, points in R^D).
  DCGANGenerator / DCGANDiscriminator
      Radford et al. 2016 scaled to 28x28: G z -> [dense + BN] -> dense
      7*7*128 + BN -> ConvTranspose 64 4x4/2 + BN -> ConvTranspose C 4x4/2
      -> sigmoid; D Conv 64 4x4/2 -> Conv 128 4x4/2 [+ BN] (LeakyReLU 0.2)
      -> [dense [+ BN]] -> logit.
      Convolutions come from `genjax.models.conv.conv_layers(conv_impl)`;
      the "fast" ones keep every gradient a canonical-layout convolution,
      which is what makes a scanned training loop fast on XLA:CPU.

  SSGANGenerator / SSGANDiscriminator
      Salimans et al. 2016's MNIST networks for the semi-supervised GAN: G
      z -> 500 softplus + BN -> 500 softplus + BN -> weight-normalised dense
      784 -> sigmoid; D an MLP of weight-normalised dense ReLU layers
      (1000-500-250-250-250) with Gaussian noise added to its input and to
      every hidden layer while training, ending in K class logits l.

Call conventions (shared by every shape, so the method does not care):

  generator(z [B, Z], cond [B, K] | None, train: bool) -> x [B, *data_shape]
  discriminator(x, cond | None, train: bool) -> (logit [B], q [B, q_dim] | None)

`cond` is a one-hot class for the conditional GAN (Mirza & Osindero 2014):
G sees it concatenated to z, D concatenated to its input (as constant
feature maps for images). With `projection=True` D also adds the projection
term of Miyato & Koyama 2018, <embed(y), phi(x)> on its last hidden features
phi(x), to the logit: a direct path from the class to D's decision, which the
input concatenation alone gives only through the first layer's filters.

The SSGAN D returns logit = logsumexp(l), the real / fake logit of Salimans
et al.'s implicit fake class (D(x) = Z / (Z + 1), Z = sum_k exp(l_k)), and
the class logits l [B, K] in the q slot. Every D sows its last hidden
features ("intermediates" / "features") for feature matching; applied without
a mutable "intermediates" collection the sow does nothing.

The InfoGAN Q head (Chen et al. 2016) shares D's whole trunk and adds one
hidden layer; its outputs are interpreted by the method (categorical logits,
then continuous-code means).

Batch norm (always in the DCGAN G, optionally in the DCGAN D) uses batch
statistics while training and running averages (momentum 0.9, so they track
moving networks) otherwise.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.scipy import special

from genjax.models.conv import conv_layers


def _with_condition(z: jax.Array, cond: jax.Array | None) -> jax.Array:
  return z if cond is None else jnp.concatenate([z, cond.astype(z.dtype)], -1)


def _batch_norm(x: jax.Array, train: bool, dtype) -> jax.Array:
  """Batch statistics while training, running averages otherwise.

  Momentum 0.9 rather than flax's 0.99: the statistics track networks that
  keep moving (a generator, or a discriminator that sees a moving generator).
  """
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype)(x)


def _logit(h: jax.Array, cond: jax.Array | None, projection: bool, dtype=None) -> jax.Array:
  """D's logit from its last hidden features h [B, F]: linear, plus the projection term.

  A bias-free Dense of the one-hot class is the class embedding; its inner
  product with h is Miyato & Koyama's (2018) projection term.
  """
  logit = nn.Dense(1, dtype=dtype)(h)[..., 0]
  if projection and cond is not None:
    embed = nn.Dense(h.shape[-1], use_bias=False, dtype=dtype, name="class_embedding")
    logit = logit + jnp.sum(embed(cond.astype(h.dtype)) * h, -1)
  return logit.astype(jnp.float32)


class QHead(nn.Module):
  """InfoGAN's Q network on top of D's trunk features: one hidden layer.

  With `batch_norm` the hidden layer is batch-normalised, as in Chen et
  al.'s MNIST network (call with `train` and a mutable "batch_stats").
  """
  q_dim: int
  hidden: int = 128
  dtype: Any = None  # compute dtype; None: float32 (that of the params)
  batch_norm: bool = False

  @nn.compact
  def __call__(self, h: jax.Array, train: bool = False) -> jax.Array:
    h = nn.Dense(self.hidden, dtype=self.dtype)(h)
    if self.batch_norm:
      h = _batch_norm(h, train, self.dtype)
    h = nn.leaky_relu(h, 0.2)
    return nn.Dense(self.q_dim, dtype=self.dtype)(h).astype(jnp.float32)


class MLPGenerator(nn.Module):
  """z (+ condition) -> data, fully connected."""
  data_shape: tuple[int, ...]
  hidden: Sequence[int] = (1200, 1200)
  output_activation: str = "sigmoid"  # "sigmoid" (images in [0, 1]) | "linear" (points)

  @nn.compact
  def __call__(self, z: jax.Array, cond: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    del train  # no batch norm
    h = _with_condition(z, cond)
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    out = nn.Dense(math.prod(self.data_shape))(h)
    if self.output_activation == "sigmoid":
      out = nn.sigmoid(out)
    return out.reshape((z.shape[0],) + tuple(self.data_shape))


class MLPDiscriminator(nn.Module):
  """Data (+ condition) -> (logit, q); maxout units when `maxout_pieces` > 1.

  `dropout` > 0 drops hidden units while training (call with train=True and
  a "dropout" rng), as Goodfellow et al. 2014 did: without it a maxout D
  on MNIST wins outright within ~1000 steps (measured: D(G(z)) ~ 0.003).
  """
  hidden: Sequence[int] = (240, 240)
  maxout_pieces: int = 1  # 1: LeakyReLU(0.2) units
  dropout: float = 0.0
  q_dim: int = 0
  q_hidden: int = 128
  projection: bool = False  # add the projection term (conditional D only)

  @nn.compact
  def __call__(self, x: jax.Array, cond: jax.Array | None = None, train: bool = False):
    h = _with_condition(x.reshape(x.shape[0], -1), cond)
    for width in self.hidden:
      if self.maxout_pieces > 1:
        # Maxout (Goodfellow et al. 2013): the max over k linear pieces.
        h = nn.Dense(width * self.maxout_pieces)(h)
        h = h.reshape(h.shape[:-1] + (width, self.maxout_pieces)).max(-1)
      else:
        h = nn.leaky_relu(nn.Dense(width)(h), 0.2)
      if self.dropout > 0:
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
    self.sow("intermediates", "features", h)
    logit = _logit(h, cond, self.projection)
    q = QHead(self.q_dim, self.q_hidden)(h) if self.q_dim else None
    return logit, q


class DCGANGenerator(nn.Module):
  """z (+ condition) -> image [B, H, W, C] in [0, 1], H and W divisible by 4.

  `dtype` is the compute dtype (bfloat16 for mixed precision): parameters
  and batch-norm statistics stay float32, the image comes out float32.
  """
  image_shape: tuple[int, int, int]
  features: tuple[int, int] = (128, 64)
  conv_impl: str = "fast"
  dtype: Any = jnp.float32
  dense: int = 0  # width of a first dense + BN layer (InfoGAN's G has 1024); 0: none

  @nn.compact
  def __call__(self, z: jax.Array, cond: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    _, conv_t = conv_layers(self.conv_impl)
    h_out, w_out, c_out = self.image_shape
    h0, w0 = h_out // 4, w_out // 4

    def bn(x):
      return _batch_norm(x, train, self.dtype)

    h = _with_condition(z, cond)
    if self.dense:
      h = nn.relu(bn(nn.Dense(self.dense, dtype=self.dtype)(h)))
    h = nn.Dense(h0 * w0 * self.features[0], dtype=self.dtype)(h)
    h = nn.relu(bn(h)).reshape(-1, h0, w0, self.features[0])
    h = conv_t(self.features[1], (4, 4), strides=2, padding="SAME", dtype=self.dtype)(h)
    h = nn.relu(bn(h))
    h = conv_t(c_out, (4, 4), strides=2, padding="SAME", dtype=self.dtype)(h)
    return nn.sigmoid(h.astype(jnp.float32))


class DCGANDiscriminator(nn.Module):
  """Image (+ condition maps) -> (logit, q): two strided convs, optional dense.

  `dtype` is the compute dtype; the logit and q come out float32.
  `batch_norm` normalises every trunk layer but the first (and Q's hidden
  layer), as in Radford et al. 2016 and Chen et al. 2016; it makes each
  example's logit depend on its batch, so the method feeds real and fake
  batches separately and forbids the R1 penalty with it.
  """
  features: tuple[int, int] = (64, 128)
  dense: int = 0  # width of an extra dense trunk layer (InfoGAN uses one); 0: none
  conv_impl: str = "fast"
  q_dim: int = 0
  q_hidden: int = 128
  dtype: Any = jnp.float32
  projection: bool = False  # add the projection term (conditional D only)
  batch_norm: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, cond: jax.Array | None = None, train: bool = False):
    conv, _ = conv_layers(self.conv_impl)

    def normalised(h, layer):
      return _batch_norm(h, train, self.dtype) if self.batch_norm and layer > 0 else h
    if cond is not None:
      # The class as constant feature maps: every first-layer filter can
      # combine it with the local image content.
      maps = jnp.broadcast_to(cond[:, None, None, :].astype(x.dtype),
                              x.shape[:3] + (cond.shape[-1],))
      x = jnp.concatenate([x, maps], -1)
    h = x
    for i, f in enumerate(self.features):
      h = conv(f, (4, 4), strides=2, padding="SAME", dtype=self.dtype)(h)
      h = nn.leaky_relu(normalised(h, i), 0.2)
    h = h.reshape(h.shape[0], -1)
    if self.dense:
      h = nn.Dense(self.dense, dtype=self.dtype)(h)
      h = nn.leaky_relu(normalised(h, len(self.features)), 0.2)
    self.sow("intermediates", "features", h)
    logit = _logit(h, cond, self.projection, self.dtype)
    q = None
    if self.q_dim:
      q = QHead(self.q_dim, self.q_hidden, self.dtype, self.batch_norm)(h, train)
    return logit, q


def _weight_norm_dense(width: int, name: str | None = None) -> nn.Module:
  """A dense layer whose kernel columns are v / ||v|| times a learned scale g
  (Salimans & Kingma 2016): the SSGAN G's output layer, as in Salimans et
  al. 2016's MNIST code (their D's layers: `DataInitWeightNormDense`)."""
  return nn.WeightNorm(nn.Dense(width), name=name)


class DataInitWeightNormDense(nn.Module):
  """Weight-normalised dense layer, y = g * (x . v / ||v||) + b, with data-dependent init.

  At `init` (Salimans & Kingma 2016, section 3) g and b are set from the
  init batch so that every unit's pre-activation has mean 0 and std 1 on
  it. Initialise on real data: a constant batch has no spread to normalise
  by. Weight norm rather than batch norm because batch statistics would
  couple the labelled, unlabelled and generated examples that the SSGAN D
  sees in separate passes. With `train_scale=False` g then stays fixed (its
  gradient is stopped, so Adam never moves it), as in Salimans et al. 2016's
  MNIST D: with the unit scales fixed, the Gaussian noise added after each
  layer keeps its size relative to the signal, so D cannot grow its
  activations until the noise no longer matters and memorise the 100
  labelled images.
  """
  features: int
  train_scale: bool = True

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    # N(0, 0.1) as theirs: with weight norm the size of v sets how fast Adam turns it.
    v = self.param("kernel", nn.initializers.normal(0.1), (x.shape[-1], self.features))
    pre = x @ (v / jnp.linalg.norm(v, axis=0))
    # The initialisers below run only inside `init`, on its batch.
    scale = self.param("scale", lambda _: 1.0 / jnp.sqrt(pre.var(0) + 1e-8))
    bias = self.param("bias", lambda _: -pre.mean(0) * scale)
    if not self.train_scale:
      scale = jax.lax.stop_gradient(scale)
    return pre * scale + bias


class SSGANGenerator(nn.Module):
  """z -> image in [0, 1]: softplus + batch-norm hidden layers, weight-normalised output."""
  data_shape: tuple[int, ...]
  hidden: Sequence[int] = (500, 500)

  @nn.compact
  def __call__(self, z: jax.Array, cond: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    h = _with_condition(z, cond)
    for width in self.hidden:
      h = nn.softplus(_batch_norm(nn.Dense(width)(h), train, None))
    out = nn.sigmoid(_weight_norm_dense(math.prod(self.data_shape))(h))
    return out.reshape((z.shape[0],) + tuple(self.data_shape))


def gaussian_noise(key: jax.Array, shape: Sequence[int]) -> jax.Array:
  """float32 N(0, 1) noise drawn from 16 random bits per value.

  Each 32-bit threefry word gives two values (inverse CDF of a uniform on
  65,536 levels, so |z| <= 4.33): half the random bits `jax.random.normal`
  draws, whose threefry hashing is the bulk of its cost on CPU. Words pair
  neighbouring values of the last axis, so the values do not depend on how
  the leading (batch) axis is sharded.
  """
  *lead, n = shape
  words = jax.random.bits(key, (*lead, (n + 1) // 2), jnp.uint32)
  halves = jnp.stack([words >> 16, words & 0xFFFF], -1).reshape(*lead, -1)[..., :n]
  u = (halves.astype(jnp.float32) + 0.5) * (2.0 / 65536) - 1.0  # in (-1, 1), symmetric
  return math.sqrt(2.0) * special.erfinv(u)


class SSGANDiscriminator(nn.Module):
  """x -> (logsumexp of the class logits, class logits [B, K]).

  Gaussian noise of std `input_noise` on the input and `hidden_noise` on
  every hidden layer while training (drawn from the "dropout" rng stream):
  Salimans et al.'s regulariser for a D that sees only 100 labels.
  """
  hidden: Sequence[int] = (1000, 500, 250, 250, 250)
  num_logits: int = 10
  input_noise: float = 0.3
  hidden_noise: float = 0.5

  def _noisy(self, h: jax.Array, std: float, train: bool) -> jax.Array:
    if not train or std <= 0:
      return h
    # 16-bit Gaussian noise: the SSGAN step draws 1.5M values, and with
    # `jax.random.normal` they took about a third of its time on a 2-core CPU.
    return h + std * gaussian_noise(self.make_rng("dropout"), h.shape).astype(h.dtype)

  @nn.compact
  def __call__(self, x: jax.Array, cond: jax.Array | None = None, train: bool = False):
    h = self._noisy(_with_condition(x.reshape(x.shape[0], -1), cond), self.input_noise, train)
    for i, width in enumerate(self.hidden):
      h = nn.relu(DataInitWeightNormDense(width, train_scale=False)(h))
      if i == len(self.hidden) - 1:  # f(x) for feature matching, before its noise
        self.sow("intermediates", "features", h)
      h = self._noisy(h, self.hidden_noise, train)
    class_logits = DataInitWeightNormDense(self.num_logits, name="class_logits")(h)
    return jax.nn.logsumexp(class_logits, -1), class_logits


def check_dcgan_shape(image_shape: Sequence[int]) -> None:
  """Raises ValueError unless the DCGAN can produce images of this shape."""
  if len(image_shape) != 3 or image_shape[0] % 4 or image_shape[1] % 4:
    raise ValueError(f"the DCGAN needs images [H, W, C] with H and W divisible by 4, "
                     f"got {tuple(image_shape)}")
