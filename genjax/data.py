"""TFDS image datasets kept whole on device, with batches drawn on device.

MNIST-size splits (60k 28x28 uint8 images = 47 MB) fit on any accelerator, so
genjax reads a split once with TFDS, stores it as uint8 on every device, and
the compiled training chunk gathers its own batches: no host input pipeline,
no per-step transfer. Pixels become float32 in [0, 1] only inside the step.

Batches follow epochs: each epoch is a fresh permutation of the training set
drawn from (seed, epoch), and step s of the run reads rows
[i * B, (i + 1) * B) of its epoch's permutation (the last partial batch is
dropped). A batch is therefore a function of the step alone, which is what
makes a resumed run replay exactly the batches of an uninterrupted one.

Semi-supervised runs (`data.num_labelled` > 0) keep a balanced labelled
subset of the training set: `num_labelled / num_classes` examples of each
class, chosen at load time by `data.labelled_seed` (`choose_labelled`; or, with
`data.labelled_draw="salimans2016"`, the examples Salimans et al.'s MNIST
script labels with that seed: `salimans2016_labelled`). Every
training batch then also carries a labelled minibatch drawn from that subset
alone with the step's key, and a second unlabelled batch ("second_image":
rows drawn uniformly, with replacement, with the step's key) that the
semi-supervised GAN's generator matches features against, so that its
target is not the batch D has just stepped on (Salimans et al. 2016 draw it
from a second permutation). The unlabelled batch is unchanged (it still
walks the whole training set). With `num_labelled` = 0 (the default)
batches are exactly what they are without the feature.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from genjax import parallel, split_cache
from genjax.config import ConfigDict
from genjax.errors import DataError

Batch = dict[str, jax.Array]

# TensorFlow only decodes TFDS files here (this module is the only one that
# imports it), so keep its C++ start-up chatter off stderr, where it would
# precede a genjax error line: its info logs, and the oneDNN notice it prints
# on CPUs with AVX-512 VNNI (its oneDNN graph rewrites buy nothing here). Set
# before TFDS first imports TF; a user's own settings win.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

# One fixed draw for evaluation under dynamic binarisation, the same for every
# run and seed, so test likelihoods are comparable across runs.
_EVAL_BINARIZATION_SEED = 20160229


@dataclasses.dataclass(frozen=True)
class Dataset:
  """A dataset resident on device.

  Attributes:
    name: the TFDS name.
    train: {"image": uint8 [N, H, W, C], "label": int32 [N]}, replicated
      (toy datasets: float32 points [N, D]).
    eval: {"image", "label", "mask"}: the eval split padded to a multiple of
      the eval batch size; `mask` is 1 for real rows, 0 for padding.
    num_train: number of training examples.
    num_eval: number of real (unpadded) eval examples.
    image_shape: (H, W, C).
    num_classes: label classes (0 when the dataset has no labels).
    train_scale: divide train pixels by this to get [0, 1].
    eval_scale: the same for eval pixels (1 after a fixed binarisation).
    binarize: "none" or "dynamic".
    labelled_indices: int32 [L] rows of `train` whose labels a
      semi-supervised method may use (balanced over classes); None when
      `data.num_labelled` is 0.
  """
  name: str
  train: dict[str, jax.Array]
  eval: dict[str, jax.Array]
  num_train: int
  num_eval: int
  image_shape: tuple[int, int, int]
  num_classes: int
  train_scale: float
  eval_scale: float
  binarize: str
  labelled_indices: np.ndarray | None = None

  def train_batch(self, train: dict[str, jax.Array], indices: jax.Array,
                  rng: jax.Array) -> Batch:
    """Gathers a float batch from the device-resident train split (jit-able).

    Args:
      train: `self.train`, passed in as a jit argument (closing over it
        would bake 47 MB of constants into the compiled program).
      indices: int32 [B] row indices.
      rng: key for dynamic binarisation (unused otherwise).

    Returns:
      {"image": float32 [B, H, W, C] in [0, 1], "label": int32 [B]}; with a
      labelled subset also "labelled_image" [B, H, W, C] and
      "labelled_label" [B] (`labelled_batch`), and "second_image" [B, H, W, C]
      (B rows of the whole training set, drawn with `rng`).
    """
    batch = {"image": self._pixels(train["image"][indices], rng),
             "label": train["label"][indices]}
    if self.labelled_indices is not None:
      batch.update(self.labelled_batch(train, indices.shape[0], jax.random.fold_in(rng, 1)))
      key = jax.random.fold_in(rng, 2)
      rows = jax.random.randint(key, indices.shape, 0, self.num_train)
      batch["second_image"] = self._pixels(train["image"][rows], jax.random.fold_in(key, 1))
    return batch

  def labelled_batch(self, train: dict[str, jax.Array], size: int, rng: jax.Array) -> Batch:
    """`size` examples of the labelled subset, as a shuffled tiling of it (jit-able).

    A random permutation of the subset repeated to `size` rows: with `size` a
    multiple of the subset's size every labelled example appears equally
    often, so the batch stays exactly as balanced as the subset.

    Returns:
      {"labelled_image": float32 [size, H, W, C], "labelled_label": int32 [size]}.
    """
    subset = jnp.asarray(self.labelled_indices)
    order = jax.random.permutation(jax.random.fold_in(rng, 0), subset)
    rows = jnp.tile(order, -(-size // subset.shape[0]))[:size]
    return {"labelled_image": self._pixels(train["image"][rows], jax.random.fold_in(rng, 1)),
            "labelled_label": train["label"][rows]}

  def _pixels(self, x: jax.Array, rng: jax.Array) -> jax.Array:
    """Stored train pixels as float32 in [0, 1]; a fresh Bernoulli draw if dynamic."""
    x = x.astype(jnp.float32) / self.train_scale
    if self.binarize == "dynamic":
      x = jax.random.bernoulli(rng, x).astype(jnp.float32)
    return x

  def eval_batch(self, eval_arrays: dict[str, jax.Array], start: jax.Array,
                 size: int) -> Batch:
    """Slices eval rows [start, start + size) as floats, with their mask."""
    rows = {k: jax.lax.dynamic_slice_in_dim(v, start, size)
            for k, v in eval_arrays.items()}
    rows["image"] = rows["image"].astype(jnp.float32) / self.eval_scale
    return rows

  def images(self, split: str, n: int | None = None) -> jax.Array:
    """The first n (default all) real images of "train" or "eval", float32
    [n, H, W, C] in [0, 1] (eval: no padding rows; dynamic binarisation: the
    pixel probabilities). Toy datasets: their float points."""
    rows, scale, total = ((self.train, self.train_scale, self.num_train) if split == "train"
                          else (self.eval, self.eval_scale, self.num_eval))
    return rows["image"][:total if n is None else min(n, total)].astype(jnp.float32) / scale

  def labels(self, split: str, n: int | None = None) -> jax.Array:
    """The labels of `images(split, n)`, int32 [n]."""
    rows, total = (self.train, self.num_train) if split == "train" else (self.eval, self.num_eval)
    return rows["label"][:total if n is None else min(n, total)]

  def steps_per_epoch(self, batch_size: int) -> int:
    return max(self.num_train // batch_size, 1)


def epoch_permutation(rng: jax.Array, epoch: jax.Array, num_examples: int) -> jax.Array:
  """The order in which `epoch` visits the training set (jit-able)."""
  return jax.random.permutation(jax.random.fold_in(rng, epoch), num_examples)


def choose_labelled(labels: np.ndarray, num_labelled: int, num_classes: int,
                    seed: int) -> np.ndarray:
  """A balanced labelled subset: num_labelled / num_classes rows of each class.

  Args:
    labels: int [N] training labels.
    num_labelled: the subset's size, a multiple of `num_classes`.
    num_classes: K.
    seed: picks the rows; the same seed gives the same subset.

  Returns:
    int32 [num_labelled] sorted row indices.

  Raises:
    DataError: a size that does not split evenly over the classes, or a
      class with fewer examples than its share.
  """
  per_class = _per_class(labels, num_labelled, num_classes)
  rng = np.random.default_rng(seed)
  chosen = [rng.choice(np.flatnonzero(labels == k), per_class, replace=False)
            for k in range(num_classes)]
  return np.sort(np.concatenate(chosen)).astype(np.int32)


def _per_class(labels: np.ndarray, num_labelled: int, num_classes: int) -> int:
  """num_labelled / num_classes, checked against the classes' sizes."""
  if num_classes < 1 or num_labelled % num_classes:
    raise DataError(f"config.data.num_labelled={num_labelled} must be a multiple of the "
                    f"dataset's {num_classes} classes (a balanced subset)")
  per_class = num_labelled // num_classes
  for k in range(num_classes):
    if (labels == k).sum() < per_class:
      raise DataError(f"config.data.num_labelled={num_labelled} needs {per_class} "
                      f"examples of class {k}; the training split has {(labels == k).sum()}")
  return per_class


# MNIST's training labels as they open its source file (train-labels-idx1-ubyte):
# what `salimans2016_labelled` checks its recovered file order against.
_MNIST_TRAIN_FIRST_LABELS = (5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5, 3, 6, 1, 7, 2, 8, 6, 9)


def tfds_source_order(num_examples: int, split: str) -> np.ndarray:
  """int [N]: for each row of a TFDS split, its example's index in the source file.

  TFDS writes a split's examples sorted by the md5 of split name + key, and
  datasets such as mnist key each example by its index in the source file;
  sorting those indices the same way gives the rows' source indices.
  """
  salted = hashlib.md5(split.encode())

  def row_key(index: int) -> bytes:
    md5 = salted.copy()
    md5.update(str(index).encode())
    return md5.digest()  # big-endian bytes sort as TFDS's 128-bit integers

  return np.array(sorted(range(num_examples), key=row_key))


def salimans2016_labelled(labels: np.ndarray, num_labelled: int, num_classes: int,
                          seed: int) -> np.ndarray:
  """The labelled subset Salimans et al.'s MNIST script draws with `--seed_data=seed`.

  Their train_mnist_feature_matching.py permutes MNIST's training set, in its
  source file's order, with `np.random.RandomState(seed_data)` and labels the
  first num_labelled / K examples of each class in that order (their default
  seed_data is 1). This finds the same examples among TFDS's rows.

  Args:
    labels: int [60000] TFDS mnist's whole "train" split, in TFDS's row order.
    num_labelled, num_classes, seed: as `choose_labelled`.

  Returns:
    int32 [num_labelled] sorted TFDS row indices.

  Raises:
    DataError: `labels` are not MNIST's whole training split in TFDS's order.
  """
  per_class = _per_class(labels, num_labelled, num_classes)
  source = tfds_source_order(len(labels), "train")
  in_file_order = np.empty_like(labels)
  in_file_order[source] = labels
  if len(labels) != 60000 or tuple(in_file_order[:20]) != _MNIST_TRAIN_FIRST_LABELS:
    raise DataError("config.data.labelled_draw='salimans2016' needs TFDS mnist's whole "
                    "'train' split (their draw is defined on MNIST's file order)")
  order = np.random.RandomState(seed).permutation(len(labels))
  chosen = [order[in_file_order[order] == k][:per_class] for k in range(num_classes)]
  row_of = np.argsort(source)  # source index -> TFDS row
  return np.sort(row_of[np.concatenate(chosen)]).astype(np.int32)


# config.data.labelled_draw -> how the labelled subset is chosen.
LABELLED_DRAWS = {"genjax": choose_labelled, "salimans2016": salimans2016_labelled}


def tfds_data_dir(data: ConfigDict) -> str | None:
  """The data dir TFDS will search: config first, then $TFDS_DATA_DIR."""
  return data.data_dir or os.environ.get("TFDS_DATA_DIR") or None


def _hide_accelerators_from_tensorflow() -> None:
  # TF would otherwise grab GPU memory (or TPU) that JAX needs; TFDS only
  # needs TF's CPU input ops.
  import tensorflow as tf
  try:
    tf.config.set_visible_devices([], "GPU")
    tf.config.set_visible_devices([], "TPU")
  except (RuntimeError, ValueError):
    pass  # already initialised, or no such device type


def read_split(data: ConfigDict, split: str, max_examples: int | None) -> dict[str, np.ndarray]:
  """Reads a whole TFDS split into host numpy arrays.

  Raises:
    DataError: unknown dataset or split, data not prepared and not
      downloadable, or no `image` feature; the message says where TFDS
      looked and how to fix it.
  """
  if data.name.startswith("toy_"):
    # Synthetic low-dimensional distributions with known densities (GAN toys):
    # float32 points [N, D] instead of images, sampled, never downloaded.
    from genjax import toy_data
    return toy_data.sample_split(data.name, split, max_examples)
  import tensorflow_datasets as tfds  # imports TensorFlow only when a split is decoded

  data_dir = tfds_data_dir(data)
  searched = data_dir or f"TFDS's default ({os.path.expanduser('~/tensorflow_datasets')})"
  try:
    builder = tfds.builder(data.name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError:
    raise DataError(
        f"unknown TFDS dataset {data.name!r}; use a TFDS name such as "
        "mnist, fashion_mnist, binarized_mnist or cifar10") from None
  if not builder.is_prepared():
    fix = (f"prepare it with `tfds build {data.name} --data_dir=DIR` on a "
           "machine with internet access (or `--manual_dir` with the source "
           "files), then set TFDS_DATA_DIR=DIR or --config.data.data_dir=DIR")
    if not data.download:
      raise DataError(
          f"dataset {data.name!r} is not prepared in {searched} and "
          f"config.data.download is False; {fix}")
    if not _can_reach(_TFDS_HOST):
      raise DataError(
          f"dataset {data.name!r} is not prepared in {searched} and {_TFDS_HOST} "
          f"cannot be reached (offline?) to download it; {fix}")
    try:
      _hide_accelerators_from_tensorflow()
      builder.download_and_prepare()
    except Exception as e:  # network errors come in many types
      raise DataError(
          f"dataset {data.name!r} is not prepared in {searched} and the "
          f"download failed ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
          f"{fix}") from None
  if split.split("[")[0] not in builder.info.splits:
    raise DataError(
        f"dataset {data.name!r} has no split {split!r}; it has "
        f"{', '.join(sorted(builder.info.splits))}")
  spec = split if max_examples is None else f"{split}[:{max_examples}]"
  cached = split_cache.load(builder.data_dir, spec)
  if cached is not None:
    return cached
  with split_cache.decoding(builder.data_dir, spec):
    cached = split_cache.load(builder.data_dir, spec)  # stored while we waited?
    if cached is not None:
      return cached
    result = _decode_split(builder, data.name, spec)
    split_cache.save(builder.data_dir, spec, result)
  return result


def _decode_split(builder: Any, name: str, spec: str) -> dict[str, np.ndarray]:
  """A split read and decoded by TFDS (TensorFlow's input ops) into numpy."""
  import tensorflow_datasets as tfds
  _hide_accelerators_from_tensorflow()
  arrays = tfds.as_numpy(builder.as_dataset(split=spec, batch_size=-1))
  if "image" not in arrays:
    raise DataError(f"dataset {name!r} has no 'image' feature")
  image = arrays["image"]
  if image.ndim != 4:
    raise DataError(
        f"dataset {name!r}: expected images [N, H, W, C], got shape "
        f"{image.shape}")
  label = arrays.get("label", np.zeros(len(image), np.int64))
  return {"image": image.astype(np.uint8), "label": label.astype(np.int32),
          "num_classes": _num_classes(builder)}


# TFDS downloads from Google Cloud Storage first (its mirror of every dataset).
_TFDS_HOST = "https://storage.googleapis.com"


def _can_reach(url: str, timeout_s: float = 5.0) -> bool:
  """One quick request (proxies honoured), so an offline machine fails in
  seconds instead of minutes of TFDS's retries with backoff."""
  import urllib.error
  import urllib.request
  try:
    urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout_s)
  except urllib.error.HTTPError:
    return True  # the server answered
  except (OSError, ValueError):
    return False
  return True


def _pixel_scale(images: np.ndarray) -> float:
  if np.issubdtype(images.dtype, np.floating) or images.max() <= 1:
    return 1.0
  return 255.0


def _num_classes(builder: Any) -> int:
  features = builder.info.features
  if "label" not in features.keys():
    return 0
  return int(getattr(features["label"], "num_classes", 0) or 0)


def _eval_pixels(data: ConfigDict, images: np.ndarray) -> tuple[np.ndarray, float]:
  """(eval images, their scale): dynamically binarised runs evaluate on one
  fixed binarisation (the same in every run), so their numbers compare."""
  scale = _pixel_scale(images)
  if data.binarize != "dynamic":
    return images, scale
  rng = np.random.default_rng(_EVAL_BINARIZATION_SEED)
  p = images.astype(np.float32) / scale
  return (rng.uniform(size=p.shape) < p).astype(np.uint8), 1.0


def eval_examples(data: ConfigDict, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """The first n (default all) eval examples exactly as a run's eval sees
  them, read on the host: (float32 images [n, H, W, C] in [0, 1], int32
  labels [n]). For evaluating a loaded model (`genjax.load(...).config.data`).

  Raises:
    DataError: as `read_split`.
  """
  evals = read_split(data, data.eval_split, data.max_eval_examples)
  images, scale = _eval_pixels(data, evals["image"][:n])
  return images.astype(np.float32) / scale, evals["label"][:n]


def load(data: ConfigDict, *, mesh: Mesh, eval_batch_size: int) -> Dataset:
  """Loads train and eval splits onto every device.

  Args:
    data: the config's `data` group.
    mesh: the device mesh; arrays are replicated over it.
    eval_batch_size: the eval split is padded to a multiple of it.

  Returns:
    A `Dataset`.
  """
  train = read_split(data, data.train_split, data.max_train_examples)
  evals = read_split(data, data.eval_split, data.max_eval_examples)
  if train["image"].shape[1:] != evals["image"].shape[1:]:
    raise DataError("train and eval images differ in shape")
  # binarized_mnist is stored as {0, 1}, other images as 0..255, toy points as floats.
  train_scale = _pixel_scale(train["image"])
  eval_image, eval_scale = _eval_pixels(data, evals["image"])
  num_eval = len(eval_image)
  pad = (-num_eval) % eval_batch_size
  eval_arrays = {
      "image": np.concatenate([eval_image, np.zeros((pad,) + eval_image.shape[1:], eval_image.dtype)]),
      "label": np.concatenate([evals["label"], np.zeros(pad, np.int32)]),
      "mask": np.concatenate([np.ones(num_eval, np.float32), np.zeros(pad, np.float32)]),
  }
  num_labelled = data.get("num_labelled", 0) or 0
  labelled = None
  if num_labelled:
    draw = LABELLED_DRAWS[data.get("labelled_draw", "genjax")]
    labelled = draw(train["label"], num_labelled, train["num_classes"],
                    data.get("labelled_seed", 0))
  return Dataset(
      name=data.name,
      train=parallel.put_replicated({"image": train["image"], "label": train["label"]}, mesh),
      eval=parallel.put_replicated(eval_arrays, mesh),
      num_train=len(train["image"]),
      num_eval=num_eval,
      image_shape=tuple(train["image"].shape[1:]),  # (D,) for toy points
      num_classes=train["num_classes"],
      train_scale=train_scale,
      eval_scale=eval_scale,
      binarize=data.binarize,
      labelled_indices=labelled,
  )
