"""Convolutions whose forward pass and both gradients are canonical convolutions.

Why these exist
---------------
Stock ``flax.linen.Conv`` / ``ConvTranspose`` compute the right thing but train
very slowly on XLA:CPU. Measured on genjax's 2-core CPU machine (jax 0.10.2),
by dumping the compiled HLO of an MNIST DCGAN training step:

1. XLA:CPU runs a convolution on its fast library kernel only in the canonical
   layout ``lhs NHWC, rhs HWIO -> out NHWC`` (batch first, features last,
   kernel spatial dims first) without window reversal. Anything else becomes
   an "elemental" kernel: a naive loop nest per output element.
2. JAX's autodiff rule for ``conv_general_dilated`` emits the gradients in
   other layouts (kernel gradient ``f01b_i01o->01bf``: the batch axis is
   contracted, channels act as batch; input gradient with an ``01oi`` kernel).
   At the top level of a jitted function XLA:CPU rewrites these into the
   canonical layout by inserting transposes, but not inside loop bodies: in a
   ``lax.scan`` of DCGAN steps (genjax runs K steps per dispatch that way)
   all 12 gradient convolutions were naive loops, and a step cost ~5.7
   CPU-seconds instead of ~1.0 dispatched one step at a time.
3. Even at the top level, the kernel gradient of ``nn.ConvTranspose`` (an
   lhs-dilated convolution whose "kernel" is the image-sized output gradient)
   is slow: XLA's algebraic simplifier swaps the operands of a convolution
   whose kernel has more spatial elements than its input, which produces a
   reversed, non-canonical convolution -- a naive loop again (1.3-2.4 s for
   the DCGAN's 7->14 layer at batch 128, against ~50 ms for the form below).

The fix is to never let autodiff see a convolution: ``conv2d`` and
``conv2d_transpose`` are ``jax.custom_vjp`` functions whose forward pass, input
gradient and kernel gradient are *each* one ``lax.conv_general_dilated`` with
dimension numbers ``("NHWC", "HWIO", "NHWC")`` (generalised to 1-3 spatial dims),
written with explicit operand transposes, kernel flips, lhs/rhs dilations and
explicit paddings, and arranged so that the operand used as the kernel is the
smaller one (so XLA does not swap it). The compiled DCGAN step then contains no
naive-loop convolution, per step or inside ``lax.scan``. ``tests/test_conv.py``
checks outputs and all gradients against flax. The speed-ups over flax, the
timings behind the second-derivative design below and the designs tried and
rejected (phase decomposition, one matrix product per convolution) are in
``experiments/results/benchmarks/conv.md``; genjax against PyTorch is in the
README (Benchmarks).

Second derivatives. A gradient penalty (R1: D's loss includes
||d logit / dx||^2, differentiated again with respect to D's parameters)
differentiates the backward pass itself, and (with D's logits from the same
forward pass in the loss) the forward rule too. So each input gradient is
computed by calling the *other* custom-VJP function (a convolution's input
gradient is a transposed convolution and vice versa), each forward rule calls
its own custom-VJP function, never ``lax`` directly, and the gradient of a
gradient is canonical as well (calling ``lax`` in either place brings the
naive loops back, 4x slower for an R1 step).

How the gradients are derived (one spatial dim, others are independent)
-----------------------------------------------------------------------
Write a canonical convolution as

    C(x, w; s, (lo, hi), ld, rd)[o] = sum_k xp[o*s + k*rd] . w[k]

where ``xp = pad(dilate(x, ld), lo, hi)`` and ``.`` contracts input channels
(batch and output channel indices omitted). ``flip(w)`` reverses the kernel's
spatial axes and swaps its in/out channel axes. Let ``H`` be the input length,
``K`` the kernel length and ``O`` the output length.

Convolution ``y = C(x, w; s, (lo, hi), 1, 1)``:

* ``dx = C(dy, flip(w); 1, (K-1-lo, H+lo-1-(O-1)s), s, 1)`` -- each ``x[i]``
  meets ``dy[o]`` through ``w[i+lo-o*s]``; dilating ``dy`` by ``s`` puts
  ``dy[o]`` at position ``o*s``, turning that into an ordinary correlation with
  the flipped kernel.
* ``dw = C(x^T, dy^T; 1, (lo, K+(O-1)s-H-lo), 1, s)^T`` -- ``dw[k]`` sums
  ``xp[o*s+k] dy[o]`` over batch and positions, i.e. a correlation of ``x`` with
  ``dy`` used as an ``s``-dilated kernel. ``x^T`` is ``x`` with batch and
  channel axes swapped (CHWN: channels act as the batch, the real batch is
  contracted) and ``dy^T`` is ``dy`` as an HW-N-F kernel; the CKKF result is
  transposed back to KKCF.

Transposed convolution, flax/lax convention without kernel flip
(``transpose_kernel=False``): ``y = C(x, w; 1, (P_lo, P_hi), s, 1)``, with
``(P_lo, P_hi)`` the padding of the *dilated* input (``"SAME"`` gives
``O = H*s``):

* ``dx = C(dy, flip(w); s, (K-1-P_lo, K-1-P_hi), 1, 1)`` -- a plain strided
  convolution.
* ``dw[k] = sum_i x[i] . dy[i*s + P_lo - k]``. Written directly this is
  ``C(x^T, dy^T; 1, (P_lo, P_hi), s, 1)`` (x dilated as in the forward pass,
  dy as the kernel), which is canonical, but its kernel (dy, ``s`` times the
  size of x) is the larger operand, so XLA swaps the operands into a naive
  loop (point 3 above). So we substitute ``k -> K-1-k`` and swap the roles:
  ``flip(C(dy^T, x^T; 1, (K-1-P_lo, K-1-P_hi), 1, s))`` -- dy (out-channels
  as batch, batch contracted) correlated with x used as an ``s``-dilated
  kernel, the same shape of problem as the plain convolution's ``dw``; the
  result is the kernel gradient reversed in space, as ``(F, K.., C)``.

Paddings can come out negative (e.g. a VALID stride-2 conv whose last input
rows are never read). Negative padding is expressed by slicing instead (the
input for strided convolutions, the output for stride-1 ones), so every
convolution XLA sees has plain non-negative padding.

Use ``conv_layers(config.model.conv_impl)`` in model code to pick these
(``"fast"``) or flax's (``"flax"``); the parameter trees are identical.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.linen.dtypes import promote_dtype
from jax import lax

from genjax.errors import ConfigError

__all__ = [
    "CONV_IMPLS",
    "Conv",
    "ConvTranspose",
    "conv2d",
    "conv2d_transpose",
    "conv_layers",
]

CONV_IMPLS = ("fast", "flax")
# `config.model.compute_dtype` of the conv models: the dtype of activations
# and of the convolution/matmul operands. Parameters, optimiser state, losses
# and batch-norm statistics stay float32 either way (mixed precision).
COMPUTE_DTYPES = ("float32", "bfloat16")

PaddingLike = str | int | Sequence[int | tuple[int, int]]
Pads = tuple[tuple[int, int], ...]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _canonical_dimension_numbers(num_spatial: int) -> lax.ConvDimensionNumbers:
  """NHWC / HWIO / NHWC (or the 1-D/3-D analogue), as index specs."""
  n = num_spatial
  lhs = (0, n + 1) + tuple(range(1, n + 1))
  rhs = (n + 1, n) + tuple(range(n))
  return lax.ConvDimensionNumbers(lhs, rhs, lhs)


def _as_tuple(value: int | Sequence[int] | None, n: int, name: str) -> tuple[int, ...]:
  """Broadcasts an int (or None, meaning 1, as flax does) to an n-tuple."""
  if value is None:
    value = 1
  if isinstance(value, int):
    return (value,) * n
  value = tuple(int(v) for v in value)
  if len(value) != n:
    raise ValueError(f"{name} must have {n} entries, got {value}.")
  return value


def _explicit_pads(padding: PaddingLike, n: int) -> Pads | None:
  """Integer/sequence padding as n (lo, hi) pairs; None for a string."""
  if isinstance(padding, str):
    return None
  if isinstance(padding, int):
    return ((padding, padding),) * n
  pads = []
  for p in padding:
    if isinstance(p, int):
      pads.append((p, p))
    elif len(p) == 2:
      pads.append((int(p[0]), int(p[1])))
    else:
      raise ValueError(f"Invalid padding entry {p!r} in {padding!r}.")
  if len(pads) != n:
    raise ValueError(f"padding {padding!r} must have {n} entries (one per spatial dim).")
  return tuple(pads)


def _check_padding_string(padding: str) -> None:
  if padding not in ("SAME", "VALID"):
    raise ValueError(
        f"padding must be 'SAME', 'VALID', an int or a sequence of (lo, hi) "
        f"pairs; got {padding!r} (CIRCULAR/REFLECT/CAUSAL are flax-only)."
    )


def _conv_padding(padding: PaddingLike, in_shape, kernel_shape, strides) -> Pads:
  """Padding of a forward convolution, as lax.conv_general_dilated uses it."""
  n = len(kernel_shape)
  pads = _explicit_pads(padding, n)
  if pads is not None:
    return pads
  _check_padding_string(padding)
  return tuple(
      (int(lo), int(hi))
      for lo, hi in lax.padtype_to_pads(in_shape, kernel_shape, strides, padding)
  )


def _conv_transpose_padding(padding: PaddingLike, kernel_shape, strides) -> Pads:
  """Padding of the dilated input, with flax's / lax.conv_transpose's rules.

  Strings name the padding of the corresponding *forward* convolution
  ('SAME' gives out = in * stride); explicit pairs pad the stride-dilated
  input directly (lax.conv_transpose with use_consistent_padding=False,
  which is what flax.linen.ConvTranspose uses).
  """
  n = len(kernel_shape)
  pads = _explicit_pads(padding, n)
  if pads is not None:
    return pads
  _check_padding_string(padding)
  out = []
  for k, s in zip(kernel_shape, strides):
    if padding == "SAME":
      total = k + s - 2
      lo = k - 1 if s > k - 1 else -(-total // 2)  # ceil(total / 2)
    else:  # VALID
      total = k + s - 2 + max(k - s, 0)
      lo = k - 1
    out.append((lo, total - lo))
  return tuple(out)


def _canonical_conv(lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, precision):
  """One lax.conv_general_dilated in canonical layout, non-negative padding.

  Negative padding means "drop that many elements" of the (dilated) input.
  Without lhs dilation that is a slice of the input; with it, the convolution
  has stride 1 (true for every call in this module), so dropping ``p`` padded
  input elements at one end drops exactly ``p`` outputs at that end and we
  slice the output instead.
  """
  n = lhs.ndim - 2
  dn = _canonical_dimension_numbers(n)
  if all(lo >= 0 and hi >= 0 for lo, hi in padding):
    return lax.conv_general_dilated(
        lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, dn, precision=precision
    )
  clipped = tuple((max(lo, 0), max(hi, 0)) for lo, hi in padding)
  if all(d == 1 for d in lhs_dilation):
    start = [0] + [max(-lo, 0) for lo, _ in padding] + [0]
    limit = list(lhs.shape)
    for i, (_, hi) in enumerate(padding):
      limit[i + 1] -= max(-hi, 0)
    lhs = lax.slice(lhs, start, limit)
    return lax.conv_general_dilated(
        lhs, rhs, strides, clipped, lhs_dilation, rhs_dilation, dn, precision=precision
    )
  if any(s != 1 for s in strides):  # never produced by this module
    raise NotImplementedError("negative padding with both lhs dilation and stride")
  y = lax.conv_general_dilated(
      lhs, rhs, strides, clipped, lhs_dilation, rhs_dilation, dn, precision=precision
  )
  start = [0] + [max(-lo, 0) for lo, _ in padding] + [0]
  limit = list(y.shape)
  for i, (_, hi) in enumerate(padding):
    limit[i + 1] -= max(-hi, 0)
  return lax.slice(y, start, limit)


def _flip_kernel(kernel):
  """Reverses the spatial axes and swaps in/out channels: (K.., I, O) -> (K.., O, I)."""
  n = kernel.ndim - 2
  return jnp.swapaxes(jnp.flip(kernel, axis=tuple(range(n))), -1, -2)


def _batch_to_channels(x):
  """(N, S.., C) -> (C, S.., N): channels become the batch, batch is contracted."""
  n = x.ndim - 2
  return jnp.transpose(x, (n + 1, *range(1, n + 1), 0))


def _as_kernel(dy):
  """(N, S.., F) -> (S.., N, F): an output gradient used as an HWIO kernel."""
  n = dy.ndim - 2
  return jnp.transpose(dy, (*range(1, n + 1), 0, n + 1))


def _from_channel_batch(dw):
  """(C, K.., F) -> (K.., C, F): a CKKF kernel-gradient conv result as HWIO."""
  n = dw.ndim - 2
  return jnp.transpose(dw, (*range(1, n + 1), 0, n + 1))


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv(x, kernel, strides: tuple[int, ...], padding: Pads, precision):
  ones = (1,) * len(strides)
  return _canonical_conv(x, kernel, strides, padding, ones, ones, precision)


def _conv_fwd(x, kernel, strides, padding, precision):
  # `_conv` itself, not lax: when a gradient is differentiated again (R1
  # with D's logits in the same loss), autodiff differentiates this rule,
  # and must meet the custom VJP here too.
  return _conv(x, kernel, strides, padding, precision), (x, kernel)


def _conv_bwd(strides, padding, precision, residuals, dy):
  x, kernel = residuals
  n = len(strides)
  ones = (1,) * n
  in_sz, k_sz, out_sz = x.shape[1:-1], kernel.shape[:n], dy.shape[1:-1]
  # Input gradient: dy dilated by the stride, correlated with the flipped
  # kernel -- a transposed convolution. Calling the custom-VJP function (not
  # lax) keeps a gradient *of this gradient* canonical too: the R1 penalty
  # differentiates D's input gradient with respect to D's parameters.
  dx_pads = tuple(
      (k - 1 - lo, h + lo - 1 - (o - 1) * s)
      for h, k, o, s, (lo, _) in zip(in_sz, k_sz, out_sz, strides, padding)
  )
  dx = _conv_transpose(dy, _flip_kernel(kernel), strides, dx_pads, precision)
  # Kernel gradient: x (channels as batch) correlated with dy as an s-dilated kernel.
  dw_pads = tuple(
      (lo, k + (o - 1) * s - h - lo)
      for h, k, o, s, (lo, _) in zip(in_sz, k_sz, out_sz, strides, padding)
  )
  dw = _canonical_conv(
      _batch_to_channels(x), _as_kernel(dy), ones, dw_pads, ones, strides, precision
  )
  return dx.astype(x.dtype), _from_channel_batch(dw).astype(kernel.dtype)


_conv.defvjp(_conv_fwd, _conv_bwd)


def conv2d(
    x: jax.Array,
    kernel: jax.Array,
    strides: int | Sequence[int] = 1,
    padding: PaddingLike = "SAME",
    precision: Any = None,
) -> jax.Array:
  """Convolution (cross-correlation) with canonical-layout gradients.

  Same result as ``lax.conv_general_dilated(x, kernel, strides, padding,
  dimension_numbers=("NHWC", "HWIO", "NHWC"))``, but its VJP is hand-written
  so that the input and kernel gradients are canonical convolutions too (see
  the module docstring). Despite the name, 1-3 spatial dims work.

  Args:
    x: input, ``(batch, *spatial, in_features)``.
    kernel: ``(*kernel_spatial, in_features, out_features)``.
    strides: int or one int per spatial dim.
    padding: ``"SAME"``, ``"VALID"``, an int (both sides of every dim) or a
      sequence of ints / ``(lo, hi)`` pairs, one per spatial dim.
    precision: passed to ``lax.conv_general_dilated`` (all three convs).

  Returns:
    ``(batch, *out_spatial, out_features)``.
  """
  n = kernel.ndim - 2
  if x.ndim != n + 2:
    raise ValueError(f"x must have rank {n + 2} for a rank-{n + 2} kernel, got {x.shape}.")
  strides = _as_tuple(strides, n, "strides")
  pads = _conv_padding(padding, x.shape[1:-1], kernel.shape[:n], strides)
  return _conv(x, kernel, strides, pads, precision)


# --------------------------------------------------------------------------
# Transposed convolution
# --------------------------------------------------------------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv_transpose(x, kernel, strides: tuple[int, ...], padding: Pads, precision):
  ones = (1,) * len(strides)
  return _canonical_conv(x, kernel, ones, padding, strides, ones, precision)


def _conv_transpose_fwd(x, kernel, strides, padding, precision):
  # The custom-VJP function itself, not lax (see `_conv_fwd`).
  return _conv_transpose(x, kernel, strides, padding, precision), (x, kernel)


def _conv_transpose_bwd(strides, padding, precision, residuals, dy):
  x, kernel = residuals
  n = len(strides)
  ones = (1,) * n
  k_sz = kernel.shape[:n]
  # Input gradient: a plain strided convolution of dy with the flipped kernel
  # (the custom-VJP one, so second derivatives stay canonical).
  dx_pads = tuple((k - 1 - lo, k - 1 - hi) for k, (lo, hi) in zip(k_sz, padding))
  dx = _conv(dy, _flip_kernel(kernel), strides, dx_pads, precision)
  # Kernel gradient. The direct form -- x dilated by s, correlated with dy as
  # the kernel -- is canonical, but dy is the larger operand, so XLA swaps
  # the operands into a non-canonical naive-loop conv (1.3 s vs ~50 ms for
  # the DCGAN's 7->14 layer). Instead correlate the padded dy (out-channels
  # as batch) with x as an s-dilated kernel, which gives the kernel
  # gradient spatially flipped, as (F, K.., C). (x is the smaller operand
  # unless explicit padding makes the output smaller than the input; then
  # XLA may still swap -- correct, just slower.)
  dw_flipped = _canonical_conv(
      _batch_to_channels(dy), _as_kernel(x), ones, dx_pads, ones, strides, precision
  )
  dw = jnp.transpose(
      jnp.flip(dw_flipped, axis=tuple(range(1, n + 1))), (*range(1, n + 1), n + 1, 0)
  )
  return dx.astype(x.dtype), dw.astype(kernel.dtype)


_conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


def conv2d_transpose(
    x: jax.Array,
    kernel: jax.Array,
    strides: int | Sequence[int] = 1,
    padding: PaddingLike = "SAME",
    precision: Any = None,
) -> jax.Array:
  """Transposed convolution with canonical-layout gradients.

  Same result as ``lax.conv_transpose(x, kernel, strides, padding,
  transpose_kernel=False)`` in NHWC/HWIO layout -- i.e. what
  ``flax.linen.ConvTranspose`` computes: the input is dilated by ``strides``
  and correlated with the (unflipped) kernel. ``"SAME"`` gives
  ``out = in * stride``; explicit pads pad the dilated input. Despite the
  name, 1-3 spatial dims work.

  Args:
    x: input, ``(batch, *spatial, in_features)``.
    kernel: ``(*kernel_spatial, in_features, out_features)``.
    strides: int or one int per spatial dim (the upsampling factor).
    padding: ``"SAME"``, ``"VALID"``, an int or a sequence of ints / ``(lo,
      hi)`` pairs (padding of the dilated input), one per spatial dim.
    precision: passed to ``lax.conv_general_dilated`` (all three convs).

  Returns:
    ``(batch, *out_spatial, out_features)``.
  """
  n = kernel.ndim - 2
  if x.ndim != n + 2:
    raise ValueError(f"x must have rank {n + 2} for a rank-{n + 2} kernel, got {x.shape}.")
  strides = _as_tuple(strides, n, "strides")
  pads = _conv_transpose_padding(padding, kernel.shape[:n], strides)
  return _conv_transpose(x, kernel, strides, pads, precision)


# --------------------------------------------------------------------------
# Linen modules (drop-in for nn.Conv / nn.ConvTranspose)
# --------------------------------------------------------------------------


def _kernel_size(kernel_size: int | Sequence[int]) -> tuple[int, ...]:
  # flax reads an int kernel_size as a 1-D kernel; we do the same so that a
  # module (and its params) is interchangeable with flax's.
  if isinstance(kernel_size, int):
    return (kernel_size,)
  return tuple(kernel_size)


def _apply(fn, inputs, kernel_size, kernel, bias, strides, padding, precision):
  """Flattens batch dims like flax (adding one for unbatched input), applies fn."""
  n = len(kernel_size)
  num_batch = inputs.ndim - (n + 1)
  if num_batch < 0:
    raise ValueError(f"input of shape {inputs.shape} has too few dims for a {n}-D kernel.")
  batch_shape = inputs.shape[:num_batch]
  if num_batch != 1:
    inputs = jnp.reshape(inputs, (-1,) + inputs.shape[num_batch:])
  y = fn(inputs, kernel, strides, padding, precision)
  if bias is not None:
    y = y + jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))
  if num_batch != 1:
    y = jnp.reshape(y, batch_shape + y.shape[1:])
  return y


class _ConvModule(nn.Module):
  """What Conv and ConvTranspose share: their attributes, parameters and call.

  A subclass sets `_op` (conv2d or conv2d_transpose) and its strides default.
  """

  features: int
  kernel_size: int | Sequence[int]
  strides: int | Sequence[int] | None = 1
  padding: PaddingLike = "SAME"
  use_bias: bool = True
  dtype: Any = None
  param_dtype: Any = jnp.float32
  precision: Any = None
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, inputs: jax.Array) -> jax.Array:
    """Applies the (transposed) convolution.

    Args:
      inputs: ``(*batch_dims, *spatial, features_in)``; zero or several
        batch dims are flattened and restored, as in flax.

    Returns:
      ``(*batch_dims, *out_spatial, features)``.
    """
    kernel_size = _kernel_size(self.kernel_size)
    kernel = self.param("kernel", self.kernel_init,
                        kernel_size + (inputs.shape[-1], self.features), self.param_dtype)
    bias = (self.param("bias", self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    strides = _as_tuple(self.strides, len(kernel_size), "strides")
    return _apply(type(self)._op, inputs, kernel_size, kernel, bias, strides, self.padding,
                  self.precision)


class Conv(_ConvModule):
  """Drop-in for ``flax.linen.Conv`` (NHWC), with canonical-layout gradients.

  Same parameter names, shapes, initialisers and outputs as ``nn.Conv``; only
  the subset of attributes listed here (no dilation, groups, masks or
  CIRCULAR/REFLECT/CAUSAL padding).

  Attributes:
    features: number of output channels.
    kernel_size: sequence of ints (one per spatial dim); an int means a 1-D
      kernel, as in flax.
    strides: int or one int per spatial dim (None means 1).
    padding: ``"SAME"``, ``"VALID"``, an int, or a sequence of ints /
      ``(lo, hi)`` pairs.
    use_bias: whether to add a bias.
    dtype: computation dtype (default: inferred from inputs and params).
    param_dtype: parameter dtype.
    precision: ``lax.Precision`` for the convolutions.
    kernel_init: kernel initialiser (flax's default, lecun_normal).
    bias_init: bias initialiser (zeros).
  """

  _op = conv2d


class ConvTranspose(_ConvModule):
  """Drop-in for ``flax.linen.ConvTranspose`` (NHWC, ``transpose_kernel=False``).

  Same parameter names, shapes, initialisers and outputs as
  ``nn.ConvTranspose`` with its default ``transpose_kernel=False``; only the
  subset of attributes listed here (no dilation, masks, CIRCULAR padding).

  Attributes:
    features: number of output channels.
    kernel_size: sequence of ints (one per spatial dim); an int means a 1-D
      kernel, as in flax.
    strides: int or one int per spatial dim, the upsampling factor (None,
      the default, means 1).
    padding: ``"SAME"`` (out = in * stride), ``"VALID"``, an int, or a
      sequence of ints / ``(lo, hi)`` pairs padding the dilated input.
    use_bias, dtype, param_dtype, precision, kernel_init, bias_init: as Conv.
  """

  _op = conv2d_transpose
  strides: int | Sequence[int] | None = None


def conv_layers(impl: str) -> tuple[type[nn.Module], type[nn.Module]]:
  """Returns the ``(Conv, ConvTranspose)`` classes for ``config.model.conv_impl``.

  Both choices take the same constructor arguments used by genjax models
  (features, kernel_size, strides, padding, use_bias, dtype, param_dtype,
  kernel_init, bias_init) and produce the same parameter tree, so a
  checkpoint trained with one loads into the other.

  Args:
    impl: ``"fast"`` (this module's custom-VJP convolutions; much faster
      training on XLA:CPU, especially inside ``lax.scan``) or ``"flax"``
      (``nn.Conv`` / ``nn.ConvTranspose``).

  Returns:
    ``(ConvCls, ConvTransposeCls)``.

  Raises:
    ValueError: if ``impl`` is not one of ``CONV_IMPLS``.
  """
  if impl == "fast":
    return Conv, ConvTranspose
  if impl == "flax":
    return nn.Conv, nn.ConvTranspose
  raise ValueError(f"conv_impl must be one of {CONV_IMPLS}, got {impl!r}.")


def check_model_options(model: Any) -> None:
  """Validates ``conv_impl`` and ``compute_dtype`` of a conv model's config group.

  Raises:
    ConfigError: naming the key, the bad value and the valid ones.
  """
  if model.conv_impl not in CONV_IMPLS:
    raise ConfigError(
        f"config.model.conv_impl={model.conv_impl!r}; valid: {', '.join(CONV_IMPLS)}")
  if model.compute_dtype not in COMPUTE_DTYPES:
    raise ConfigError(f"config.model.compute_dtype={model.compute_dtype!r}; "
                      f"valid: {', '.join(COMPUTE_DTYPES)}")
