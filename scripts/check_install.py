r"""Checks that `pip install -e ".[test]"` resolves to wheels on every target.

    .venv/bin/python scripts/check_install.py                  # the 9 targets
    .venv/bin/python scripts/check_install.py --platforms=macos-arm64 --pythons=3.13
    .venv/bin/python scripts/check_install.py --platforms=linux-x86_64,windows-amd64

Targets are {Linux x86_64 (glibc 2.28), Linux aarch64 (glibc 2.28), macOS 14
arm64} x Python {3.11, 3.12, 3.13}; `windows-amd64` can be added by hand. For
each one this script

  1. evaluates the markers of pyproject.toml's dependencies (and of the `test`
     extra) for that target with `packaging` (`target_requirements`; pip
     evaluates markers for the machine it runs on, never for `--platform`);
  2. runs `pip install --dry-run --report` on the selected requirements with
     `--only-binary=:all: --platform ... --python-version ...`, i.e. resolves
     the whole dependency tree against PyPI's wheels for that target, with
     pip's own marker evaluation (transitive dependencies) pointed at the
     target too, and checks in pip's report that it was;
  3. prints one line: OK or FAIL, the versions of the key packages, seconds.

It needs PyPI; nothing is installed. pip fetches wheel metadata (whole wheels
from an index without PEP 658 metadata), and the few pure-Python dependencies
published only as source are built once into wheels. pip older than 24.2 checks
Requires-Python against the running interpreter instead of --python-version, so
with an older pip the script runs pip from a newer pip wheel it downloads
(nothing in the environment changes). Exits 1 if any target fails, 2 on bad
arguments.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import importlib.metadata
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import tomllib

from packaging.requirements import Requirement
from packaging.tags import mac_platforms
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = REPO / "pyproject.toml"

PYTHONS = ("3.11", "3.12", "3.13")
EXTRAS = ("test",)
# Printed on each line, in this order (tensorflow or tensorflow-cpu: whichever).
KEY_PACKAGES = ("jax", "jaxlib", "tensorflow", "tensorflow-datasets", "tensorboard")
# Dependencies published only as a source distribution. They are pure Python,
# so pip builds them on any platform; here they are built once into a wheel
# (checked to be `-none-any`) that every target may use.
PURE_PYTHON_SDISTS = ("promise",)  # tensorflow-datasets requires it
# The oldest pip that checks Requires-Python against --python-version.
MIN_PIP = "24.2"


def _manylinux(arch: str, glibc_minor: int) -> tuple[str, ...]:
  """manylinux tags a glibc 2.<glibc_minor> system accepts (PEP 600 + legacy)."""
  tags = [f"manylinux_2_{m}_{arch}" for m in range(glibc_minor, 4, -1)]
  legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
  tags += [f"{name}_{arch}" for m, name in legacy.items() if m <= glibc_minor]
  return tuple(tags)


@dataclasses.dataclass(frozen=True)
class Platform:
  # PEP 508 marker variables that differ between platforms.
  sys_platform: str
  platform_system: str
  platform_machine: str
  os_name: str
  # Wheel platform tags a machine of this kind accepts, most specific first.
  wheel_tags: tuple[str, ...]


PLATFORMS = {
    "linux-x86_64": Platform("linux", "Linux", "x86_64", "posix", _manylinux("x86_64", 28)),
    "linux-aarch64": Platform("linux", "Linux", "aarch64", "posix", _manylinux("aarch64", 28)),
    "macos-arm64": Platform("darwin", "Darwin", "arm64", "posix",
                            tuple(mac_platforms((14, 0), "arm64"))),
    "windows-amd64": Platform("win32", "Windows", "AMD64", "nt", ("win_amd64",)),
}
DEFAULT_PLATFORMS = ("linux-x86_64", "linux-aarch64", "macos-arm64")


def marker_environment(platform: str | Platform, python: str) -> dict[str, str]:
  """The complete PEP 508 marker environment of CPython `python` on `platform`.

  Every variable is set, so nothing falls back to this machine's values.
  """
  p = PLATFORMS[platform] if isinstance(platform, str) else platform
  full = f"{python}.0"
  return {
      "implementation_name": "cpython",
      "implementation_version": full,
      "os_name": p.os_name,
      "platform_machine": p.platform_machine,
      "platform_python_implementation": "CPython",
      "platform_release": "",
      "platform_system": p.platform_system,
      "platform_version": "",
      "python_full_version": full,
      "python_version": python,
      "sys_platform": p.sys_platform,
  }


def project_requirements(pyproject: pathlib.Path = PYPROJECT,
                         extras: tuple[str, ...] = EXTRAS) -> list[Requirement]:
  """pyproject.toml's dependencies plus those of `extras`, markers kept."""
  project = tomllib.loads(pyproject.read_text())["project"]
  specs = list(project["dependencies"])
  for extra in extras:
    specs += project["optional-dependencies"][extra]
  return [Requirement(s) for s in specs]


def target_requirements(requirements: list[Requirement],
                        environment: dict[str, str]) -> list[Requirement]:
  """The requirements whose markers hold in `environment`, markers removed."""
  selected = []
  for req in requirements:
    if req.marker is not None and not req.marker.evaluate({"extra": "", **environment}):
      continue
    req = Requirement(str(req))  # a copy
    req.marker = None
    selected.append(req)
  return selected


# Runs pip with its marker environment (used for every marker it meets:
# transitive dependencies, and the report's "environment") set to argv[1].
_PIP_FOR_TARGET = """
import json, sys
import pip._vendor.packaging.markers as markers
_target, _host = json.loads(sys.argv[1]), markers.default_environment
markers.default_environment = lambda: {**_host(), **_target}
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclasses.dataclass
class Result:
  platform: str
  python: str
  ok: bool
  versions: dict[str, str]
  seconds: float
  error: str = ""

  def line(self) -> str:
    status = "OK  " if self.ok else "FAIL"
    parts = [status, f"{self.platform:<14}", f"py{self.python:<5}"]
    parts += [f"{n} {v}" for n, v in self.versions.items()]
    return "  ".join(parts + [f"({self.seconds:.1f} s)"])


def _key_versions(installed: dict[str, str]) -> dict[str, str]:
  versions = {}
  for name in KEY_PACKAGES:
    names = ["tensorflow", "tensorflow-cpu"] if name == "tensorflow" else [name]
    for n in names:
      if n in installed:
        versions[n] = installed[n]
    if not any(n in installed for n in names):
      versions[name] = "-"
  return versions


def check_target(platform: str, python: str, find_links: list[str],
                 pip_env: dict[str, str] | None = None) -> Result:
  """Resolves the project's requirements for one target with pip --dry-run.

  `pip_env`: the environment variables pip runs with (see `pip_environment`).
  """
  start = time.monotonic()
  env = marker_environment(platform, python)
  reqs = target_requirements(project_requirements(), env)
  with tempfile.TemporaryDirectory(prefix="check_install_") as tmp:
    report_path = pathlib.Path(tmp) / "report.json"
    cmd = [sys.executable, "-c", _PIP_FOR_TARGET, json.dumps(env),
           "install", "--dry-run", "--ignore-installed", "--quiet",
           "--disable-pip-version-check", "--progress-bar=off",
           "--report", str(report_path), "--target", str(pathlib.Path(tmp) / "target"),
           "--only-binary=:all:", "--implementation=cp", f"--python-version={python}"]
    cmd += [f"--platform={tag}" for tag in PLATFORMS[platform].wheel_tags]
    cmd += [f"--find-links={d}" for d in find_links]
    cmd += [str(r) for r in reqs]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=pip_env)
    seconds = time.monotonic() - start
    if proc.returncode != 0 or not report_path.exists():
      return Result(platform, python, False, {}, seconds, _tail(proc))
    report = json.loads(report_path.read_text())
  installed = {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"]
               for i in report["install"]}
  errors = []
  # Did pip evaluate (transitive) markers for the target, not for this machine?
  reported = report.get("environment", {})
  wrong = {k: reported.get(k) for k, v in env.items() if reported.get(k) != v}
  if wrong:
    errors.append(f"pip evaluated markers with {wrong}, not the target's")
  for req in reqs:
    name = canonicalize_name(req.name)
    if name not in installed:
      errors.append(f"{req} is missing from pip's resolution")
    elif not req.specifier.contains(installed[name], prereleases=True):
      errors.append(f"{req} resolved to {installed[name]}")
  if ("tensorflow" in installed) == ("tensorflow-cpu" in installed):
    errors.append("need exactly one of tensorflow and tensorflow-cpu, got "
                  f"{sorted(n for n in installed if n in ('tensorflow', 'tensorflow-cpu'))}")
  return Result(platform, python, not errors, _key_versions(installed), seconds,
                "\n".join(errors))


def _tail(proc: subprocess.CompletedProcess, lines: int = 15) -> str:
  """The end of a failed pip's output, without its noise."""
  kept = [l for l in (proc.stdout + proc.stderr).splitlines()
          if l.strip() and not l.startswith("WARNING: Location ")]
  return "\n".join(kept[-lines:]) or f"pip exited {proc.returncode}"


def _pip(*args: str) -> None:
  """Runs this interpreter's pip; exits with its output if it fails."""
  proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                        capture_output=True, text=True)
  if proc.returncode:
    raise SystemExit(f"check_install: pip {' '.join(args)} failed:\n{_tail(proc)}")


def pip_environment(work_dir: str) -> tuple[dict[str, str], str]:
  """Environment variables that run a pip >= MIN_PIP, and its version.

  This interpreter's pip if it is new enough, else a newer pip's wheel
  (downloaded into `work_dir`) on PYTHONPATH: pip runs from its wheel.
  """
  version = importlib.metadata.version("pip")
  if Version(version) >= Version(MIN_PIP):
    return dict(os.environ), version
  _pip("download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", work_dir,
       f"pip>={MIN_PIP}")
  wheel = max(pathlib.Path(work_dir).glob("pip-*.whl"),
              key=lambda w: Version(w.name.split("-")[1]))
  path = os.pathsep.join(filter(None, [str(wheel), os.environ.get("PYTHONPATH")]))
  return {**os.environ, "PYTHONPATH": path}, wheel.name.split("-")[1]


def build_pure_python_wheels(names: tuple[str, ...], wheel_dir: str) -> None:
  """Builds `names` (latest versions, no deps) into `wheel_dir`; all must be pure."""
  if not names:
    return
  _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", wheel_dir, *names)
  for wheel in pathlib.Path(wheel_dir).glob("*.whl"):
    if not re.search(r"-none-any\.whl$", wheel.name):
      raise SystemExit(f"check_install: {wheel.name} is not pure Python; "
                       "it cannot be installed on other platforms from source alone")


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--platforms", default=",".join(DEFAULT_PLATFORMS),
                      help=f"comma-separated, of {', '.join(PLATFORMS)}")
  parser.add_argument("--pythons", default=",".join(PYTHONS), help="e.g. 3.11,3.13")
  parser.add_argument("--jobs", type=int, default=3, help="pip runs at a time")
  args = parser.parse_args(argv)
  platforms = [p for p in args.platforms.split(",") if p]
  pythons = [p for p in args.pythons.split(",") if p]
  unknown = [p for p in platforms if p not in PLATFORMS]
  if unknown or not platforms or not pythons or args.jobs < 1:
    parser.error(f"unknown platforms {unknown}" if unknown else "nothing to check")

  start = time.monotonic()
  with tempfile.TemporaryDirectory(prefix="check_install_") as work_dir:
    pip_dir, wheel_dir = (os.path.join(work_dir, d) for d in ("pip", "wheels"))
    env, pip_version = pip_environment(pip_dir)
    build_pure_python_wheels(PURE_PYTHON_SDISTS, wheel_dir)
    targets = [(p, v) for p in platforms for v in pythons]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
      results = list(pool.map(lambda t: check_target(*t, [wheel_dir], env), targets))
  for r in results:
    print(r.line())
    if r.error:
      print("    " + r.error.replace("\n", "\n    "))
  failed = sum(not r.ok for r in results)
  print(f"check_install: {len(results) - failed}/{len(results)} targets OK "
        f"in {time.monotonic() - start:.0f} s (pip {pip_version})")
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
