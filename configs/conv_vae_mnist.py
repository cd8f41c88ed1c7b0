r"""Convolutional VAE (Chollet's Keras example) on dynamically binarised MNIST, 2-D latent.

    python -m genjax.main --config=configs/conv_vae_mnist.py --workdir=runs/conv_vae
    python -m genjax.main --config=configs/conv_vae_mnist.py:runlocal --workdir=runs/conv_vae_smoke
    python -m genjax.main --config=configs/conv_vae_mnist.py:latent_dim=16,epochs=50 --workdir=runs/conv_vae16

Encoder: 3x3 convolutions with 32 and 64 filters, stride 2 (28 -> 14 -> 7),
a 64-unit dense layer, then the latent mean and log-variance; the decoder
mirrors it with stride-2 transposed convolutions and emits Bernoulli logits.
The convolutions are genjax's fast canonical-layout ones
(`model.conv_impl="fast"`; "flax" gives nn.Conv with the same parameters).
Training pixels are a fresh Bernoulli draw of MNIST each step, the test set
one fixed draw. With the default 2-D latent, `figures/latent_manifold.png`
decodes a 20x20 grid of z (1%-99% prior quantiles) through the Gaussian
inverse CDF, where the digit classes appear as regions of the plane, and
`final_eval` asks the shipped MNIST classifier which digits the grid shows.

Expected result (measured 2026-11-24, 30 epochs = 14040 steps; 1,300-1,500
examples/s when the 2-core CPU is otherwise idle, about 20 min): test
negative ELBO 145.7 nats, NLL 143.0 (k=20), 2/2 active units. The manifold
grid shows all ten digits: the classifier reads 0-9 with p >= 0.9 in 82% of
its cells (`manifold_classes` 10). Chollet's 16-unit dense layer
(`--config.model.conv_dense=16`) reached neg-ELBO 152.6 / NLL 149.1 and 9
digits in the same budget: its 4s shared the 9s' region of the plane.
"""

from genjax import config as config_lib
from genjax.methods import vae


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, latent_dim=2, epochs=30.0,
                              conv_impl="fast")
  c = config_lib.base_config()
  c.method = "vae"
  c.data.name = "mnist"
  c.data.binarize = "dynamic"
  c.model = vae.model_config(arch="conv", conv_channels=(32, 64), conv_dense=64,
                             conv_impl=opts.conv_impl, latent_dim=opts.latent_dim)
  c.loss = vae.loss_config()
  # One conv-decoder pass costs ~22M multiply-adds, 55x the MLP's, so the
  # final NLL uses 20 importance samples, not 5000 (a 2-D posterior is
  # close to its proposal, so a small k is already tight; k=100 took ~60 s
  # per 1000 test images on the shared CPU).
  c.eval = vae.eval_config(nll_samples=20, nll_chunk_size=10)
  c.optimizer.lr = 1e-3
  c.batch_size = 128
  c.total_epochs = opts.epochs
  c.steps_per_dispatch = 100
  c.log_every_steps = 500
  c.eval_every_steps = 2000
  c.checkpoint_every_steps = 2000
  if opts.runlocal:
    apply_runlocal(c)
  return c


def apply_runlocal(c):
  """Same model family, tiny sizes: finishes in seconds (tests, smoke runs)."""
  c.model.conv_channels = (4, 8)
  c.model.conv_dense = 8
  config_lib.shrink_for_runlocal(c, total_steps=40, eval_every=20, checkpoint_every=20)
  c.eval.nll_samples = 20
  c.eval.nll_chunk_size = 10
