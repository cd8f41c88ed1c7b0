r"""Contractive autoencoder 784-256 (sigmoid code, tied weights) on MNIST.

    python -m genjax.main --config=configs/cae_mnist.py --workdir=runs/cae
    python -m genjax.main --config=configs/cae_mnist.py --config.loss.contractive_weight=0 --workdir=runs/cae_ae0   # the plain AE, same architecture
    python -m genjax.main --config=configs/cae_mnist.py:runlocal --workdir=runs/cae_smoke
    python scripts/sweep.py --config=configs/cae_mnist.py --workdir=runs/cae_sweep

Omega(h) = lambda * ||df(x)/dx||_F^2 per example (Rifai et al. 2011), one
sigmoid layer h = sigmoid(W x + b) with the decoder tied to W^T, as in the
paper: tying stops the encoder from "contracting" by shrinking W while an
untied decoder blows the code back up. `loss.contractive_mode` picks how the
penalty is computed: "jacfwd" (exact, ~784 JVPs: the design card's choice),
"jacrev" (exact, ~256 VJPs) or "hutchinson" (unbiased, `contractive_probes`
random JVPs; the default here because it trains at about the plain AE's speed).
Variants: `:mode=jacfwd`, `:mode=jacrev`, `:weight=0` (plain AE).

Expected result (measured, see the report of issue 4): 5 epochs (2340 steps of 128), 2-core CPU shared:
  --config.total_epochs=5, weight 0 (plain AE): test ||df/dx||_F 9.87, recon_loss 70.1
    nats, mse 0.0083; linear probe (1000 labels) on codes 0.896 vs pixels 0.855.
  :weight=1.0: ||df/dx||_F 4.80 (2.1x smaller), recon_loss 88.2 (1.26x); probe 0.910.
  :weight=5.0: ||df/dx||_F 2.47 (4.0x smaller), recon_loss 121.7 (1.74x); probe 0.897.
  :weight=8.0 (the default): ||df/dx||_F 1.944 (5.1x smaller), recon_loss 137.1
    (1.96x), mse 0.0350; probe 0.877 (100 labels: 0.723); measured idle-ish.
  :weight=20.0: ||df/dx||_F 0.76 (13x smaller), recon_loss 184.9 (2.6x); probe 0.685.
  About 1 min of training (+ about 40 s per exact-Jacobian eval) per run.
  Step time, idle machine, batch 128 (`scripts/benchmark.py --compare=...`):
  scanned K=100, plain AE (weight 0) 23,585 ex/s vs Hutchinson (1 probe,
  weight 8) 18,577 ex/s: 1.27x the plain step. One step per dispatch: plain
  4,170, Hutchinson 3,886, jacrev 226, jacfwd 226 ex/s (exact Jacobians cost
  ~18x a Hutchinson step here: 784 JVPs or 256 VJPs per example).
  Weight 8 is where both "5x smaller Jacobian" and "reconstruction within 2x"
  of the plain AE hold (barely: 5.08x and 1.96x).
"""

from genjax import config as config_lib


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, mode="hutchinson", weight=8.0,
                              probes=1)
  c = config_lib.base_config()
  c.method = "autoencoder"
  c.data.name = "mnist"
  c.model.kind = "mlp"
  c.model.hidden = ()
  c.model.code_dim = 256
  c.model.mirror_decoder = True
  c.model.decoder_hidden = ()
  c.model.activation = "sigmoid"
  c.model.code_activation = "sigmoid"
  c.model.output_activation = "sigmoid"
  c.model.tied = True
  c.loss = dict(reconstruction="bce", contractive_weight=opts.weight,
                contractive_mode=opts.mode, contractive_probes=opts.probes)
  c.evals = dict(jacobian="jacrev", jacobian_examples=0)
  # Add 0 to sizes for an all-labels probe (minutes of L-BFGS on 60k codes).
  c.probe = dict(enabled=True, sizes=(100, 1000), l2=1e-3, num_steps=200, pixels=True)
  c.optimizer.lr = 1e-3
  c.total_epochs = 5.0
  c.steps_per_dispatch = 100
  c.log_every_steps = 500
  c.eval_every_steps = 2000
  c.checkpoint_every_steps = 2000
  if opts.runlocal:
    c.model.code_dim = 16
    config_lib.shrink_for_runlocal(c, total_steps=20)
    c.probe.sizes = (100,)
    c.probe.num_steps = 20
  return c


def sweep(add):
  """Contractive weight, 0 (plain AE of the same architecture) to strong."""
  for weight in (0.0, 1.0, 5.0, 8.0, 20.0):
    add(**{"loss.contractive_weight": weight})
