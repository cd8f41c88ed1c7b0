r"""Run every experiment and write an index of their verdicts.

    python -m experiments --all --workdir=runs/experiments [--quick]
    python -m experiments --only=pca_vs_linear_ae,denoising_vs_median --workdir=...

Each experiment writes into WORKDIR/<name>/ (report.md, figures,
results.json); WORKDIR/index.md lists every claim with its verdicts. An
experiment that fails is listed as failed and does not stop the others.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import traceback

from absl import app, flags

import experiments
from experiments import report
from genjax import host_memory

_WORKDIR = flags.DEFINE_string("workdir", None, "Parent directory of the experiments.")
_QUICK = flags.DEFINE_bool("quick", False, "Reduced budgets (each a few minutes).")
_ALL = flags.DEFINE_bool("all", False, "Run every experiment.")
_ONLY = flags.DEFINE_list("only", [], "Run these experiments.")

_NOT_EXPERIMENTS = {"report", "__main__"}


def names() -> list[str]:
  """Every experiment module in this package (each defines run(workdir, quick))."""
  return sorted(m.name for m in pkgutil.iter_modules(experiments.__path__)
                if m.name not in _NOT_EXPERIMENTS)


def main(argv):
  del argv
  chosen = names() if _ALL.value else _ONLY.value
  if not chosen:
    raise app.UsageError(f"pass --all or --only=NAME[,NAME]; experiments: {', '.join(names())}")
  unknown = set(chosen) - set(names())
  if unknown:
    raise app.UsageError(f"unknown experiments {sorted(unknown)}; known: {', '.join(names())}")
  host_memory.keep_freed_memory()  # as the launcher: steps reuse freed memory
  lines = ["# Experiments", "",
           f"Budget: {'--quick' if _QUICK.value else 'full'}.", ""]
  failed = []
  for name in chosen:
    out = os.path.join(_WORKDIR.value, name)
    try:
      importlib.import_module(f"experiments.{name}").run(out, _QUICK.value)
      with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
      lines.append(f"## [{name}]({name}/report.md) ({results['wall_s'] / 60:.1f} min)")
      lines += [report.verdict_line(v["statement"], v["agrees"]) for v in results["verdicts"]]
    except Exception:  # one failing experiment must not stop the others
      failed.append(name)
      lines.append(f"## {name}: FAILED\n\n```\n{traceback.format_exc()[-2000:]}\n```")
    lines.append("")
  os.makedirs(_WORKDIR.value, exist_ok=True)
  with open(os.path.join(_WORKDIR.value, "index.md"), "w") as f:
    f.write("\n".join(lines))
  print(f"index: {os.path.join(_WORKDIR.value, 'index.md')}")
  if failed:
    raise SystemExit(f"failed experiments: {', '.join(failed)}")


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir"])
  app.run(main)
