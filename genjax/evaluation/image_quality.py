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

from genjax import corruption
from genjax.errors import ConfigError
from genjax.evaluation import registry

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


# --------------------------------------------------------------------------
# The `denoising_psnr` evaluator (genjax/evaluation/registry.py)
# --------------------------------------------------------------------------


def _check_denoising(spec, config, data_info) -> None:
  del data_info
  noise = config.get("noise")
  if noise is None or noise.get("kind", "none") == "none":
    raise ConfigError("a denoising_psnr evaluator corrupts test images with the run's "
                      "noise: set config.noise.kind (gaussian, masking, salt_and_pepper)")
  if any(not isinstance(k, int) or k <= 0 or k % 2 == 0 for k in spec.median_sizes):
    raise ConfigError(f"a denoising_psnr's median_sizes must be odd positive integers, "
                      f"got {tuple(spec.median_sizes)}")


@registry.register("denoising_psnr", needs=("reconstruct",), check=_check_denoising,
                   with_evals=True, median_sizes=(3, 5))
def evaluate_denoising(ctx: registry.Context, spec, name: str) -> dict[str, float]:
  """The model's reconstruction of test images corrupted as in training,
  beside the noisy input and k x k median filters, all against the clean image.

  The same corrupted test set at every eval of a run (`ctx.rng` is fixed).

  Returns:
    {"psnr_noisy_input", "psnr_denoised", "psnr_median<k>" (dB, mean over the
    test images), "mse_noisy" (the reconstruction's mean squared error per pixel)}.
  """
  del name
  noise = ctx.config.noise
  x = ctx.dataset.images("eval")
  batch = ctx.config.eval_batch_size

  x_noisy = jnp.concatenate([
      corruption.corrupt(jax.random.fold_in(ctx.rng, i), x[start:start + batch], noise.kind,
                         std=noise.std, fraction=noise.fraction)
      for i, start in enumerate(range(0, len(x), batch))])
  denoised = ctx.model.reconstruct(x_noisy)
  out = {"psnr_noisy_input": psnr(x, x_noisy, mse_floor=1e-10),
         "psnr_denoised": psnr(x, denoised, mse_floor=1e-10)}
  for size in spec.median_sizes:
    filtered = registry.batched(lambda xb, k=size: median_filter(xb, k), x_noisy,
                                batch_size=batch)
    out[f"psnr_median{size}"] = psnr(x, filtered, mse_floor=1e-10)
  out = {k: float(jnp.mean(v)) for k, v in out.items()}
  out["mse_noisy"] = float(jnp.mean(jnp.square(x - denoised)))
  return out
