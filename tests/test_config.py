"""Config files, variants, overrides and validation."""

from __future__ import annotations


import jax.numpy as jnp
import pytest

from genjax import config as config_lib
from genjax import optim
from genjax.errors import ConfigError
from conftest import REPO, load_config

CONFIG_FILES = sorted(p.stem for p in (REPO / "configs").glob("*.py"))


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_every_config_loads_validates_and_documents_its_command(name):
  source = (REPO / "configs" / f"{name}.py").read_text()
  doc = source.split('"""')[1]
  assert f"--config=configs/{name}.py" in doc, "docstring must give the command"
  # Commands, what it trains and the headline result; dated run logs belong in
  # experiments/results/configs/<name>.md.
  assert len(doc.strip().splitlines()) <= 15, "config docstring over 15 lines"
  for arg in (None, "runlocal"):
    config = load_config(name, arg)
    config_lib.validate(config)
    assert config.method
  small = load_config(name, "runlocal")
  assert small.total_steps is not None and small.total_steps <= 200


def test_parse_arg_types_and_errors():
  opts = config_lib.parse_arg("runlocal,code_dim=2,lr=0.5", runlocal=False,
                              code_dim=150, lr=1e-3, name="x")
  assert opts.runlocal is True and opts.code_dim == 2 and opts.lr == 0.5
  assert config_lib.parse_arg(None, runlocal=False).runlocal is False
  with pytest.raises(ConfigError, match="unknown config variant option 'bogus'"):
    config_lib.parse_arg("bogus", runlocal=False)
  with pytest.raises(ConfigError, match="not a valid int"):
    config_lib.parse_arg("code_dim=abc", code_dim=1)


def test_num_train_steps_needs_exactly_one_duration():
  config = load_config("ae_mnist")
  assert config_lib.num_train_steps(config, 60000) == 20 * (60000 // 128)
  config.total_steps = 7
  with pytest.raises(ConfigError, match="exactly one"):
    config_lib.num_train_steps(config, 60000)
  config.total_epochs = None
  assert config_lib.num_train_steps(config, 60000) == 7
  config.total_steps = -3
  with pytest.raises(ConfigError, match="positive"):
    config_lib.num_train_steps(config, 60000)


@pytest.mark.parametrize("key,value,match", [
    ("batch_size", -8, "batch_size must be a positive integer"),
    ("steps_per_dispatch", 0, "steps_per_dispatch"),
    ("data.binarize", "sometimes", "binarize"),
    ("optimizer.name", "adagrad7", "optimizer.name"),
    ("optimizer.lr", -1.0, "lr must be positive"),
    ("optimizer.eps", 0.0, "not both 0"),  # with eps_root 0: Adam divides by zero
])
def test_validate_rejects_bad_values(key, value, match):
  config = load_config("ae_mnist", "runlocal", **{key: value})
  with pytest.raises(ConfigError, match=match):
    config_lib.validate(config)


def test_config_is_locked_against_new_keys():
  config = load_config("ae_mnist")
  config.lock()
  with pytest.raises(AttributeError):
    config.optimizer.learning_rate = 1.0  # the key is `lr`


def _changed_value(config, key):
  """Another valid value of `key`'s type: (command-line text, parsed value)."""
  node, leaf = config_lib.dotted_parent(config, key)
  value = node[leaf]
  if value is None:  # a typed placeholder
    value = {int: 7, float: 0.5, str: "x", bool: True}[node.get_ref(leaf).get_type()]
    return str(value), value
  if isinstance(value, bool):
    return str(not value), not value
  if isinstance(value, (int, float)):
    return repr(value + 1), value + 1
  if isinstance(value, str):
    return value + "_x", value + "_x"
  if isinstance(value, tuple):
    new = value + value[-1:] if value else (3,)
    return repr(new), new
  raise AssertionError(f"{key}: no override test for {type(value).__name__}")


def _parse_launcher_flags(argv):
  from absl import flags
  from genjax import cli
  flag_values = flags.FlagValues()
  cli.define_config_flag(flag_values, argv)
  cli.parse_flags(argv, flag_values)
  return flag_values["config"].value


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_every_key_a_method_reads_is_overridable(name):
  from genjax import methods
  path = f"configs/{name}.py"
  base = config_lib.load_launcher_config(str(REPO / path))
  keys = config_lib.all_keys(base)
  method_keys = [f"{g}.{k}" for g, ks in methods.default_groups(base.method).items() for k in ks
                 if g != "evals"]  # evaluators: a config's own list (tests/test_evaluators.py)
  assert method_keys and set(method_keys) <= set(keys)
  argv, want = ["prog", f"--config={REPO / path}"], {}
  for key in keys:
    text, want[key] = _changed_value(base, key)
    argv.append(f"--config.{key}={text}")
  config = _parse_launcher_flags(argv)
  got = {key: config_lib.dotted_parent(config, key)[0][key.rsplit(".", 1)[-1]] for key in keys}
  assert got == want


def test_none_override_sets_a_duration_off():
  config = _parse_launcher_flags(["prog", f"--config={REPO}/configs/ae_mnist.py",
                                  "--config.total_steps=5", "--config.total_epochs=None"])
  assert config.total_steps == 5 and config.total_epochs is None
  config_lib.validate(config)
  # "none" is a value of string keys (a choice), None elsewhere.
  config = _parse_launcher_flags(["prog", f"--config={REPO}/configs/ae_mnist.py",
                                  "--config.noise.kind=none", "--config.total_epochs=none",
                                  "--config.total_steps=5", "--config.loss.sparsity=none"])
  assert config.noise.kind == "none" and config.loss.sparsity == "none"
  assert config.total_epochs is None


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_method_builds_from_defaults_plus_config_file(name):
  # Every key the method reads at build time exists: groups are locked, so a
  # key missing from the defaults would raise here.
  from genjax import methods, train
  for arg in (None, "runlocal"):
    config = train.check_config(load_config(name, arg))
    config.lock()
    toy = config.data.name.startswith("toy_")
    info = methods.DataInfo(image_shape=(2,) if toy else (28, 28, 1),
                            num_classes=0 if toy else 10, num_train=1024)
    method = methods.build(config, data_info=info, num_train_steps=10)
    assert callable(method.train_step)


def test_dcgan_quality_variant_is_r1_and_ema_trained_longer():
  base, quality = load_config("dcgan_mnist"), load_config("dcgan_mnist", "quality")
  config_lib.validate(quality)
  assert base.gan.r1_weight == 0.0 and base.gan.ema_decay == 0.0
  assert quality.gan.r1_weight == 2.0 and quality.gan.ema_decay == 0.999
  assert quality.total_steps > base.total_steps
  smoke = load_config("dcgan_mnist", "quality,runlocal")
  assert smoke.gan.r1_weight == 2.0 and smoke.total_steps <= 200


def test_dcgan_large_variant_uses_infogan_networks_without_r1():
  large = load_config("dcgan_mnist", "large")
  config_lib.validate(large)
  assert (large.model.g_dense, large.model.d_dense, large.model.d_batch_norm) == (1024, 1024, True)
  assert large.batch_size == 128 and large.gan.r1_weight == 0.0
  smoke = load_config("dcgan_mnist", "large,runlocal")
  assert smoke.model.g_dense <= 32 and smoke.model.d_dense <= 32 and smoke.total_steps <= 200


def test_infogan_paper_variant_uses_chen_et_al_networks_and_batch():
  base, paper = load_config("infogan_mnist"), load_config("infogan_mnist", "paper")
  config_lib.validate(paper)
  assert (base.model.g_dense, base.model.d_dense, base.model.d_batch_norm) == (0, 256, False)
  assert (paper.model.g_dense, paper.model.d_dense, paper.model.d_batch_norm) == (1024, 1024, True)
  assert paper.model.latent_dist == "uniform" and paper.batch_size == 128
  assert paper.gan.r1_weight == 0.0  # R1 is refused with D's batch norm
  smoke = load_config("infogan_mnist", "paper,runlocal")
  assert smoke.model.d_batch_norm and smoke.model.g_dense <= 32 and smoke.total_steps <= 200


def test_adam_eps_root_puts_the_epsilon_inside_the_square_root():
  """eps=0, eps_root=e: the update is m_hat / sqrt(v_hat + e) (Theano-style
  Adam), so a gradient far below sqrt(e) moves its parameter far less than lr."""
  config = load_config("ae_mnist", "runlocal")
  grads = {"small": jnp.full((3,), 1e-6), "large": jnp.full((3,), 1.0)}
  steps = {}
  for eps, eps_root in ((1e-8, 0.0), (0.0, 1e-8)):
    config.optimizer.eps, config.optimizer.eps_root = eps, eps_root
    config_lib.validate(config)
    tx = optim.make_optimizer(config.optimizer, 10)
    updates, _ = tx.update(grads, tx.init(grads))
    steps[eps_root] = {k: float(-v[0]) / config.optimizer.lr for k, v in updates.items()}
  assert abs(steps[0.0]["small"] - 1.0) < 0.02  # plain Adam: a full step however small
  assert abs(steps[1e-8]["small"] - 1e-6 / (1e-12 + 1e-8) ** 0.5) < 1e-4  # ~0.01 of a step
  assert abs(steps[1e-8]["large"] - 1.0) < 1e-3
