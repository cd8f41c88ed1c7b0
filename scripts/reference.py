r"""Speed references: genjax's benchmark models written the way a PyTorch or Keras user
would, and the VAE's matrix products alone as the bound any of them could reach.

    # In a separate environment (neither is a genjax dependency):
    python3 -m venv ../refenv && ../refenv/bin/pip install torch keras "jax==<genjax's jax>"
    ../refenv/bin/python scripts/reference.py --framework=pytorch --model=vae_mnist
    ../refenv/bin/python scripts/reference.py --framework=keras --model=vae_mnist
    ../refenv/bin/python scripts/reference.py --framework=matmuls --model=vae_mnist
    # Interleaved with genjax's own rounds, ratios in one JSON (what the README quotes):
    .venv/bin/python scripts/benchmark.py --config=configs/vae_mnist.py \
        --reference=pytorch,keras --reference_python=../refenv/bin/python

Models (the same layers, losses and optimisers as the genjax configs):

  vae_mnist    configs/vae_mnist.py: MLP VAE 784-500-20 (ReLU), Bernoulli
               pixels, one reparameterised sample, Adam 1e-3.
  dcgan_mnist  configs/dcgan_mnist.py: G dense 7*7*128 + BN + ReLU ->
               ConvTranspose 64 4x4/2 + BN + ReLU -> ConvTranspose 1 4x4/2 ->
               sigmoid; D Conv 64 4x4/2 -> Conv 128 4x4/2, LeakyReLU 0.2 ->
               dense; one D update on a real and a fake batch, then one G
               update (non-saturating), Adam 2e-4 / b1 0.5. PyTorch only.
               The G update reuses the D update's fake batch (PyTorch's
               DCGAN example) or, with --fresh_noise, draws a new one
               (genjax's step: one more G forward pass).

How each framework is driven (its usual fast path, nothing exotic):

  pytorch  eager, default threads (one per core); the training set is a
           float32 tensor in memory, each epoch a `randperm`, each step an
           index gather: a DataLoader would only be slower.
  keras    Keras 3 on JAX, `model.fit` over a float32 numpy array with a
           custom JAX `train_step` (Keras's guide "Customizing fit() with
           JAX"), jit-compiled; `--steps_per_execution` as in `compile`
           (default 1, Keras's default). One round is one epoch of `fit`,
           timed by a callback from its first batch to the epoch's end.
  matmuls  not a framework but a bound, vae_mnist only: the VAE step's
           matrix products and nothing else, in JAX. The four dense layers
           as bare matmuls (784x500, 500x40, 20x500, 500x784; no biases,
           activations, sampling or likelihood), the gradient of
           0.5 * ||output||^2 by autodiff (so every forward product is kept
           and the backward ones come in autodiff's dependency order), a plain
           SGD update (`--adam`: Adam's, written out), each batch a
           contiguous slice of a device-resident array at a random row, 10
           steps per `lax.scan` dispatch. Every implementation of this model's
           step computes at least these products (tests/test_reference.py
           checks genjax's step does the same matmul FLOPs), so with the same
           matmul kernels a framework's examples/s over this one is how close
           it comes to the machine's limit for the model.

The images are random (binary for the VAE, uniform for the DCGAN), 60,000 of
them: the arithmetic of these models does not depend on the pixel values.

`--keep_freed_memory` runs the reference under the glibc malloc settings
genjax's launcher uses (`genjax.host_memory`), for a like-for-like comparison
(`--reference=pytorch+keep_freed_memory` in scripts/benchmark.py).

`--serve` is the mode `scripts/benchmark.py` drives: the script warms up,
prints one JSON line, then for every line "N" it reads on stdin times N
training steps and prints {"examples_per_sec": ...}; it idles between rounds,
so genjax's rounds run on a quiet CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

NUM_TRAIN = 60_000


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--framework", choices=("pytorch", "keras", "matmuls"), required=True)
  parser.add_argument("--model", choices=("vae_mnist", "dcgan_mnist"), default="vae_mnist")
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--steps", type=int, default=300, help="steps per timed round")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--steps_per_execution", type=int, default=1, help="keras only")
  parser.add_argument("--fresh_noise", action="store_true",
                      help="dcgan: the G update draws new z, as genjax's step (Goodfellow et "
                      "al.'s Algorithm 1); default: it reuses the D update's fake batch, as "
                      "PyTorch's DCGAN example does")
  parser.add_argument("--adam", action="store_true",
                      help="matmuls: update with Adam (written out) instead of plain SGD")
  parser.add_argument("--keep_freed_memory", action="store_true",
                      help="glibc keeps freed memory for reuse, as genjax's launcher and "
                      "benchmark set it (genjax/host_memory.py)")
  parser.add_argument("--serve", action="store_true", help="rounds on request (stdin)")
  args = parser.parse_args()
  if args.keep_freed_memory:
    _keep_freed_memory()
  if args.framework != "pytorch" and args.model != "vae_mnist":
    parser.error(f"the {args.framework} reference has only vae_mnist")
  make = {"pytorch": _pytorch_runner, "keras": _keras_runner,
          "matmuls": _matmuls_runner}[args.framework]
  try:
    run_steps, version = make(args)
  except ImportError as e:  # run with genjax's environment instead of the reference one
    raise SystemExit(f"reference: error: {e} (run this script with the Python of an "
                     "environment that has torch / keras; see its docstring)") from None
  run_steps(max(args.steps // 10, 20))  # warm-up: compilation, allocator, caches
  if args.serve:
    _serve(run_steps, version)
    return
  rates = [run_steps(args.steps) for _ in range(args.rounds)]
  print(json.dumps({"framework": version, "model": args.model, "batch_size": args.batch_size,
                    "examples_per_sec": statistics.median(rates), "rounds": rates}))


def _keep_freed_memory() -> None:
  # genjax's own module (it needs only the standard library), from this checkout.
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  from genjax import host_memory
  if not host_memory.keep_freed_memory():
    raise SystemExit("reference: error: --keep_freed_memory needs Linux with glibc")


def _serve(run_steps, version: str) -> None:
  print(json.dumps({"ready": version}), flush=True)
  for line in sys.stdin:
    if line.strip():
      print(json.dumps({"examples_per_sec": run_steps(int(line))}), flush=True)


# ----------------------------------------------------------------------------
# PyTorch eager
# ----------------------------------------------------------------------------


def _pytorch_runner(args):
  """(run_steps(n) -> examples/s, version) for the PyTorch model."""
  import torch
  torch.manual_seed(0)
  if args.model == "vae_mnist":
    step = _torch_vae_step(torch)
  else:
    step = _torch_dcgan_step(torch, args.fresh_noise)
  b = args.batch_size
  if args.model == "vae_mnist":
    data = (torch.rand(NUM_TRAIN, 784) < 0.13).float()
  else:
    data = torch.rand(NUM_TRAIN, 1, 28, 28)
  order, position = torch.randperm(NUM_TRAIN), 0

  def run_steps(n: int) -> float:
    nonlocal order, position
    start = time.perf_counter()
    for _ in range(n):
      if position + b > NUM_TRAIN:  # a new epoch, the remainder dropped
        order, position = torch.randperm(NUM_TRAIN), 0
      step(data[order[position:position + b]])
      position += b
    return n * b / (time.perf_counter() - start)

  return run_steps, f"torch {torch.__version__}, {torch.get_num_threads()} threads"


def _torch_vae_step(torch):
  from torch import nn
  from torch.nn import functional as F
  encoder = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 2 * 20))
  decoder = nn.Sequential(nn.Linear(20, 500), nn.ReLU(), nn.Linear(500, 784))
  params = [*encoder.parameters(), *decoder.parameters()]
  opt = torch.optim.Adam(params, lr=1e-3)

  def step(x):
    mean, log_variance = encoder(x).chunk(2, dim=1)
    z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
    nll = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum(1)
    kl = 0.5 * (mean.square() + log_variance.exp() - 1.0 - log_variance).sum(1)
    loss = (nll + kl).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()

  return step


def _torch_dcgan_step(torch, fresh_noise: bool):
  from torch import nn
  from torch.nn import functional as F
  latent = 100
  g = nn.Sequential(
      nn.Linear(latent, 7 * 7 * 128), nn.BatchNorm1d(7 * 7 * 128), nn.ReLU(),
      nn.Unflatten(1, (128, 7, 7)),
      nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
      nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Sigmoid())
  d = nn.Sequential(
      nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
      nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
      nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
  g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
  d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))

  def step(real):
    b = real.shape[0]
    ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
    fake = g(torch.randn(b, latent))
    d_opt.zero_grad(set_to_none=True)
    (F.binary_cross_entropy_with_logits(d(real), ones)
     + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)).backward()
    d_opt.step()
    if fresh_noise:
      fake = g(torch.randn(b, latent))
    g_opt.zero_grad(set_to_none=True)
    F.binary_cross_entropy_with_logits(d(fake), ones).backward()
    g_opt.step()

  return step


# ----------------------------------------------------------------------------
# Keras 3 on JAX, model.fit
# ----------------------------------------------------------------------------


def _keras_runner(args):
  """(run_steps(n) -> examples/s, version) for the Keras VAE under `fit`."""
  import os
  os.environ["KERAS_BACKEND"] = "jax"
  import jax
  import keras
  import numpy as np
  keras.utils.set_random_seed(0)
  model = _keras_vae(keras, jax)
  model.compile(optimizer=keras.optimizers.Adam(1e-3),
                steps_per_execution=args.steps_per_execution)
  b = args.batch_size
  data = (np.random.default_rng(0).random((NUM_TRAIN, 784)) < 0.13).astype(np.float32)
  timer = _keras_timer(keras)

  def run_steps(n: int) -> float:
    # One epoch of n steps, shuffled like fit's default; the callback times it
    # from the first batch so fit's per-call setup is not counted.
    model.fit(data[:n * b], batch_size=b, epochs=1, shuffle=True, verbose=0,
              callbacks=[timer])
    return n * b / timer.seconds

  return run_steps, f"keras {keras.__version__} on jax {jax.__version__}"


def _keras_timer(keras):
  class EpochTimer(keras.callbacks.Callback):
    """Seconds from the epoch's first batch to its end."""

    def on_train_batch_begin(self, batch, logs=None):
      if batch == 0:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
      self.seconds = time.perf_counter() - self.start

  return EpochTimer()


def _keras_vae(keras, jax):
  from keras import layers, ops

  class VAE(keras.Model):
    """Encoder and decoder Dense stacks; the step is a custom JAX train_step."""

    def __init__(self):
      super().__init__()
      self.encoder = keras.Sequential([layers.Dense(500, activation="relu"), layers.Dense(40)])
      self.decoder = keras.Sequential([layers.Dense(500, activation="relu"), layers.Dense(784)])
      self.seed = keras.random.SeedGenerator(0)

    def call(self, x, training=False):
      mean, log_variance = ops.split(self.encoder(x), 2, axis=1)
      eps = keras.random.normal(ops.shape(mean), seed=self.seed)
      logits = self.decoder(mean + ops.exp(0.5 * log_variance) * eps)
      nll = ops.sum(ops.softplus(logits) - x * logits, axis=1)  # Bernoulli, from logits
      kl = 0.5 * ops.sum(ops.square(mean) + ops.exp(log_variance) - 1.0 - log_variance, axis=1)
      return ops.mean(nll + kl)

    def loss_and_updates(self, trainable, non_trainable, x):
      loss, non_trainable = self.stateless_call(trainable, non_trainable, x, training=True)
      return loss, non_trainable

    def train_step(self, state, data):
      trainable, non_trainable, optimizer_vars, metrics_vars = state
      grad_fn = jax.value_and_grad(self.loss_and_updates, has_aux=True)
      (loss, non_trainable), grads = grad_fn(trainable, non_trainable, data)
      trainable, optimizer_vars = self.optimizer.stateless_apply(
          optimizer_vars, grads, trainable)
      return {"loss": loss}, (trainable, non_trainable, optimizer_vars, metrics_vars)

  model = VAE()
  model(ops.zeros((1, 784)))  # creates the variables
  return model


# ----------------------------------------------------------------------------
# The VAE's matrix products alone (a bound, not a framework)
# ----------------------------------------------------------------------------

VAE_MATMULS = ((784, 500), (500, 40), (20, 500), (500, 784))  # encoder, heads, decoder


def matmuls_loss(weights, x):
  """0.5 * ||decoder(encoder(x))||^2 through the VAE's layers as bare matmuls,
  z the sum of the heads' two halves (mean and log-variance, both with a
  gradient); the gradient needs every forward product, so XLA drops none."""
  w1, w2, w3, w4 = weights
  heads = (x @ w1) @ w2
  latent = w3.shape[0]
  r = ((heads[:, :latent] + heads[:, latent:]) @ w3) @ w4
  return 0.5 * (r * r).sum() / x.shape[0]


def matmuls_steps(batch_size: int, adam: bool):
  """(steps(state, data, starts) -> state, init(weights) -> state): one SGD or
  Adam step on `matmuls_loss` per start index, batches sliced from `data`."""
  import jax
  import jax.numpy as jnp
  from jax import lax
  lr, b1, b2, eps = 1e-6, 0.9, 0.999, 1e-8  # tiny steps: the weights stay O(1)

  def update(state, grads):
    weights, m, v, t = state
    if not adam:
      return [w - lr * g for w, g in zip(weights, grads)], m, v, t
    t = t + 1
    m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
    v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
    scale = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
    return [w - scale * mi / (jnp.sqrt(vi) + eps) for w, mi, vi in zip(weights, m, v)], m, v, t

  def steps(state, data, starts):
    def body(state, start):
      x = lax.dynamic_slice_in_dim(data, start, batch_size)
      return update(state, jax.grad(matmuls_loss)(state[0], x)), None
    return lax.scan(body, state, starts)[0]

  def init(weights):
    def zeros():
      return [jnp.zeros_like(w) for w in weights] if adam else []
    return weights, zeros(), zeros(), jnp.float32(0)

  return jax.jit(steps, donate_argnums=0), init


def _matmuls_runner(args):
  """(run_steps(n) -> examples/s, version) for the VAE's matmuls alone."""
  import jax
  import jax.numpy as jnp
  import numpy as np
  b = args.batch_size
  keys = jax.random.split(jax.random.key(0), len(VAE_MATMULS))
  weights = [jax.random.normal(k, s) / np.sqrt(s[0]) for k, s in zip(keys, VAE_MATMULS)]
  data = jnp.asarray((np.random.default_rng(0).random((NUM_TRAIN, 784)) < 0.13), jnp.float32)
  steps, init = matmuls_steps(b, args.adam)
  state, rng = init(weights), np.random.default_rng(1)
  per_dispatch = 10  # one compiled scan length, so no round pays a compilation

  def run_steps(n: int) -> float:
    nonlocal state
    dispatches = -(-n // per_dispatch)
    starts = rng.integers(0, NUM_TRAIN - b + 1, (dispatches, per_dispatch)).astype(np.int32)
    start = time.perf_counter()
    for row in starts:
      state = steps(state, data, row)
    jax.block_until_ready(state)
    return dispatches * per_dispatch * b / (time.perf_counter() - start)

  update = "Adam" if args.adam else "SGD"
  return run_steps, f"jax {jax.__version__}, the VAE's matmuls alone, {update}"


if __name__ == "__main__":
  main()
