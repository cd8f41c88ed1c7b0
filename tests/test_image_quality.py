"""PSNR and the JAX median filter against scipy and hand-computed values."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.ndimage

from genjax.evaluation import image_quality


@pytest.mark.parametrize("size", [3, 5])
def test_median_filter_equals_scipy_reflect(size):
  rng = np.random.default_rng(size)
  images = rng.uniform(size=(3, 12, 10, 2)).astype(np.float32)
  # Quantised pixels produce ties, the case where a wrong order statistic shows.
  images[0] = np.round(images[0] * 4) / 4
  got = jax.jit(image_quality.median_filter, static_argnums=1)(jnp.asarray(images), size)
  want = scipy.ndimage.median_filter(images, size=(1, size, size, 1), mode="reflect")
  np.testing.assert_array_equal(np.asarray(got), want)


def test_median_filter_removes_isolated_impulses():
  x = np.zeros((1, 9, 9, 1), np.float32)
  x[0, 4, 4, 0] = 1.0  # one salt pixel on black
  assert float(jnp.abs(image_quality.median_filter(jnp.asarray(x), 3)).max()) == 0.0


def test_median_filter_rejects_even_size():
  with pytest.raises(ValueError, match="odd"):
    image_quality.median_filter(jnp.zeros((1, 4, 4, 1)), 4)


def test_psnr_of_identical_images_is_inf_or_floor():
  x = jnp.asarray(np.random.default_rng(0).uniform(size=(2, 5, 5, 1)), jnp.float32)
  assert np.all(np.isinf(np.asarray(image_quality.psnr(x, x))))
  np.testing.assert_allclose(image_quality.psnr(x, x, mse_floor=1e-10), [100.0, 100.0], rtol=1e-6)


def test_psnr_known_values():
  x = jnp.zeros((1, 4, 4, 1))
  # A constant error of 0.1 on [0, 1] pixels: MSE 0.01, PSNR 20 dB.
  np.testing.assert_allclose(image_quality.psnr(x, x + 0.1), [20.0], rtol=1e-5)
  # Half the pixels off by 1: MSE 0.5, PSNR 10 log10(2) = 3.0103 dB.
  y = x.at[:, :2].set(1.0)
  np.testing.assert_allclose(image_quality.psnr(x, y), [10 * math.log10(2)], rtol=1e-5)
  # uint8 range: an error of 16 grey levels gives 20 log10(255 / 16).
  np.testing.assert_allclose(image_quality.psnr(x, x + 16.0, max_value=255.0),
                             [20 * math.log10(255 / 16)], rtol=1e-5)
