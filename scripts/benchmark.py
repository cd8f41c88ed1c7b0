r"""Training throughput of a config: scanned chunk vs per-step dispatch vs launcher.

    python scripts/benchmark.py --config=configs/ae_mnist.py --out=runs/bench_ae.json

Measures, in one process on the real dataset:
  chunk      examples/s of the compiled `lax.scan` chunk (K = steps_per_dispatch
             steps per dispatch, state donated), steady state.
  per_step   examples/s of one jitted step per dispatch (the usual JAX loop).
  launcher   examples/s the full `train.train_and_evaluate` loop reports
             (logging, NaN checks, checkpoints included; eval switched off).
  compile    seconds to compile the chunk.
  flops      XLA's FLOP count of one step, the achieved FLOP/s, and the same
             run's dense float32 matmul FLOP/s as the machine's practical peak.
  collectives  all-reduce / all-gather ops in the compiled step: the gradient
             all-reduce of data parallelism (run with
             XLA_FLAGS=--xla_force_host_platform_device_count=8 to see it).

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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", None, "Config file.", lock_config=True)
_OUT = flags.DEFINE_string("out", None, "Write the JSON result here too.")
_ROUNDS = flags.DEFINE_integer("rounds", 5, "Interleaved timing rounds.")
_CHUNKS = flags.DEFINE_integer("chunks_per_round", 3, "Chunks timed per round.")
_LAUNCHER_CHUNKS = flags.DEFINE_integer(
    "launcher_chunks", 30, "Chunks the launcher run trains (0 skips it).")
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


def measure(config) -> dict:
  import jax
  import jax.numpy as jnp
  from genjax import train, writers

  trainer, _ = train.build(config)
  ds = trainer.dataset
  k, b = config.steps_per_dispatch, config.batch_size
  rng = jax.random.key(config.seed)
  example = ds.train_batch(ds.train, jnp.arange(b), rng)
  state = trainer.init(rng, example)

  t = time.perf_counter()
  lowered = trainer.train_chunk.lower(state, ds.train, jnp.int32(0), rng, num_steps=k)
  compiled = lowered.compile()
  compile_s = time.perf_counter() - t
  # XLA counts a while loop's body once, so take FLOPs from the single step.
  step_compiled = trainer.train_step.lower(state, ds.train, jnp.int32(0), rng).compile()
  cost = step_compiled.cost_analysis()
  # With several devices, the gradient all-reduce XLA inserted shows up in the
  # compiled program (none with one device).
  collectives = {op: step_compiled.as_text().count(f" {op}(")
                 for op in ("all-reduce", "all-gather", "reduce-scatter")}
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops_per_step = float(cost.get("flops", 0.0)) if cost else 0.0

  # Warm both paths up (the per-step jit compiles here).
  state, _ = compiled(state, ds.train, jnp.int32(0), rng)
  state, _ = trainer.train_step(state, ds.train, jnp.int32(0), rng)
  jax.block_until_ready(state)

  chunk_rates, step_rates = [], []
  step = k
  for _ in range(_ROUNDS.value):
    t = time.perf_counter()
    for _ in range(_CHUNKS.value):
      state, m = compiled(state, ds.train, jnp.int32(step), rng)
      step += k
    jax.block_until_ready((state, m))
    chunk_rates.append(_CHUNKS.value * k * b / (time.perf_counter() - t))
    t = time.perf_counter()
    for _ in range(_CHUNKS.value * k):
      state, m = trainer.train_step(state, ds.train, jnp.int32(step), rng)
      step += 1
    jax.block_until_ready((state, m))
    step_rates.append(_CHUNKS.value * k * b / (time.perf_counter() - t))

  result = {
      "config": sys.argv[1:],
      "devices": jax.device_count(),
      "platform": jax.devices()[0].platform,
      "batch_size": b,
      "steps_per_dispatch": k,
      "compile_s": compile_s,
      "chunk_examples_per_sec": statistics.median(chunk_rates),
      "per_step_examples_per_sec": statistics.median(step_rates),
      "chunk_rounds": chunk_rates,
      "per_step_rounds": step_rates,
      "flops_per_step": flops_per_step,
      "collectives_in_step": collectives,
  }
  result["scan_speedup_over_per_step"] = (
      result["chunk_examples_per_sec"] / result["per_step_examples_per_sec"])
  result["achieved_flops_per_sec"] = flops_per_step * result["chunk_examples_per_sec"] / b
  result["matmul_flops_per_sec"] = matmul_flops_per_sec()
  result["flop_utilisation"] = result["achieved_flops_per_sec"] / result["matmul_flops_per_sec"]

  if _LAUNCHER_CHUNKS.value:
    with tempfile.TemporaryDirectory() as workdir:
      cfg = config.copy_and_resolve_references()
      cfg.unlock()
      cfg.total_epochs = None
      cfg.total_steps = _LAUNCHER_CHUNKS.value * k
      cfg.eval_every_steps = 10**9  # eval only at the end
      cfg.checkpoint_every_steps = 10**9  # checkpoint only at the end
      cfg.log_every_steps = min(cfg.log_every_steps, cfg.total_steps // 3)
      t = time.perf_counter()
      train.train_and_evaluate(cfg, workdir)
      rows = [r for r in writers.read_metrics(workdir, "train") if "examples_per_sec" in r]
      # Steady state: all logged windows but the last (which contains the
      # final checkpoint flush), or all if there are only two.
      windows = rows[:-1] if len(rows) > 2 else rows
      result["launcher_examples_per_sec"] = statistics.median(
          r["examples_per_sec"] for r in windows)
      result["launcher_wall_s"] = time.perf_counter() - t
    # The chunk figure to compare with is the one measured just before.
    result["launcher_over_chunk"] = (
        result["launcher_examples_per_sec"] / result["chunk_examples_per_sec"])
  return result


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  result = measure(_CONFIG.value)
  text = json.dumps(result, indent=2)
  print(text)
  if _OUT.value:
    os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
    with open(_OUT.value, "w") as f:
      f.write(text + "\n")


if __name__ == "__main__":
  app.run(main)
