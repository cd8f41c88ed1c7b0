"""The semi-supervised GAN: the labelled subset, D's class head, runlocal runs, the model API."""

from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax import data as data_lib
from genjax import methods, train, writers
from genjax.errors import ConfigError, DataError
from genjax.methods import gan, gan_steps
from genjax.models import gan_models
from conftest import load_config, requires_mnist

# ---- the labelled subset (genjax/data.py) ------------------------------------


def _toy_dataset(labelled_indices=None, n=60, k=3):
  """A Dataset whose pixel value is the row index, so a batch names its rows."""
  rows = np.arange(n, dtype=np.uint8)
  images = np.broadcast_to(rows[:, None, None, None], (n, 2, 2, 1)).copy()
  return data_lib.Dataset(
      name="rows", train={"image": jnp.asarray(images),
                          "label": jnp.asarray(np.arange(n, dtype=np.int32) % k)},
      eval={}, num_train=n, num_eval=0, image_shape=(2, 2, 1), num_classes=k,
      train_scale=1.0, eval_scale=1.0, binarize="none", labelled_indices=labelled_indices)


def test_labelled_subset_is_balanced_and_reproducible_per_seed():
  labels = np.arange(600) % 10
  a = data_lib.choose_labelled(labels, 100, 10, seed=0)
  assert len(a) == 100 and len(set(a.tolist())) == 100
  np.testing.assert_array_equal(np.bincount(labels[a], minlength=10), [10] * 10)
  np.testing.assert_array_equal(a, data_lib.choose_labelled(labels, 100, 10, seed=0))
  b = data_lib.choose_labelled(labels, 100, 10, seed=1)
  assert not np.array_equal(a, b)
  with pytest.raises(DataError, match="multiple of the dataset's 10 classes"):
    data_lib.choose_labelled(labels, 105, 10, seed=0)
  with pytest.raises(DataError, match="needs 70 examples of class"):
    data_lib.choose_labelled(labels, 700, 10, seed=0)


def test_tfds_source_order_is_the_order_tfds_writes_keys_in():
  from tensorflow_datasets.core import hashing
  hasher = hashing.Hasher("train")
  expected = sorted(range(3000), key=hasher.hash_key)
  np.testing.assert_array_equal(data_lib.tfds_source_order(3000, "train"), expected)
  assert not np.array_equal(data_lib.tfds_source_order(3000, "test"), expected)


def test_salimans2016_subset_is_their_scripts_draw_in_file_order():
  # MNIST-shaped labels with a known file order: the real first 20, then a cycle.
  in_file = np.concatenate([data_lib._MNIST_TRAIN_FIRST_LABELS, np.arange(59980) % 10])
  source = data_lib.tfds_source_order(60000, "train")
  rows = data_lib.salimans2016_labelled(in_file[source], 100, 10, seed=1)  # TFDS's row order
  # Their script: permute the file with RandomState(seed_data), first 10 of each class.
  perm, firsts = np.random.RandomState(1).permutation(60000), {k: [] for k in range(10)}
  for i in perm:
    if len(firsts[in_file[i]]) < 10:
      firsts[in_file[i]].append(i)
  theirs = np.concatenate(list(firsts.values()))
  np.testing.assert_array_equal(np.sort(source[rows]), np.sort(theirs))
  assert not np.array_equal(rows, data_lib.salimans2016_labelled(in_file[source], 100, 10, 2))
  with pytest.raises(DataError, match="needs TFDS mnist's whole 'train' split"):
    data_lib.salimans2016_labelled(in_file, 100, 10, seed=1)  # not TFDS's row order


@requires_mnist
def test_the_config_picks_their_subset_on_real_mnist():
  from genjax import parallel
  c = load_config("ssgan_mnist", **{"data.labelled_draw": "salimans2016",
                                    "data.labelled_seed": 1}).data
  ds = data_lib.load(c, mesh=parallel.make_mesh(), eval_batch_size=1000)
  labels = np.asarray(ds.train["label"])
  np.testing.assert_array_equal(ds.labelled_indices,
                                data_lib.salimans2016_labelled(labels, 100, 10, 1))
  assert not np.array_equal(ds.labelled_indices, data_lib.choose_labelled(labels, 100, 10, 1))


def test_labelled_batches_hold_only_the_subset_balanced():
  labels = np.arange(60) % 3
  subset = data_lib.choose_labelled(labels, 6, 3, seed=4)
  ds = _toy_dataset(subset)
  idx = jnp.arange(12)
  batch = jax.jit(ds.train_batch)(ds.train, idx, jax.random.key(0))
  rows = np.asarray(batch["labelled_image"])[:, 0, 0, 0].astype(int)
  # 12 rows = the 6 chosen ones twice each: only the subset, as balanced as it is.
  assert sorted(rows.tolist()) == sorted(subset.tolist() * 2)
  np.testing.assert_array_equal(np.asarray(batch["labelled_label"]), labels[rows])
  np.testing.assert_array_equal(np.bincount(batch["labelled_label"], minlength=3), [4, 4, 4])
  # The step's key orders the labelled rows; another key, another order.
  other = ds.train_batch(ds.train, idx, jax.random.key(1))
  assert not np.array_equal(other["labelled_image"], batch["labelled_image"])


def test_semi_supervised_batches_carry_a_second_independent_unlabelled_batch():
  ds = _toy_dataset(data_lib.choose_labelled(np.arange(60) % 3, 6, 3, seed=4))
  idx = jnp.arange(12)
  batch = jax.jit(ds.train_batch)(ds.train, idx, jax.random.key(0))
  rows = np.asarray(batch["second_image"])[:, 0, 0, 0].astype(int)
  # Rows of the whole training set, not the step's own rows 0..11.
  assert rows.shape == (12,) and rows.min() >= 0 and rows.max() < 60 and rows.max() >= 12
  again = ds.train_batch(ds.train, idx, jax.random.key(0))["second_image"]
  np.testing.assert_array_equal(again, batch["second_image"])
  other = ds.train_batch(ds.train, idx, jax.random.key(1))["second_image"]
  assert not np.array_equal(other, batch["second_image"])


def test_without_a_subset_batches_are_unchanged():
  idx, key = jnp.array([5, 1, 7, 30]), jax.random.key(3)
  plain = _toy_dataset(None).train_batch(_toy_dataset(None).train, idx, key)
  with_subset = _toy_dataset(np.array([0, 1, 2])).train_batch(_toy_dataset().train, idx, key)
  assert set(plain) == {"image", "label"}
  for name in ("image", "label"):
    np.testing.assert_array_equal(plain[name], with_subset[name])


# ---- the method ----------------------------------------------------------------

INFO = methods.DataInfo(image_shape=(28, 28, 1), num_classes=10, num_train=1024)


def _steps_and_batch(arg="runlocal", **overrides):
  config = load_config("ssgan_mnist", arg, **overrides)
  steps = gan.make_steps(config, data_info=INFO, num_train_steps=100)
  key = jax.random.key(0)
  batch = {"image": jax.random.uniform(key, (20, 28, 28, 1)), "label": jnp.arange(20) % 10,
           "labelled_image": jax.random.uniform(jax.random.fold_in(key, 1), (20, 28, 28, 1)),
           "labelled_label": jnp.arange(20) % 10,
           "second_image": jax.random.uniform(jax.random.fold_in(key, 2), (20, 28, 28, 1))}
  return steps, steps.init(jax.random.key(1), batch), batch


def _changed(a, b):
  return any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_discriminator_has_ten_class_logits_and_d_is_their_logsumexp():
  steps, state, batch = _steps_and_batch()
  probs = steps.model_fns["classify"](state, batch["image"])  # no average yet: D itself
  assert probs.shape == (20, 10)
  np.testing.assert_allclose(np.sum(probs, -1), 1.0, rtol=1e-5)
  _, disc = gan.make_models(load_config("ssgan_mnist", "runlocal"), (28, 28, 1))
  logit, class_logits = disc.apply(state.d, batch["image"])
  z = np.sum(np.exp(np.asarray(class_logits, np.float64)), -1)
  np.testing.assert_allclose(steps.model_fns["discriminate"](state, batch["image"]),
                             z / (z + 1), rtol=1e-5)
  np.testing.assert_allclose(probs, jax.nn.softmax(class_logits, -1), rtol=1e-5)


def test_d_scales_are_set_on_the_init_batch_with_its_noise_on():
  """As Salimans et al.'s init: the first layer's unit variance covers the
  input plus its N(0, 0.3^2) noise, so 1/g^2 grows by 0.09 over a noise-free
  init (mean over the 64 units; the noise's sample variance on 20 images
  scatters each unit's share by ~30%, their mean by ~4%)."""
  scales = {}
  for std in (0.3, 0.0):
    _, state, _ = _steps_and_batch(**{"model.d_input_noise": std})
    scales[std] = np.asarray(state.d["params"]["DataInitWeightNormDense_0"]["scale"])
  gain = np.mean(scales[0.3] ** -2.0 - scales[0.0] ** -2.0)
  assert abs(gain - 0.09) < 0.015, gain


def test_train_step_updates_both_and_supervised_only_leaves_g_alone():
  steps, state, batch = _steps_and_batch()
  after, metrics = jax.jit(steps.train_step)(state, batch, jax.random.key(2))
  assert _changed(state.g["params"], after.g["params"])
  assert {"d_supervised_loss", "d_unsupervised_loss", "train_class_error",
          "g_loss"} <= set(metrics)
  expected = metrics["d_supervised_loss"] + 0.5 * metrics["d_unsupervised_loss"]
  assert float(metrics["d_loss"]) == pytest.approx(float(expected), rel=1e-6)
  base, state, batch = _steps_and_batch("runlocal,supervised_only")
  after, metrics = jax.jit(base.train_step)(state, batch, jax.random.key(2))
  assert _changed(state.d["params"], after.d["params"])
  assert not _changed(state.g, after.g) and not _changed(state.g_opt, after.g_opt)
  assert "d_unsupervised_loss" not in metrics and "g_loss" not in metrics


def test_d_classifies_with_the_debiased_average_of_its_parameters():
  config = load_config("ssgan_mnist", "runlocal", **{"gan.d_ema_decay": 0.5})
  steps = gan.make_steps(config, data_info=INFO, num_train_steps=100)
  _, _, batch = _steps_and_batch()
  state = steps.init(jax.random.key(1), batch)
  history = []
  for i in range(2):
    state, _ = jax.jit(steps.train_step)(state, batch, jax.random.key(10 + i))
    history.append(state.d["params"])
  # EMA from zeros with decay 1/2, divided by its weight 1 - 1/4: (p1 / 4 + p2 / 2) / (3 / 4).
  expected = jax.tree.map(lambda p1, p2: (p1 + 2 * p2) / 3, *history)
  parts = gan.make_parts(config, data_info=INFO, num_train_steps=100)
  averaged = gan_steps.evaluation_d(parts, state)["params"]
  for a, b in zip(jax.tree.leaves(averaged), jax.tree.leaves(expected)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  assert _changed(averaged, state.d["params"])
  _, disc = gan.make_models(config, (28, 28, 1))
  _, class_logits = disc.apply({"params": averaged}, batch["image"])
  np.testing.assert_allclose(steps.model_fns["classify"](state, batch["image"]),
                             jax.nn.softmax(class_logits, -1), rtol=1e-5, atol=1e-6)


def test_g_matches_features_of_the_second_batch_not_of_ds():
  steps, state, batch = _steps_and_batch()
  step = jax.jit(steps.train_step)
  after = step(state, batch, jax.random.key(2))[0]
  # The same step with G's target replaced by D's batch: only G differs.
  same = step(state, {**batch, "second_image": batch["image"]}, jax.random.key(2))[0]
  assert _changed(after.g["params"], same.g["params"])
  assert not _changed(after.d["params"], same.d["params"])
  # Without a second batch G targets D's batch.
  without = {k: v for k, v in batch.items() if k != "second_image"}
  alone = step(state, without, jax.random.key(2))[0]
  assert not _changed(alone.g["params"], same.g["params"])


def _reference_step(state, batch, z_d, z_g, lr, w):
  """Salimans et al.'s first training step (their train_mnist_feature_matching.py
  and nn.py, noise off), in plain jnp on genjax's initial parameters: D's
  Adam step on L_lab + w L_unl, then G's on feature matching against the
  second batch through the updated D. Returns (D's, G's) new parameters."""
  d_names = sorted(k for k in state.d["params"] if k.startswith("DataInit")) + ["class_logits"]

  def disc(d, x, features=False):
    h = x.reshape(x.shape[0], -1)
    for i, name in enumerate(d_names):
      v = d[name]["kernel"]
      h = h @ (v * d[name]["scale"] / jnp.sqrt(jnp.sum(v * v, 0))) + d[name]["bias"]
      if name != "class_logits":
        h = jax.nn.relu(h)
        if features and name == d_names[-2]:
          return h
    return h

  def gen(g, z):
    h = z
    for i in range(len([k for k in g if k.startswith("BatchNorm")])):
      a = h @ g[f"Dense_{i}"]["kernel"] + g[f"Dense_{i}"]["bias"]
      a = (a - a.mean(0)) / jnp.sqrt(a.var(0) + 1e-5)
      h = jax.nn.softplus(a * g[f"BatchNorm_{i}"]["scale"] + g[f"BatchNorm_{i}"]["bias"])
    last = [k for k in g if k.startswith("Dense")][-1]
    v = g[last]["kernel"]
    scale = g["WeightNorm_0"][f"{last}/kernel/scale"]
    return jax.nn.sigmoid(h @ (v * scale / jnp.sqrt(jnp.sum(v * v, 0))) + g[last]["bias"])

  lse = jax.nn.logsumexp

  def d_loss(d):
    labelled, real, fake = disc(d, batch["labelled_image"]), disc(d, batch["image"]), disc(
        d, gen(state.g["params"], z_d))
    picked = jnp.take_along_axis(labelled, batch["labelled_label"][:, None], 1)[:, 0]
    l_real = lse(real, 1)
    unl = -l_real.mean() + jax.nn.softplus(l_real).mean() + jax.nn.softplus(lse(fake, 1)).mean()
    return -picked.mean() + lse(labelled, 1).mean() + w * unl

  def adam_first_step(p, grads):  # m_hat = g, v_hat = g^2; their 1e-8 inside the root
    return jax.tree.map(lambda p, g: p - lr * g / jnp.sqrt(g * g + 1e-8), p, grads)

  d_grads = jax.grad(d_loss)(state.d["params"])
  d_grads = {k: {**v, "scale": v["scale"] * (k == "class_logits")} for k, v in d_grads.items()}
  d_new = adam_first_step(state.d["params"], d_grads)

  def g_loss(g):
    gap = disc(d_new, gen(g, z_g), True).mean(0) - disc(d_new, batch["second_image"], True).mean(0)
    return jnp.mean(gap * gap)

  return d_new, adam_first_step(state.g["params"], jax.grad(g_loss)(state.g["params"]))


def test_one_train_step_is_salimans_et_als_update():
  """D's and G's parameters after one step equal a plain-jnp transcription of
  their update (noise off so both sides draw nothing but z). Tolerance 5% of
  the learning rate: Adam's first step moves every parameter by ~lr, and a
  wrong loss term, target batch or layer flips or shrinks such moves."""
  noise_off = {"model.d_input_noise": 0.0, "model.d_hidden_noise": 0.0}
  steps, state, batch = _steps_and_batch(**noise_off)
  config = load_config("ssgan_mnist", "runlocal", **noise_off)
  parts = gan.make_parts(config, data_info=INFO, num_train_steps=100)
  rng = jax.random.key(5)
  after, _ = jax.jit(steps.train_step)(state, batch, rng)
  # The z's the step draws, by gan_steps' key derivation (train_step -> d_update / g_update).
  key_d, key_g = jax.random.split(rng)
  z_d = gan_steps.draw(parts, jax.random.split(key_d, 3)[0], batch["label"]).z
  z_g = gan_steps.draw(parts, jax.random.split(key_g)[0], batch["label"]).z
  d_new, g_new = _reference_step(state, batch, z_d, z_g, config.optimizer.lr,
                                 config.gan.unsupervised_weight)
  for ours, theirs in ((after.d["params"], d_new), (after.g["params"], g_new)):
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
      np.testing.assert_allclose(a, b, atol=0.05 * config.optimizer.lr, rtol=0)


def test_feature_matching_g_step_leaves_d_alone():
  steps, state, batch = _steps_and_batch()
  after, metrics = jax.jit(steps.g_update)(state, batch["label"], jax.random.key(3),
                                           batch["image"])
  assert _changed(state.g["params"], after.g["params"])
  assert not _changed(state.d, after.d) and float(metrics["g_loss"]) > 0
  with pytest.raises(ValueError, match="needs the real batch"):
    steps.g_update(state, batch["label"], jax.random.key(3))


def test_bad_ssgan_configs_are_rejected():
  for overrides, match in [({"model.kind": "mlp"}, "needs config.model.kind='ssgan_mlp'"),
                           ({"data.num_labelled": 0}, "needs labelled examples"),
                           ({"data.labelled_draw": "theirs"},
                            "labelled_draw='theirs'; valid: genjax, salimans2016"),
                           ({"gan.unsupervised_weight": -1.0}, "unsupervised_weight"),
                           ({"model.d_hidden_noise": -0.1}, "d_hidden_noise"),
                           ({"model.conditional": True}, "supports neither"),
                           ({"gan.d_ema_decay": 1.0}, r"d_ema_decay must be in \[0, 1\)"),
                           ({"gan.semi_supervised": False}, "d_ema_decay > 0 needs")]:
    config = load_config("ssgan_mnist", "runlocal", **overrides)
    with pytest.raises(ConfigError, match=match):
      gan.make_steps(config, data_info=INFO, num_train_steps=10)


# ---- runlocal end to end, through the real trainer --------------------------


def _supervised_losses(workdir):
  return [row["d_supervised_loss"] for row in writers.read_metrics(str(workdir), "train")]


@requires_mnist
def test_d_init_statistics_come_from_init_examples_rows():
  """config.init_examples sets how many training rows D's weight-norm init
  sees: the trainer's state is the method's init on those first rows."""
  config = load_config("ssgan_mnist", "runlocal", init_examples=300)
  trainer, _ = train.build(config)
  ds, rng = trainer.dataset, jax.random.key(0)
  state = trainer.init_state(rng)
  scale = lambda s: np.asarray(s.d["params"]["DataInitWeightNormDense_0"]["scale"])
  on_300 = trainer.init(rng, ds.train_batch(ds.train, jnp.arange(300), rng))
  np.testing.assert_array_equal(scale(state), scale(on_300))
  one_batch = trainer.init(rng, ds.train_batch(ds.train, jnp.arange(20), rng))
  assert not np.allclose(scale(state), scale(one_batch))
  with pytest.raises(ConfigError, match="init_examples must be positive"):
    train.build(load_config("ssgan_mnist", "runlocal", init_examples=0))


@requires_mnist
def test_runlocal_ssgan_trains_and_classifies(tmp_path):
  config = load_config("ssgan_mnist", "runlocal")
  run = train.train(config, str(tmp_path))
  summary = json.loads((tmp_path / "final_metrics.json").read_text())
  assert summary["compilations"] == 1
  losses = _supervised_losses(tmp_path)
  assert len(losses) == 4 and losses[-1] < 0.5 * losses[0], losses
  # The chosen subset is what the trainer's batches were drawn from.
  ds = run.trainer.dataset
  subset = np.asarray(ds.labelled_indices)
  assert len(subset) == 20
  np.testing.assert_array_equal(np.bincount(np.asarray(ds.train["label"])[subset]), [2] * 10)
  # classify() on all eval images gives final_metrics' test error, and the
  # eval step's class_error is the same number.
  m = run.model
  assert "classify" in m.supports
  images, labels = np.asarray(ds.images("eval")), np.asarray(ds.labels("eval"))
  errors = int(np.sum(np.argmax(m.classify(images), -1) != labels))
  assert summary["final"]["ssgan_test_errors"] == errors
  assert summary["final"]["ssgan_test_error"] == pytest.approx(errors / len(labels))
  assert summary["eval"]["class_error"] == pytest.approx(errors / len(labels), abs=1e-6)
  # genjax.load rebuilds the same classifier from the workdir.
  import genjax
  np.testing.assert_allclose(genjax.load(str(tmp_path)).classify(images[:8]),
                             m.classify(images[:8]), rtol=1e-6)
  # 40 steps on 20 labels beat chance (0.9) on the 256 test images.
  assert summary["final"]["ssgan_test_error"] < 0.85


@requires_mnist
def test_runlocal_supervised_only_baseline(tmp_path):
  config = load_config("ssgan_mnist", "runlocal,supervised_only")
  run = train.train(config, str(tmp_path))
  losses = _supervised_losses(tmp_path)
  assert losses[-1] < 0.5 * losses[0], losses
  assert int(run.state.g_opt[0].count) == 0  # G never stepped
  final = json.loads((tmp_path / "final_metrics.json").read_text())["final"]
  assert 0.0 <= final["ssgan_test_error"] < 0.85


@pytest.mark.parametrize("train_scale", [False, True])
def test_data_init_weight_norm_normalises_the_init_batch_and_can_freeze_its_scale(train_scale):
  x = 3.0 + 2.0 * jax.random.normal(jax.random.key(0), (256, 5))
  layer = gan_models.DataInitWeightNormDense(4, train_scale=train_scale)
  params = layer.init(jax.random.key(1), x)["params"]
  y = np.asarray(layer.apply({"params": params}, x))
  np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-4)
  np.testing.assert_allclose(y.std(0), 1.0, rtol=1e-4)
  # Fixed parameters afterwards, not batch statistics: twice the input, twice the spread.
  np.testing.assert_allclose(np.asarray(layer.apply({"params": params}, 2 * x)).std(0), 2.0,
                             rtol=1e-4)
  grads = jax.grad(lambda p: jnp.sum(layer.apply({"params": p}, x) ** 3))(params)
  assert bool(np.any(np.asarray(grads["scale"]) != 0)) == train_scale
  assert np.any(np.asarray(grads["kernel"]) != 0) and np.any(np.asarray(grads["bias"]) != 0)


def test_gaussian_noise_is_standard_normal_to_16_bits():
  z = np.asarray(gan_models.gaussian_noise(jax.random.key(0), (500, 401)))
  assert z.shape == (500, 401) and z.dtype == np.float32
  # Kolmogorov-Smirnov distance to N(0, 1) on 200,500 values: 0.003 is the
  # 5% critical value; a wrong scale (std 1.05) or shift (0.01) exceeds it.
  v = np.sort(z.ravel())
  cdf = 0.5 * (1.0 + np.vectorize(math.erf)(v / math.sqrt(2.0)))
  ks = np.max(np.abs(cdf - np.arange(1, v.size + 1) / v.size))
  assert ks < 0.003
  assert np.abs(z).max() <= 4.33  # the last of 65,536 levels
  # Neighbouring values come from one word's two halves: not equal, not correlated.
  assert abs(np.corrcoef(z[:, 0:400:2].ravel(), z[:, 1:401:2].ravel())[0, 1]) < 0.01
  np.testing.assert_array_equal(z, gan_models.gaussian_noise(jax.random.key(0), (500, 401)))
  assert not np.array_equal(z, gan_models.gaussian_noise(jax.random.key(1), (500, 401)))
