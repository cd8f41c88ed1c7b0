r"""Burda et al.'s one-stochastic-layer IWAE on dynamically binarised MNIST.

    python -m genjax.main --config=configs/iwae_mnist.py --workdir=runs/iwae
    python -m genjax.main --config=configs/iwae_mnist.py:runlocal --workdir=runs/iwae_smoke
    python -m genjax.main --config=configs/iwae_mnist.py:objective=elbo,k=1 --workdir=runs/vae_burda

Architecture of Burda, Grosse & Salakhutdinov (2016), Sec. 5: two
deterministic layers of 200 tanh units on each side, 50 Gaussian latents,
Bernoulli decoder. Trained on the IWAE bound with k=5 importance samples
(`objective=elbo,k=1` is their VAE baseline; `objective=elbo,k=5` averages
5 samples of the ELBO), Adam 1e-3, batch 128, training pixels a fresh
Bernoulli draw of MNIST every step. Burda et al. train for 3280 passes with a
decaying learning rate and report a test NLL (IWAE k=5000) of 85.33 nats for
IWAE k=5 and 86.76 for the VAE; the defaults here are a shorter schedule.

Expected result: not measured here yet (only the runlocal variant was run).
"""

from genjax import config as config_lib
from genjax.methods import vae


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, objective="iwae", k=5, epochs=200.0)
  c = config_lib.base_config()
  c.method = "vae"
  c.data.name = "mnist"
  c.data.binarize = "dynamic"
  c.model = vae.model_config(arch="mlp", hidden=(200, 200), activation="tanh",
                             latent_dim=50)
  c.loss = vae.loss_config(objective=opts.objective, num_samples=opts.k)
  c.eval = vae.eval_config(iwae_samples=50)
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
  c.model.hidden = (32, 32)
  c.model.latent_dim = 8
  config_lib.shrink_for_runlocal(c, total_steps=40, eval_every=20, checkpoint_every=20)
  c.eval.nll_samples = 20
  c.eval.nll_chunk_size = 10
  c.eval.iwae_samples = 5
