r"""Training throughput of a config: scanned chunk vs per-step dispatch vs launcher.

    python scripts/benchmark.py --config=configs/ae_mnist.py --out=runs/bench_ae.json
    python scripts/benchmark.py --config=configs/conv_dae_mnist.py --compare=model.conv_impl=fast,flax \
        --config.steps_per_dispatch=10 --launcher_chunks=0

Measures, in one process on the real dataset:
  chunk      examples/s of the compiled `lax.scan` chunk (K = steps_per_dispatch
             steps per dispatch, state donated), steady state.
  minimal    examples/s of the shortest scanned loop of the same method step
             (`minimal_scan`): one fixed permutation, no epoch boundaries, the
             metrics the chunk computes at every step.
  per_step   examples/s of one jitted, donated step per dispatch, the loop a
             flax user writes: the host draws a permutation once per epoch
             (numpy) and passes each step's batch indices; the step gathers
             the batch from the device-resident split.
  launcher   examples/s the full `train.train_and_evaluate` loop reports
             (logging, NaN checks, checkpoints included; eval switched off).
  compile    seconds to compile the chunk.
  flops      XLA's FLOP count of one step, the achieved FLOP/s, and the same
             run's dense float32 matmul FLOP/s as the machine's practical peak.
  collectives  all-reduce / all-gather ops in the compiled step: the gradient
             all-reduce of data parallelism (run with
             XLA_FLAGS=--xla_force_host_platform_device_count=8 to see it).
  nll        with --nll_samples=k (VAEs): posterior samples decoded per second
             by the trained model's importance-sampled log-likelihood
             (`Model.log_likelihood`, chunked by `model.nll_chunk_size`), and
             that rate over the training chunk's examples/s.
  xla_options  with --xla_options=genjax,xla_default: every figure twice, with
             genjax's XLA:CPU options (`genjax.xla_options`) and XLA's defaults.
  host_memory  glibc keeps freed memory for reuse (`genjax.host_memory`, as the
             launcher sets it); --host_memory=default measures without.
  references   with --reference=pytorch,keras: examples/s of the same model in
             PyTorch eager and in Keras 3 `fit` (scripts/reference.py, run by
             --reference_python, an environment with torch / keras), timed in
             the same rounds, and genjax's chunk and per-step rates over each;
             `matmuls` (vae_mnist): the step's matrix products alone, the bound.

Chunk and per-step rounds are interleaved and medians reported, because this
is a shared, noisy machine: compare ratios from one run, not absolute numbers
across runs. Writes JSON (and prints it).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time

from absl import flags, logging
from ml_collections import config_flags

from genjax import cli
from genjax import config as config_lib
from genjax import host_memory
from genjax import xla_options

_CONFIG = cli.define_config_flag()
_OUT = flags.DEFINE_string("out", None, "Write the JSON result here too.")
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Interleaved timing rounds.")
_CHUNKS = flags.DEFINE_integer("chunks_per_round", 3, "Chunks timed per round.")
_LAUNCHER_CHUNKS = flags.DEFINE_integer(
    "launcher_chunks", 30, "Chunks the launcher run trains (0 skips it).")
_COMPARE = flags.DEFINE_string(
    "compare", None, "KEY=V1,V2: time one variant per value in the same run, "
    "e.g. model.conv_impl=fast,flax (ratios are first / others).")
_NLL_SAMPLES = flags.DEFINE_integer(
    "nll_samples", 0, "VAEs: also time Model.log_likelihood with this many samples (0: no).")
_XLA_OPTIONS = flags.DEFINE_list(
    "xla_options", ["genjax"], "genjax (genjax.xla_options: XLA:CPU's own convolutions) "
    "and/or xla_default (XLA's defaults); two values time both in the same run.")
_HOST_MEMORY = flags.DEFINE_enum(
    "host_memory", "keep", ["keep", "default"], "keep: genjax.host_memory.keep_freed_memory() "
    "first, as the launcher does; default: glibc's defaults (freed blocks over 32 MiB unmapped).")
_REFERENCE = flags.DEFINE_list(
    "reference", [], "Frameworks from scripts/reference.py timed in the same rounds "
    "(pytorch, keras, matmuls; +FLAG adds --FLAG, e.g. pytorch+fresh_noise); needs "
    "--reference_python.")
_REFERENCE_PYTHON = flags.DEFINE_string(
    "reference_python", None, "Python of an environment with torch / keras installed.")
_REFERENCE_MODEL = flags.DEFINE_string(
    "reference_model", None, "scripts/reference.py's --model (default: the config file's "
    "name, e.g. vae_mnist).")
flags.mark_flags_as_required(["config"])


def matmul_flops_per_sec(n: int = 1024, repeats: int = 20) -> float:
  """Dense float32 matmul rate on the default device: the practical peak."""
  import jax
  import jax.numpy as jnp
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  f = jax.jit(lambda x: x @ a)
  x = f(a).block_until_ready()
  best = float("inf")
  for _ in range(3):
    t = time.perf_counter()
    for _ in range(repeats):
      x = f(x * 1e-3)
    x.block_until_ready()
    best = min(best, time.perf_counter() - t)
  return 2 * n**3 * repeats / best


def minimal_scan(train_step, dataset, batch_size: int, num_steps: int):
  """The shortest scanned loop of the same method step, for comparison.

  One fixed permutation for every epoch (passed in), a key folded per step,
  no epoch boundaries, no sharding constraints: what a user would write to
  time the model alone. It computes the metrics the chunk computes at every
  step (a chunk of `train.SAMPLE_FROM_STEPS` steps or more computes gradient
  norms at its last step only; so does none of this loop's steps), so its gap
  to genjax's chunk is the price of genjax's loop (per-epoch permutations for
  exact resume, per-step key derivation, batch sharding).
  """
  import jax
  import jax.numpy as jnp
  from jax import lax
  from genjax import train as train_lib
  spe = dataset.steps_per_epoch(batch_size)
  every_metric = num_steps < train_lib.SAMPLE_FROM_STEPS

  def chunk(state, train, perm, start, rng):
    def body(state, i):
      step = start + i
      idx = lax.dynamic_slice_in_dim(perm, (step % spe) * batch_size, batch_size)
      key = jax.random.fold_in(rng, step)
      state, metrics = train_step(state, dataset.train_batch(train, idx, key), key)
      return state, metrics if every_metric else train_lib.unsampled(metrics)
    return lax.scan(body, state, jnp.arange(num_steps))

  return xla_options.jit(chunk, donate_argnums=0)


class Bench:
  """One config's compiled chunk and per-step functions, ready to time."""

  def __init__(self, config, options: str = "genjax"):
    import jax
    import jax.numpy as jnp
    from genjax import train

    self.config = config
    self.options = options
    with xla_options.enabled(options == "genjax"):  # for the jits built here
      self.trainer, _ = train.build(config)
      ds = self.trainer.dataset
      self.k, self.b = config.steps_per_dispatch, config.batch_size
      self.rng = jax.random.key(config.seed)
      self.state = self.trainer.init_state(self.rng)
      t = time.perf_counter()
      self.chunk = self.trainer.compiled_chunk.lower(
          self.state, ds.train, self.trainer.chunk_permutations(self.rng, 0, self.k),
          jnp.int32(0), self.rng, num_steps=self.k).compile()
      self.compile_s = time.perf_counter() - t
      # XLA counts a while loop's body once, so take FLOPs from the single step.
      step_compiled = self.trainer.train_step.lower(
          self.state, ds.train, jnp.zeros((self.b,), jnp.int32), self.rng).compile()
      cost = step_compiled.cost_analysis()
      cost = cost[0] if isinstance(cost, (list, tuple)) else cost
      self.flops_per_step = float(cost.get("flops", 0.0)) if cost else 0.0
      # With several devices, the gradient all-reduce XLA inserted shows up in the
      # compiled program (none with one device).
      self.collectives = {op: step_compiled.as_text().count(f" {op}(")
                          for op in ("all-reduce", "all-gather", "reduce-scatter")}
      self.minimal = minimal_scan(self.trainer.method.train_step, ds, self.b, self.k)
    self.minimal_perm = jax.random.permutation(self.rng, ds.num_train).astype(jnp.int32)
    self.step = 0
    self.perm = None
    self.chunk_rates: list[float] = []
    self.step_rates: list[float] = []
    self.minimal_rates: list[float] = []
    self.time_chunks(1)  # warm-up (first dispatch, allocation)
    self.time_steps(1)   # the per-step jit compiles here
    self.time_minimal(1)
    self.chunk_rates.clear()
    self.step_rates.clear()
    self.minimal_rates.clear()

  def _time_scans(self, n: int, run_chunk, rates: list[float]) -> None:
    """Times n calls of run_chunk(step) -> (state, metrics), K steps each."""
    import jax
    t = time.perf_counter()
    for _ in range(n):
      self.state, m = run_chunk(self.step)
      self.step += self.k
    jax.block_until_ready((self.state, m))
    rates.append(n * self.k * self.b / (time.perf_counter() - t))

  def time_chunks(self, n: int) -> None:
    import jax.numpy as jnp
    train = self.trainer.dataset.train
    self._time_scans(n, lambda step: self.chunk(
        self.state, train, self.trainer.chunk_permutations(self.rng, step, self.k),
        jnp.int32(step), self.rng), self.chunk_rates)

  def time_minimal(self, n: int) -> None:
    import jax.numpy as jnp
    train = self.trainer.dataset.train
    self._time_scans(n, lambda step: self.minimal(
        self.state, train, self.minimal_perm, jnp.int32(step), self.rng), self.minimal_rates)

  def time_steps(self, n: int) -> None:
    import jax
    import numpy as np
    ds = self.trainer.dataset
    spe = ds.steps_per_epoch(self.b)
    t = time.perf_counter()
    for _ in range(n):
      if self.step % spe == 0 or self.perm is None:  # a new epoch: one host shuffle
        self.perm = np.random.default_rng(self.step // spe).permutation(ds.num_train)
      start = (self.step % spe) * self.b
      indices = self.perm[start:start + self.b].astype(np.int32)
      self.state, m = self.trainer.train_step(self.state, ds.train, indices,
                                              jax.random.fold_in(self.rng, self.step))
      self.step += 1
    jax.block_until_ready((self.state, m))
    self.step_rates.append(n * self.b / (time.perf_counter() - t))

  def result(self) -> dict:
    import jax
    chunk = statistics.median(self.chunk_rates)
    per_step = statistics.median(self.step_rates)
    minimal = statistics.median(self.minimal_rates)
    achieved = self.flops_per_step * chunk / self.b
    return {
        "devices": jax.device_count(),
        "platform": jax.devices()[0].platform,
        "batch_size": self.b,
        "steps_per_dispatch": self.k,
        "compile_s": self.compile_s,
        "chunk_examples_per_sec": chunk,
        "per_step_examples_per_sec": per_step,
        "scan_speedup_over_per_step": chunk / per_step,
        "minimal_scan_examples_per_sec": minimal,
        "chunk_over_minimal_scan": chunk / minimal,
        "minimal_rounds": self.minimal_rates,
        "chunk_rounds": self.chunk_rates,
        "per_step_rounds": self.step_rates,
        "flops_per_step": self.flops_per_step,
        "achieved_flops_per_sec": achieved,
        "collectives_in_step": self.collectives,
    }


class Reference:
  """A scripts/reference.py process in --serve mode: one timed round per request."""

  def __init__(self, name: str, python: str, model: str, batch_size: int):
    import subprocess
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.py")
    framework, *options = name.split("+")  # e.g. pytorch+fresh_noise
    self.proc = subprocess.Popen(
        [python, script, f"--framework={framework}", f"--model={model}",
         f"--batch_size={batch_size}", "--serve", *(f"--{o}" for o in options)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    self.version = self._read()["ready"]  # waits for its warm-up to finish
    self.rates: list[float] = []

  def _read(self) -> dict:
    line = self.proc.stdout.readline()
    if not line:
      raise SystemExit(f"genjax: error: the reference process stopped (exit code "
                       f"{self.proc.wait()}); run scripts/reference.py by hand to see why")
    return json.loads(line)

  def time_steps(self, n: int) -> None:
    self.proc.stdin.write(f"{n}\n")
    self.proc.stdin.flush()
    self.rates.append(self._read()["examples_per_sec"])

  def close(self) -> dict:
    self.proc.stdin.close()
    self.proc.wait()
    return {"version": self.version, "examples_per_sec": statistics.median(self.rates),
            "rounds": self.rates}


def start_references(config, config_path: str) -> dict[str, Reference]:
  if not _REFERENCE.value:
    return {}
  if not _REFERENCE_PYTHON.value:
    raise SystemExit("genjax: error: --reference needs --reference_python (an environment "
                     "with torch / keras; see scripts/reference.py)")
  # The references hard-code each config's default model: a variant
  # (':runlocal') or a model override would compare different networks.
  config_path, _, variant = config_path.partition(":")  # PATH[:ARG]
  overrides = config_flags.get_override_values(flags.FLAGS["config"])
  if variant or any(key.startswith("model.") for key in overrides):
    raise SystemExit("genjax: error: --reference compares the config's default model; "
                     "drop the ':variant' and --config.model.* overrides")
  model = _REFERENCE_MODEL.value or os.path.splitext(os.path.basename(config_path))[0]
  return {name: Reference(name, _REFERENCE_PYTHON.value, model, config.batch_size)
          for name in _REFERENCE.value}


def reference_ratios(result: dict, references: dict[str, Reference]) -> None:
  """Adds each reference's result and genjax's first variant's rates over it."""
  first = next(iter(result["variants"].values()))
  result["references"] = {name: ref.close() for name, ref in references.items()}
  for name, ref in result["references"].items():
    for kind in ("chunk_examples_per_sec", "per_step_examples_per_sec"):
      result[f"genjax {kind} / {name}"] = first[kind] / ref["examples_per_sec"]


def nll_rate(bench: Bench, k: int, num_examples: int = 500, repeats: int = 3) -> dict:
  """Decoded posterior samples per second of the VAE's IWAE-k log-likelihood."""
  import numpy as np
  from genjax import train
  with xla_options.enabled(bench.options == "genjax"):  # for the model's jits
    model = train.trained_model(bench.trainer, bench.state, bench.step, None)
  x = np.random.default_rng(0).random((num_examples, *model.image_shape)) < 0.13
  model.log_likelihood(x, k=k)  # compiles
  times = []
  for _ in range(repeats):
    t = time.perf_counter()
    model.log_likelihood(x, k=k)
    times.append(time.perf_counter() - t)
  rate = num_examples * k / statistics.median(times)
  return {"nll_samples": k, "nll_decoded_samples_per_sec": rate,
          "nll_over_chunk": rate / statistics.median(bench.chunk_rates)}


def launcher_rate(config, num_chunks: int) -> dict:
  """Examples/s the full train_and_evaluate loop reports (eval/ckpt at the end only)."""
  from genjax import train, writers
  with tempfile.TemporaryDirectory() as workdir:
    cfg = config.copy_and_resolve_references()
    cfg.unlock()
    cfg.total_epochs = None
    cfg.total_steps = num_chunks * cfg.steps_per_dispatch
    cfg.eval_every_steps = 10**9  # eval only at the end
    cfg.checkpoint_every_steps = 10**9  # checkpoint only at the end
    cfg.log_every_steps = max(cfg.steps_per_dispatch, min(cfg.log_every_steps, cfg.total_steps // 3))
    cfg.evals = {}  # evaluators are not training throughput
    t = time.perf_counter()
    train.train_and_evaluate(cfg, workdir)
    rows = [r for r in writers.read_metrics(workdir, "train") if "examples_per_sec" in r]
    # Steady state: all logged windows but the last (which contains the
    # final checkpoint flush), or all if there are only two.
    windows = rows[:-1] if len(rows) > 2 else rows
    return {"launcher_examples_per_sec": statistics.median(r["examples_per_sec"] for r in windows),
            "launcher_wall_s": time.perf_counter() - t}


def variants(config) -> list[tuple[str, object]]:
  """The config itself, or one copy per --compare value."""
  if not _COMPARE.value:
    return [("config", config)]
  key, _, values = _COMPARE.value.partition("=")
  out = []
  for raw in values.split(","):
    cfg = config.copy_and_resolve_references()
    node, leaf = config_lib.dotted_parent(cfg, key)
    node[leaf] = config_lib.parse_like(node[leaf], raw, f"--compare {key}")
    out.append((f"{key}={raw}", cfg))
  return out


def make_benches(config) -> list[tuple[str, Bench]]:
  """One Bench per variant and --xla_options value (named by both if several)."""
  unknown = set(_XLA_OPTIONS.value) - {"genjax", "xla_default"}
  if unknown or not _XLA_OPTIONS.value:
    raise SystemExit(f"genjax: error: --xla_options takes genjax and/or xla_default, "
                     f"got {','.join(_XLA_OPTIONS.value)}")
  several = len(_XLA_OPTIONS.value) > 1
  return [(f"{name} xla_options={o}" if several else name, Bench(cfg, o))
          for name, cfg in variants(config) for o in _XLA_OPTIONS.value]


def measure(config, config_path: str) -> dict:
  benches = make_benches(config)
  references = start_references(config, config_path)
  # Interleave every variant's chunk and per-step rounds and the references'
  # rounds (as many steps as a per-step round): load on this shared machine
  # then hits all of them alike.
  for _ in range(_ROUNDS.value):
    for _, bench in benches:
      bench.time_chunks(_CHUNKS.value)
      bench.time_steps(_CHUNKS.value * bench.k)
      bench.time_minimal(_CHUNKS.value)
    for ref in references.values():
      ref.time_steps(_CHUNKS.value * benches[0][1].k)
  result = {"command": sys.argv[1:], "matmul_flops_per_sec": matmul_flops_per_sec(),
            "variants": {}}
  for name, bench in benches:
    r = bench.result()
    r["flop_utilisation"] = r["achieved_flops_per_sec"] / result["matmul_flops_per_sec"]
    result["variants"][name] = r
  if len(benches) > 1:
    first, *rest = benches
    for name, bench in rest:
      for kind in ("chunk_examples_per_sec", "per_step_examples_per_sec"):
        result[f"{first[0]} / {name} ({kind})"] = (
            result["variants"][first[0]][kind] / result["variants"][name][kind])
  if references:
    reference_ratios(result, references)
  if _NLL_SAMPLES.value:
    name, bench = benches[0]
    result["variants"][name].update(nll_rate(bench, _NLL_SAMPLES.value))
  if _LAUNCHER_CHUNKS.value:
    name, bench = benches[0]
    r = result["variants"][name]
    with xla_options.enabled(bench.options == "genjax"):
      r.update(launcher_rate(bench.config, _LAUNCHER_CHUNKS.value))
    # Compared with the chunk figure of the same config measured just before.
    r["launcher_over_chunk"] = r["launcher_examples_per_sec"] / r["chunk_examples_per_sec"]
  return result


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  kept = _HOST_MEMORY.value == "keep" and host_memory.keep_freed_memory()
  result = measure(_CONFIG.value, config_flags.get_config_filename(flags.FLAGS["config"]))
  result["host_memory_kept"] = kept  # see --host_memory
  text = json.dumps(result, indent=2)
  print(text)
  if _OUT.value:
    os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
    with open(_OUT.value, "w") as f:
      f.write(text + "\n")


if __name__ == "__main__":
  cli.run_app(main)  # a bad flag, key or value: one line, status 1
