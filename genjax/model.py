"""A trained model, loaded from its workdir: `genjax.load(workdir)`.

    m = genjax.load("runs/vae")
    x = m.sample(64, seed=0)            # float32 [64, 28, 28, 1] in [0, 1]
    mean, log_var = m.encode(x)
    nll = -m.log_likelihood(x, k=5000)  # nats per image

`load` rebuilds the method from `WORKDIR/config.json` (the run's resolved
config) and `WORKDIR/data_info.json` (image shape and classes, written by
`train`; older workdirs fall back to the prepared TFDS dataset's metadata),
then restores the latest (or a given) checkpoint onto this process's first
device. The training data is never read. Loading the same run again in one
process (another checkpoint, the same model in a loop) reuses its compiled
functions: only the weights are read.

The `Model`'s functions are the method's `model_fns` (see `genjax.methods`)
bound to the restored state and jitted; which ones a model has depends on its
method (`Model.supports`), and calling another raises a `UserError` naming
them. Images go in as float [N, H, W, C] in [0, 1] or uint8 0..255, and come
back as float32 numpy arrays in [0, 1]. Inputs are processed in chunks of
`Model.batch_size`; random functions use `fold_in(key(seed), chunk index)`
for each chunk, so results depend on (seed, batch_size) only.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import numpy as np

from genjax.errors import UserError

# jax is imported where it is used, so a bad workdir fails in a fraction of a second.
DATA_INFO = "data_info.json"  # = train.DATA_INFO (train imports TFDS lazily, this too)
# Every model function the API knows, in the order `supports` lists them.
FUNCTIONS = ("encode", "decode", "reconstruct", "sample", "log_likelihood", "elbo",
             "discriminate", "infer_codes", "classify")
_STATIC = {"sample": (2,), "log_likelihood": (3, 4)}  # n; k, with_variance
WEIGHTS = "weights.npz"  # a saved model's parameters (Model.save), instead of checkpoints/
_STEP_KEY = "__step__"
# A float16 array stored as its two byte planes (uint8 [2, *shape]: every
# value's high bytes, then its low bytes) under its name plus this suffix: the
# planes of sign and exponent compress far better than interleaved bytes.
_BYTE_PLANES = "#f16_planes"


class UnsupportedFunctionError(UserError, AttributeError):
  """The model's method has no such function (also an AttributeError, so
  `hasattr(model, "sample")` is False for an autoencoder)."""


def _tuples(value: Any) -> Any:
  """JSON lists back to the tuples config files use, recursively."""
  if isinstance(value, dict):
    return {k: _tuples(v) for k, v in value.items()}
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  return value


def read_config(workdir: str):
  """The run's resolved config, rebuilt from `workdir/config.json`.

  Raises:
    UserError: missing workdir or config.json, or an unreadable one.
  """
  from genjax.config import ConfigDict
  if not os.path.isdir(workdir):
    raise UserError(f"no trained run at {workdir}: the directory does not exist")
  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    raise UserError(f"{workdir} has no config.json: not a genjax workdir, or its run "
                    "never started (train it with python -m genjax.main)")
  try:
    with open(path) as f:
      raw = json.load(f)
  except (OSError, ValueError) as e:
    raise UserError(f"cannot read {path}: {e}") from None
  if not isinstance(raw, dict) or not raw.get("method"):
    raise UserError(f"{path} is not a genjax config (no 'method')")
  return ConfigDict(_tuples(_with_optimizer_defaults(_without_legacy_evals(raw))))


def _with_optimizer_defaults(raw: dict) -> dict:
  """Optimiser keys added after a run was saved (Adam's eps / eps_root,
  2026-12-03) take their defaults, which are what such a run trained with."""
  from genjax.config import optimizer_config
  out = dict(raw)
  for group in ("optimizer", "d_optimizer"):
    if isinstance(raw.get(group), dict):
      out[group] = {**optimizer_config().to_dict(), **raw[group]}
  return out


def _without_legacy_evals(raw: dict) -> dict:
  """A config written before `config.evals` held evaluators (2026-12-02) had
  `eval` / `probe` groups and flat `evals` keys; they describe how the run was
  measured, not the model, so a loaded model drops them (its evals are then
  its method's defaults). The VAE's `eval.nll_chunk_size` moved to `model`."""
  evals = raw.get("evals")
  legacy = ("eval" in raw or "probe" in raw or (
      isinstance(evals, dict) and any(not isinstance(v, dict) for v in evals.values())))
  if not legacy:
    return raw
  out = {k: v for k, v in raw.items() if k not in ("eval", "probe", "evals")}
  chunk = (raw.get("eval") or {}).get("nll_chunk_size")
  if chunk and isinstance(out.get("model"), dict):
    out["model"] = {**out["model"], "nll_chunk_size": chunk}
  return out


def read_data_info(workdir: str, config):
  """`methods.DataInfo` from `workdir/data_info.json`, else from TFDS metadata.

  Raises:
    UserError: an old workdir (no data_info.json) whose dataset's metadata
      cannot be found either.
  """
  from genjax import methods
  path = os.path.join(workdir, DATA_INFO)
  if os.path.isfile(path):
    with open(path) as f:
      d = json.load(f)
    return methods.DataInfo(image_shape=tuple(d["image_shape"]),
                            num_classes=int(d["num_classes"]), num_train=int(d["num_train"]))
  data = config.data
  cap = data.get("max_train_examples")
  if data.name.startswith("toy_"):
    from genjax import toy_data
    mix = toy_data.mixture(data.name)
    num = toy_data.SPLIT_SIZES.get(data.train_split, 1)
    return methods.DataInfo(image_shape=(mix.dim,), num_classes=len(mix.weights),
                            num_train=min(num, cap) if cap else num)
  from genjax import data as data_lib
  import tensorflow_datasets as tfds  # the metadata alone: no TensorFlow import
  data_dir = data_lib.tfds_data_dir(data)
  try:
    builder = tfds.builder(data.name, data_dir=data_dir)
    prepared = builder.is_prepared()
  except Exception:  # unknown name, unreadable dir: same fix
    prepared = False
  if not prepared:
    raise UserError(
        f"{workdir} has no {DATA_INFO} (runs before genjax's model API did not write it) and "
        f"dataset {data.name!r} is not prepared in {data_dir or 'TFDS default dir'}, so its "
        f"image shape is unknown; set TFDS_DATA_DIR to where it is prepared, or write "
        f'{path} as {{"image_shape": [H, W, C], "num_classes": K, "num_train": N}}')
  info = builder.info
  image_shape = tuple(int(s) for s in info.features["image"].shape)
  num = int(info.splits[data.train_split.split("[")[0]].num_examples)
  return methods.DataInfo(image_shape=image_shape, num_classes=data_lib._num_classes(builder),  # noqa: SLF001
                          num_train=min(num, cap) if cap else num)


def load(workdir: str, step: int | None = None) -> "Model":
  """The trained model in `workdir`, at checkpoint `step` (None: the latest).

  `workdir` is a training run's workdir (its Orbax checkpoints) or a
  directory written by `Model.save` (its `weights.npz`, e.g. `pretrained/`).

  Raises:
    UserError: missing workdir, config.json or checkpoint; a checkpoint that
      does not match the config.
  """
  workdir = os.path.abspath(os.fspath(workdir))
  config = read_config(workdir)  # before importing jax: a bad workdir fails fast

  from genjax import config as config_lib
  from genjax import train

  config = train.check_config(config)
  info = read_data_info(workdir, config)
  try:
    total = config_lib.num_train_steps(config, info.num_train)
  except UserError:
    total = 1  # only the optimiser's schedule uses it, not any shape
  method, abstract = _build_method(config, info, max(total, 1))
  if not method.model_fns:
    raise UserError(f"method {config.method!r} declares no model functions")
  if os.path.isfile(os.path.join(workdir, WEIGHTS)):
    state, step = _read_weights(workdir, method.model_state(abstract), step)
  else:
    state, step = _restore_checkpoint(workdir, config, abstract, step)
    state = method.model_state(state)
  return Model(config=config, step=step, state=state, data_info=info,
               model_fns=method.model_fns, workdir=workdir)


_BUILT: dict = {}  # (config JSON, data info, steps) -> (method, abstract state), a few


def _build_method(config, info, total: int):
  """`methods.build` and the state's shapes, remembered per (config, data info,
  steps) in this process.

  Loading several checkpoints of one run (a trajectory of samples, a sweep's
  evaluation) then reuses one set of model functions, and with them the
  traced and compiled programs of `Model`'s jitted functions (jax caches them
  per function): a method is a pure function of these three (a method name
  cannot be registered twice), its state an argument.
  """
  from genjax import methods
  key = (config.to_json_best_effort(sort_keys=True), tuple(info.image_shape),
         int(info.num_classes), int(info.num_train), total)
  if key not in _BUILT:
    if len(_BUILT) >= 8:
      del _BUILT[next(iter(_BUILT))]
    method = methods.build(config, data_info=info, num_train_steps=total)
    _BUILT[key] = method, _abstract_state(method, config, info)
  return _BUILT[key]


def _abstract_state(method, config, info) -> dict:
  """Shapes and dtypes of the method's whole training state."""
  import jax
  import jax.numpy as jnp
  batch = {"image": jnp.zeros((config.batch_size, *info.image_shape), jnp.float32),
           "label": jnp.zeros((config.batch_size,), jnp.int32)}
  return jax.eval_shape(method.init, jax.random.key(0), batch)


def _restore_checkpoint(workdir: str, config, abstract: dict, step: int | None):
  """(state, step) from the run's Orbax checkpoint, onto this process's first device."""
  import jax
  from genjax import parallel
  from genjax.checkpointing import Checkpointer
  ckpt_dir = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(ckpt_dir):
    raise UserError(f"{workdir} has no checkpoints/: its run saved no checkpoint yet")
  ckpt = Checkpointer(ckpt_dir, keep=max(int(config.get("keep_checkpoints", 2)), 1))
  try:
    steps = sorted(ckpt._manager.all_steps())  # noqa: SLF001
    if not steps:
      raise UserError(f"{workdir} has no checkpoint yet: its run saved none")
    if step is None:
      step = steps[-1]
    elif step not in steps:
      raise UserError(f"{workdir} has no checkpoint at step {step}; it has "
                      f"{', '.join(map(str, steps))}")
    # Replicated over a one-device mesh: training's layout on one device.
    mesh = jax.sharding.Mesh(np.array(jax.local_devices()[:1]), (parallel.DATA_AXIS,))
    sharding = parallel.replicated(mesh)
    abstract = jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), abstract)
    state = ckpt.restore(int(step), abstract)
  finally:
    ckpt.close()
  return state, int(step)


def _read_weights(workdir: str, abstract: dict, step: int | None):
  """(model state, step) from `Model.save`'s weights.npz, cast to the model's dtypes."""
  import jax
  import jax.numpy as jnp
  path = os.path.join(workdir, WEIGHTS)
  with np.load(path) as f:
    arrays = {name.removesuffix(_BYTE_PLANES):
              _from_byte_planes(f[name]) if name.endswith(_BYTE_PLANES) else f[name]
              for name in f.files}
  saved_step = int(arrays.pop(_STEP_KEY, -1))
  if step is not None and step != saved_step:
    raise UserError(f"{workdir} holds step {saved_step} only, not step {step}")
  leaves, tree = jax.tree_util.tree_flatten_with_path(abstract)
  values = []
  for path_, leaf in leaves:
    name = leaf_name(path_)
    if name not in arrays or arrays[name].shape != leaf.shape:
      got = "missing" if name not in arrays else f"shape {arrays[name].shape}"
      raise UserError(f"{path} does not match its config.json: {name} is {got}, the "
                      f"model needs {leaf.shape}")
    values.append(jnp.asarray(arrays[name], leaf.dtype))
  return jax.tree_util.tree_unflatten(tree, values), saved_step


def leaf_name(key_path) -> str:
  """A state leaf's name in weights.npz: `jax.tree_util.keystr`, with a typed
  state's attributes written as dict keys (`['params']['dense']['kernel']`),
  so a file names its arrays the same whichever pytree type holds them."""
  import jax
  return "".join(f"[{k.name!r}]" if isinstance(k, jax.tree_util.GetAttrKey)
                 else jax.tree_util.keystr((k,)) for k in key_path)


def _write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
  """An .npz, LZMA-compressed, float16 arrays as byte planes: float16 weights
  take about 8% less than with `np.savez_compressed` (what keeps the shipped
  `pretrained/` under its size budget). `_read_weights` reads it back."""
  import zipfile
  tmp = path + ".tmp"
  with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_LZMA) as z:
    for name, value in arrays.items():
      value = np.asarray(value)
      if value.dtype == np.float16 and value.ndim:
        name, value = name + _BYTE_PLANES, _to_byte_planes(value)
      with z.open(name + ".npy", "w", force_zip64=True) as f:
        np.lib.format.write_array(f, value, allow_pickle=False)
  os.replace(tmp, path)


def _to_byte_planes(a: np.ndarray) -> np.ndarray:
  """float16 [*shape] -> uint8 [2, *shape] (little-endian: low bytes first)."""
  return np.moveaxis(a.astype("<f2").view(np.uint8).reshape(*a.shape, 2), -1, 0).copy()


def _from_byte_planes(planes: np.ndarray) -> np.ndarray:
  """The inverse of `_to_byte_planes`."""
  return np.ascontiguousarray(np.moveaxis(planes, 0, -1)).view("<f2").reshape(planes.shape[1:])


def _as_images(x: Any, shape: tuple[int, ...], what: str = "x") -> np.ndarray:
  """float32 [N, *shape] in [0, 1] from float [0, 1] or uint8 0..255 input."""
  x = np.asarray(x)
  if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
    raise UserError(f"{what} must have shape [N, {', '.join(map(str, shape))}], "
                    f"got {list(x.shape)}")
  if x.dtype == np.uint8:
    return x.astype(np.float32) / 255.0
  if x.dtype == bool:
    return x.astype(np.float32)
  if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
    raise UserError(f"{what} must be float in [0, 1] or uint8 0..255, got {x.dtype}")
  x = x.astype(np.float32)
  if len(shape) == 3 and x.size and (x.min() < -1e-3 or x.max() > 1.0 + 1e-3):
    raise UserError(f"float {what} must lie in [0, 1] (got {x.min():g}..{x.max():g}); "
                    "pass uint8 0..255 or divide by 255")
  return x


class Model:
  """A trained model: its config, checkpoint step and jitted model functions.

  Attributes:
    config: the run's resolved config (method defaults filled in).
    step: the checkpoint's training step.
    state: the restored method state (a pytree of arrays).
    image_shape, num_classes: of the data it was trained on.
    supports: the names of the model functions this model has.
    batch_size: inputs and samples are processed in chunks of this many.
  """

  def __init__(self, *, config, step: int, state, data_info, model_fns: dict, workdir: str | None,
               batch_size: int = 500):
    self.config = config
    self.step = step
    self.state = state
    self.workdir = workdir
    self.image_shape = tuple(data_info.image_shape)
    self.num_classes = int(data_info.num_classes)
    self.num_train = int(data_info.num_train)
    self.batch_size = batch_size
    self.supports = tuple(n for n in FUNCTIONS if n in model_fns)
    self._fns = dict(model_fns)
    from genjax import xla_options
    self._jitted = {n: xla_options.jit(fn, static_argnums=_STATIC.get(n, ()))
                    for n, fn in model_fns.items()}

  def __getattribute__(self, name: str):
    if name in FUNCTIONS and name not in object.__getattribute__(self, "supports"):
      config = object.__getattribute__(self, "config")
      supports = object.__getattribute__(self, "supports")
      raise UnsupportedFunctionError(
          f"a {config.method} model has no {name}(); it supports "
          f"{', '.join(f'{n}()' for n in supports)}")
    return object.__getattribute__(self, name)

  def __dir__(self):
    return [n for n in super().__dir__() if n not in FUNCTIONS or n in self.supports]

  def __repr__(self):
    return (f"Model({self.config.method}, step {self.step}, {self.workdir}; "
            f"supports {', '.join(self.supports)})")

  @property
  def conditional(self) -> bool:
    """Whether `sample` and `discriminate` take class labels (conditional GANs)."""
    return self.config.method == "gan" and bool(self.config.model.get("conditional", False))

  def save(self, path: str, dtype: str | None = None) -> str:
    """Writes a loadable copy of this model: `genjax.load(path)` gives it back.

    The directory gets config.json, data_info.json, weights.npz (the model
    state only, no optimiser state; floats cast to `dtype`, e.g. "float16",
    to halve the size, and back to the model's dtypes on load) and, when the
    source workdir has one, its final_metrics.json. Returns `path`.
    """
    import jax
    path = os.path.abspath(os.fspath(path))
    os.makedirs(path, exist_ok=True)
    arrays = {}
    for key_path, leaf in jax.tree_util.tree_flatten_with_path(jax.device_get(self.state))[0]:
      leaf = np.asarray(leaf)
      if dtype is not None and np.issubdtype(leaf.dtype, np.floating):
        leaf = leaf.astype(dtype)
      arrays[leaf_name(key_path)] = leaf
    arrays[_STEP_KEY] = np.asarray(self.step)
    _write_npz(os.path.join(path, WEIGHTS), arrays)
    with open(os.path.join(path, "config.json"), "w") as f:
      f.write(self.config.to_json_best_effort(indent=2, sort_keys=True))
    with open(os.path.join(path, DATA_INFO), "w") as f:
      json.dump({"image_shape": list(self.image_shape), "num_classes": self.num_classes,
                 "num_train": self.num_train}, f, indent=2)
    if self.workdir and os.path.isfile(os.path.join(self.workdir, "final_metrics.json")):
      shutil.copyfile(os.path.join(self.workdir, "final_metrics.json"),
                      os.path.join(path, "final_metrics.json"))
    return path

  def function(self, name: str):
    """Model function `name` as a pure JAX function with the state bound in.

    For your own `jax.jit`, `jax.jacfwd` or `jax.vmap`: `m.function("encode")(x)`
    takes a jax array x float [B, H, W, C] in [0, 1] and returns what
    `m.encode(x)` returns, without chunking or numpy conversion. Arguments
    follow the method's model functions (`genjax.methods`): random functions
    take a key after the inputs, `sample(rng, n, ...)`.

    The state is closed over, so `jax.jit` of this function compiles the
    weights into the executable as constants: a new compile per model, and a
    slow one for a large model. To compile once and feed several models or
    checkpoints, call `jitted_state_function(name)` with `m.state`.
    """
    fn, state = self.state_function(name), self.state
    return lambda *args, **kwargs: fn(state, *args, **kwargs)

  def state_function(self, name: str):
    """Model function `name` as a pure JAX function of (state, *args).

    The state is an argument, so you can differentiate with respect to it,
    e.g. fine-tune an encoder under a classifier head:
    `jax.grad(lambda s: loss(m.state_function("encode")(s, x)))(m.state)`
    (`genjax/evaluation/fine_tune.py`). Arguments after the state are those
    of `function(name)`.
    """
    getattr(self, name)  # an unsupported name raises UnsupportedFunctionError
    return self._fns[name]

  def jitted_state_function(self, name: str):
    """`state_function(name)` under `jax.jit`, its size arguments static
    (`sample`'s n; `log_likelihood`'s k and with_variance), as the model's
    own calls run it. jax keys its traces on the underlying function, so
    every `Model` of one method (each checkpoint of a run, each of a run's
    evaluations) reuses one trace and compiled program per argument shape."""
    getattr(self, name)
    return self._jitted[name]

  # ---- helpers ----------------------------------------------------------

  def _chunks(self, n: int):
    return [(i, min(i + self.batch_size, n)) for i in range(0, n, self.batch_size)]

  def _map(self, name: str, inputs: tuple, seed: int | None = None, extra: tuple = ()):
    """Applies model function `name` to chunks of `inputs` (arrays of equal length)."""
    import jax
    import jax.numpy as jnp
    fn = self._jitted[name]
    n = len(inputs[0])
    key = jax.random.key(seed) if seed is not None else None
    outs = []
    for c, (a, b) in enumerate(self._chunks(n)):
      args = [jnp.asarray(v[a:b]) for v in inputs]
      if key is not None:
        args.append(jax.random.fold_in(key, c))
      outs.append(jax.device_get(fn(self.state, *args, *extra)))
    if not outs:
      raise UserError(f"{name}() got no examples (N = 0)")
    return jax.tree.map(lambda *parts: np.concatenate(parts), *outs)

  def _labels(self, labels, n: int, what: str = "labels"):
    if not self.conditional:
      if labels is not None:
        raise UserError(f"this {self.config.method} model is not conditional: pass no {what}")
      return None
    if labels is None:
      return np.arange(n, dtype=np.int32) % self.num_classes
    labels = np.asarray(labels)
    if labels.ndim == 0:
      labels = np.full((n,), labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
      raise UserError(f"{what} must be {n} integers, got shape {list(labels.shape)} "
                      f"({labels.dtype})")
    if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
      raise UserError(f"{what} must lie in 0..{self.num_classes - 1}, got "
                      f"{labels.min()}..{labels.max()}")
    return labels.astype(np.int32)

  def _latents(self, z, n: int):
    """Checks a GAN's given latents z: float [n, latent_dim]."""
    if z is None:
      return None
    if self.config.method != "gan":
      raise UserError(f"sample(z=...) is for GANs; a {self.config.method} model's is decode(z)")
    z = np.asarray(z, np.float32)
    dim = self.config.model.latent_dim
    if z.shape != (n, dim):
      raise UserError(f"z must have shape [{n}, {dim}] (n, latent_dim), got {list(z.shape)}")
    return z

  # ---- model functions ----------------------------------------------------

  def encode(self, x):
    """Autoencoder: codes h [N, D]. VAE: q(z|x)'s (mean, log_variance), [N, latent]."""
    return self._map("encode", (_as_images(x, self.image_shape),))

  def decode(self, h):
    """Images [N, H, W, C] in [0, 1] from codes (AE) or latents z (VAE: E[x|z])."""
    h = np.asarray(h, np.float32)
    if h.ndim != 2:
      raise UserError(f"codes must have shape [N, D], got {list(h.shape)}")
    return self._map("decode", (h,))

  def reconstruct(self, x):
    """g(f(x)) (AE) or the decoded posterior mean (VAE), [N, H, W, C] in [0, 1]."""
    return self._map("reconstruct", (_as_images(x, self.image_shape),))

  def sample(self, n: int, seed: int = 0, labels=None, codes=None, z=None):
    """n samples [n, H, W, C] in [0, 1] (VAE: E[x|z], z ~ N(0, I)).

    Args:
      n: number of samples.
      seed: the same seed gives the same samples.
      labels: conditional GANs: the class of each sample (int [n] or one
        int); None: balanced, 0, 1, .., K-1, 0, ...
      codes: InfoGAN: (c1 int [n] or None, c_cont [n, M] or None); None
        parts are drawn from their priors.
      z: GANs: the latents [n, latent_dim] to map through G (e.g. an
        interpolation between two draws); None: drawn from p(z) with `seed`.
        (A VAE's sample from given z is `decode(z)`.)
    """
    n = int(n)
    if n <= 0:
      raise UserError(f"sample() needs n >= 1, got {n}")
    labels = self._labels(labels, n)
    z = self._latents(z, n)
    if codes is not None and "infer_codes" not in self.supports:
      raise UserError(f"this {self.config.method} model is not an InfoGAN: pass no codes")
    import jax
    import jax.numpy as jnp
    key = jax.random.key(seed)
    fn = self._jitted["sample"]
    gan = self.config.method == "gan"
    outs = []
    for c, (a, b) in enumerate(self._chunks(n)):
      args = (self.state, jax.random.fold_in(key, c), b - a)
      if gan:
        part_codes = None
        if codes is not None:
          c1, cont = codes
          part_codes = (None if c1 is None else jnp.asarray(np.asarray(c1)[a:b], jnp.int32),
                        None if cont is None else jnp.asarray(np.asarray(cont)[a:b], jnp.float32))
        outs.append(fn(*args, None if labels is None else jnp.asarray(labels[a:b]),
                       part_codes, None if z is None else jnp.asarray(z[a:b])))
      else:
        outs.append(fn(*args))
    return np.concatenate([np.asarray(o) for o in outs])

  def log_likelihood(self, x, k: int = 5000, seed: int = 0, return_variance: bool = False):
    """VAE: the IWAE-k estimate of log p(x) per example [N], in nats (k = 5000:
    Burda et al.'s test NLL is its negative mean). With `return_variance`, a
    pair (that, the estimate's importance-sampling variance per example [N],
    delta method: sum w^2 / (sum w)^2 - 1/k over the k weights)."""
    if int(k) < 1:
      raise UserError(f"log_likelihood() needs k >= 1, got {k}")
    return self._map("log_likelihood", (_as_images(x, self.image_shape),), seed,
                     extra=(int(k), bool(return_variance)))

  def elbo(self, x, seed: int = 0):
    """VAE: a one-sample ELBO per example [N], in nats."""
    return self._map("elbo", (_as_images(x, self.image_shape),), seed)

  def discriminate(self, x, labels=None):
    """GAN: D(x) [N], the discriminator's probability that x is real
    (conditional GANs: given `labels`, int [N] or one int)."""
    x = _as_images(x, self.image_shape)
    if self.conditional and labels is None:
      raise UserError("a conditional GAN's discriminate(x, labels) needs the labels")
    labels = self._labels(labels, len(x))
    if labels is None:
      return self._map("discriminate", (x,))
    return self._map("discriminate", (x, labels))

  def infer_codes(self, x):
    """InfoGAN: Q's (category probabilities [N, K], continuous code means [N, M])."""
    return self._map("infer_codes", (_as_images(x, self.image_shape),))

  def classify(self, x):
    """Semi-supervised GAN: the discriminator's class probabilities [N, K]
    (its predicted label is their argmax)."""
    return self._map("classify", (_as_images(x, self.image_shape),))
