r"""The DCGAN of configs/dcgan_mnist.py as an idiomatic PyTorch eager step: a speed reference.

    pip install torch        # not a genjax dependency; use a separate environment
    python scripts/pytorch_reference.py --batch_size=64
    python scripts/benchmark.py --config=configs/dcgan_mnist.py \
        --compare=model.conv_impl=fast,flax --config.batch_size=64 \
        --config.steps_per_dispatch=10 --launcher_chunks=0

Issue 3 set genjax's convolutions the goal of PyTorch parity on CPU; this
script is the yardstick. Same model as `configs/dcgan_mnist.py` (G: dense
7*7*128 + BN + ReLU -> ConvTranspose 64 4x4/2 + BN + ReLU -> ConvTranspose
1 4x4/2 -> sigmoid; D: Conv 64 4x4/2 -> Conv 128 4x4/2, LeakyReLU 0.2 ->
dense), same step (one D update on a real and a fake batch, then one G
update with the non-saturating loss, Adam 2e-4 / b1 0.5), written the way a
PyTorch user would: the fake batch is generated once and reused by the G
update. The real batch is uniform noise: the data path is not timed. Uses
PyTorch's default threads (one per core). Run it and the genjax benchmark
back to back on an idle machine and compare examples/s.
"""

import argparse
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F


class Generator(nn.Module):

  def __init__(self, latent_dim):
    super().__init__()
    self.dense = nn.Linear(latent_dim, 7 * 7 * 128)
    self.bn0 = nn.BatchNorm1d(7 * 7 * 128)
    self.up1 = nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1)  # 7 -> 14
    self.bn1 = nn.BatchNorm2d(64)
    self.up2 = nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1)  # 14 -> 28

  def forward(self, z):
    h = F.relu(self.bn0(self.dense(z))).view(-1, 128, 7, 7)
    h = F.relu(self.bn1(self.up1(h)))
    return torch.sigmoid(self.up2(h))


class Discriminator(nn.Module):

  def __init__(self):
    super().__init__()
    self.conv1 = nn.Conv2d(1, 64, 4, stride=2, padding=1)  # 28 -> 14
    self.conv2 = nn.Conv2d(64, 128, 4, stride=2, padding=1)  # 14 -> 7
    self.logit = nn.Linear(7 * 7 * 128, 1)

  def forward(self, x):
    h = F.leaky_relu(self.conv1(x), 0.2)
    h = F.leaky_relu(self.conv2(h), 0.2)
    return self.logit(h.flatten(1)).squeeze(1)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--steps", type=int, default=30, help="steps per timed round")
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--latent_dim", type=int, default=100)
  args = parser.parse_args()

  torch.manual_seed(0)
  g, d = Generator(args.latent_dim), Discriminator()
  g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
  d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
  b = args.batch_size
  real = torch.rand(b, 1, 28, 28)
  ones, zeros = torch.ones(b), torch.zeros(b)

  def step():
    fake = g(torch.randn(b, args.latent_dim))
    d_opt.zero_grad(set_to_none=True)
    d_loss = (F.binary_cross_entropy_with_logits(d(real), ones)
              + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros))
    d_loss.backward()
    d_opt.step()
    g_opt.zero_grad(set_to_none=True)
    g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)
    g_loss.backward()
    g_opt.step()

  for _ in range(5):  # warm-up: allocator and oneDNN primitive caches
    step()
  rates = []
  for _ in range(args.rounds):
    start = time.perf_counter()
    for _ in range(args.steps):
      step()
    rates.append(args.steps * b / (time.perf_counter() - start))
  print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {b}: "
        f"median {statistics.median(rates):.0f} examples/s "
        f"(rounds: {', '.join(f'{r:.0f}' for r in rates)})")


if __name__ == "__main__":
  main()
