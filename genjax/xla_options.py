"""The XLA compiler options genjax's own `jax.jit`s use: on CPU, convolutions
stay with XLA's own kernels instead of YNNPACK.

    from genjax import xla_options
    step = xla_options.jit(step_fn, donate_argnums=0)   # jax.jit plus the options

XLA:CPU (jaxlib 0.10) hands dots, reductions and convolutions to YNNPACK by
default. Its convolutions (forward and both gradients) were the slower kernels
for every conv model genjax ships on the AVX-512 CPU measured; its dots were
as fast as or faster than XLA's own. So on CPU genjax keeps YNNPACK for dots and
reductions only. The measured speed-ups are in the README (Benchmarks); rerun
them with `scripts/benchmark.py --xla_options=genjax,xla_default`.

Numbers change (different kernels round differently), not what is computed.
A `--xla_cpu_experimental_ynn_fusion_type` in `XLA_FLAGS` is yours to set: then
genjax passes no options, and your flag decides. Other platforms get none.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator

import jax

YNN_FLAG = "xla_cpu_experimental_ynn_fusion_type"
# XLA's default list (dots, convolutions, reductions) less the convolutions.
CPU_OPTIONS = {YNN_FLAG: "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"}
_enabled = True


@contextlib.contextmanager
def enabled(on: bool) -> Iterator[None]:
  """Jits created inside the block compile with genjax's options (on) or with
  XLA's defaults (off), e.g. for an A/B benchmark; the setting before the
  block comes back after it."""
  global _enabled
  before, _enabled = _enabled, bool(on)
  try:
    yield
  finally:
    _enabled = before


def compiler_options() -> dict[str, str] | None:
  """The options for a jit created now (None: XLA's defaults)."""
  if not _enabled or jax.default_backend() != "cpu":
    return None
  if YNN_FLAG in os.environ.get("XLA_FLAGS", ""):
    return None
  return dict(CPU_OPTIONS)


def jit(fn: Callable[..., Any], **kwargs) -> Callable[..., Any]:
  """`jax.jit(fn, **kwargs)` compiled with `compiler_options()` when called
  from Python. Called with traced arguments (inside another jit, vmap or
  eval_shape, where jax refuses compiler options) it is a plain `jax.jit`;
  to call it inside your own jit, pass it the traced values."""
  options = compiler_options()
  return _Jit(fn, options, kwargs) if options else jax.jit(fn, **kwargs)


class _Jit:
  """Two `jax.jit`s of one function: with options at top level, without inside
  a trace. Attributes (`lower`, `trace`, ...) are the top-level one's."""

  def __init__(self, fn, options: dict[str, str], kwargs: dict[str, Any]):
    self._top = jax.jit(fn, compiler_options=options, **kwargs)
    self._nested = jax.jit(fn, **kwargs)

  def __call__(self, *args, **kwargs):
    traced = any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves((args, kwargs)))
    return (self._nested if traced else self._top)(*args, **kwargs)

  def __getattr__(self, name: str):
    return getattr(self._top, name)
