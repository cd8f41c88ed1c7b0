"""The models shipped in pretrained/: each reproduces its recorded headline metric.

`scripts/pretrained.py export` measured each headline (genjax.zoo.headline)
on the shipped float16 weights; here it is recomputed from the files, so a
shipped model can never silently stop matching its numbers (a changed
architecture, loader or evaluator fails this test).
"""

from __future__ import annotations

import json
import os

import pytest

import genjax
from genjax import zoo
from genjax.errors import UserError

from conftest import requires_mnist

pytestmark = requires_mnist

EXPECTED = ("vae_mnist", "conv_vae_2d", "cgan_mnist", "infogan_mnist", "dcgan_mnist")
# How far a recomputation may land from the recorded value: the computation
# is the same, so only float reassociation across machines / XLA versions moves it.
TOLERANCE = {"nll_k100": 0.05, "frechet_distance": 0.5, "conditional_accuracy": 0.005,
             "c1_hungarian_accuracy": 0.005}
MAX_TOTAL_BYTES = 30 * 10**6  # the 30 MB, decimal


def _provenance(name: str) -> dict:
  with open(os.path.join(zoo.DIRECTORY, name, zoo.PROVENANCE)) as f:
    return json.load(f)


def test_shipped_models_and_their_size():
  assert set(zoo.names()) == set(EXPECTED)
  total = sum(os.path.getsize(os.path.join(root, f))
              for root, _, files in os.walk(zoo.DIRECTORY) for f in files)
  assert total <= MAX_TOTAL_BYTES, f"pretrained/ holds {total / 1e6:.2f} MB"
  for name in EXPECTED:
    p = _provenance(name)
    assert p["command"].startswith("python -m genjax.main --config=configs/"), p["command"]
    assert p["trained"][:2] == "20" and p["step"] > 0 and p["final_metrics"]["eval"]


@pytest.mark.parametrize("name", EXPECTED)
def test_pretrained_reproduces_its_headline(name):
  recorded = _provenance(name)["headline"]
  model = genjax.pretrained(name)
  assert model.step == _provenance(name)["step"]
  measured = zoo.headline(model)
  assert measured.keys() == recorded.keys()
  for key, value in recorded.items():
    assert abs(measured[key] - value) <= TOLERANCE[key], (key, measured[key], value)


def test_unknown_pretrained_name_is_one_user_error():
  with pytest.raises(UserError, match="no pretrained model 'vae'; shipped: "):
    genjax.pretrained("vae")
