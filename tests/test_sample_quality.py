"""Sample-quality metrics, the evaluation classifier and the toy distributions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from genjax import toy_data
from genjax.evaluation import classifier as classifier_lib
from genjax.evaluation import sample_quality as sq
from conftest import requires_mnist


def test_frechet_distance_of_a_set_with_itself_is_zero():
  x = np.random.default_rng(0).normal(size=(2000, 16)) @ np.diag(np.arange(1, 17))
  assert abs(sq.frechet_distance(x, x)) < 1e-6


def test_gaussian_frechet_distance_matches_closed_forms():
  rng = np.random.default_rng(1)
  d = 6
  # Diagonal covariances: ||dmu||^2 + sum (sqrt(a) - sqrt(b))^2.
  a, b = rng.uniform(0.5, 2.0, d), rng.uniform(0.5, 2.0, d)
  mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
  expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
  assert sq.gaussian_frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(
      expected, rel=1e-9)
  # Full, non-commuting covariances: against scipy's matrix square root.
  m1, m2 = rng.normal(size=(d, d)), rng.normal(size=(d, d))
  c1, c2 = m1 @ m1.T + 0.1 * np.eye(d), m2 @ m2.T + 0.1 * np.eye(d)
  root = scipy.linalg.sqrtm(c1 @ c2).real
  expected = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * root)
  assert sq.gaussian_frechet_distance(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_of_shifted_gaussian_samples():
  rng = np.random.default_rng(2)
  shift = np.array([1.0, -2.0, 0.5, 0.0])
  x = rng.normal(size=(20000, 4))
  # A shifted copy has exactly the same covariance: FD = ||shift||^2 = 5.25.
  assert sq.frechet_distance(x, x + shift) == pytest.approx(5.25, rel=1e-9)
  # Independent samples: 5.25 up to sampling error (std ~0.05 here).
  y = rng.normal(size=(20000, 4)) + shift
  assert sq.frechet_distance(x, y) == pytest.approx(5.25, abs=0.2)


@pytest.mark.parametrize("k", [1, 3])
def test_knn_radii_are_the_kth_nearest_other_point(k):
  # Against a full sort, with exact duplicates (ties: a point's copy is its
  # nearest neighbour at distance 0) and a last block that needs padding.
  x = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
  x[10] = x[11] = x[12] = x[13]
  d = np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0.0)
  expected = np.sort(d, axis=1)[:, k]
  radii = np.asarray(sq.knn_radii(x, k=k, block=128))
  np.testing.assert_allclose(radii, expected, rtol=1e-4, atol=1e-5)
  assert radii[10] == 0.0 and radii.shape == (300,)


def test_precision_recall_identical_and_disjoint_sets():
  x = np.random.default_rng(3).normal(size=(600, 8)).astype(np.float32)
  assert sq.precision_recall(x, x, k=3, block=256) == (1.0, 1.0)
  precision, recall = sq.precision_recall(x, x + 100.0, k=3, block=256)
  assert precision == 0.0 and recall == 0.0
  # Fake points concentrated on half the real manifold: high precision, low recall.
  half = x[x[:, 0] > 0.5]
  precision, recall = sq.precision_recall(x, half + 0.01, k=3, block=256)
  assert precision > 0.95 and recall < 0.6


def test_hungarian_matching_recovers_a_permuted_labelling():
  rng = np.random.default_rng(4)
  labels = rng.integers(0, 10, 5000)
  perm = rng.permutation(10)
  clusters = perm[labels]  # cluster c <-> class inverse_perm[c]
  acc, mapping = sq.hungarian_accuracy(clusters, labels, 10)
  assert acc == 1.0
  np.testing.assert_array_equal(mapping[perm], np.arange(10))
  noisy = clusters.copy()
  flip = rng.random(5000) < 0.2
  noisy[flip] = rng.integers(0, 10, flip.sum())
  acc, _ = sq.hungarian_accuracy(noisy, labels, 10)
  assert acc == pytest.approx(1 - 0.2 * 0.9, abs=0.02)


def test_classifier_score_bounds():
  confident = 50.0 * jax.nn.one_hot(jnp.arange(1000) % 10, 10)
  assert sq.classifier_score(confident) == pytest.approx(10.0, rel=1e-4)
  one_class = 50.0 * jax.nn.one_hot(jnp.zeros(1000, jnp.int32), 10)
  assert sq.classifier_score(one_class) == pytest.approx(1.0, abs=1e-4)
  uncertain = jnp.zeros((1000, 10))
  assert sq.classifier_score(uncertain) == pytest.approx(1.0, abs=1e-4)


@requires_mnist
@pytest.mark.parametrize("name, stored, on_1000", [("mnist", 0.99, 0.98),
                                                    ("fashion_mnist", 0.90, 0.88)])
def test_shipped_classifier_is_small_and_accurate(name, stored, on_1000):
  import os
  from genjax import config as config_lib, data as data_lib
  path = classifier_lib.asset_path(name)
  assert os.path.getsize(path) < 500 * 1024
  _, _, meta = classifier_lib.load(name)
  assert meta["test_accuracy"] >= stored
  data = config_lib.base_config().data
  data.name = name
  arrays = data_lib.read_split(data, "test", 1000)
  logits, feats = sq.classifier_outputs(arrays["image"], name, 255.0)
  assert feats.shape == (1000, classifier_lib.FEATURE_DIM)
  assert np.mean(np.argmax(logits, -1) == arrays["label"]) >= on_1000


@pytest.mark.parametrize("name", toy_data.NAMES)
def test_toy_splits_are_reproducible_and_distinct(name):
  a = toy_data.sample_split(name, "train", 500)
  b = toy_data.sample_split(name, "train", 500)
  t = toy_data.sample_split(name, "test", 500)
  np.testing.assert_array_equal(a["image"], b["image"])
  assert not np.allclose(a["image"], t["image"])
  assert a["image"].dtype == np.float32 and a["label"].dtype == np.int32
  assert a["num_classes"] == len(toy_data.mixture(name).weights)
  # True samples cover every mode and sit within 3 std of one.
  stats = toy_data.mode_statistics(name, toy_data.sample_split(name, "test", None)["image"])
  assert stats["modes_covered"] == stats["num_modes"]
  assert stats["high_quality_fraction"] > 0.98


def test_toy_log_density_normalises():
  grid = np.linspace(-6, 6, 24001)[:, None]
  p = np.exp(np.asarray(toy_data.log_density("toy_mog1d", grid)))
  assert np.sum(p) * (grid[1, 0] - grid[0, 0]) == pytest.approx(1.0, abs=1e-4)
  g = np.linspace(-3, 3, 1201)
  xx, yy = np.meshgrid(g, g)
  pts = np.stack([xx.ravel(), yy.ravel()], -1)
  p2 = np.exp(np.asarray(toy_data.log_density("toy_ring8", pts)))
  assert np.sum(p2) * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-3)


def test_mode_statistics_detects_a_dropped_mode():
  x, labels = toy_data.sample("toy_ring8", 8000, seed=5)
  stats = toy_data.mode_statistics("toy_ring8", x[labels != 3])
  assert stats["modes_covered"] == 7
  spread = x + np.random.default_rng(0).normal(scale=0.5, size=x.shape)
  assert toy_data.mode_statistics("toy_ring8", spread)["high_quality_fraction"] < 0.1


def _noise_images(state, key, n):
  return jax.random.uniform(key, (n, 28, 28, 1)) * state


@requires_mnist
def test_evaluations_of_one_dataset_share_its_real_side(monkeypatch):
  import gc
  from genjax import config as config_lib, data as data_lib, parallel
  c = config_lib.base_config().data
  c.update(name="mnist", max_train_examples=600, max_eval_examples=600)
  dataset = data_lib.load(c, mesh=parallel.make_mesh(), eval_batch_size=100)
  classified = []
  real_classify = sq.classifier_outputs
  monkeypatch.setattr(sq, "classifier_outputs",
                      lambda images, *a: classified.append(len(images)) or real_classify(images, *a))
  generate = sq.Generator(_noise_images, conditional=False)

  def evaluate(ds, seed):
    return sq.evaluate_generator(generate, ds, jax.random.key(seed), num_samples=500,
                                 batch_size=250, state=jnp.float32(1.0))
  first, second = evaluate(dataset, 0), evaluate(dataset, 1)
  assert classified == [500, 500]  # the test and train images once, not per evaluation
  floors = ("fd_floor", "precision_floor", "recall_floor", "classifier_score_real",
            "eval_classifier_accuracy")
  assert {k: second[k] for k in floors} == {k: first[k] for k in floors}
  assert second["fd"] != first["fd"]  # new samples, measured anew
  # The same numbers as the metrics computed directly from the features.
  test_logits, test = real_classify(dataset.images("eval", 500), "mnist")
  _, train = real_classify(dataset.images("train", 500), "mnist")
  _, fake = sq.generate_outputs(generate, jax.random.key(1), jnp.zeros(500, jnp.int32),
                                "mnist", 250, jnp.float32(1.0))
  assert (second["precision"], second["recall"]) == sq.precision_recall(test, fake)
  assert (first["precision_floor"], first["recall_floor"]) == sq.precision_recall(test, train)
  assert first["fd_floor"] == sq.frechet_distance(train, test)
  assert second["fd"] == sq.frechet_distance(fake, test)
  # The cache goes with its dataset.
  key = id(dataset)
  assert key in sq._REAL_SIDES
  del dataset
  gc.collect()
  assert key not in sq._REAL_SIDES
