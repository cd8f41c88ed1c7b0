"""Data from the offline TFDS copy: the right dataset, on device, with clear errors."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from genjax import config as config_lib
from genjax import data as data_lib
from genjax import parallel
from genjax.errors import DataError
from conftest import requires_mnist


def data_config(**kw) -> ml_collections.ConfigDict:
  c = config_lib.base_config().data
  c.update(kw)
  return c


@requires_mnist
@pytest.mark.parametrize("name,split,mean_pixel,counts", [
    # Figures from ../shared/tensorflow_datasets/README.md: they tell MNIST
    # from Fashion-MNIST (a trap seen when both were prepared in one dir).
    ("mnist", "train", 33.32, [5923, 6742, 5958]),
    ("fashion_mnist", "test", None, [1000, 1000, 1000]),
    ("fashion_mnist", "train", 72.94, [6000, 6000, 6000]),
])
def test_reads_the_dataset_it_names(name, split, mean_pixel, counts):
  arrays = data_lib.read_split(data_config(name=name), split, None)
  image, label = arrays["image"], arrays["label"]
  assert image.dtype == np.uint8 and image.shape[1:] == (28, 28, 1)
  assert arrays["num_classes"] == 10
  if mean_pixel is not None:
    assert image.mean() == pytest.approx(mean_pixel, abs=0.01)
  assert np.bincount(label)[:3].tolist() == counts


@requires_mnist
def test_binarized_mnist_is_binary_and_loads_in_unit_range():
  mesh = parallel.make_mesh()
  ds = data_lib.load(data_config(name="binarized_mnist", max_eval_examples=300),
                     mesh=mesh, eval_batch_size=128)
  assert ds.num_train == 50000 and ds.num_eval == 300
  assert ds.train_scale == 1.0
  assert float(ds.train["image"].mean()) == pytest.approx(0.1306, abs=1e-3)
  batch = ds.train_batch(ds.train, jnp.arange(64), jax.random.key(0))
  assert batch["image"].dtype == jnp.float32
  assert set(np.unique(np.asarray(batch["image"]))) <= {0.0, 1.0}
  # Eval padded to a multiple of the eval batch, padding masked out.
  assert ds.eval["mask"].shape == (384,) and float(ds.eval["mask"].sum()) == 300


@requires_mnist
def test_dynamic_binarisation_fresh_per_step_fixed_for_eval():
  mesh = parallel.make_mesh()
  cfg = data_config(name="mnist", binarize="dynamic", max_train_examples=256,
                    max_eval_examples=100)
  ds = data_lib.load(cfg, mesh=mesh, eval_batch_size=100)
  idx = jnp.arange(128)
  a = ds.train_batch(ds.train, idx, jax.random.key(1))["image"]
  b = ds.train_batch(ds.train, idx, jax.random.key(2))["image"]
  grey = np.asarray(ds.train["image"][:128], np.float32) / 255.0
  assert set(np.unique(np.asarray(a))) <= {0.0, 1.0}
  assert not np.array_equal(a, b)  # a fresh draw per key
  # Bernoulli(p) draws average to p.
  assert float(jnp.mean(a)) == pytest.approx(grey.mean(), abs=0.01)
  ds2 = data_lib.load(cfg, mesh=mesh, eval_batch_size=100)
  np.testing.assert_array_equal(ds.eval["image"], ds2.eval["image"])
  assert set(np.unique(np.asarray(ds.eval["image"]))) <= {0, 1}


def test_epoch_permutation_visits_every_example_once():
  key = jax.random.key(0)
  p0 = np.asarray(data_lib.epoch_permutation(key, 0, 1000))
  p1 = np.asarray(data_lib.epoch_permutation(key, 1, 1000))
  assert sorted(p0.tolist()) == list(range(1000))
  assert not np.array_equal(p0, p1)


def test_missing_dataset_gives_a_clear_error(tmp_path):
  cfg = data_config(name="mnist", data_dir=str(tmp_path), download=False)
  with pytest.raises(DataError) as err:
    data_lib.read_split(cfg, "train", None)
  message = str(err.value)
  assert "'mnist' is not prepared" in message and str(tmp_path) in message
  assert "tfds build mnist" in message


def test_unknown_dataset_and_split_give_clear_errors(tmp_path):
  with pytest.raises(DataError, match="unknown TFDS dataset 'mnistt'"):
    data_lib.read_split(data_config(name="mnistt"), "train", None)


@requires_mnist
def test_unknown_split_is_named():
  with pytest.raises(DataError, match="no split 'validation'.*test, train"):
    data_lib.read_split(data_config(name="mnist"), "validation", None)


@requires_mnist
def test_split_cache_returns_what_tfds_decoded(tmp_path, monkeypatch):
  from genjax import split_cache
  monkeypatch.setenv("GENJAX_DATA_CACHE", str(tmp_path / "cache"))
  cfg = data_config(name="mnist")
  decoded = data_lib.read_split(cfg, "test", 300)  # by TFDS, then stored
  assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 1

  def decode_again(*args, **kwargs):
    raise AssertionError("decoded again")
  monkeypatch.setattr(data_lib, "_decode_split", decode_again)
  cached = data_lib.read_split(cfg, "test", 300)
  for key in ("image", "label"):
    assert cached[key].dtype == decoded[key].dtype
    np.testing.assert_array_equal(cached[key], decoded[key])
  assert cached["num_classes"] == decoded["num_classes"] == 10
  with pytest.raises(AssertionError, match="decoded again"):  # another spec, another entry
    data_lib.read_split(cfg, "test", 200)
  monkeypatch.setenv("GENJAX_DATA_CACHE", "off")
  with pytest.raises(AssertionError, match="decoded again"):
    data_lib.read_split(cfg, "test", 300)

  # Re-prepared data (a new dataset_info.json) is a miss, not stale arrays.
  monkeypatch.setenv("GENJAX_DATA_CACHE", str(tmp_path / "cache"))
  prepared = tmp_path / "mnist" / "3.0.1"
  prepared.mkdir(parents=True)
  (prepared / "dataset_info.json").write_text("{}")
  split_cache.save(str(prepared), "test", decoded)
  assert split_cache.load(str(prepared), "test")["label"].tolist() == decoded["label"].tolist()
  os.utime(prepared / "dataset_info.json", ns=(1, 1))
  assert split_cache.load(str(prepared), "test") is None


def test_split_cache_write_error_leaves_nothing_behind(tmp_path, monkeypatch):
  from genjax import split_cache
  monkeypatch.setenv("GENJAX_DATA_CACHE", str(tmp_path / "cache"))
  prepared = tmp_path / "mnist" / "3.0.1"
  prepared.mkdir(parents=True)
  (prepared / "dataset_info.json").write_text("{}")
  split = {"image": np.zeros((2, 28, 28, 1), np.uint8), "label": np.arange(2), "num_classes": 10}
  real_save = np.save

  def disk_full_on_labels(path, array):
    if str(path).endswith("label.npy"):
      raise OSError(28, "No space left on device")
    real_save(path, array)
  monkeypatch.setattr(split_cache.np, "save", disk_full_on_labels)
  split_cache.save(str(prepared), "test", split)  # no error: the cache is optional
  assert split_cache.load(str(prepared), "test") is None
  assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_dir()] == []
  monkeypatch.setattr(split_cache.np, "save", real_save)
  split_cache.save(str(prepared), "test", split)
  assert split_cache.load(str(prepared), "test")["label"].tolist() == [0, 1]


@requires_mnist
def test_a_split_missed_by_two_processes_is_decoded_once(tmp_path, monkeypatch):
  import threading
  from genjax import split_cache
  monkeypatch.setenv("GENJAX_DATA_CACHE", str(tmp_path / "cache"))
  cfg = data_config(name="mnist")
  decoded = data_lib.read_split(cfg, "test", 50)  # the arrays, then a fresh cache
  monkeypatch.setenv("GENJAX_DATA_CACHE", str(tmp_path / "cache2"))
  decodes = []
  monkeypatch.setattr(data_lib, "_decode_split", lambda *a: decodes.append(a) or decoded)
  import tensorflow_datasets as tfds
  dataset_dir = tfds.builder("mnist", data_dir=os.environ["TFDS_DATA_DIR"]).data_dir
  result = {}
  # Another process is decoding this split: a second reader waits for it,
  # then reads what it stored instead of decoding again.
  with split_cache.decoding(dataset_dir, "test[:50]"):
    reader = threading.Thread(target=lambda: result.update(data_lib.read_split(cfg, "test", 50)))
    reader.start()
    reader.join(timeout=1.0)
    assert reader.is_alive() and not decodes  # waiting on the lock
    split_cache.save(dataset_dir, "test[:50]", decoded)
  reader.join(timeout=30)
  assert not reader.is_alive() and not decodes
  np.testing.assert_array_equal(result["image"], decoded["image"])
