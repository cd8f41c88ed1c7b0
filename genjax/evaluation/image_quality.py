r"""Image-restoration metrics and baselines: PSNR and the median filter.

PSNR (peak signal-to-noise ratio) of an estimate y of a clean image x with
pixel range [0, MAX]:

    PSNR(x, y) = 10 log10(MAX^2 / MSE(x, y))  dB,   MSE = mean_pixels (x - y)^2

Identical images have MSE 0 and PSNR = +inf (returned as inf, not an error);
metrics that are averaged over a test set pass `mse_floor` so one perfect
image cannot make the mean infinite. Each 3 dB is a halving of the MSE.

The median filter replaces each pixel by the median of its k x k
neighbourhood (per channel). It is the classic baseline for impulsive
(salt-and-pepper) noise and a reasonable one for Gaussian noise on sparse
images; a denoising autoencoder should beat it because it has learnt what
digits look like, not just that they are locally smooth.

Border mode: "reflect" in scipy.ndimage's sense (d c b a | a b c d | d c b a,
the edge pixel repeated), i.e. numpy's pad mode "symmetric". With it,
`median_filter(x, k)` equals `scipy.ndimage.median_filter(x, size=(1, k, k,
1), mode="reflect")` exactly (tests/test_image_quality.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

PIXEL_AXES = (-3, -2, -1)


def median_filter(images: jax.Array, size: int = 3) -> jax.Array:
  """k x k median filter over the two spatial axes, per channel (jit-able).

  Args:
    images: [..., H, W, C].
    size: odd window side k (3 or 5 for the baselines).

  Returns:
    Filtered images, same shape and dtype.

  Raises:
    ValueError: even or non-positive size.
  """
  if size <= 0 or size % 2 == 0:
    raise ValueError(f"median_filter size must be odd and positive, got {size}")
  r = size // 2
  h, w = images.shape[-3], images.shape[-2]
  pad = [(0, 0)] * (images.ndim - 3) + [(r, r), (r, r), (0, 0)]
  padded = jnp.pad(images, pad, mode="symmetric")  # scipy's "reflect"
  # k*k shifted views stacked on a new leading axis; the median of an odd
  # count is the middle order statistic, exactly what scipy returns.
  windows = jnp.stack([padded[..., i:i + h, j:j + w, :]
                       for i in range(size) for j in range(size)])
  return jnp.median(windows, axis=0)


def mse(x: jax.Array, y: jax.Array) -> jax.Array:
  """Mean squared error per image over [H, W, C]: [...]."""
  return jnp.mean(jnp.square(x.astype(jnp.float32) - y.astype(jnp.float32)), PIXEL_AXES)


def psnr(x: jax.Array, y: jax.Array, max_value: float = 1.0,
         mse_floor: float = 0.0) -> jax.Array:
  """Peak signal-to-noise ratio per image, in dB.

  Args:
    x: reference images [..., H, W, C].
    y: estimates, same shape.
    max_value: the pixel range's maximum (1 for [0, 1] pixels, 255 for uint8).
    mse_floor: the MSE is clamped from below to this before the log; 0 gives
      +inf for identical images, 1e-10 caps PSNR at 100 dB (for means).

  Returns:
    float32 [...] PSNR values.
  """
  err = jnp.maximum(mse(x, y), mse_floor)
  return 10.0 * jnp.log10(jnp.float32(max_value) ** 2 / err)
