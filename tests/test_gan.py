"""GAN conditioning, update isolation, the optimal discriminator, runlocal runs of each config."""

from __future__ import annotations

import json
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax import methods, train, writers
from genjax.evaluation import classifier as classifier_lib
from genjax.evaluation import optimal_discriminator
from genjax.errors import ConfigError
from genjax.methods import gan, gan_conditioning, gan_steps
from conftest import load_config, requires_mnist


def test_conditioning_strategies_share_z_and_differ_in_conditions():
  labels = jnp.array([0, 2, 1])
  prior = gan_conditioning.LatentPrior(5, "normal")
  strategies = [gan_conditioning.Unconditional(), gan_conditioning.ClassConditional(3),
                gan_conditioning.InfoCodes(4, 2, 1.0, 1.0)]
  inputs = [gan_conditioning.draw_inputs(jax.random.key(0), labels, prior, s)
            for s in strategies]
  # z comes from the key alone, whatever the strategy draws besides.
  for other in inputs[1:]:
    np.testing.assert_array_equal(inputs[0].z, other.z)
  plain, by_class, info = inputs
  assert plain.g_cond is None and plain.d_cond is None and plain.codes is None
  np.testing.assert_array_equal(by_class.g_cond, jax.nn.one_hot(labels, 3))
  np.testing.assert_array_equal(by_class.d_cond, by_class.g_cond)
  # InfoGAN: G sees [one-hot c1, c2, c3]; D sees the image alone.
  assert info.g_cond.shape == (3, 6) and info.d_cond is None
  np.testing.assert_array_equal(info.g_cond[:, :4], jax.nn.one_hot(info.codes.categories, 4))
  np.testing.assert_array_equal(info.g_cond[:, 4:], info.codes.continuous)
  assert np.all(np.abs(info.codes.continuous) < 1)


def test_info_codes_add_weighted_info_loss_to_both_players():
  cond = gan_conditioning.InfoCodes(2, 1, info_weight=0.5, continuous_weight=1.0)
  q = jnp.array([[0.0, 0.0, 0.0]])
  codes = gan_conditioning.Codes(jnp.array([1]), jnp.array([[1.0]]))
  info_loss = math.log(2) + 0.5  # CE of a uniform 2-way Q; (1 - 0)^2 / 2
  loss, metrics = cond.add_d_terms(jnp.float32(1.0), {}, q, codes)
  assert float(loss) == pytest.approx(1.0 + 0.5 * info_loss, rel=1e-6)
  assert float(metrics["d_info_loss"]) == pytest.approx(info_loss, rel=1e-6)
  loss, metrics = cond.add_g_terms(jnp.float32(2.0), {}, q, codes)
  assert float(loss) == pytest.approx(2.0 + 0.5 * info_loss, rel=1e-6)
  assert float(metrics["mi_lower_bound"]) == pytest.approx(0.0, abs=1e-6)
  # Other strategies leave both losses alone.
  plain = gan_conditioning.ClassConditional(10)
  assert plain.add_d_terms(1.0, {}, None, None) == (1.0, {})
  assert plain.add_g_terms(2.0, {}, None, None) == (2.0, {})


def test_sample_codes_given_by_the_user_replace_the_drawn_ones():
  cond = gan_conditioning.InfoCodes(3, 2, 1.0, 1.0)
  drawn = cond.draw_codes(jax.random.key(0), jax.random.key(1), 4)
  given = cond.given_codes(drawn, (jnp.array([2, 2, 2, 2]), None))
  np.testing.assert_array_equal(given.categories, [2, 2, 2, 2])
  np.testing.assert_array_equal(given.continuous, drawn.continuous)
  assert cond.given_codes(drawn, None) is drawn
  # A class-conditional D cannot be asked without labels.
  from genjax.errors import UserError
  with pytest.raises(UserError, match="needs labels"):
    gan_conditioning.ClassConditional(10).discriminator_condition(None)


def test_r1_weight_changes_only_the_d_update():
  config = load_config("gan_toy", "runlocal")
  info = methods.DataInfo(image_shape=(2,), num_classes=8, num_train=512)
  batch = {"image": 3.0 * jax.random.normal(jax.random.key(0), (16, 2)),
           "label": jnp.zeros(16, jnp.int32)}
  results = []
  for weight in (0.0, 10.0):
    config.gan.r1_weight = weight
    steps = gan.make_steps(config, data_info=info, num_train_steps=10)
    state = steps.init(jax.random.key(1), batch)
    results.append(jax.jit(steps.d_update)(state, batch["image"], batch["label"],
                                           jax.random.key(2)))
  (plain, plain_metrics), (r1, r1_metrics) = results
  assert "d_r1" not in plain_metrics and float(r1_metrics["d_r1"]) > 0
  # Same logits and losses (same init and keys); the penalty moves D's step.
  assert float(plain_metrics["d_loss"]) == float(r1_metrics["d_loss"])
  assert _changed(plain.d, r1.d)


def test_projection_discriminator_adds_the_class_embedding_term():
  from genjax.models import gan_models
  x = jax.random.uniform(jax.random.key(0), (4, 28, 28, 1))
  y = jax.nn.one_hot(jnp.array([0, 1, 2, 3]), 10)
  disc = gan_models.DCGANDiscriminator((4, 8), dense=16, projection=True)
  params = disc.init(jax.random.key(1), x, y)["params"]
  embed = params["class_embedding"]["kernel"]  # [classes, features]
  assert embed.shape == (10, 16)
  plain = gan_models.DCGANDiscriminator((4, 8), dense=16, projection=False)
  base = {k: v for k, v in params.items() if k != "class_embedding"}
  logit, _ = disc.apply({"params": params}, x, y)
  logit_plain, _ = plain.apply({"params": base}, x, y)
  # The difference is <embed(y), phi(x)>, phi the 16 dense trunk features.
  _, inter = plain.apply({"params": base}, x, y, capture_intermediates=True)
  phi = nn_output(inter, "Dense_0")
  np.testing.assert_allclose(logit - logit_plain, jnp.sum((y @ embed) * phi, -1),
                             rtol=1e-4, atol=1e-5)


def nn_output(intermediates, name):
  """A linen submodule's output from `capture_intermediates`, after its activation."""
  return jax.nn.leaky_relu(intermediates["intermediates"][name]["__call__"][0], 0.2)


def _steps(name, gan_group=None, sgd_lr=None, **model):
  config = load_config(name, "runlocal")
  config.model.update(model)
  config.gan.update(gan_group or {})
  if sgd_lr:  # plain SGD for both networks: updates proportional to the gradients
    for group in ("optimizer", "d_optimizer"):
      if group in config:
        config[group].update(name="sgd", lr=sgd_lr)
  shape = (2,) if name == "gan_toy" else (28, 28, 1)
  info = methods.DataInfo(image_shape=shape, num_classes=10, num_train=512)
  steps = gan.make_steps(config, data_info=info, num_train_steps=100)
  batch = {"image": jax.random.uniform(jax.random.key(0), (8,) + shape),
           "label": jnp.arange(8) % 10}
  return steps, steps.init(jax.random.key(1), batch), batch


def _changed(a, b):
  return any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_d_update_leaves_g_alone_and_vice_versa():
  # InfoGAN: the DCGAN's batch norm plus the Q head shared with D.
  steps, state, batch = _steps("infogan_mnist")
  after_d, _ = jax.jit(steps.d_update)(state, batch["image"], batch["label"], jax.random.key(2))
  assert _changed(state.d, after_d.d) and _changed(state.d_opt, after_d.d_opt)
  # G's params, batch statistics and optimiser state are untouched.
  for key in ("g", "g_opt"):
    assert not _changed(getattr(state, key), getattr(after_d, key)), key
  after_g, _ = jax.jit(steps.g_update)(state, batch["label"], jax.random.key(3))
  assert _changed(state.g["params"], after_g.g["params"])
  for key in ("d", "d_opt"):
    assert not _changed(getattr(state, key), getattr(after_g, key)), key


def test_discriminator_batch_norm_sees_real_and_fake_batches_separately():
  # InfoGAN's MNIST networks: BN in D's trunk and Q, a dense + BN layer first in G.
  steps, state, batch = _steps("infogan_mnist", d_batch_norm=True, g_dense=16)
  assert "batch_stats" in state.d and "Dense_0" in state.g["params"]
  after_d, metrics = jax.jit(steps.d_update)(state, batch["image"], batch["label"],
                                             jax.random.key(2))
  assert _changed(state.d["batch_stats"], after_d.d["batch_stats"])
  # d_real is D on the real batch normalised by its own statistics, not by
  # those of a real + fake batch.
  config = load_config("infogan_mnist", "runlocal")
  config.model.update(d_batch_norm=True, g_dense=16)
  _, disc = gan.make_models(config, (28, 28, 1))
  (logit, _), _ = disc.apply(state.d, batch["image"], None, train=True,
                             mutable=["batch_stats"])
  assert float(metrics["d_real"]) == pytest.approx(float(jnp.mean(jax.nn.sigmoid(logit))),
                                                   rel=1e-5)
  mixed = jnp.concatenate([batch["image"], jnp.zeros_like(batch["image"])])
  (mixed_logit, _), _ = disc.apply(state.d, mixed, None, train=True,
                                   mutable=["batch_stats"])
  assert not np.allclose(mixed_logit[:8], logit, atol=1e-3)
  # G's step leaves all of D alone, its running statistics included.
  after_g, _ = jax.jit(steps.g_update)(state, batch["label"], jax.random.key(3))
  assert not _changed(state.d, after_g.d)
  assert _changed(state.g["params"], after_g.g["params"])


def test_train_step_runs_k_d_steps():
  config = load_config("gan_toy", "runlocal")
  config.gan.d_steps = 3
  info = methods.DataInfo(image_shape=(2,), num_classes=8, num_train=512)
  steps = gan.make_steps(config, data_info=info, num_train_steps=10)
  batch = {"image": jnp.ones((16, 2)), "label": jnp.zeros(16, jnp.int32)}
  state = steps.init(jax.random.key(0), batch)
  state, metrics = jax.jit(steps.train_step)(state, batch, jax.random.key(1))
  # Adam counts its updates: three for D, one for G.
  assert int(state.d_opt[0].count) == 3 and int(state.g_opt[0].count) == 1
  assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"} <= set(metrics)


def test_a_reused_fake_g_update_pulls_g_back_through_the_d_steps_fake_batch():
  # gan.g_update_fake="reused" (PyTorch's DCGAN loop): G's gradient is its loss
  # under the *updated* D at the D update's own z, through one G forward pass.
  # Plain SGD with lr 1: parameters move by the gradients themselves (Adam would
  # blow float noise, e.g. the zero gradients of biases before batch norm, up to lr).
  steps, state, batch = _steps("dcgan_mnist", gan_group={"g_update_fake": "reused"},
                               sgd_lr=1.0)
  parts = steps.train_step.args[0]
  rng = jax.random.key(5)
  new, metrics = jax.jit(steps.train_step)(state, batch, rng)
  key_inputs, key_real, key_fake, key_g = jax.random.split(rng, 4)
  inputs = gan_steps.draw(parts, key_inputs, batch["label"])
  fake = parts.networks.generate(state.g, inputs.z, inputs.g_cond, train=True)[0]
  after_d, _ = gan_steps._d_step(parts, state, batch["image"], fake, inputs,
                                 (key_real, key_fake))
  objective = lambda p: gan_steps._g_objective(parts, p, after_d, inputs, key_g, None)
  (_, (stats, expected_metrics)), grads = jax.value_and_grad(objective, has_aux=True)(
      state.g["params"])
  expected, _ = gan_steps._apply_g_gradients(parts, after_d, grads, stats)
  gap = lambda a, b: max(float(np.abs(np.asarray(x) - np.asarray(y)).max())
                         for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
  assert gap(new.d, after_d.d) < 1e-6
  assert gap(new.g, expected.g) < 1e-5
  assert float(metrics["g_loss"]) == pytest.approx(float(expected_metrics["g_loss"]), rel=1e-5)
  # What the check can tell apart: G's loss under D before its update, or a fresh z.
  stale = lambda p: gan_steps._g_objective(parts, p, state, inputs, key_g, None)
  stale_grads = jax.grad(stale, has_aux=True)(state.g["params"])[0]
  assert gap(grads, stale_grads) > 1e-3
  fresh_steps, _, _ = _steps("dcgan_mnist", sgd_lr=1.0)
  fresh, _ = jax.jit(fresh_steps.train_step)(state, batch, rng)
  assert gap(fresh.g["params"], new.g["params"]) > 1e-3


@pytest.mark.parametrize("gan_group, match", [
    ({"g_update_fake": "reuse"}, "g_update_fake='reuse'; valid: fresh, reused"),
    ({"g_update_fake": "reused", "d_steps": 2}, "needs config.gan.d_steps=1, got 2")])
def test_bad_g_update_fake_is_rejected(gan_group, match):
  config = load_config("dcgan_mnist", "runlocal")
  config.gan.update(gan_group)
  with pytest.raises(ConfigError, match=re.escape(match)):
    gan.validate(config)


@pytest.mark.slow
def test_trained_discriminator_reaches_the_optimal_discriminator(fusion_emitters):
  # A frozen "generator" N(0.5, 1.5^2) against the 1-D mixture: D trained to
  # convergence must match D* = p_data / (p_data + p_g) where mass lies.
  def generator(key, n):
    return 0.5 + 1.5 * jax.random.normal(key, (n, 1))

  result = optimal_discriminator.check(generator, "toy_mog1d", jax.random.key(0),
                                       num_gen_samples=100_000, steps=2500,
                                       hidden=(128, 128), batch_size=256, lr=1e-2)
  assert result["od_mean_gap"] < 0.03, result["od_mean_gap"]
  assert result["od_max_gap"] < 0.12, result["od_max_gap"]
  assert result["od_weighted_gap"] < 0.02, result["od_weighted_gap"]
  # The D* curve itself: near 1 on the data modes where p_g is small, < 1/2 between.
  d_star, grid = result["d_star"], result["grid"]
  assert d_star[np.argmin(np.abs(grid - 3.0))] > 0.5
  assert d_star[np.argmin(np.abs(grid - 1.5))] < 0.1
  # The Jensen-Shannon divergence two ways (ln 2 - d_loss / 2 from D, and from
  # the densities): they agree near D*, both far from 0 as p_g != p_data.
  assert result["od_jsd_kde"] > 0.1
  assert abs(result["od_jsd_from_d"] - result["od_jsd_kde"]) < 0.02


def test_jensen_shannon_of_known_densities():
  x = np.linspace(-10, 10, 2001)
  dx = float(x[1] - x[0])
  bump = lambda mu: np.exp(-0.5 * (x - mu) ** 2)
  assert optimal_discriminator.jensen_shannon(bump(0), bump(0), dx) == pytest.approx(0, abs=1e-12)
  assert optimal_discriminator.jensen_shannon(bump(-6), bump(6), dx) == pytest.approx(np.log(2), abs=1e-6)
  # Symmetric, and between the two for a partial overlap.
  a, b = optimal_discriminator.jensen_shannon(bump(0), bump(1), dx), \
      optimal_discriminator.jensen_shannon(bump(1), bump(0), dx)
  assert a == pytest.approx(b) and 0.05 < a < 0.2


def test_generator_equal_to_data_gives_one_half(fusion_emitters):
  from genjax import toy_data
  mix = toy_data.mixture("toy_mog1d")
  means, logits = jnp.asarray(mix.means), jnp.log(jnp.asarray(mix.weights))

  def generator(key, n):
    kc, kn = jax.random.split(key)
    comp = jax.random.categorical(kc, logits, shape=(n,))
    return means[comp] + mix.std * jax.random.normal(kn, (n, 1))

  result = optimal_discriminator.check(generator, "toy_mog1d", jax.random.key(1),
                                       num_gen_samples=100_000, steps=800,
                                       hidden=(128, 128), batch_size=256, lr=1e-2)
  # p_data is smoothed by the KDE's own kernel, so the estimated D* stays
  # near 1/2 into the tails (unsmoothed, the KDE's widened tails alone put
  # it 0.06-0.09 below 1/2 there).
  mask = result["mask"]
  assert np.max(np.abs(result["d_star"] - 0.5)[mask]) < 0.04
  weight = result["p_data"] + result["p_g"]
  weighted = lambda v: np.sum(np.abs(v - 0.5) * weight) / np.sum(weight)
  assert weighted(result["d_star"]) < 0.01
  assert weighted(result["d"]) < 0.04
  assert result["od_weighted_gap"] < 0.04
  assert result["od_d_loss"] == pytest.approx(2 * math.log(2), abs=0.02)
  assert abs(result["od_jsd_from_d"]) < 0.01 and result["od_jsd_kde"] < 0.005  # p_g = p_data


def test_bad_gan_configs_are_rejected():
  from genjax.errors import ConfigError
  info = methods.DataInfo(image_shape=(28, 28, 1), num_classes=10, num_train=512)
  for key, value, match in [("gan.generator_loss", "hinge", "generator_loss"),
                            ("gan.d_steps", 0, "d_steps"),
                            ("gan.r1_weight", -1.0, "r1_weight"),
                            ("model.d_projection", True, "d_projection"),
                            ("model.kind", "resnet", "model.kind")]:
    config = load_config("dcgan_mnist", "runlocal", **{key: value})
    with pytest.raises(ConfigError, match=match):
      gan.make_steps(config, data_info=info, num_train_steps=10)
  config = load_config("infogan_mnist", "runlocal", **{"model.conditional": True})
  with pytest.raises(ConfigError, match="not both"):
    gan.make_steps(config, data_info=info, num_train_steps=10)
  config = load_config("dcgan_mnist", "runlocal",
                       **{"model.d_batch_norm": True, "gan.r1_weight": 1.0})
  with pytest.raises(ConfigError, match="cannot be combined"):
    gan.make_steps(config, data_info=info, num_train_steps=10)
  config = load_config("gan_toy", "runlocal", **{"model.d_batch_norm": True})
  with pytest.raises(ConfigError, match="d_batch_norm"):
    gan.make_steps(config, data_info=methods.DataInfo((2,), 8, 512), num_train_steps=10)


# ---- runlocal end to end, through the real trainer --------------------------


def _run(name, tmp_path, arg="runlocal", **overrides):
  config = load_config(name, arg, **overrides)
  final = train.train_and_evaluate(config, str(tmp_path))
  summary = json.loads((tmp_path / "final_metrics.json").read_text())
  rows = writers.read_metrics(str(tmp_path), "train")
  assert rows and all(np.isfinite(rows[-1][k]) for k in ("d_loss", "g_loss"))
  assert summary["compilations"] == 1
  return final, summary["final"], sorted(p.name for p in (tmp_path / "images").iterdir())


@requires_mnist
def test_runlocal_dcgan_with_sample_quality(tmp_path):
  final, extras, pngs = _run("dcgan_mnist", tmp_path)
  assert {"d_loss", "d_real", "d_fake"} <= set(final)
  assert any(p.startswith("samples_") for p in pngs)
  assert classifier_lib.available("mnist")  # shipped with the package, never skipped
  # Forty steps of a tiny DCGAN against the real data's own figures: each
  # metric must tell barely trained samples from real images (a metric that
  # scored the real images twice, or nothing, would not).
  assert extras["fd"] > extras["fd_floor"] >= 0
  assert extras["classifier_score"] < extras["classifier_score_real"]
  assert extras["classifier_score_real"] > 8.0 and extras["eval_classifier_accuracy"] > 0.95
  # Precision is no such test: with the runlocal's 200 real images the k-NN
  # balls are wide enough to hold early samples (measured 1.0 vs 0.90 real).
  assert extras["recall"] < extras["recall_floor"]


@requires_mnist
@pytest.mark.parametrize("name,grid", [("gan_mnist", "samples_"),
                                       ("cgan_mnist", "samples_by_class_"),
                                       ("infogan_mnist", "c1_traversal_")])
def test_runlocal_mnist_gans(tmp_path, name, grid):
  final, extras, pngs = _run(name, tmp_path)
  assert any(p.startswith(grid) for p in pngs)
  if name == "infogan_mnist":
    assert "mi_lower_bound" in final
    assert any(p.startswith("c3_traversal_") for p in pngs)
    # Forty steps cannot find the digit classes: an evaluator that matched Q's
    # codes against themselves (or labels against labels) would give 1.0.
    assert 0.1 <= extras["c1_hungarian_accuracy"] < 0.9


def test_runlocal_toy(tmp_path):
  final, extras, pngs = _run("gan_toy", tmp_path)
  assert "sample_log_density" in final
  assert extras["num_modes"] == 8 and extras["modes_covered"] == int(extras["modes_covered"])
  # A covered mode holds at least 10% of its expected share (1/8) of the
  # samples, all of them high quality.
  assert extras["high_quality_fraction"] >= extras["modes_covered"] * 0.1 / 8 - 1e-9
  assert pngs and pngs[0].startswith("samples_")
