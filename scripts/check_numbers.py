r"""Checks that the numbers quoted in README.md, the results README and the
config docstrings equal the committed results they come from.

    python scripts/check_numbers.py        # exit 1 and one line per mismatch

Each entry of `QUOTES` names a document, a phrase with `{fields}`, and where
each field comes from: a JSON file under `experiments/results/` (an
experiment's `results.json`, a run's `final_metrics.json`, a gan_stability
run's `measured.json`) read through a key path and a format. The phrase,
rendered from the JSON, must appear in the document (runs of whitespace and
line breaks count as one space, so wrapped docstrings match). A quote whose
number was copied by hand and later drifted fails here, and so in the tests.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import pathlib
import re
import statistics
import sys
from typing import Callable

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS = "experiments/results"
ANY_CELL = "\0"  # a field value that matches any text within one table cell


@functools.lru_cache(maxsize=None)
def _load(root: pathlib.Path, file: str) -> dict:
  return json.loads((root / RESULTS / file).read_text())


def _get(obj, keys):
  """obj[k1][k2]...: `keys` dotted ("results.cgan.fd") or a tuple when a key has a dot."""
  for key in keys.split(".") if isinstance(keys, str) else keys:
    obj = obj[key]
  return obj


def num(file: str, keys: str, fmt: str, scale: float = 1) -> Callable[[pathlib.Path], str]:
  """A field: the number at `keys` (dotted) in results file `file`, times
  `scale` (e.g. 100 for a percentage), formatted."""
  return lambda root: format(scale * _get(_load(root, file), keys), fmt)


def ratio(file: str, top: str, bottom: str, fmt: str) -> Callable[[pathlib.Path], str]:
  """A field: top / bottom of one results file (e.g. a Frechet distance over its floor)."""
  return lambda root: format(_get(_load(root, file), top) / _get(_load(root, file), bottom), fmt)


def arrow(before: Callable, after: Callable) -> Callable[[pathlib.Path], str]:
  """A field "a -> b" of two fields (a value at the start and at the end of a run)."""
  return lambda root: f"{before(root)} -> {after(root)}"


def span(sources: list[tuple[str, str | tuple]], fmt: str) -> Callable[[pathlib.Path], str]:
  """A field "lo-hi": the smallest and largest of several (file, keys) values
  (keys as `_get` takes them; a tuple may end in a list index, e.g. ("fd", -1))."""
  def field(root):
    values = [_get(_load(root, f), keys) for f, keys in sources]
    return f"{format(min(values), fmt)}-{format(max(values), fmt)}"
  return field


def final_fds(files: list[str]) -> list[tuple[str, tuple]]:
  """(file, keys) of the last checkpoint's Frechet distance in gan_stability measured files."""
  return [(f, ("fd", -1)) for f in files]


def agreed(experiment: str) -> Callable[[pathlib.Path], str]:
  """A field "k/n agree" from an experiment's committed results.json."""
  def field(root):
    verdicts = _load(root, f"{experiment}/results.json")["verdicts"]
    return f"{sum(v['agrees'] is True for v in verdicts)}/{len(verdicts)} agree"
  return field


@dataclasses.dataclass(frozen=True)
class Quote:
  doc: str       # path from the repository root
  phrase: str    # with {field} placeholders
  fields: dict   # field name -> callable(root) -> str

  def expected(self, root: pathlib.Path) -> str:
    return self.phrase.format(**{k: f(root) for k, f in self.fields.items()})


def _stability(arch: str, data: str) -> list[str]:
  return [f"gan_stability/measured/{arch}_{data}_seed{s}.json" for s in range(5)]


_VAE = "vae_likelihood/results.json"
_INFO = "conditional_and_infogan/results.json"
_QUALITY = "dcgan_quality/final_metrics.json"
_LARGE = "dcgan_large/final_metrics.json"
_PLAIN = "cgan_plain/final_metrics.json"
_OD = "optimal_discriminator/results.json"
_MM = "minimax_vs_nonsaturating/results.json"
_DVM = "denoising_vs_median/results.json"
_DVM_SIGMAS = ("sigma=0.1", "sigma=0.3", "sigma=0.5", "sigma=1")
_CODES = "codes_as_features/results.json"
_F_AE, _F_VAE, _F_CGAN = (f"fashion_mnist/{run}/final_metrics.json" for run in ("ae", "vae", "cgan"))
_DC_FASHION = _stability("dcgan_mnist", "fashion_mnist")
_FC_MNIST, _DC_MNIST = _stability("gan_mnist", "mnist"), _stability("dcgan_mnist", "mnist")
_CVD = "contractive_vs_denoising/results.json"
_SCORE = "denoising_score/results.json"
_PCA = "pca_vs_linear_ae/results.json"
_OI = "overcomplete_identity/results.json"
_SSGAN = "semi_supervised_gan/results.json"


def _seed_mean(file: str, model: str, key: str, index: int, fmt: str = ".3f"):
  """A field: the mean over seeds of results[model][seed][key][index]."""
  def field(root):
    runs = _get(_load(root, file), ("results", model)).values()
    return format(sum(r[key][index] for r in runs) / len(runs), fmt)
  return field


def _codes(keys: str, fmt: str, error: bool = False, percent: bool = False):
  """A field: codes_as_features' mean over seeds of summary.<keys> (a per-seed list);
  `error`: as a test error in percent, 100 (1 - accuracy); `percent`: 100 x."""
  def field(root):
    values = _get(_load(root, _CODES), f"results.summary.{keys}")
    mean = sum(values) / len(values)
    return format(100 * (1 - mean) if error else 100 * mean if percent else mean, fmt)
  return field


def _oi_mean(model: str, key: str, fmt: str, scale: float = 1):
  """A field: overcomplete_identity's mean over seeds of by_model.<model>.<seed>.<key>."""
  def field(root):
    runs = _get(_load(root, _OI), ("results", "by_model", model)).values()
    return format(scale * sum(r[key] for r in runs) / len(runs), fmt)
  return field


def _sigma_mean(sigmas: tuple[str, ...], key: str, fmt: str, sep: str = " / ",
                file: str = _SCORE):
  """A field: the mean over seeds of `key` at each of `sigmas` (keys of
  results.by_sigma: denoising_score's or denoising_vs_median's), joined."""
  def field(root):
    by_sigma = _get(_load(root, file), "results.by_sigma")
    return sep.join(format(sum(r[key] for r in by_sigma[s].values()) / len(by_sigma[s]), fmt)
                    for s in sigmas)
  return field


def _ssgan(arm: str, sep: str) -> Callable[[pathlib.Path], str]:
  """A field: semi_supervised_gan's per-seed test errors of `arm` in percent, joined."""
  def field(root):
    by_seed = _get(_load(root, _SSGAN), ("results", "by_arm", arm))
    return sep.join(format(100 * by_seed[s]["test_error"], ".2f") for s in sorted(by_seed))
  return field


def _vae_seeds(model: str, sep: str = " / ") -> Callable[[pathlib.Path], str]:
  """A field: vae_likelihood's k=5000 test NLLs of `model` ("burda_iwae", ...) over seeds."""
  def field(root):
    runs = _get(_load(root, _VAE), "results")
    return sep.join(format(runs[f"{model}_seed{s}"]["nll"], ".2f") for s in range(3))
  return field


_BENCH_VAE, _BENCH_DCGAN, _BENCH_CONV_VAE = (
    f"benchmarks/{name}.json" for name in ("vae_mnist", "dcgan_mnist", "conv_vae_mnist"))
# The same runs on the slower CPU of 2026-12-04 and the AVX-512 one of 2026-12-05.
_BENCH_VAE_1204, _BENCH_DCGAN_1204 = (
    f"benchmarks/{name}_2026-12-04.json" for name in ("vae_mnist", "dcgan_mnist"))
_BENCH_VAE_1205, _BENCH_DCGAN_1205 = (
    f"benchmarks/{name}_2026-12-05.json" for name in ("vae_mnist", "dcgan_mnist"))


# Runs the README quoted before, moved to the benchmark history README: those
# from before genjax.xla_options and the xla_options runs of 2026-12-05.
_BENCH_HISTORY = "experiments/results/benchmarks/README.md"
_BENCH_VAE_XLA, _BENCH_DCGAN_XLA, _BENCH_CONV_VAE_XLA = (
    f"benchmarks/{name}_xla_options.json"
    for name in ("vae_mnist", "dcgan_mnist", "conv_vae_mnist"))
_GENJAX, _XLA_DEFAULT = "config xla_options=genjax", "config xla_options=xla_default"
_BENCH_DCGAN_REUSE = "benchmarks/dcgan_mnist_g_update_fake.json"
# README's Benchmarks now: genjax.xla_options and genjax.host_memory (2026-12-05).
_BENCH_VAE_HM, _BENCH_DCGAN_HM, _BENCH_DCGAN_HM2, _BENCH_DCGAN_HM3 = (
    f"benchmarks/{name}.json" for name in ("vae_mnist_host_memory", "dcgan_mnist_host_memory",
                                           "dcgan_mnist_host_memory_run2",
                                           "dcgan_mnist_host_memory_run3"))
# Two more runs of the README's DCGAN command, that night on the next main.
_BENCH_DCGAN_HM4, _BENCH_DCGAN_HM5 = (
    f"benchmarks/dcgan_mnist_host_memory_run{run}.json" for run in (4, 5))
_BENCH_DCGAN_RUNS = (_BENCH_DCGAN_HM, _BENCH_DCGAN_HM2, _BENCH_DCGAN_HM3, _BENCH_DCGAN_HM4,
                     _BENCH_DCGAN_HM5)
_HM_PAIRS = "benchmarks/host_memory_pairs.json"
_BENCH_VAE_SGD = "benchmarks/vae_mnist_sgd_bound.json"
# Four runs of the VAE command with the matmuls bound (`--reference=...,matmuls,matmuls+adam`).
_BENCH_VAE_MM = tuple(f"benchmarks/vae_mnist_matmuls{run}.json"
                      for run in ("", "_run2", "_run3", "_run4"))
# The README's VAE row: run 4, the first with the minimal scan's metrics as the chunk's.
_BENCH_VAE_NOW = _BENCH_VAE_MM[-1]
_FRESH, _REUSED = (f"gan.g_update_fake={v}" for v in ("fresh", "reused"))
# The PyTorch reference that runs each genjax G-update variant's algorithm.
_SAME_ALGORITHM = {_FRESH: "pytorch+fresh_noise", _REUSED: "pytorch"}
_KEEP = "+keep_freed_memory"


def _bench(file: str, key: str, fmt: str = ",.0f", variant: str = "config", scale: float = 1):
  """A field: a benchmark JSON's figure of genjax's `variant` (times `scale`)."""
  return num(file, ("variants", variant, key), fmt, scale)


def _rates(file: str, variant: str = "config") -> dict:
  """The fields {chunk}, {step}, {minimal} of a benchmark table row: genjax's
  `variant`'s examples/s."""
  return {"chunk": _bench(file, "chunk_examples_per_sec", variant=variant),
          "step": _bench(file, "per_step_examples_per_sec", variant=variant),
          "minimal": _bench(file, "minimal_scan_examples_per_sec", variant=variant)}


def _reference(file: str, name: str, fmt: str = ",.0f"):
  """A field: a benchmark JSON's examples/s of reference `name` (scripts/reference.py)."""
  return num(file, ("references", name, "examples_per_sec"), fmt)


def _over(file: str, kind: str, name: str):
  """A field: genjax's `kind` examples/s over reference `name`, "1.23x"-style."""
  return num(file, (f"genjax {kind}_examples_per_sec / {name}",), ".2f")


def _options_speedup(file: str, kind: str):
  """A field: genjax.xla_options' `kind` ("chunk", "per_step") examples/s over XLA's
  defaults in a `--xla_options=genjax,xla_default` run."""
  return num(file, (f"{_GENJAX} / {_XLA_DEFAULT} ({kind}_examples_per_sec)",), ".2f")


def _variant_over(file: str, variant: str, ref: str, kind: str = "chunk"):
  """A field: genjax `variant`'s `kind` ("chunk", "per_step") examples/s over
  reference `ref`, "1.23x"-style."""
  return ratio(file, ("variants", variant, f"{kind}_examples_per_sec"),
               ("references", ref, "examples_per_sec"), ".2f")


def _reuse_fields(file: str) -> dict:
  """The fields of the g_update_fake sentence: each genjax variant against the
  PyTorch reference that runs the same algorithm."""
  return {"r": num(file, (f"{_REUSED} / {_FRESH} (chunk_examples_per_sec)",), ".2f"),
          "rt": _variant_over(file, _REUSED, "pytorch"),
          "rc": _bench(file, "chunk_examples_per_sec", variant=_REUSED),
          "pt": _reference(file, "pytorch"),
          "ft": _variant_over(file, _FRESH, "pytorch+fresh_noise"),
          "fc": _bench(file, "chunk_examples_per_sec", variant=_FRESH),
          "pf": _reference(file, "pytorch+fresh_noise"),
          "rs": _variant_over(file, _REUSED, "pytorch", "per_step"),
          "fs": _variant_over(file, _FRESH, "pytorch+fresh_noise", "per_step")}


def _host_memory_fields(file: str) -> dict:
  """The fields of a DCGAN host-memory run's sentence: genjax's fresh-z and
  reused-fake-batch variants over the PyTorch reference of the same algorithm
  (glibc's defaults; with genjax's glibc settings: `k`), and the fresh-z
  default over PyTorch's example as written (`d`)."""
  over = functools.partial(_variant_over, file)
  fields = {}
  for tag, kind in (("", "chunk"), ("s", "per_step")):
    for name, variant in (("f", _FRESH), ("r", _REUSED)):
      fields[f"{name}{tag}"] = over(variant, _SAME_ALGORITHM[variant], kind)
      fields[f"{name}k{tag}"] = over(variant, _SAME_ALGORITHM[variant] + _KEEP, kind)
    fields[f"d{tag}"] = over(_FRESH, "pytorch", kind)
  return fields


def _like_for_like_ratios(root, keep: bool, variants=(_FRESH, _REUSED)) -> list[float]:
  """The chunk ratios of `variants` over the PyTorch reference of the same
  algorithm (with genjax's glibc settings if `keep`), over the five DCGAN runs."""
  suffix = _KEEP if keep else ""
  return [float(_variant_over(file, variant, _SAME_ALGORITHM[variant] + suffix)(root))
          for file in _BENCH_DCGAN_RUNS for variant in variants]


def _like_for_like_span(keep: bool):
  """A field "lo-hi": the smallest and largest like-for-like chunk ratio over
  the five DCGAN runs and both G-update variants: a gain in percent ("lo-hi%")
  against PyTorch as shipped, ratios ("lo-hix") with genjax's glibc settings."""
  def field(root):
    ratios = _like_for_like_ratios(root, keep)
    lo, hi = min(ratios), max(ratios)
    return f"{lo:.2f}-{hi:.2f}x" if keep else f"{100 * (lo - 1):.0f}-{100 * (hi - 1):.0f}%"
  return field


def _like_for_like_median(variant: str):
  """A field "1.23x": the median like-for-like chunk ratio of `variant` over the
  five DCGAN runs, against PyTorch as shipped."""
  return lambda root: f"{statistics.median(_like_for_like_ratios(root, False, (variant,))):.2f}x"


def _rate_span(files: tuple[str, ...], top: str, bottom: str, scale: float = 1):
  """A field "lo-hix": the smallest and largest `scale` * top / bottom over
  benchmark runs, each of top / bottom "chunk" (genjax's chunk) or a reference's name."""
  def rate(data, name):
    keys = (("variants", "config", "chunk_examples_per_sec") if name == "chunk"
            else ("references", name, "examples_per_sec"))
    return _get(data, keys)

  def field(root):
    ratios = [scale * rate(_load(root, f), top) / rate(_load(root, f), bottom) for f in files]
    return f"{min(ratios):.2f}-{max(ratios):.2f}x"
  return field


_VAE_ROW = ("| `vae_mnist` (128, 100) | {chunk} | {step} | {minimal} | {torch} | {torchk} | "
            "{keras} | {keras100} |")
_VAE_SENTENCE = (
    "genjax's chunk runs at {torch}x PyTorch eager ({torchk}x PyTorch with genjax's glibc "
    "settings) and {keras}x Keras's `fit` ({k100}x Keras with 100 steps per execution); one "
    "step per dispatch {st}x PyTorch and {sk}x Keras. The step is XLA code that Keras runs "
    "alike and genjax's loop adds nothing to it (chunk / minimal scan {min}x)")


def _vae_row_fields(file: str) -> dict:
  """The fields of the Benchmarks table's vae_mnist row from one run."""
  return {**_rates(file), "torch": _reference(file, "pytorch"),
          "torchk": _reference(file, "pytorch" + _KEEP), "keras": _reference(file, "keras"),
          "keras100": _reference(file, "keras+steps_per_execution=100")}


def _vae_ratio_fields(file: str) -> dict:
  """The fields of the VAE sentence (`_VAE_SENTENCE`) from one run."""
  over = functools.partial(_over, file)
  return {"torch": over("chunk", "pytorch"), "torchk": over("chunk", "pytorch" + _KEEP),
          "keras": over("chunk", "keras"), "k100": over("chunk", "keras+steps_per_execution=100"),
          "st": over("per_step", "pytorch"), "sk": over("per_step", "keras"),
          "min": _bench(file, "chunk_over_minimal_scan", ".2f")}


def _pairs(config: str, memory: str, key: str = "per_step_examples_per_sec"):
  """A field "a / b / c": one figure of each `--host_memory=memory` process of
  the alternating pairs."""
  def field(root):
    runs = _load(root, _HM_PAIRS)["runs"][config][memory]
    return " / ".join(format(r["variants"]["config"][key], ",.0f") for r in runs)
  return field


def _cpu_run(vae: str, dcgan: str) -> dict:
  """The fields of one CPU's benchmark sentence: the VAE chunk against PyTorch and
  Keras, the DCGAN chunk against PyTorch (examples/s and ratios)."""
  return {"chunk": _bench(vae, "chunk_examples_per_sec"),
          "torch": _over(vae, "chunk", "pytorch"), "pt": _reference(vae, "pytorch"),
          "keras": _over(vae, "chunk", "keras"), "k": _reference(vae, "keras"),
          "k100": _over(vae, "chunk", "keras+steps_per_execution=100"),
          "k100v": _reference(vae, "keras+steps_per_execution=100"),
          "dc": _bench(dcgan, "chunk_examples_per_sec"),
          "dtorch": _over(dcgan, "chunk", "pytorch"), "dpt": _reference(dcgan, "pytorch"),
          "dfresh": _over(dcgan, "chunk", "pytorch+fresh_noise"),
          "dfv": _reference(dcgan, "pytorch+fresh_noise")}


QUOTES = [
    # The headline table of README.md.
    Quote("README.md", "200 epochs: test negative ELBO {elbo}, NLL {nll} nats (k=5000",
          {"elbo": num(_VAE, "results.kingma_vae_seed0.neg_elbo", ".1f"),
           "nll": num(_VAE, "results.kingma_vae_seed0.nll", ".2f")}),
    Quote("README.md", "900 epochs: test NLL {nll} nats over seeds 0 / 1 / 2",
          {"nll": _vae_seeds("burda_iwae")}),
    Quote("configs/iwae_mnist.py", "test NLL {nll} nats (IWAE k=5000) over seeds 0 / 1 / 2; "
          "trained on the ELBO, {vae}",
          {"nll": _vae_seeds("burda_iwae"), "vae": _vae_seeds("burda_vae")}),
    Quote("README.md", "`:quality` (R1 + G EMA, 34 epochs): {fd}, {x}x the floor {floor}",
          {"fd": num(_QUALITY, "final.fd", ".1f"),
           "x": ratio(_QUALITY, "final.fd", "final.fd_floor", ".1f"),
           "floor": num(_QUALITY, "final.fd_floor", ".2f")}),
    Quote("README.md", "batch 128, 10.7 epochs): {fd}, {x}x",
          {"fd": num(_LARGE, "final.fd", ".1f"),
           "x": ratio(_LARGE, "final.fd", "final.fd_floor", ".1f")}),
    Quote("README.md", "6.4 epochs: conditional accuracy {acc}, Frechet distance {fd} "
          "(floor {floor}); plain: {plain_acc}, {plain_fd}",
          {"acc": num(_INFO, "results.cgan.conditional_accuracy", ".3f"),
           "fd": num(_INFO, "results.cgan.fd", ".1f"),
           "floor": num(_INFO, "results.cgan.fd_floor", ".2f"),
           "plain_acc": num(_PLAIN, "final.conditional_accuracy", ".3f"),
           "plain_fd": num(_PLAIN, "final.fd", ".1f")}),
    Quote("README.md", "c1 accuracy {s0} / {s1} / {s2} over seeds 0 / 1 / 2",
          {f"s{s}": num(_INFO, f"results.infogan.c1_hungarian_accuracy_by_seed.{s}", ".3f")
           for s in range(3)}),
    Quote("README.md", "Frechet distance {fc}); the DCGAN at the same budget {dc} with all "
          "10 digits, 5/5 (`experiments/gan_stability.py`, floor {floor} at 5000 samples)",
          {"fc": span(final_fds(_FC_MNIST), ".0f"), "dc": span(final_fds(_DC_MNIST), ".0f"),
           "floor": num(_DC_MNIST[0], "fd_floor", ".2f")}),
    Quote("README.md", "mog1d 3/3 modes, max |D - D*| {gaps} (3 seeds",
          {"gaps": span([(_OD, f"results.seed{s}.od_max_gap") for s in range(3)], ".3f")}),
    Quote("configs/gan_toy.py", "mog1d 3/3 modes, |D - D*| gap {s0} / {s1} / {s2} (2026-12-02)",
          {f"s{s}": num(_OD, f"results.seed{s}.od_max_gap", ".3f") for s in range(3)}),
    # Config docstrings.
    Quote("configs/vae_mnist.py", "test negative ELBO {elbo} nats, NLL {nll} nats (k=5000)",
          {"elbo": num(_VAE, "results.kingma_vae_seed0.neg_elbo", ".1f"),
           "nll": num(_VAE, "results.kingma_vae_seed0.nll", ".2f")}),
    Quote("configs/cgan_mnist.py", "conditional accuracy {acc}, Frechet distance {fd} "
          "(2026-12-03); without the projection term (`--config.model.d_projection=False`) "
          "{plain_acc} and {plain_fd}",
          {"acc": num(_INFO, "results.cgan.conditional_accuracy", ".3f"),
           "fd": num(_INFO, "results.cgan.fd", ".1f"),
           "plain_acc": num(_PLAIN, "final.conditional_accuracy", ".3f"),
           "plain_fd": num(_PLAIN, "final.fd", ".1f")}),
    Quote("configs/dcgan_mnist.py", "{quality} `:quality` (2026-11-24/25), {large} `:large`",
          {"quality": num(_QUALITY, "final.fd", ".1f"), "large": num(_LARGE, "final.fd", ".1f")}),
    Quote("configs/infogan_mnist.py", "{s0} / {s1} / {s2}",
          {f"s{s}": num(_INFO, f"results.infogan.c1_hungarian_accuracy_by_seed.{s}", ".3f")
           for s in range(3)}),
    # The results README: each run's numbers and each report's verdict count.
    Quote(f"{RESULTS}/README.md", "Frechet distance {fd} (floor {floor}), precision {p}, "
          "recall {r}, classifier score {cs}",
          {"fd": num(_QUALITY, "final.fd", ".1f"), "floor": num(_QUALITY, "final.fd_floor", ".2f"),
           "p": num(_QUALITY, "final.precision", ".2f"), "r": num(_QUALITY, "final.recall", ".2f"),
           "cs": num(_QUALITY, "final.classifier_score", ".2f")}),
    Quote(f"{RESULTS}/README.md", "Frechet distance {fd} (floor {floor}), precision {p}, "
          "recall {r}, classifier score {cs}",
          {"fd": num(_LARGE, "final.fd", ".1f"), "floor": num(_LARGE, "final.fd_floor", ".2f"),
           "p": num(_LARGE, "final.precision", ".2f"), "r": num(_LARGE, "final.recall", ".2f"),
           "cs": num(_LARGE, "final.classifier_score", ".2f")}),
    Quote(f"{RESULTS}/README.md", "conditional accuracy {acc}, Frechet distance {fd} (floor {floor})",
          {"acc": num(_PLAIN, "final.conditional_accuracy", ".3f"),
           "fd": num(_PLAIN, "final.fd", ".1f"), "floor": num(_PLAIN, "final.fd_floor", ".2f")}),
    Quote(f"{RESULTS}/README.md", "k=5000 test NLL over seeds 0 / 1 / 2: Burda's VAE {vae} "
          "against their 88.71, IWAE k=5 {iwae} against 87.63",
          {"vae": _vae_seeds("burda_vae"), "iwae": _vae_seeds("burda_iwae")}),
    Quote(f"{RESULTS}/README.md", "dynamically binarised, seed 0: VAE {vae} against 86.76, "
          "IWAE k=5 {iwae} against 85.54",
          {"vae": num(_VAE, "results.burda_vae_dynamic_seed0.nll", ".2f"),
           "iwae": num(_VAE, "results.burda_iwae_dynamic_seed0.nll", ".2f")}),
    Quote(f"{RESULTS}/README.md", "max D - D* gap {s0} / {s1} / {s2} over 3 seeds vs the 0.05 "
          "bar, control {control}",
          {**{f"s{s}": num(_OD, f"results.seed{s}.od_max_gap", ".3f") for s in range(3)},
           "control": num(_OD, "results.control_p_g_equals_p_data.od_max_gap", ".3f")}),
    Quote(f"{RESULTS}/README.md", "JSD of the densities during training {t0}, {t1}, {t2} from "
          "step 0 to 20k",
          {f"t{s}": arrow(num(_OD, f"results.seed{s}.jsd_start", ".3f"),
                          num(_OD, f"results.seed{s}.jsd_end", ".3f")) for s in range(3)}),
    Quote(f"{RESULTS}/README.md", "MNIST FD at 4000 steps, minimax {m0} / {m1} / {m2} vs "
          "non-saturating {n0} / {n1} / {n2} (seeds 0 / 1 / 2)",
          {**{f"m{s}": num(_MM, ("results", "mnist", "minimax", s, "fd"), ".1f") for s in range(3)},
           **{f"n{s}": num(_MM, ("results", "mnist", "non_saturating", s, "fd"), ".1f")
              for s in range(3)}}),
    Quote(f"{RESULTS}/README.md", "seed means: DAE {dae} dB at sigma 0.1 / 0.3 / 0.5 / 1.0, "
          "{margin} dB over the better median filter",
          {"dae": _sigma_mean(_DVM_SIGMAS, "psnr_denoised", ".1f", file=_DVM),
           "margin": _sigma_mean(_DVM_SIGMAS, "margin_db", "+.1f", file=_DVM)}),
    Quote(f"{RESULTS}/README.md", "cGAN conditional accuracy {acc}; InfoGAN c1 accuracy {s0} / "
          "{s1} / {s2} over seeds 0 / 1 / 2, median {median} vs the 0.90 bar; MI bound {mi}; "
          "FD {fd} (floor {floor})",
          {"acc": num(_INFO, "results.cgan.conditional_accuracy", ".3f"),
           **{f"s{s}": num(_INFO, f"results.infogan.c1_hungarian_accuracy_by_seed.{s}", ".3f")
              for s in range(3)},
           "median": num(_INFO, "results.infogan.c1_hungarian_accuracy_median", ".3f"),
           "mi": num(_INFO, "results.infogan.mi_lower_bound", ".3f"),
           "fd": num(_INFO, "results.infogan.fd", ".1f"),
           "floor": num(_INFO, "results.infogan.fd_floor", ".2f")}),
    Quote(f"{RESULTS}/README.md", "With 100 labels (seed means): sparse AE {sparse_ae}, CAE "
          "{cae}, DAE {dae}, AE {ae}, VAE {vae} vs pixels {pixels} and PCA-150 {pca150}",
          {name: _codes(f"probe.{name}.100", ".3f")
           for name in ("sparse_ae", "cae", "dae", "ae", "vae", "pixels", "pca150")}),
    Quote(f"{RESULTS}/README.md", "the sparsity penalty ({sparse_ae} vs {sparse_ae_unreg} at "
          "weight 0) and the noise ({dae} vs {dae_unreg}) help, the contraction is inconclusive "
          "({cae} vs {cae_unreg}), the VAE's KL hurts ({vae} vs {vae_unreg} at KL weight 0)",
          {name: _codes(f"probe.{name}.100", ".3f")
           for base in ("sparse_ae", "dae", "cae", "vae") for name in (base, f"{base}_unreg")}),
    Quote(f"{RESULTS}/README.md", "pretrained AE / DAE / CAE {ae} / {dae} / {cae}% test error vs "
          "{ae_r} / {dae_r} / {cae_r}% from random initialisation (inconclusive); with all labels "
          "{ae_all} / {dae_all} / {cae_all}% vs Rifai et al.'s 1.78 / 1.18 / 1.14%",
          {**{m: _codes(f"fine_tune.{m}.pretrained.100", ".1f", error=True)
              for m in ("ae", "dae", "cae")},
           **{f"{m}_r": _codes(f"fine_tune.{m}.random_init.100", ".1f", error=True)
              for m in ("ae", "dae", "cae")},
           **{f"{m}_all": _codes(f"fine_tune.{m}.pretrained.60000", ".2f", error=True)
              for m in ("ae", "dae", "cae")}}),
    Quote(f"{RESULTS}/README.md", "In Rifai et al.'s setting (784-1000, network chosen on a "
          "10k validation split) the fine-tuned CAE's test error is {cae}% vs {ae}% pretrained "
          "with lambda 0 and {random_init}% from random initialisation",
          {s: _codes(f"rifai.{s}.test_error", ".2f", percent=True)
           for s in ("cae", "ae", "random_init")}),
    Quote(f"{RESULTS}/README.md", "missed again (seeds {s0} / {s1} / {s2}%",
          {f"s{i}": num(_CODES, ("results", "summary", "rifai", "cae", "test_error", i), ".2f",
                        scale=100) for i in range(3)}),
    Quote(f"{RESULTS}/README.md", "at k = 8 the largest is {s0} / {s1} / {s2} degrees over seeds "
          "0 / 1 / 2 (median {median}), at k = 2 seed 1's median is {k2}",
          {**{f"s{i}": num(_PCA, f"results.by_k.k=8.{i}.largest_angle_deg", ".1f")
              for i in range(3)},
           "median": num(_PCA, "results.by_k.k=8.0.median_angle_deg", ".2f"),
           "k2": num(_PCA, "results.by_k.k=2.1.median_angle_deg", ".1f")}),
    Quote(f"{RESULTS}/README.md", "it keeps {plain}% of the noisy input's error (seeds {s0} / "
          "{s1} / {s2}), the DAE {dae}%; the sparse AE keeps {sparse}%, with noise gain {gain}",
          {"plain": _oi_mean("plain", "error_kept", ".0f", 100),
           **{f"s{i}": num(_OI, f"results.by_model.plain.{i}.error_kept", ".3f") for i in range(3)},
           "dae": _oi_mean("denoising", "error_kept", ".0f", 100),
           "sparse": _oi_mean("sparse", "error_kept", ".0f", 100),
           "gain": _oi_mean("sparse", "noise_gain", ".2f")}),
    Quote(f"{RESULTS}/README.md", "1000-label probe, {dae} / {sparse} vs {plain}",
          {m: _oi_mean(name, "probe_codes_acc_1000", ".3f")
           for m, name in (("dae", "denoising"), ("sparse", "sparse"), ("plain", "plain"))}),
    # denoising_score: the config row and docstring (sigma 0.2), the results README.
    *(Quote(doc, "r(x~) - x~ has cosine {cos} with " + with_ + ", slope / sigma^2 {slope}; "
          "trace(dr/dx) at the modes {trace} (predicted {pred})",
          {"cos": _sigma_mean(("0.2",), "cosine", ".4f"),
           "slope": _sigma_mean(("0.2",), "slope_over_sigma2", ".4f"),
           "trace": _sigma_mean(("0.2",), "mode_trace", ".3f"),
           "pred": _sigma_mean(("0.2",), "mode_trace_predicted", ".3f")})
      for doc, with_ in (("README.md", "sigma^2 grad log p_sigma(x~)"),
                         ("configs/dae_toy.py", "that score"))),
    Quote(f"{RESULTS}/README.md", "cosine {cos}, slope / sigma^2 {slope}; against the clean "
          "score the slope / sigma^2 is {small} at sigma 0.05 and {large} at 0.4, as s^2 / (s^2 "
          "+ sigma^2) predicts; trace(dr/dx) at the modes {trace} vs {pred} predicted",
          {"cos": _sigma_mean(("0.05", "0.1", "0.2", "0.4"), "cosine", ".4f"),
           "slope": _sigma_mean(("0.05", "0.1", "0.2", "0.4"), "slope_over_sigma2", ".3f"),
           "small": _sigma_mean(("0.05",), "clean_slope_over_sigma2", ".3f"),
           "large": _sigma_mean(("0.4",), "clean_slope_over_sigma2", ".3f"),
           "trace": _sigma_mean(("0.05", "0.1", "0.2", "0.4"), "mode_trace", ".3f"),
           "pred": _sigma_mean(("0.05", "0.1", "0.2", "0.4"), "mode_trace_predicted", ".3f")}),
    # Fashion-MNIST runs.
    Quote("README.md", "20 epochs: test MSE {mse} per pixel (MNIST",
          {"mse": num(_F_AE, "eval.mse", ".5f")}),
    Quote("configs/ae_mnist.py", "20 epochs, test mse per pixel {mse}.",
          {"mse": num(_F_AE, "eval.mse", ".5f")}),
    Quote("README.md", "50 epochs: test negative ELBO {elbo}, NLL {nll} nats (k=5000)",
          {"elbo": num(_F_VAE, "eval.neg_elbo", ".1f"), "nll": num(_F_VAE, "final.nll", ".2f")}),
    Quote("configs/vae_mnist.py", "2026-12-02): negative ELBO {elbo}, NLL {nll}.",
          {"elbo": num(_F_VAE, "eval.neg_elbo", ".1f"), "nll": num(_F_VAE, "final.nll", ".2f")}),
    Quote("README.md", "3000 steps x 5 seeds: Frechet distance {fd}, floor {floor} at 5000 samples",
          {"fd": span(final_fds(_DC_FASHION), ".0f"),
           "floor": num(_DC_FASHION[0], "fd_floor", ".2f")}),
    Quote("configs/dcgan_mnist.py", "Fashion-MNIST, 3000 steps, 5 seeds: {fd} (floor {floor}",
          {"fd": span(final_fds(_DC_FASHION), ".0f"),
           "floor": num(_DC_FASHION[0], "fd_floor", ".2f")}),
    Quote("README.md", "6000 steps: conditional accuracy {acc} (the classifier's own test "
          "accuracy {clf}), Frechet distance {fd} (floor {floor})",
          {"acc": num(_F_CGAN, "final.conditional_accuracy", ".3f"),
           "clf": num(_F_CGAN, "final.eval_classifier_accuracy", ".3f"),
           "fd": num(_F_CGAN, "final.fd", ".1f"), "floor": num(_F_CGAN, "final.fd_floor", ".2f")}),
    Quote("configs/cgan_mnist.py", "2026-12-02): {acc} and {fd} (floor {floor})",
          {"acc": num(_F_CGAN, "final.conditional_accuracy", ".3f"),
           "fd": num(_F_CGAN, "final.fd", ".1f"), "floor": num(_F_CGAN, "final.fd_floor", ".2f")}),
    Quote(f"{RESULTS}/fashion_mnist/README.md", "test MSE {mse} per pixel (PSNR {psnr} dB",
          {"mse": num(_F_AE, "eval.mse", ".5f"), "psnr": num(_F_AE, "eval.psnr", ".1f")}),
    Quote(f"{RESULTS}/fashion_mnist/README.md", "test negative ELBO {elbo} nats, NLL {nll} nats",
          {"elbo": num(_F_VAE, "eval.neg_elbo", ".1f"), "nll": num(_F_VAE, "final.nll", ".2f")}),
    Quote(f"{RESULTS}/fashion_mnist/README.md", "conditional accuracy {acc} (the shipped "
          "Fashion-MNIST classifier's own test accuracy is {clf}), Frechet distance {fd} "
          "against a floor of {floor}",
          {"acc": num(_F_CGAN, "final.conditional_accuracy", ".3f"),
           "clf": num(_F_CGAN, "final.eval_classifier_accuracy", ".3f"),
           "fd": num(_F_CGAN, "final.fd", ".1f"), "floor": num(_F_CGAN, "final.fd_floor", ".2f")}),
    Quote(f"{RESULTS}/README.md", "matched pair CAE lambda {w} / DAE sigma {s}, test cross-entropy "
          "{c} / {d} nats at seed 0: the CAE's features move less at delta = 0.01 (ratio {cf} vs "
          "{df}, seed means); but its reconstruction also moves less than the DAE's at delta = "
          "5, the DAE's training-noise scale ({cr} vs {dr})",
          {"w": num(_CVD, "results.matched.cae_weight", "g"),
           "s": num(_CVD, "results.matched.dae_sigma", "g"),
           "c": num(_CVD, "results.cae.0.recon_loss", ".1f"),
           "d": num(_CVD, "results.dae.0.recon_loss", ".1f"),
           "cf": _seed_mean(_CVD, "cae", "feature_ratio_random", 0),
           "df": _seed_mean(_CVD, "dae", "feature_ratio_random", 0),
           "cr": _seed_mean(_CVD, "cae", "reconstruction_ratio_random", 5),
           "dr": _seed_mean(_CVD, "dae", "reconstruction_ratio_random", 5)}),
    # README's Benchmarks: genjax.xla_options and genjax.host_memory (2026-12-05).
    Quote("README.md", _VAE_ROW, _vae_row_fields(_BENCH_VAE_NOW)),
    *(Quote("README.md", f"| `dcgan_mnist` (128, 10), {label} | {{chunk}} | {{step}} | "
            "{minimal} | {torch} | {torchk} | - | - |",
            {**_rates(_BENCH_DCGAN_HM, variant),
             "torch": _reference(_BENCH_DCGAN_HM, _SAME_ALGORITHM[variant]),
             "torchk": _reference(_BENCH_DCGAN_HM, _SAME_ALGORITHM[variant] + _KEEP)})
      for label, variant in (
          ("fresh z for G's update (genjax's default)", _FRESH),
          ("G's update reuses D's fake batch (`gan.g_update_fake=reused`; PyTorch's DCGAN "
           "example)", _REUSED))),
    Quote("README.md", "On the MLP VAE (`vae_mnist_matmuls_run4.json`, the VAE command on this "
          "README's main) " + _VAE_SENTENCE, _vae_ratio_fields(_BENCH_VAE_NOW)),
    # The VAE row and paragraph the README quoted before (benchmark history).
    Quote(_BENCH_HISTORY, _VAE_ROW, _vae_row_fields(_BENCH_VAE_HM)),
    Quote(_BENCH_HISTORY, "On the MLP VAE " + _VAE_SENTENCE, _vae_ratio_fields(_BENCH_VAE_HM)),
    Quote("README.md", "On the DCGAN, like for like, genjax's chunk runs at {f}x PyTorch with a "
          "fresh z and {r}x with the fake batch reused; one step per dispatch {fs}x / {rs}x. "
          "Against PyTorch with genjax's glibc settings: chunk {fk}x / {rk}x, one step {fks}x "
          "/ {rks}x. genjax's default step (fresh z) against PyTorch's example as written: "
          "chunk {d}x, one step {ds}x.", _host_memory_fields(_BENCH_DCGAN_HM)),
    *(Quote("README.md", f"{name} like for like {{f}}x / {{r}}x (one step {{fs}}x / {{rs}}x), "
            "with genjax's glibc settings {fk}x / {rk}x (one step {fks}x / {rks}x), the default "
            "against PyTorch's example {d}x (one step {ds}x)", _host_memory_fields(file))
      for name, file in (("`dcgan_mnist_host_memory_run2.json`", _BENCH_DCGAN_HM2),
                         ("as this README says)", _BENCH_DCGAN_HM3))),
    *(Quote("README.md", f"{name} like for like {{f}}x / {{r}}x (one step {{fs}}x / "
            "{rs}x), with genjax's glibc settings {fk}x / {rk}x", _host_memory_fields(file))
      for name, file in (("in `_run4.json`", _BENCH_DCGAN_HM4),
                         ("in `_run5.json`", _BENCH_DCGAN_HM5))),
    Quote("README.md", "So like for like genjax's DCGAN chunk is ahead of PyTorch as its users "
          "run it, by {gain} over these five runs (medians {f} with a fresh z, {r} with the "
          "fake batch reused), and at {keep} PyTorch under the same glibc settings.",
          {"gain": _like_for_like_span(False), "keep": _like_for_like_span(True),
           "f": _like_for_like_median(_FRESH), "r": _like_for_like_median(_REUSED)}),
    Quote("README.md", "a DCGAN step (batch 64) dispatched one at a time took {faults} page "
          "faults (one-off, `getrusage`).", {"faults": num(
              _HM_PAIRS, "page_faults_per_step.default.per_step", ",.0f")}),
    Quote("README.md", "for the next call ({faults} faults a step;", {"faults": num(
        _HM_PAIRS, "page_faults_per_step.keep.per_step", ",.0f")}),
    Quote("README.md", "one step per dispatch went from {default} to {keep} examples/s",
          {"default": _pairs("dcgan_mnist", "default"), "keep": _pairs("dcgan_mnist", "keep")}),
    Quote("README.md", "genjax's chunk ran at {sk}x Keras's Adam `fit` and {st}x PyTorch's "
          "Adam in the same rounds (Adam: {ak}x / {at}x), the step at {u}% of the run's dense "
          "matmul rate.",
          {"sk": _variant_over(_BENCH_VAE_SGD, "optimizer.name=sgd", "keras"),
           "st": _variant_over(_BENCH_VAE_SGD, "optimizer.name=sgd", "pytorch"),
           "ak": _variant_over(_BENCH_VAE_SGD, "optimizer.name=adam", "keras"),
           "at": _variant_over(_BENCH_VAE_SGD, "optimizer.name=adam", "pytorch"),
           "u": _bench(_BENCH_VAE_SGD, "flop_utilisation", ".0f", "optimizer.name=sgd", 100)}),
    Quote("README.md", "genjax's chunk ran at {g} the matmuls with Adam alone ({gs} with SGD) and "
          "Keras's `fit` at {k}; 1.2x Keras's `fit` would have needed {need} (genjax's chunk "
          "over Keras's `fit` in the same runs: {gk}).",
          {"g": _rate_span(_BENCH_VAE_MM, "chunk", "matmuls+adam"),
           "gs": _rate_span(_BENCH_VAE_MM, "chunk", "matmuls"),
           "k": _rate_span(_BENCH_VAE_MM, "keras", "matmuls+adam"),
           "need": _rate_span(_BENCH_VAE_MM, "keras", "matmuls+adam", 1.2),
           "gk": _rate_span(_BENCH_VAE_MM, "chunk", "keras")}),
    # The runs with genjax.xla_options (2026-12-05), moved out of the README.
    Quote(_BENCH_HISTORY, "| `vae_mnist` (128, 100) | {chunk} | {step} | {minimal} | {torch} | "
          "{keras} | {keras100} |",
          {**_rates(_BENCH_VAE_XLA),
           "torch": _reference(_BENCH_VAE_XLA, "pytorch"),
           "keras": _reference(_BENCH_VAE_XLA, "keras"),
           "keras100": _reference(_BENCH_VAE_XLA, "keras+steps_per_execution=100")}),
    Quote(_BENCH_HISTORY, "| `dcgan_mnist` (128, 10) | {chunk} | {step} | {minimal} | {torch} "
          "(G step reuses D's fake batch) / {fresh} (fresh z, as genjax) | - | - |",
          {**_rates(_BENCH_DCGAN_XLA, _GENJAX),
           "torch": _reference(_BENCH_DCGAN_XLA, "pytorch"),
           "fresh": _reference(_BENCH_DCGAN_XLA, "pytorch+fresh_noise")}),
    Quote(_BENCH_HISTORY, "On the MLP VAE genjax's chunk runs at {torch}x PyTorch eager and "
          "{keras}x Keras's `fit` ({k100}x Keras with 100 steps per execution; one step per "
          "dispatch {st}x PyTorch and {sk}x Keras). The step is XLA code that Keras runs alike "
          "and genjax's loop adds nothing to it (chunk / minimal scan {min}x)",
          {"torch": _over(_BENCH_VAE_XLA, "chunk", "pytorch"),
           "keras": _over(_BENCH_VAE_XLA, "chunk", "keras"),
           "k100": _over(_BENCH_VAE_XLA, "chunk", "keras+steps_per_execution=100"),
           "st": _over(_BENCH_VAE_XLA, "per_step", "pytorch"),
           "sk": _over(_BENCH_VAE_XLA, "per_step", "keras"),
           "min": _bench(_BENCH_VAE_XLA, "chunk_over_minimal_scan", ".2f")}),
    Quote(_BENCH_HISTORY, "On the DCGAN genjax's chunk is {torch}x PyTorch and {fresh}x against "
          "the same algorithm (a fresh z for the G update); one step per dispatch {st}x / "
          "{sf}x. The same run timed genjax with XLA's default options too "
          "(`--xla_options=genjax,xla_default`): chunk {dc} and one step {ds} examples/s, so "
          "`genjax.xla_options` makes the DCGAN's chunk {r}x and its step {rs}x faster.",
          {"torch": _over(_BENCH_DCGAN_XLA, "chunk", "pytorch"),
           "fresh": _over(_BENCH_DCGAN_XLA, "chunk", "pytorch+fresh_noise"),
           "st": _over(_BENCH_DCGAN_XLA, "per_step", "pytorch"),
           "sf": _over(_BENCH_DCGAN_XLA, "per_step", "pytorch+fresh_noise"),
           "dc": _bench(_BENCH_DCGAN_XLA, "chunk_examples_per_sec", variant=_XLA_DEFAULT),
           "ds": _bench(_BENCH_DCGAN_XLA, "per_step_examples_per_sec", variant=_XLA_DEFAULT),
           "r": _options_speedup(_BENCH_DCGAN_XLA, "chunk"),
           "rs": _options_speedup(_BENCH_DCGAN_XLA, "per_step")}),
    Quote(_BENCH_HISTORY, "Two more runs of the same command that day "
          "(`dcgan_mnist_xla_options_run1.json`, `_run3.json`): chunk {c1}x / {c3}x PyTorch "
          "and {f1}x / {f3}x with a fresh z, one step {s1}x / {s3}x and {sf1}x / {sf3}x.",
          {f"{key}{run}": _over(f"benchmarks/dcgan_mnist_xla_options_run{run}.json", kind, ref)
           for run in (1, 3)
           for key, kind, ref in (("c", "chunk", "pytorch"),
                                  ("f", "chunk", "pytorch+fresh_noise"),
                                  ("s", "per_step", "pytorch"),
                                  ("sf", "per_step", "pytorch+fresh_noise"))}),
    Quote(_BENCH_HISTORY, "its chunk ran {r}x the fresh-z chunk, and like for like genjax ran "
          "{rt}x PyTorch with the fake batch reused ({rc} against {pt} examples/s) and {ft}x "
          "with a fresh z ({fc} against {pf}); one step per dispatch {rs}x / {fs}x.",
          _reuse_fields(_BENCH_DCGAN_REUSE)),
    Quote(_BENCH_HISTORY, "A second run (`_run2.json`): {r}x; {rt}x / {ft}x; one step {rs}x / {fs}x.",
          _reuse_fields(_BENCH_DCGAN_REUSE.replace(".json", "_run2.json"))),
    Quote(_BENCH_HISTORY, "the options make the chunk {r}x faster ({c} against {d} examples/s), "
          "and its importance-sampled log-likelihood decoded {nll} posterior samples/s "
          "(k={k}), {x}x its training examples/s",
          {"r": _options_speedup(_BENCH_CONV_VAE_XLA, "chunk"),
           "c": _bench(_BENCH_CONV_VAE_XLA, "chunk_examples_per_sec", variant=_GENJAX),
           "d": _bench(_BENCH_CONV_VAE_XLA, "chunk_examples_per_sec", variant=_XLA_DEFAULT),
           "nll": _bench(_BENCH_CONV_VAE_XLA, "nll_decoded_samples_per_sec", variant=_GENJAX),
           "k": _bench(_BENCH_CONV_VAE_XLA, "nll_samples", "d", variant=_GENJAX),
           "x": _bench(_BENCH_CONV_VAE_XLA, "nll_over_chunk", ".1f", variant=_GENJAX)}),
    Quote("README.md", "trained every conv config faster on this AVX-512 CPU: the DCGAN's "
          "chunk {d}x and the conv VAE's {c}x in the benchmark runs of 2026-12-05",
          {"d": _options_speedup(_BENCH_DCGAN_XLA, "chunk"),
           "c": _options_speedup(_BENCH_CONV_VAE_XLA, "chunk")}),
    Quote(_BENCH_HISTORY, "| `vae_mnist` (128, 100) | {chunk} | {step} | {minimal} | {torch} | "
          "{keras} | {keras100} |",
          {**_rates(_BENCH_VAE),
           "torch": _reference(_BENCH_VAE, "pytorch"), "keras": _reference(_BENCH_VAE, "keras"),
           "keras100": _reference(_BENCH_VAE, "keras+steps_per_execution=100")}),
    Quote(_BENCH_HISTORY, "| `dcgan_mnist` (128, 10) | {chunk} | {step} | {minimal} | {torch} "
          "(G step reuses D's fake batch) / {fresh} (fresh z, as genjax)",
          {**_rates(_BENCH_DCGAN),
           "torch": _reference(_BENCH_DCGAN, "pytorch"),
           "fresh": _reference(_BENCH_DCGAN, "pytorch+fresh_noise")}),
    Quote(_BENCH_HISTORY, "genjax's chunk runs at {torch}x PyTorch eager and {keras}x Keras's "
          "`fit` (one step per dispatch: {step_torch}x and {step_keras}x); the step is at "
          "{util}% of",
          {"torch": _over(_BENCH_VAE, "chunk", "pytorch"),
           "keras": _over(_BENCH_VAE, "chunk", "keras"),
           "step_torch": _over(_BENCH_VAE, "per_step", "pytorch"),
           "step_keras": _over(_BENCH_VAE, "per_step", "keras"),
           "util": _bench(_BENCH_VAE, "flop_utilisation", ".0f", scale=100)}),
    Quote(_BENCH_HISTORY, "genjax is {torch}x PyTorch ({fresh}x against the same algorithm, a "
          "fresh z for the G update; one step per dispatch {step}x / {step_fresh}x)",
          {"torch": _over(_BENCH_DCGAN, "chunk", "pytorch"),
           "fresh": _over(_BENCH_DCGAN, "chunk", "pytorch+fresh_noise"),
           "step": _over(_BENCH_DCGAN, "per_step", "pytorch"),
           "step_fresh": _over(_BENCH_DCGAN, "per_step", "pytorch+fresh_noise")}),
    Quote(_BENCH_HISTORY, "a 1024x1024 matmul at {mm} GFLOP/s in the run",
          {"mm": num(_BENCH_VAE_1204, ("matmul_flops_per_sec",), ".0f", scale=1e-9)}),
    Quote(_BENCH_HISTORY, "`vae_mnist` chunk {chunk} examples/s, {torch}x PyTorch eager ({pt}), "
          "{keras}x Keras `fit` ({k}) and {k100}x Keras `fit` with 100 steps per execution "
          "({k100v}); `dcgan_mnist` chunk {dc} examples/s, {dtorch}x PyTorch ({dpt}) and "
          "{dfresh}x with a fresh z ({dfv})",
          _cpu_run(_BENCH_VAE_1204, _BENCH_DCGAN_1204)),
    Quote(_BENCH_HISTORY, "a 1024x1024 matmul at\n{mm} GFLOP/s in the run",
          {"mm": num(_BENCH_VAE_1205, ("matmul_flops_per_sec",), ".0f", scale=1e-9)}),
    Quote(_BENCH_HISTORY, "`vae_mnist` chunk\n{chunk} examples/s, {torch}x PyTorch eager ({pt}), "
          "{keras}x Keras `fit` ({k})\nand {k100}x Keras `fit` with 100 steps per execution "
          "({k100v}); `dcgan_mnist`\nchunk {dc} examples/s, {dtorch}x PyTorch ({dpt}) and "
          "{dfresh}x with a fresh z\n({dfv}); one step per dispatch {st}x / {stf}x",
          {**_cpu_run(_BENCH_VAE_1205, _BENCH_DCGAN_1205),
           "st": _over(_BENCH_DCGAN_1205, "per_step", "pytorch"),
           "stf": _over(_BENCH_DCGAN_1205, "per_step", "pytorch+fresh_noise")}),
    Quote(_BENCH_HISTORY,
          "Its chunk runs at\n{v}x / {d}x the minimal scanned loop of the same step",
          {"v": _bench(_BENCH_VAE_1204, "chunk_over_minimal_scan", ".2f"),
           "d": _bench(_BENCH_DCGAN_1204, "chunk_over_minimal_scan", ".2f")}),
    Quote(_BENCH_HISTORY, "its matmuls at {util}% of the matmul rate",
          {"util": _bench(_BENCH_VAE_1204, "flop_utilisation", ".0f", scale=100)}),
    Quote(_BENCH_HISTORY, "genjax's loop adds nothing to its step (chunk / minimal scan {x}x)",
          {"x": _bench(_BENCH_DCGAN, "chunk_over_minimal_scan", ".2f")}),
    Quote(_BENCH_HISTORY, "decoded {mlp}k posterior samples/s with the MLP VAE (k={k}; {mlp_x}x "
          "its training examples/s) and {conv}/s with `conv_vae_mnist` (k={conv_k}; {conv_x}x "
          "its {conv_train} training examples/s)",
          {"mlp": _bench(_BENCH_VAE, "nll_decoded_samples_per_sec", ".0f", scale=1e-3),
           "k": _bench(_BENCH_VAE, "nll_samples", "d"),
           "mlp_x": _bench(_BENCH_VAE, "nll_over_chunk", ".1f"),
           "conv": _bench(_BENCH_CONV_VAE, "nll_decoded_samples_per_sec"),
           "conv_k": _bench(_BENCH_CONV_VAE, "nll_samples", "d"),
           "conv_x": _bench(_BENCH_CONV_VAE, "nll_over_chunk", ".1f"),
           "conv_train": _bench(_BENCH_CONV_VAE, "chunk_examples_per_sec")}),
    Quote("README.md", "test error {ssgan}% over seeds 0 / 1 / 2 / 3 / 4 against {alone}% "
          "for the same D on the labels alone (median {median}%: the 1.5% goal missed); on their "
          "script's default labelled subset (`--seed_data=1`), seeds 0 / 1 / 2: {theirs}% against "
          "{theirs_alone}% (median {their_median}%;",
          {"ssgan": _ssgan("ssgan", "% / "), "alone": _ssgan("labels_only", "% / "),
           "theirs": _ssgan("ssgan_their_subset", "% / "),
           "theirs_alone": _ssgan("labels_only_their_subset", "% / "),
           "median": num(_SSGAN, "results.summary.ssgan.median", ".2f", scale=100),
           "their_median": num(_SSGAN, "results.summary.ssgan_their_subset.median", ".2f",
                               scale=100)}),
    Quote("configs/ssgan_mnist.py", "seeds 0-4 (labels alone: 20-25%):\n{ssgan}%; their subset "
          "(labelled_seed=1), seeds 0-2:\n{theirs}% (paper",
          {"ssgan": _ssgan("ssgan", "% / "), "theirs": _ssgan("ssgan_their_subset", "% / ")}),
    Quote(f"{RESULTS}/README.md", "SSGAN {ssgan}%, mean {mean}% [{low}, {high}], above the "
          "1.5% goal (Salimans et al. 0.93% at 300 epochs); the same D on the 100 labels alone "
          "{alone}%; median {median}%. On their subset, seeds 0 / 1 / 2: SSGAN {theirs}%, mean "
          "{t_mean}% [{t_low}, {t_high}], median {t_median}%; labels alone {theirs_alone}%",
          {"ssgan": _ssgan("ssgan", " / "), "alone": _ssgan("labels_only", " / "),
           "theirs": _ssgan("ssgan_their_subset", " / "),
           "theirs_alone": _ssgan("labels_only_their_subset", " / "),
           **{k: num(_SSGAN, f"results.summary.ssgan.{k}", ".2f", scale=100)
              for k in ("mean", "low", "high", "median")},
           **{f"t_{k}": num(_SSGAN, f"results.summary.ssgan_their_subset.{k}", ".2f", scale=100)
              for k in ("mean", "low", "high", "median")}}),
] + [
    Quote(f"{RESULTS}/README.md", f"[{name}]({name}/report.md) | {{when}} | {{verdicts}}",
          {"when": lambda root: ANY_CELL, "verdicts": agreed(name)})
    for name in ("pca_vs_linear_ae", "overcomplete_identity", "contractive_vs_denoising",
                 "vae_likelihood", "optimal_discriminator", "minimax_vs_nonsaturating",
                 "denoising_vs_median", "codes_as_features", "conditional_and_infogan",
                 "gan_stability", "denoising_score", "semi_supervised_gan")
]


def _normalise(text: str) -> str:
  return re.sub(r"\s+", " ", text)


def _found(doc_text: str, expected: str) -> bool:
  """Whether `expected` is in the document, ANY_CELL matching any table cell's text."""
  pieces = [re.escape(p) for p in _normalise(expected).split(ANY_CELL)]
  return re.search("[^|]*".join(pieces), _normalise(doc_text)) is not None


def mismatches(root: pathlib.Path = REPO, quotes=QUOTES) -> list[str]:
  """One line per quote whose rendered phrase its document does not contain."""
  _load.cache_clear()
  out = []
  for q in quotes:
    try:
      expected = q.expected(root)
    except (KeyError, IndexError, FileNotFoundError) as e:
      out.append(f"{q.doc}: {q.phrase[:40]!r}... reads a result that is not there: {e!r}")
      continue
    if not _found((root / q.doc).read_text(), expected):
      out.append(f"{q.doc}: does not say {expected!r} (from {RESULTS})")
  return out


def main() -> int:
  bad = mismatches()
  for line in bad:
    print(f"check_numbers: {line}", file=sys.stderr)
  print(f"check_numbers: {len(QUOTES) - len(bad)}/{len(QUOTES)} quotes match their results")
  return 1 if bad else 0


if __name__ == "__main__":
  sys.exit(main())
