r"""The `jacobian_norm` evaluator: ||df(x)/dx||_F of the encoder on test images.

The contractive autoencoder penalises the squared Frobenius norm of the
encoder's Jacobian; this measures the norm itself, exactly (`jacrev`: one
VJP per code unit; `jacfwd`: one JVP per input pixel), for any model with an
`encode` function (a VAE's: the posterior mean), on the first `examples`
test images (0: all), so runs with and without the penalty can be compared.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from genjax.errors import ConfigError
from genjax.evaluation import registry
from genjax.methods.autoencoder_losses import squared_jacobian_norm

MODES = ("jacrev", "jacfwd")
# Rows per vmapped Jacobian: 100 x 150 x 784 floats for the stacked AE.
_CHUNK = 100


def _check_spec(spec, config, data_info) -> None:
  del data_info
  if spec.mode not in MODES:
    raise ConfigError(f"a jacobian_norm's mode must be one of {', '.join(MODES)}, "
                      f"got {spec.mode!r}")
  if not isinstance(spec.examples, int) or spec.examples < 0:
    raise ConfigError(f"a jacobian_norm's examples must be an integer >= 0 (0: all), "
                      f"got {spec.examples!r}")
  m = config.model
  if spec.mode == "jacfwd" and m.get("conv_impl") == "fast" and "conv" in (
      m.get("kind"), m.get("arch")):
    raise ConfigError("the 'fast' convolutions have custom VJPs and no forward mode: "
                      "use a jacobian_norm with mode='jacrev' (or model.conv_impl='flax')")


@registry.register("jacobian_norm", needs=("encode",), check=_check_spec,
                   with_evals=True, mode="jacrev", examples=1000)
def evaluate(ctx: registry.Context, spec, name: str) -> dict[str, float]:
  """{"jacobian_frobenius": the mean ||df/dx||_F over the measured test images}."""
  del name
  x = ctx.dataset.images("eval", spec.examples or None)
  norms = registry.batched(_Norms(registry.code_function(ctx.model), spec.mode), x,
                           batch_size=min(_CHUNK, len(x)), state=ctx.model.state)
  return {"jacobian_frobenius": float(norms.mean())}


@dataclasses.dataclass(frozen=True)
class _Norms:
  """||df/dx||_F of each example of a batch, a function of (state, x): equal
  for the same model functions, so every evaluation of a run shares one trace."""
  code: registry.Code
  mode: str

  def __call__(self, state, x):
    return jnp.sqrt(squared_jacobian_norm(lambda xb: self.code(state, xb), x, self.mode))
