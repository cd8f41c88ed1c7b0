r"""A small MNIST / Fashion-MNIST classifier whose features score generative models.

FID-style metrics need a feature space in which "looks like a real digit" is
a short distance. The usual choice, Inception-v3 on ImageNet, is a download
of ~100 MB and sees 28x28 grey digits as upsampled oddities. For MNIST-scale
data a small convnet trained by this project does the job without any
download, as in the GAN literature's "MNIST classifier score" (Salimans et
al. 2016 report the same construction for MNIST): its penultimate layer is
the feature space, its softmax the label distribution p(y | x).

Architecture (all "fast" convolutions, 3x3, ReLU, SAME padding):

    28x28x1 -> conv 32 /1 -> conv 32 /2 -> conv 64 /2 -> conv 64 /2 (4x4x64)
            -> dense 128 (ReLU: the feature layer) -> dense 10 (logits)

About 197k parameters; the weights ship in `assets/<dataset>_classifier.msgpack`
stored as float16 (~400 KB), built by `scripts/train_eval_classifier.py`
(deterministic given its seed). The msgpack also records the test accuracy
the stored (float16-rounded) weights reached, so a metric can report it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from genjax.models.conv import conv_layers

ASSETS = os.path.join(os.path.dirname(__file__), "assets")
FEATURE_DIM = 128


class Classifier(nn.Module):
  """Convnet classifier returning (logits [B, K], features [B, FEATURE_DIM])."""
  num_classes: int = 10
  features: tuple[int, ...] = (32, 32, 64, 64)
  strides: tuple[int, ...] = (1, 2, 2, 2)
  width: int = FEATURE_DIM
  conv_impl: str = "fast"

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    conv, _ = conv_layers(self.conv_impl)
    for f, s in zip(self.features, self.strides):
      x = nn.relu(conv(f, (3, 3), strides=s, padding="SAME")(x))
    x = x.reshape(x.shape[0], -1)
    h = nn.relu(nn.Dense(self.width)(x))
    return nn.Dense(self.num_classes)(h), h


def asset_path(dataset_name: str) -> str:
  """Where the stored weights of the classifier for `dataset_name` live."""
  return os.path.join(ASSETS, f"{dataset_name}_classifier.msgpack")


def save(path: str, params: Any, meta: dict[str, Any]) -> int:
  """Writes float16 params plus metadata (test accuracy, ...) as msgpack.

  Returns:
    The number of bytes written.
  """
  half = jax.tree.map(lambda p: np.asarray(p, np.float16), params)
  blob = serialization.msgpack_serialize({"params": half, "meta": dict(meta)})
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  with open(path, "wb") as f:
    f.write(blob)
  return len(blob)


def available(dataset_name: str) -> bool:
  return os.path.exists(asset_path(dataset_name))


def for_dataset(dataset_name: str) -> str | None:
  """The shipped classifier that can judge images of `dataset_name`, or None.

  Binarised MNIST digits are still MNIST digits: the MNIST classifier reads
  them (it was trained on grey levels, so they are slightly out of
  distribution, which only makes its judgements stricter).
  """
  name = {"binarized_mnist": "mnist"}.get(dataset_name, dataset_name)
  return name if available(name) else None


@functools.lru_cache(maxsize=4)
def load(dataset_name: str) -> tuple[Classifier, Any, dict[str, Any]]:
  """Loads the shipped classifier for `dataset_name` ("mnist", "fashion_mnist").

  Returns:
    (module, float32 params, meta) where meta holds e.g. "test_accuracy".

  Raises:
    FileNotFoundError: no weights for this dataset; the message says how to
      build them.
  """
  path = asset_path(dataset_name)
  if not os.path.exists(path):
    raise FileNotFoundError(
        f"no evaluation classifier for {dataset_name!r} at {path}; build it with "
        f"`python scripts/train_eval_classifier.py --dataset={dataset_name}`")
  with open(path, "rb") as f:
    tree = serialization.msgpack_restore(f.read())
  params = jax.tree.map(lambda p: jnp.asarray(p, jnp.float32), tree["params"])
  meta = {k: (v.item() if hasattr(v, "item") else v) for k, v in tree["meta"].items()}
  return Classifier(), params, meta
