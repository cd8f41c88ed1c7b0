"""Regularised autoencoders: penalties, Jacobians, corruption, probes, runs.

Hand-computed penalties, the contractive penalty's modes against the closed
form of a one-layer sigmoid encoder, Hutchinson's unbiasedness, corruption
statistics and freshness through the real trainer, the linear probe, and a
`runlocal` run of each new config.
"""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax import corruption, methods, train, writers
from genjax.evaluation import linear_probe
from genjax.methods import autoencoder
from genjax.models import mlp
from conftest import load_config, requires_mnist

# --------------------------------------------------------------------------
# Penalties
# --------------------------------------------------------------------------


def test_l1_penalty_hand_values():
  h = jnp.array([[1.0, -2.0, 0.0], [0.5, 0.5, -0.5]])
  np.testing.assert_allclose(autoencoder.l1_penalty(h), [3.0, 1.5])


def kl(p, q):
  return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def test_kl_sparsity_penalty_hand_values():
  h = jnp.array([[0.1, 0.5, 0.05], [0.3, 0.5, 0.05]])  # rho_hat = 0.2, 0.5, 0.05
  want = kl(0.05, 0.2) + kl(0.05, 0.5) + 0.0
  np.testing.assert_allclose(autoencoder.kl_sparsity_penalty(h, 0.05), want, rtol=1e-5)
  assert float(autoencoder.kl_sparsity_penalty(jnp.full((4, 3), 0.05), 0.05)) == pytest.approx(0.0, abs=1e-6)


def test_code_statistics():
  h = jnp.array([[0.0, 0.005, 0.5, 1.0]])
  stats = autoencoder.code_statistics(h, threshold=0.01)
  np.testing.assert_allclose(stats["code_frac_near_zero"], [0.5])
  np.testing.assert_allclose(stats["code_mean"], [1.505 / 4])

# --------------------------------------------------------------------------
# Contractive penalty
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sigmoid_encoder():
  """A one-layer sigmoid encoder on 4x4 images, its inputs and closed form."""
  model = mlp.MLPAutoencoder(image_shape=(4, 4, 1), hidden=(), code_dim=5,
                             code_activation="sigmoid")
  x = jax.random.uniform(jax.random.key(1), (3, 4, 4, 1))
  params = model.init(jax.random.key(0), x)["params"]
  encode = lambda xb: model.apply({"params": params}, xb, method=model.encode)  # noqa: E731
  w = params["encoder_0"]["kernel"]  # [16, 5]: W_ij = w[j, i]
  h = encode(x)
  closed = jnp.sum(jnp.square(h * (1 - h)) * jnp.sum(jnp.square(w), 0), -1)
  return encode, x, closed


@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_exact_jacobian_modes_equal_closed_form(sigmoid_encoder, mode):
  encode, x, closed = sigmoid_encoder
  got = autoencoder.squared_jacobian_norm(encode, x, mode)
  np.testing.assert_allclose(got, closed, rtol=1e-5)


@pytest.mark.parametrize("mode", ["hutchinson", "hutchinson_vjp"])
def test_hutchinson_is_unbiased(sigmoid_encoder, mode):
  encode, x, closed = sigmoid_encoder
  one = autoencoder.squared_jacobian_norm(encode, x, mode, jax.random.key(3), 1)
  assert not np.allclose(one, closed, rtol=0.05)  # a single probe is noisy...
  # ...but its mean is exact: Var of one Gaussian probe <= 2 ||J||_F^4, so
  # 20000 probes put the mean within 1% (1 sigma) of the truth.
  many = autoencoder.squared_jacobian_norm(encode, x, mode, jax.random.key(4), 20000)
  np.testing.assert_allclose(many, closed, rtol=0.04)


# --------------------------------------------------------------------------
# Corruption
# --------------------------------------------------------------------------


def test_gaussian_noise_statistics_and_clipping():
  x = jnp.full((200_000,), 0.5)
  y = corruption.corrupt(jax.random.key(0), x, "gaussian", std=0.1)
  d = np.asarray(y - x)
  assert abs(d.mean()) < 1e-3 and d.std() == pytest.approx(0.1, rel=0.02)
  wide = corruption.corrupt(jax.random.key(1), x, "gaussian", std=3.0)
  assert float(wide.min()) == 0.0 and float(wide.max()) == 1.0
  # Toy points are not pixels: unclipped, the same draw spreads past [0, 1].
  free = corruption.corrupt(jax.random.key(1), x, "gaussian", std=3.0, clip=False)
  assert float(np.asarray(free - x).std()) == pytest.approx(3.0, rel=0.02)
  np.testing.assert_array_equal(np.clip(np.asarray(free), 0, 1), np.asarray(wide))


def test_masking_noise_statistics():
  x = jnp.ones((200_000,))
  y = np.asarray(corruption.corrupt(jax.random.key(0), x, "masking", fraction=0.25))
  assert set(np.unique(y)) == {0.0, 1.0}
  assert (y == 0).mean() == pytest.approx(0.25, abs=0.005)


def test_salt_and_pepper_statistics():
  x = jnp.full((200_000,), 0.5)
  y = np.asarray(corruption.corrupt(jax.random.key(0), x, "salt_and_pepper", fraction=0.2))
  hit = y != 0.5
  assert hit.mean() == pytest.approx(0.2, abs=0.005)
  assert (y[hit] == 1.0).mean() == pytest.approx(0.5, abs=0.02)
  assert set(np.unique(y[hit])) == {0.0, 1.0}


def test_corruption_is_a_function_of_the_key():
  x = jnp.full((1000,), 0.5)
  a = corruption.corrupt(jax.random.key(0), x, "gaussian", std=0.3)
  np.testing.assert_array_equal(a, corruption.corrupt(jax.random.key(0), x, "gaussian", std=0.3))
  assert not np.allclose(a, corruption.corrupt(jax.random.key(1), x, "gaussian", std=0.3))
  with pytest.raises(ValueError, match="unknown corruption"):
    corruption.corrupt(jax.random.key(0), x, "blur")


@methods.register("test_dae_constant_input")
def _build_constant_input_dae(config, *, data_info, num_train_steps):
  """The DAE, fed one constant image every step: only the noise can vary."""
  inner = autoencoder.build(config, data_info=data_info, num_train_steps=num_train_steps)

  def train_step(state, batch, rng):
    batch = {**batch, "image": jnp.full_like(batch["image"], 0.5)}
    return inner.train_step(state, batch, rng)

  return methods.Method(init=inner.init, train_step=train_step, eval_step=inner.eval_step)


@requires_mnist
def test_dae_draws_fresh_noise_every_step_in_the_trainer():
  config = load_config("dae_mnist", "runlocal", method="test_dae_constant_input", evals={})
  trainer, _ = train.build(config)
  ds = trainer.dataset
  rng = jax.random.key(0)
  state = trainer.init_state(rng)
  _, metrics = trainer.train_chunk(state, ds.train, jnp.int32(0), rng, num_steps=10)
  noise_mse = np.asarray(metrics["noise_mse"])
  # Same input every step: equal values would mean the same noise was reused.
  assert len(np.unique(noise_mse)) == 10
  # sigma = 0.5 clipped at x = 0.5: E[(clip(0.5 + 0.5 n) - 0.5)^2] = 0.25 * E[min(n^2, 1)]
  # = 0.25 * 0.5161 (E[min(n^2, 1)] = 1 - 2 (phi(1) - (1 - Phi(1))) ... computed numerically).
  n = np.random.default_rng(0).standard_normal(2_000_000)
  want = 0.25 * np.mean(np.minimum(n * n, 1.0))
  np.testing.assert_allclose(noise_mse.mean(), want, rtol=0.02)

# --------------------------------------------------------------------------
# Linear probe
# --------------------------------------------------------------------------


def test_linear_probe_separates_gaussian_blobs_with_padding():
  rng = np.random.default_rng(0)
  centres = rng.normal(size=(3, 20)) * 3
  def draw(n):
    y = rng.integers(0, 3, n)
    return (centres[y] + rng.normal(size=(n, 20))).astype(np.float32), y.astype(np.int32)
  xtr, ytr = draw(300)
  xte, yte = draw(500)
  acc = linear_probe.probe(jnp.asarray(xtr), jnp.asarray(ytr), jnp.asarray(xte),
                           jnp.asarray(yte), num_classes=3, l2=1e-3, num_steps=50,
                           pad_to=(512, 32))
  assert acc > 0.97
  assert linear_probe.bucket(100) == 1024 and linear_probe.bucket(60000) == 65536

# --------------------------------------------------------------------------
# runlocal end to end
# --------------------------------------------------------------------------


@requires_mnist
@pytest.mark.parametrize("name,arg,overrides,expect_eval,expect_final", [
    ("sparse_ae_mnist", "runlocal", {"evals.probe.enabled": False},
     ("code_mean", "code_frac_near_zero", "jacobian_frobenius"), ()),
    ("sparse_ae_mnist", "runlocal,penalty=l1", {"evals.probe.enabled": False},
     ("code_mean", "code_frac_near_zero"), ()),
    ("dae_mnist", "runlocal,noise=salt_and_pepper,level=0.2", {"evals.probe.enabled": False},
     ("mse_noisy", "psnr_denoised", "psnr_median3", "psnr_median5", "psnr_noisy_input"), ()),
    ("conv_dae_mnist", "runlocal", {"evals.probe.enabled": False},
     ("psnr_denoised", "psnr_median3", "jacobian_frobenius"), ()),
    ("cae_mnist", "runlocal", {},
     ("jacobian_frobenius",), ("probe_codes_acc_100", "probe_pixels_acc_100")),
])
def test_runlocal_config_end_to_end(tmp_path, name, arg, overrides, expect_eval, expect_final):
  config = load_config(name, arg, **overrides)
  final = train.train_and_evaluate(config, str(tmp_path))
  for key in expect_eval:
    assert np.isfinite(final[key]), key
  rows = writers.read_metrics(str(tmp_path), "train")
  assert rows[-1]["recon_loss"] < rows[0]["recon_loss"]
  saved = json.loads((tmp_path / "final_metrics.json").read_text())
  assert saved["compilations"] == 1
  for key in expect_final:
    # 100 labelled images: raw pixels reach ~0.7 with a logistic probe, codes
    # of a 40-step AE are weaker but above chance (0.1).
    floor = 0.5 if "pixels" in key else 0.12
    assert floor < saved["final"][key] <= 1.0, key
  pngs = {p.name.split("_0")[0] for p in (tmp_path / "images").iterdir()}
  assert "reconstructions" in pngs
  if "noise" in config and config.noise.kind != "none":
    assert "denoising" in pngs
    assert final["psnr_noisy_input"] < final["psnr_median3"] or name == "dae_mnist"
  if name == "cae_mnist":
    assert "contractive_penalty" in rows[-1]
