"""genjax.models.conv must compute exactly what flax's convolutions compute.

Every check compares against flax.linen.Conv / ConvTranspose (or lax) run on
the same parameters: outputs, input gradients, kernel and bias gradients, for
a grid of strides, kernel sizes, paddings, odd/even sizes and batch sizes, and
under jit, lax.scan and vmap. Data comes from numpy (eager jax.random would
compile a sampler per shape), the big grid compiles one small jit per case
(cheaper than eager per-op compiles) and the smaller tests run eagerly, so
the file stays fast on a 2-core CPU.
"""


import flax.linen as nn
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import conv_equations
from jax import lax

from genjax.models.conv import (
    CONV_IMPLS,
    Conv,
    ConvTranspose,
    conv2d,
    conv2d_transpose,
    conv_layers,
)

PAIRS = {"conv": (Conv, nn.Conv), "conv_transpose": (ConvTranspose, nn.ConvTranspose)}
TOL = dict(rtol=1e-4, atol=1e-4)


def _rand(rng, shape, dtype=np.float32):
  return rng.standard_normal(shape).astype(dtype)


def _params(rng, kernel_size, cin, features, use_bias=True):
  params = {"kernel": _rand(rng, tuple(kernel_size) + (cin, features)) * 0.5}
  if use_bias:
    params["bias"] = _rand(rng, (features,))
  return {"params": params}


def _value_and_vjp(module, variables, x, g):
  """Output and (d variables, d x) of module.apply for the output cotangent g."""
  y, vjp = jax.vjp(module.apply, variables, x)
  return y, vjp(g.astype(y.dtype))


def _assert_same_as_flax(kind, kwargs, x_shapes, seed=0, jit=False):
  """Ours and flax's: same output shapes/values, same gradients for all inputs.

  One case per input shape. With jit=True all cases (flax's and ours) go
  into a single jitted function: one compile is much cheaper than one per
  case or than compiling every eager op. Returns our outputs.
  """
  ours_cls, flax_cls = PAIRS[kind]
  ours, ref = ours_cls(**kwargs), flax_cls(**kwargs)
  rng = np.random.default_rng(seed)
  kernel_size = kwargs["kernel_size"]
  kernel_size = (kernel_size,) if isinstance(kernel_size, int) else kernel_size
  args = []
  for shape in x_shapes:
    variables = _params(rng, kernel_size, shape[-1], kwargs["features"])
    x = _rand(rng, shape)
    g = _rand(rng, jax.eval_shape(ref.apply, variables, x).shape)
    args.append((variables, x, g))

  def run(args):
    return [[_value_and_vjp(m, *a) for m in (ours, ref)] for a in args]

  results = (jax.jit(run) if jit else run)(args)
  outputs = []
  for (y, (dv, dx)), (y_ref, (dv_ref, dx_ref)) in results:
    assert y.shape == y_ref.shape
    np.testing.assert_allclose(y, y_ref, **TOL)
    np.testing.assert_allclose(dx, dx_ref, **TOL)
    np.testing.assert_allclose(dv["params"]["kernel"], dv_ref["params"]["kernel"], **TOL)
    np.testing.assert_allclose(dv["params"]["bias"], dv_ref["params"]["bias"], **TOL)
    outputs.append(y)
  return outputs


# (batch, height, width): batch 1 / >1, odd / even / non-square spatial sizes.
GEOMETRIES = [(1, 7, 7), (3, 8, 6)]


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("kernel", [3, 4, 5])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_matches_flax_grid(kind, strides, kernel, padding):
  kwargs = dict(features=3, kernel_size=(kernel, kernel), strides=strides, padding=padding)
  shapes = [(b, h, w, 2) for b, h, w in GEOMETRIES]
  ys = _assert_same_as_flax(kind, kwargs, shapes, jit=True)
  if kind == "conv_transpose" and padding == "SAME":
    for y, (_, h, w) in zip(ys, GEOMETRIES):
      assert y.shape[1:3] == (h * strides, w * strides)  # flax's convention


@pytest.mark.parametrize(
    "kind,kernel_size,strides,padding",
    [
        ("conv", (3, 3), 2, ((1, 2), (0, 1))),
        ("conv", (3, 4), (1, 2), 1),
        ("conv", (4, 3), (2, 1), [(0, 2), 1]),
        ("conv", (3, 3), 2, ((-1, 2), (2, -1))),  # negative padding crops
        ("conv_transpose", (4, 4), 2, ((2, 1), (1, 0))),
        ("conv_transpose", (3, 4), (2, 1), 2),
        ("conv_transpose", (3, 3), 2, ((-1, 2), (3, -1))),
    ],
)
def test_matches_flax_explicit_padding(kind, kernel_size, strides, padding):
  kwargs = dict(features=4, kernel_size=kernel_size, strides=strides, padding=padding)
  _assert_same_as_flax(kind, kwargs, [(1, 7, 8, 3), (2, 6, 9, 3)], seed=1, jit=True)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_int_kernel_size_is_1d_like_flax(kind):
  kwargs = dict(features=3, kernel_size=3, strides=2, padding="SAME")
  # NWC input; and on an NHWC input flax treats an int kernel as 1-D over W
  # with two batch dims. Eager, so the un-jitted custom_vjp path is covered.
  ys = _assert_same_as_flax(kind, kwargs, [(2, 9, 2), (2, 5, 7, 2)])
  assert [y.ndim for y in ys] == [3, 4]


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_unbatched_and_multi_batch_inputs_like_flax(kind):
  kwargs = dict(features=3, kernel_size=(3, 3), strides=2, padding="SAME")
  ys = _assert_same_as_flax(kind, kwargs, [(7, 7, 2), (2, 2, 6, 6, 2)])  # eager
  assert [y.ndim for y in ys] == [3, 5]


@pytest.mark.parametrize("kind", sorted(PAIRS))
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(features=5, kernel_size=(3, 4), strides=2, bias_init=nn.initializers.normal(1.0)),
        dict(features=2, kernel_size=(4, 4), use_bias=False),
        dict(features=3, kernel_size=(3, 3), param_dtype=jnp.bfloat16),
    ],
)
def test_param_tree_matches_flax(kind, kwargs):
  ours_cls, flax_cls = PAIRS[kind]
  x = jnp.ones((2, 8, 8, 3))
  ours = ours_cls(**kwargs).init(jax.random.key(0), x)
  ref = flax_cls(**kwargs).init(jax.random.key(0), x)
  assert jax.tree.structure(ours) == jax.tree.structure(ref)
  for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(ref)):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)  # same default initialisers and rng use


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_dtype_like_flax(kind):
  ours_cls, flax_cls = PAIRS[kind]
  kwargs = dict(features=3, kernel_size=(3, 3), strides=2, dtype=jnp.bfloat16)
  rng = np.random.default_rng(3)
  variables = _params(rng, (3, 3), 2, 3)
  x = _rand(rng, (2, 6, 6, 2))
  g = _rand(rng, (2, 3, 3, 3) if kind == "conv" else (2, 12, 12, 3))
  ours, ref = ours_cls(**kwargs), flax_cls(**kwargs)
  (y, (dv, dx)), (y_ref, (dv_ref, dx_ref)) = jax.jit(
      lambda v, x, g: (_value_and_vjp(ours, v, x, g), _value_and_vjp(ref, v, x, g))
  )(variables, x, g)
  assert y.dtype == y_ref.dtype == jnp.bfloat16
  assert dx.dtype == dx_ref.dtype and dv["params"]["kernel"].dtype == jnp.float32
  bf16 = dict(rtol=5e-2, atol=5e-2)
  np.testing.assert_allclose(y.astype(np.float32), y_ref.astype(np.float32), **bf16)
  np.testing.assert_allclose(dv["params"]["kernel"], dv_ref["params"]["kernel"], **bf16)


# ---------------------------------------------------------------------------
# Pure functions against lax, and the reason the module exists.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["SAME", "VALID", ((1, 0), (2, 1))])
def test_pure_functions_match_lax(padding):
  rng = np.random.default_rng(4)
  x, w = _rand(rng, (2, 7, 6, 3)), _rand(rng, (3, 4, 3, 2))
  dn = ("NHWC", "HWIO", "NHWC")
  pairs = [
      (
          lambda x, w: conv2d(x, w, (2, 1), padding),
          lambda x, w: lax.conv_general_dilated(x, w, (2, 1), padding, dimension_numbers=dn),
      ),
      (
          lambda x, w: conv2d_transpose(x, w, (2, 1), padding),
          lambda x, w: lax.conv_transpose(x, w, (2, 1), padding, dimension_numbers=dn),
      ),
  ]
  cotangents = [_rand(rng, jax.eval_shape(ref, x, w).shape) for _, ref in pairs]

  def run(x, w, gs):  # every case, ours and lax's, in one compile
    out = []
    for (ours, ref), g in zip(pairs, gs):
      for f in (ours, ref):
        y, vjp = jax.vjp(f, x, w)
        out.append((y, vjp(g)))
    return out

  results = jax.jit(run)(x, w, cotangents)
  for ours, ref in zip(results[0::2], results[1::2]):
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(ref)):
      assert a.shape == b.shape
      np.testing.assert_allclose(a, b, **TOL)


def test_every_conv_in_the_gradient_is_canonical():
  """Forward, input grad and kernel grad: NHWC/HWIO->NHWC, no negative pads."""
  x = jax.ShapeDtypeStruct((2, 8, 8, 3), jnp.float32)
  model = nn.Sequential([Conv(4, (4, 4), strides=2), ConvTranspose(3, (4, 4), strides=2)])
  variables = jax.eval_shape(model.init, jax.random.key(0), x)  # tracing only

  def loss(v, x):
    return jnp.sum(model.apply(v, x) ** 2)

  eqns = conv_equations(jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))(variables, x).jaxpr)
  assert len(eqns) == 6  # 2 layers x (forward, d input, d kernel)
  canonical = lax.conv_dimension_numbers(
      (1, 1, 1, 1), (1, 1, 1, 1), ("NHWC", "HWIO", "NHWC")
  )
  for eqn in eqns:
    assert eqn.params["dimension_numbers"] == canonical
    assert all(lo >= 0 and hi >= 0 for lo, hi in eqn.params["padding"])
    # An lhs-dilated conv with an image-sized kernel (the direct form of the
    # transposed conv's kernel gradient) gets its operands swapped by XLA
    # into a non-canonical, naive-loop conv: only real kernels may be
    # dilated against.
    if any(d != 1 for d in eqn.params["lhs_dilation"]):
      assert eqn.invars[1].aval.shape[:2] == (4, 4)


class _Critic(nn.Module):
  """A DCGAN-style discriminator: two strided convs, then a linear logit."""

  impl: str

  @nn.compact
  def __call__(self, x):
    conv, _ = conv_layers(self.impl)
    h = nn.leaky_relu(conv(4, (4, 4), strides=2, padding="SAME")(x), 0.2)
    h = nn.leaky_relu(conv(6, (3, 3), strides=2, padding="VALID")(h), 0.2)
    return nn.Dense(1)(h.reshape(h.shape[0], -1))[:, 0]


def _r1_grad(impl):
  """d/dparams of D's loss + R1 penalty E ||d logit / dx||^2, as genjax's GAN does.

  The logits come out of the same forward pass as the input gradient, so
  the outer gradient differentiates both the backward pass and the
  forward pass as run inside the inner gradient.
  """
  def loss(variables, x):
    def total(x):
      logits = _Critic(impl).apply(variables, x)
      return jnp.sum(logits), logits

    gx, logits = jax.grad(total, has_aux=True)(x)
    r1 = jnp.mean(jnp.sum(gx.reshape(x.shape[0], -1) ** 2, -1))
    return jnp.mean(jax.nn.softplus(-logits)) + r1

  return jax.grad(loss)


def test_second_order_gradient_matches_flax_and_is_canonical():
  """R1's parameter gradient: same values as flax, and every conv canonical.

  Before the input gradients and forward rules called the custom-VJP
  functions themselves, autodiff of the backward pass (and of the forward
  rule) emitted non-canonical convs, which inside `lax.scan` run as naive
  loops (an R1 DCGAN trained at ~80 examples/s instead of ~300).
  """
  rng = np.random.default_rng(11)
  x = jnp.asarray(_rand(rng, (3, 12, 11, 2)))
  shapes = jax.eval_shape(_Critic("flax").init, jax.random.key(0), x)
  variables = jax.tree.map(lambda s: jnp.asarray(0.3 * _rand(rng, s.shape)), shapes)
  ours, ref = (jax.jit(_r1_grad(impl))(variables, x) for impl in ("fast", "flax"))
  _assert_trees_close(ours, ref)
  canonical = lax.conv_dimension_numbers(
      (1, 1, 1, 1), (1, 1, 1, 1), ("NHWC", "HWIO", "NHWC")
  )
  eqns = conv_equations(jax.make_jaxpr(_r1_grad("fast"))(variables, x).jaxpr)
  assert len(eqns) >= 6
  for eqn in eqns:
    assert eqn.params["dimension_numbers"] == canonical


# ---------------------------------------------------------------------------
# Transformations: jit, lax.scan, vmap.
# ---------------------------------------------------------------------------


class _Net(nn.Module):
  """Conv down, conv-transpose up; picks the layers like model code does."""

  impl: str

  @nn.compact
  def __call__(self, x):
    conv, conv_t = conv_layers(self.impl)
    h = nn.relu(conv(4, (4, 4), strides=2, padding="SAME")(x))
    h = nn.relu(conv(4, (3, 3), strides=1, padding="VALID")(h))
    return conv_t(2, (4, 4), strides=2, padding="SAME")(h)


@pytest.fixture(scope="module")
def net_setup():
  """Shared params (one tree serves both implementations), inputs, targets."""
  rng = np.random.default_rng(5)
  x = jnp.asarray(_rand(rng, (3, 9, 9, 2)))
  target = jnp.asarray(_rand(rng, (3, 6, 6, 2)))
  # Random values in the tree's shapes: tracing only, no eager init compiles.
  shapes = jax.eval_shape(_Net("flax").init, jax.random.key(5), x)
  ours = jax.eval_shape(_Net("fast").init, jax.random.key(5), x)
  assert jax.tree.structure(shapes) == jax.tree.structure(ours)
  variables = jax.tree.map(lambda s: jnp.asarray(0.3 * _rand(rng, s.shape)), shapes)
  return variables, x, target


def _loss(impl):
  def loss(variables, x, target):
    return jnp.mean((_Net(impl).apply(variables, x) - target) ** 2)

  return loss


def _assert_trees_close(a, b, **tol):
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
    np.testing.assert_allclose(u, v, **(tol or TOL))


def test_jit_value_and_grad_matches_flax(net_setup):
  variables, x, target = net_setup
  results = {
      impl: jax.jit(jax.value_and_grad(_loss(impl)))(variables, x, target)
      for impl in CONV_IMPLS
  }
  _assert_trees_close(results["fast"], results["flax"])


def test_scan_training_steps_match_flax(net_setup):
  """Three SGD steps inside lax.scan (how genjax trains): same grads, same params."""
  variables, x, target = net_setup

  def train(impl):
    grad_fn = jax.grad(_loss(impl))

    def step(v, _):
      g = grad_fn(v, x, target)
      return jax.tree.map(lambda p, d: p - 0.1 * d, v, g), g  # grads of every step

    return jax.jit(lambda v: lax.scan(step, v, None, length=3))(variables)

  fast, flax_ = train("fast"), train("flax")
  _assert_trees_close(fast, flax_)
  # The steps did something (so equality is not trivially the initial params).
  kernel = lambda v: v["params"]["Conv_0"]["kernel"]  # noqa: E731
  assert not np.allclose(kernel(flax_[0]), kernel(variables))


def test_vmap_per_example_grads_match_flax(net_setup):
  """vmap over unbatched examples: losses and per-example gradients (jitted)."""
  variables, x, target = net_setup

  def per_example(impl):
    def loss(v, xi, ti):  # xi: (H, W, C), no batch dim
      return jnp.mean((_Net(impl).apply(v, xi) - ti) ** 2)

    per_ex = jax.vmap(jax.value_and_grad(loss), in_axes=(None, 0, 0))
    return jax.jit(per_ex)(variables, x, target)

  _assert_trees_close(per_example("fast"), per_example("flax"))


def test_conv_layers_switch():
  assert conv_layers("fast") == (Conv, ConvTranspose)
  assert conv_layers("flax") == (nn.Conv, nn.ConvTranspose)
  with pytest.raises(ValueError, match="fast.*flax"):
    conv_layers("nope")


def test_rejects_unsupported_padding():
  with pytest.raises(ValueError, match="SAME"):
    Conv(2, (3, 3), padding="CIRCULAR").init(jax.random.key(0), jnp.ones((1, 5, 5, 1)))
