r"""The fully connected GAN of Goodfellow et al. 2014 on MNIST.

    python -m genjax.main --config=configs/gan_mnist.py --workdir=runs/gan
    python -m genjax.main --config=configs/gan_mnist.py:loss=minimax --workdir=runs/gan_minimax
    python -m genjax.main --config=configs/gan_mnist.py:runlocal --workdir=runs/gan_smoke

G: z ~ U(-1, 1)^100 -> 1200 ReLU -> 1200 ReLU -> 784 sigmoid. D: two maxout
layers of 240 units x 5 pieces, dropout 0.5 on each (as in the paper) ->
logit. Adam 2e-4 / b1 0.5 for both, batch 64, one D step per G step;
`:loss=minimax`: the saturating generator loss instead of the non-saturating.

Measured 2026-12-02, 3000 steps x 5 seeds (experiments/gan_stability.py):
fails in all five - D wins outright (D(G(z)) < 0.03 over the last 250
steps), G draws 2-4 of the 10 digits, Frechet distance 753-1027 (256-349x
the floor) where the DCGAN reaches 164-207. History: experiments/results/configs/gan_mnist.md.
"""

from genjax import config as config_lib
from genjax.methods.gan import gan_config


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, loss="non_saturating")
  c = gan_config(kind="mlp", latent_dim=100, latent_dist="uniform",
                 g_hidden=(1200, 1200), d_hidden=(240, 240), maxout_pieces=5,
                 d_dropout=0.5, output_activation="sigmoid")
  c.data.name = "mnist"
  c.evals = dict(sample_quality=dict(type="sample_quality"))  # FD etc. vs the test set
  c.gan.generator_loss = opts.loss
  c.batch_size = 64
  c.total_epochs = None
  c.total_steps = 5000
  c.steps_per_dispatch = 100
  c.log_every_steps = 500
  c.eval_every_steps = 2500
  c.checkpoint_every_steps = 2500
  c.num_image_examples = 64
  if opts.runlocal:
    apply_runlocal(c)
  return c


def apply_runlocal(c):
  """Tiny widths and data: seconds (tests, smoke runs); no sample-quality pass."""
  c.model.latent_dim = 8
  c.model.g_hidden = (32,)
  c.model.d_hidden = (16,)
  c.model.maxout_pieces = 2
  config_lib.shrink_for_runlocal(c, total_steps=20, train_examples=512)
  c.evals.sample_quality.enabled = False
