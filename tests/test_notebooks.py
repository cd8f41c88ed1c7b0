"""The lecture's notebooks (notebooks/*.ipynb) run top to bottom in QUICK mode.

Each notebook is executed with nbclient in a fresh kernel of this Python
(QUICK=1: every live training at its config's :runlocal size; the pretrained
models of `pretrained/` as shipped), in memory: the committed notebooks, with
their full-mode outputs, are never written back. A cell error fails the test
with the cell's traceback; then the notebook's figures and its closing
`SUMMARY {...}` line are checked.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import REPO, requires_mnist

NOTEBOOKS = REPO / "notebooks"
KERNEL = "genjax-notebook-test"
# name -> (pretrained models it loads, least number of figures it shows)
EXPECTED = {
    "autoencoders": ((), 8),
    "vae": (("conv_vae_2d", "vae_mnist"), 7),
    "gans": (("dcgan_mnist", "cgan_mnist", "infogan_mnist"), 10),
}
# Below what the shipped GANs measure (pretrained/*/provenance.json: cGAN 0.93,
# InfoGAN 0.70), far above chance (0.1; about 0.2 for ten random clusters
# after the best matching): a broken model or loader fails.
CGAN_ACCURACY, C1_ACCURACY = 0.8, 0.55


def _install_kernel(root) -> None:
  """A kernel spec under `root` that runs ipykernel in this very interpreter,
  so the notebooks see this environment's genjax whatever other kernels exist."""
  spec = root / "kernels" / KERNEL
  spec.mkdir(parents=True)
  (spec / "kernel.json").write_text(json.dumps({
      "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
      "display_name": "genjax tests", "language": "python"}))


def _figures(nb) -> int:
  return sum("image/png" in out.get("data", {})
             for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)


def _summary(nb) -> dict:
  """The JSON of the notebook's `SUMMARY {...}` line."""
  for cell in nb.cells:
    text = "".join(out.get("text", "") for out in cell.get("outputs", []))
    for line in text.splitlines():
      if line.startswith("SUMMARY "):
        return json.loads(line[len("SUMMARY "):])
  raise AssertionError("the notebook printed no SUMMARY line")


def _check_summary(name: str, s: dict, full: bool) -> None:
  """Checks that can fail on a notebook's SUMMARY numbers: in QUICK mode those
  that need no trained model or use the shipped ones; after a full run also
  the lecture's claims as the committed outputs state them."""
  bad = {k: v for k, v in s.items() if not (isinstance(v, (int, float)) and math.isfinite(v))}
  assert not bad, f"non-finite numbers in {name}'s summary: {bad}"
  if name == "autoencoders":
    assert 0.0 <= s["linear_ae_median_angle_deg"] <= s["linear_ae_max_angle_deg"] <= 90.0
    assert 0.0 < s["sparse_mean_activation"] < 1.0
    sigmas = [k.removeprefix("psnr_noisy_sigma") for k in s if k.startswith("psnr_noisy_sigma")]
    assert sigmas == (["0.5", "1.0"] if full else ["0.5"])
    for sigma in sigmas:
      # The median filters need no training: they beat the noisy input.
      best_median = max(s[f"psnr_median_3x3_sigma{sigma}"], s[f"psnr_median_5x5_sigma{sigma}"])
      assert best_median > s[f"psnr_noisy_sigma{sigma}"]
      if full:  # Figure 4's claim: both DAEs beat the better median filter clearly
        assert s[f"psnr_MLP_DAE_sigma{sigma}"] > best_median + 2.0
        assert s[f"psnr_conv_DAE_sigma{sigma}"] > best_median + 2.0
    if full:
      assert s["linear_ae_median_angle_deg"] < 2.0   # PCA's subspace
      assert s["linear_ae_vs_pca_mse_ratio"] < 1.02
      assert 0.03 < s["sparse_mean_activation"] < 0.1  # rho = 0.05
      assert s["cae_jacobian_ratio"] > 2.0
  elif name == "vae":
    # The ELBO written out by hand and the model's own agree (10 draws each).
    assert abs(s["elbo_by_hand"] - s["elbo_by_model"]) < 0.02 * abs(s["elbo_by_model"]) + 1.0
    # The shipped models: IWAE-k tightens with k; the 2-D VAE's manifold shows every digit.
    ks = sorted(int(k.removeprefix("nll_k")) for k in s if k.startswith("nll_k"))
    nll = [s[f"nll_k{k}"] for k in ks]
    assert ks[0] == 1 and nll == sorted(nll, reverse=True)
    assert s["manifold_digits"] == 10
    if full:
      assert ks[-1] == 5000 and nll[-1] < s["neg_elbo_pretrained"] - 3.0
  elif name == "gans":
    # The shipped models: the cGAN draws the digits asked for, InfoGAN's c1
    # finds the classes, and real training images are closer to the test set
    # than any GAN's samples.
    assert s["cgan_accuracy"] > CGAN_ACCURACY and s["c1_accuracy"] > C1_ACCURACY
    assert all(s["fd_real"] < s[f"fd_{g}"] for g in ("DCGAN", "cGAN", "InfoGAN"))
    if full:
      assert s["od_weighted_gap"] < 0.05  # a D trained against a frozen G reaches D*
      assert s["early_grad_ratio"] < 0.5  # minimax's G gradient saturates early


@pytest.mark.slow
@requires_mnist
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_in_quick_mode(name, tmp_path, monkeypatch):
  from genjax import zoo
  pretrained, min_figures = EXPECTED[name]
  missing = sorted(set(pretrained) - set(zoo.names()))
  assert not missing, (f"{name}.ipynb needs pretrained/{', '.join(missing)}: "
                       "python scripts/pretrained.py export")
  path = NOTEBOOKS / f"{name}.ipynb"
  before = hashlib.sha256(path.read_bytes()).hexdigest()
  _install_kernel(tmp_path / "jupyter")
  monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
  # Connection files and IPython's profile in the test's directory, not $HOME.
  monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter_runtime"))
  monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
  monkeypatch.setenv("QUICK", "1")
  monkeypatch.setenv("GENJAX_NOTEBOOK_RUNS", str(tmp_path / "runs"))
  monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")

  nb = nbformat.read(path, as_version=4)
  client = NotebookClient(nb, kernel_name=KERNEL, timeout=600,
                          resources={"metadata": {"path": str(NOTEBOOKS)}})
  try:
    client.execute()
  except CellExecutionError as e:
    pytest.fail(f"{name}.ipynb failed in QUICK mode:\n{e}", pytrace=False)

  assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # not written back
  code = [c for c in nb.cells if c.cell_type == "code"]
  assert all(c.execution_count for c in code)
  assert "QUICK=True" in "".join(o.get("text", "") for o in code[0].outputs)
  assert _figures(nb) >= min_figures
  _check_summary(name, _summary(nb), full=False)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_notebook_has_full_run_outputs(name):
  """The committed notebooks read well on a repository viewer: executed in
  full mode (not QUICK), every code cell run in order, no errors, figures."""
  nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
  nbformat.validate(nb)
  code = [c for c in nb.cells if c.cell_type == "code"]
  assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
  assert not [o for c in code for o in c.outputs if o.output_type == "error"]
  assert "QUICK=False" in "".join(o.get("text", "") for o in code[0].outputs)
  assert _figures(nb) >= EXPECTED[name][1]
  _check_summary(name, _summary(nb), full=True)
