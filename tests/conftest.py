"""Shared test set-up: offline TFDS data, quiet logs, small helpers."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_TFDS = REPO.parent / "shared" / "tensorflow_datasets"

# Tests never touch the network: use the offline copy when it is beside the
# repository (as in CI) unless the caller chose a data dir.
if "TFDS_DATA_DIR" not in os.environ and SHARED_TFDS.is_dir():
  os.environ["TFDS_DATA_DIR"] = str(SHARED_TFDS)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Test speed (set before JAX is imported; subprocesses inherit them). The
# tests' models are tiny, so XLA's compile time dominates: most optimisation
# passes off halves a runlocal DCGAN's CPU time (62 s -> 32 s measured), and
# a compilation cache shared by every test process, in-process and launched,
# compiles each repeated computation once. Numbers stay deterministic; set
# GENJAX_TEST_XLA_OPTIMIZE=1 to test with XLA's full optimisation instead.
if not os.environ.get("GENJAX_TEST_XLA_OPTIMIZE"):
  os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
  # XLA:CPU's elemental emitters compile a runlocal model in about half the
  # time of its (default) fusion emitters: a runlocal DCGAN's compiles 7.2 s
  # -> 3.4 s, its train chunk 2.1 s -> 0.9 s (jax 0.10.2; XLA aborts on a flag
  # it does not know, and pyproject pins jax to 0.10.x).
  _flags = os.environ.get("XLA_FLAGS", "")
  if "xla_cpu_use_fusion_emitters" not in _flags:
    os.environ["XLA_FLAGS"] = f"{_flags} --xla_cpu_use_fusion_emitters=false".strip()
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(REPO / ".pytest_cache" / "jax"))
# Decoded dataset splits (genjax.split_cache), shared the same way: TensorFlow
# is imported and a split decoded once per session, not in every process.
os.environ.setdefault("GENJAX_DATA_CACHE", str(REPO / ".pytest_cache" / "splits"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def pytest_xdist_auto_num_workers(config):
  """`-n auto` (pyproject's addopts): one worker more than the CPUs.

  A test spends part of its time waiting on a subprocess (launcher, sweep,
  notebook kernel) or in single-threaded tracing, so a spare worker keeps the
  cores busy: on the 2-core CI machine the warm suite took 271 s with two
  workers, 245 s with three and 247 s with four (2026-12-03). An explicit
  `-n N` or PYTEST_XDIST_AUTO_NUM_WORKERS still decides.
  """
  env = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
  if env:
    return int(env)
  cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
  return (cpus or 1) + 1


def pytest_collection_modifyitems(config, items):
  """Deals the tests marked `slow` evenly over the xdist workers' first chunks.

  `--dist worksteal` hands worker i the i-th contiguous share of the collected
  list and lets idle workers steal from the back of the longest queue. Put
  each slow test (a module marked as a whole counts as one: its module-scoped
  fixture runs once) at the front of its own share, round-robin, so that every
  worker starts on long tests and the run ends on short ones.
  """
  del config
  workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
  slow = [i for i in items if i.get_closest_marker("slow")]
  if workers < 2 or not slow:
    return
  units = {}  # one unit per marked module, else per test
  for item in slow:
    module = item.getparent(pytest.Module)
    units.setdefault(module.nodeid if module.get_closest_marker("slow") else item.nodeid,
                     []).append(item)
  shares = [[] for _ in range(workers)]
  for k, unit in enumerate(units.values()):
    shares[k % workers].extend(unit)
  fast = [i for i in items if not i.get_closest_marker("slow")]
  # The scheduler's share sizes: remaining // workers remaining, in order.
  ordered, left = [], len(items)
  for w in range(workers):
    size = left // (workers - w)
    ordered += shares[w] + fast[:max(size - len(shares[w]), 0)]
    del fast[:max(size - len(shares[w]), 0)]
    left -= size
  items[:] = ordered + fast


def _has_mnist() -> bool:
  data_dir = os.environ.get("TFDS_DATA_DIR")
  return bool(data_dir) and (pathlib.Path(data_dir) / "mnist").is_dir()


# Skipped with the reason on a machine without the data; under CI (CI=true)
# a missing dataset fails the tests instead of skipping their assertions.
requires_mnist = pytest.mark.skipif(
    not _has_mnist() and not os.environ.get("CI"),
    reason="needs prepared TFDS mnist: set TFDS_DATA_DIR (e.g. ../shared/tensorflow_datasets)")


def load_config(name: str, arg: str | None = None, **overrides):
  """Loads configs/<name>.py:get_config(arg) and applies dotted overrides."""
  from genjax.config import load_config_file
  return load_config_file(str(REPO / "configs" / f"{name}.py"), arg, overrides)


def run_launcher(*args: str, env: dict | None = None, timeout: float = 300,
                 **popen_kwargs) -> subprocess.CompletedProcess:
  """Runs `python -m genjax.main ARGS` from the repository root."""
  full_env = {**os.environ, **(env or {})}
  return subprocess.run([sys.executable, "-m", "genjax.main", *args], cwd=REPO,
                        env=full_env, capture_output=True, text=True,
                        timeout=timeout, **popen_kwargs)


def equations(jaxpr, primitive: str) -> list:
  """All equations of one primitive in a jaxpr, nested ones included."""
  import jax.extend
  found = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == primitive:
      found.append(eqn)
    for sub in jax.extend.core.jaxprs_in_params(eqn.params):
      found.extend(equations(sub, primitive))
  return found


def conv_equations(jaxpr) -> list:
  """All conv_general_dilated equations in a jaxpr, nested ones included."""
  return equations(jaxpr, "conv_general_dilated")


def experiment_results(path, tmp_path, num_verdicts: int, figures) -> dict:
  """Checks an experiment's report.md / results.json / figures; returns its results."""
  import json
  text = open(path).read()
  assert "**Claim.**" in text and "## Verdict" in text
  for figure in figures:
    assert figure in text and (tmp_path / figure).is_file(), figure
  results = json.loads((tmp_path / "results.json").read_text())
  assert len(results["verdicts"]) == num_verdicts
  # The report's verdict list says what results.json says, in the same order.
  from experiments import report as report_lib
  verdict_lines = [line for line in text.splitlines()
                   if line.startswith(("- AGREES: ", "- DISAGREES: ", "- INCONCLUSIVE: "))]
  assert verdict_lines == [report_lib.verdict_line(v["statement"], v["agrees"])
                           for v in results["verdicts"]]
  return results["results"]


def saved_metrics(run_dir) -> dict:
  """A run's final_metrics.json: {"eval": ..., "final": ...}."""
  import json
  return json.loads((pathlib.Path(run_dir) / "final_metrics.json").read_text())


def report_cells(*values) -> list[str]:
  """Values as an experiment's report tables print them."""
  from experiments import report as report_lib
  return [report_lib.format_cell(v) for v in values]


def verdict_agrees(workdir) -> list[bool]:
  """The `agrees` of each verdict in an experiment's results.json."""
  import json
  results = json.loads((pathlib.Path(workdir) / "results.json").read_text())
  return [v["agrees"] for v in results["verdicts"]]


def all_finite(*values) -> bool:
  import math
  return all(isinstance(v, float) and math.isfinite(v) for v in values)


class _FusionEmitterJax:
  """`jax`, except that `jit` compiles with XLA's fusion emitters."""

  def __getattr__(self, name):
    import jax
    return getattr(jax, name)

  @staticmethod
  def jit(*args, **kwargs):
    import jax
    return jax.jit(*args, compiler_options={"xla_cpu_use_fusion_emitters": True}, **kwargs)


@pytest.fixture
def fusion_emitters(monkeypatch):
  """For the optimal-discriminator tests, whose time goes to running compiled
  code, not compiling it: the `jax.jit`s of genjax.evaluation.optimal_discriminator
  (all top level) compile with XLA's default fusion emitters (code 2-2.5x
  faster there, compiles slower), not the suite's elemental ones (XLA_FLAGS above)."""
  from genjax.evaluation import optimal_discriminator
  monkeypatch.setattr(optimal_discriminator, "jax", _FusionEmitterJax())


@pytest.fixture(scope="session")
def ae_runlocal_run(tmp_path_factory):
  """One trained `ae_mnist:runlocal` workdir for the session: (workdir, final eval).

  Tests only read it; a test that needs to change a trained workdir copies it.
  """
  from genjax import train
  workdir = tmp_path_factory.mktemp("ae_runlocal")
  final = train.train_and_evaluate(load_config("ae_mnist", "runlocal"), str(workdir))
  return workdir, final


def run_launchers(cases: dict, timeout: float = 120) -> dict:
  """Runs `python -m genjax.main ARGS` for many cases, the imports paid once.

  One subprocess (tests/launcher_forks.py) imports the launcher and forks a
  child per case that runs `genjax.main.run()` with the case's argv and
  environment, a few at a time.

  Args:
    cases: {name: (args, extra_env or None)}.
    timeout: seconds after which a case is killed (its returncode is then -9).

  Returns:
    {name: (returncode, stdout, stderr)}.
  """
  import json
  import tempfile
  with tempfile.TemporaryDirectory() as out:
    spec = os.path.join(out, "cases.json")
    with open(spec, "w") as f:
      json.dump({n: {"args": a, "env": e or {}} for n, (a, e) in cases.items()}, f)
    subprocess.run([sys.executable, str(REPO / "tests" / "launcher_forks.py"), spec, out,
                    str(timeout)], cwd=REPO, check=True, timeout=timeout * len(cases))
    read = lambda name, ext: pathlib.Path(out, f"{name}.{ext}").read_text()
    return {n: (int(read(n, "rc")), read(n, "out"), read(n, "err")) for n in cases}
