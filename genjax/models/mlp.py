"""Fully connected Flax modules (no losses, no training).

`MLPAutoencoder` covers the dense autoencoders of the theory with one module:
undercomplete or overcomplete (any `code_dim`), stacked (several hidden
layers, decoder mirrored by default, e.g. 784-300-150-300-784), purely linear
(`activation="linear"`, the autoencoder whose optimum spans PCA's subspace),
and tied (decoder kernels are the transposed encoder kernels, only biases are
its own).
"""

from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": nn.relu,
    "sigmoid": nn.sigmoid,
    "tanh": jnp.tanh,
    "elu": nn.elu,
    "gelu": nn.gelu,
    "softplus": nn.softplus,
    "leaky_relu": nn.leaky_relu,
    "linear": lambda x: x,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
  """Looks up an activation by name; raises ValueError listing valid names."""
  if name not in ACTIVATIONS:
    raise ValueError(
        f"unknown activation {name!r}; valid: {', '.join(sorted(ACTIVATIONS))}")
  return ACTIVATIONS[name]


class MLP(nn.Module):
  """Dense layers with an activation between them (none after the last)."""
  widths: Sequence[int]
  activation: str = "relu"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    act = activation(self.activation)
    for i, width in enumerate(self.widths):
      x = nn.Dense(width, name=f"dense_{i}")(x)
      if i < len(self.widths) - 1:
        x = act(x)
    return x


class MLPAutoencoder(nn.Module):
  """h = f(x) through dense layers; r = g(h) back to image shape.

  Attributes:
    image_shape: (H, W, C) of the inputs and of the reconstructions.
    hidden: encoder hidden widths before the code, e.g. (300,).
    code_dim: width of the code h.
    decoder_hidden: decoder hidden widths; None mirrors `hidden`.
    activation: between hidden layers.
    code_activation: applied to h (e.g. "sigmoid" for KL sparsity).
    tied: decoder kernels are the transposes of the encoder's (requires
      `decoder_hidden` to mirror `hidden`).
  """
  image_shape: tuple[int, int, int]
  hidden: Sequence[int]
  code_dim: int
  decoder_hidden: Sequence[int] | None = None
  activation: str = "relu"
  code_activation: str = "linear"
  tied: bool = False

  def setup(self):
    dims = [*self.hidden, self.code_dim]
    self.encoder_layers = [nn.Dense(w, name=f"encoder_{i}") for i, w in enumerate(dims)]
    dec_hidden = list(self.hidden[::-1] if self.decoder_hidden is None else self.decoder_hidden)
    out_dim = int(np.prod(self.image_shape))
    dec_dims = [*dec_hidden, out_dim]
    if self.tied:
      if dec_hidden != list(self.hidden[::-1]):
        raise ValueError("tied weights need the decoder to mirror the encoder")
      self.decoder_biases = [
          self.param(f"decoder_{i}_bias", nn.initializers.zeros_init(), (w,))
          for i, w in enumerate(dec_dims)]
    else:
      self.decoder_layers = [nn.Dense(w, name=f"decoder_{i}") for i, w in enumerate(dec_dims)]

  def encode(self, x: jax.Array) -> jax.Array:
    """x [..., H, W, C] (toy points: [..., D]) -> h [..., code_dim]."""
    act = activation(self.activation)
    h = x.reshape(x.shape[:x.ndim - len(self.image_shape)] + (-1,))
    for i, layer in enumerate(self.encoder_layers):
      h = layer(h)
      h = act(h) if i < len(self.encoder_layers) - 1 else activation(self.code_activation)(h)
    return h

  def decode(self, h: jax.Array) -> jax.Array:
    """h [..., code_dim] -> pre-activation output [..., H, W, C] (logits for BCE)."""
    act = activation(self.activation)
    n = len(self.decoder_biases) if self.tied else len(self.decoder_layers)
    for i in range(n):
      if self.tied:
        # Decoder layer i reuses encoder layer n-1-i, transposed.
        kernel = self.encoder_layers[n - 1 - i].variables["params"]["kernel"]
        h = h @ kernel.T + self.decoder_biases[i]
      else:
        h = self.decoder_layers[i](h)
      if i < n - 1:
        h = act(h)
    return h.reshape(h.shape[:-1] + tuple(self.image_shape))

  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = self.encode(x)
    return h, self.decode(h)
