r"""MLP VAE 784-500-20 (ReLU, mirrored decoder, Bernoulli pixels) on static binarized MNIST.

    python -m genjax.main --config=configs/vae_mnist.py --workdir=runs/vae
    python -m genjax.main --config=configs/vae_mnist.py:runlocal --workdir=runs/vae_smoke
    python -m genjax.main --config=configs/vae_mnist.py:latent_dim=2,epochs=20 --workdir=runs/vae_2d

Kingma & Welling's model: 500 ReLU units each side, a 20-D Gaussian latent,
Adam 1e-3, batch 128, 200 epochs on TFDS `binarized_mnist`; the final test NLL
uses 5000 importance samples (`--config.loss.objective=iwae` trains on IWAE).

Measured on a 2-core CPU, 200 epochs: test negative ELBO 99.2 nats, NLL 92.23
nats (k=5000), as experiments/vae_likelihood measured it (2026-12-05, seed 0).
Fashion-MNIST (`:epochs=50 --config.data.name=fashion_mnist
--config.data.binarize=dynamic`, 2026-12-02): negative ELBO 237.8, NLL 234.12.
History: experiments/results/configs/vae_mnist.md.
"""

from genjax import config as config_lib
from genjax.methods import vae


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, latent_dim=20, epochs=200.0)
  c = config_lib.base_config()
  c.method = "vae"
  c.data.name = "binarized_mnist"
  c.model = vae.model_config(arch="mlp", hidden=(500,), activation="relu",
                             latent_dim=opts.latent_dim)
  c.loss = vae.loss_config()
  c.evals = vae.evals_config(latent_plane=opts.latent_dim == 2)
  c.optimizer.lr = 1e-3
  c.batch_size = 128
  c.total_epochs = opts.epochs
  c.steps_per_dispatch = 100
  c.log_every_steps = 1000
  c.eval_every_steps = 10000
  c.checkpoint_every_steps = 10000
  if opts.runlocal:
    apply_runlocal(c)
  return c


def apply_runlocal(c):
  """Same model family, tiny sizes: finishes in seconds (tests, smoke runs)."""
  c.model.hidden = (64,)
  c.model.latent_dim = min(c.model.latent_dim, 8)
  config_lib.shrink_for_runlocal(c, total_steps=60, eval_every=30, checkpoint_every=30)
  c.evals.iwae5_nll = dict(type="iwae_nll", samples=5, with_evals=True)
  config_lib.shrink_evals_for_runlocal(c)
  c.model.nll_chunk_size = 10
