"""Convolutional autoencoder: strided conv encoder, transposed-conv decoder.

The stacked convolutional (denoising) autoencoder of the theory: each
encoder layer halves the resolution with a stride-2 3x3 convolution
(28 -> 14 -> 7 for `features=(16, 32)`), a stride-1 convolution makes the
code a `code_channels`-deep feature map, and the decoder mirrors it with
stride-2 transposed convolutions back to full resolution and a final 3x3
convolution to the image channels. Weight sharing over positions gives it
the translation prior a dense autoencoder has to learn from data, which is
why it denoises digits far better per parameter.

The code is exposed flattened, h in R^{h * w * code_channels}, so the
autoencoder method treats dense and convolutional codes alike (sparsity
penalties, Jacobians, linear probes).

Layers come from `genjax.models.conv.conv_layers(conv_impl)`: "fast"
(canonical-layout convolutions with custom VJPs, fast inside `lax.scan` on
XLA:CPU; reverse mode only, so no `jacfwd` / JVP through them) or "flax"
(`nn.Conv` / `nn.ConvTranspose`, any autodiff mode). Parameter trees match.
"""

from __future__ import annotations

from typing import Sequence

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.models import conv as conv_lib
from genjax.models.mlp import activation as activation_fn


class ConvAutoencoder(nn.Module):
  """h = f(x) by strided convolutions; r = g(h) by transposed convolutions.

  Attributes:
    image_shape: (H, W, C); H and W must be divisible by 2**len(features).
    features: channels of the stride-2 encoder layers, e.g. (16, 32); the
      decoder uses them in reverse.
    code_channels: channels of the code feature map.
    kernel_size: spatial side of every kernel.
    activation: between layers.
    code_activation: applied to the code.
    conv_impl: "fast" or "flax" (see the module docstring).
    dtype: compute dtype of every layer (bfloat16 for mixed precision);
      parameters stay float32 and the code and output are returned as
      float32, so penalties and losses are computed in float32.
  """
  image_shape: tuple[int, int, int]
  features: Sequence[int] = (16, 32)
  code_channels: int = 8
  kernel_size: int = 3
  activation: str = "relu"
  code_activation: str = "linear"
  conv_impl: str = "fast"
  dtype: Any = jnp.float32

  def setup(self):
    conv, conv_t = conv_lib.conv_layers(self.conv_impl)
    k = (self.kernel_size, self.kernel_size)
    dt = self.dtype
    self.encoder_layers = [
        conv(f, k, strides=(2, 2), padding="SAME", dtype=dt, name=f"encoder_{i}")
        for i, f in enumerate(self.features)]
    self.code_layer = conv(self.code_channels, k, padding="SAME", dtype=dt, name="code")
    self.decoder_layers = [
        conv_t(f, k, strides=(2, 2), padding="SAME", dtype=dt, name=f"decoder_{i}")
        for i, f in enumerate(reversed(self.features))]
    self.output_layer = conv(self.image_shape[-1], k, padding="SAME", dtype=dt, name="output")

  @property
  def code_shape(self) -> tuple[int, int, int]:
    scale = 2 ** len(self.features)
    h, w, _ = self.image_shape
    return (h // scale, w // scale, self.code_channels)

  def encode(self, x: jax.Array) -> jax.Array:
    """x [B, H, W, C] -> h [B, code_dim] (the code map, flattened)."""
    act = activation_fn(self.activation)
    for layer in self.encoder_layers:
      x = act(layer(x))
    h = activation_fn(self.code_activation)(self.code_layer(x))
    return h.reshape(h.shape[:-3] + (-1,)).astype(jnp.float32)

  def decode(self, h: jax.Array) -> jax.Array:
    """h [B, code_dim] -> pre-activation output [B, H, W, C] (logits for BCE)."""
    act = activation_fn(self.activation)
    y = h.reshape(h.shape[:-1] + self.code_shape)
    for layer in self.decoder_layers:
      y = act(layer(y))
    return self.output_layer(y).astype(jnp.float32)

  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = self.encode(x)
    return h, self.decode(h)


def check_image_shape(image_shape: Sequence[int], num_layers: int) -> None:
  """Raises ValueError unless H and W are divisible by 2**num_layers."""
  scale = 2 ** num_layers
  if image_shape[0] % scale or image_shape[1] % scale:
    raise ValueError(
        f"image shape {tuple(image_shape)} is not divisible by {scale} "
        f"(2**{num_layers} stride-2 layers)")
