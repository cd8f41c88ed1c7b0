"""pyproject.toml's dependencies per platform: one TensorFlow build that has wheels.

Offline and fast: evaluates pyproject.toml's markers with the functions of
scripts/check_install.py, which CI also runs against PyPI for the 9 targets.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from conftest import REPO

_spec = importlib.util.spec_from_file_location(
    "check_install", REPO / "scripts" / "check_install.py")
check_install = importlib.util.module_from_spec(_spec)
sys.modules["check_install"] = check_install
_spec.loader.exec_module(check_install)

TENSORFLOWS = ("tensorflow", "tensorflow-cpu")
# Platforms with wheels of each TensorFlow 2.21.0 build on PyPI (2026-12):
# tensorflow-cpu: manylinux_2_27_x86_64, win_amd64; tensorflow: also
# manylinux_2_27_aarch64 and macosx_12_0_arm64. Neither has macOS x86_64.
TF_WHEEL_PLATFORMS = {
    "tensorflow-cpu": {"linux-x86_64", "windows-amd64"},
    "tensorflow": {"linux-x86_64", "linux-aarch64", "macos-arm64", "windows-amd64"},
}
# The build each platform should get: the CPU-only one wherever it exists.
EXPECTED_TF = {
    "linux-x86_64": "tensorflow-cpu",
    "windows-amd64": "tensorflow-cpu",
    "linux-aarch64": "tensorflow",
    "macos-arm64": "tensorflow",
}
TARGETS = [(p, v) for p in EXPECTED_TF for v in ("3.11", "3.12", "3.13")]


def _selected(platform, python: str) -> dict[str, Requirement]:
  env = check_install.marker_environment(platform, python)
  reqs = check_install.target_requirements(check_install.project_requirements(), env)
  return {canonicalize_name(r.name): r for r in reqs}


def test_targets_cover_the_supported_platforms():
  assert set(check_install.DEFAULT_PLATFORMS) == {"linux-x86_64", "linux-aarch64", "macos-arm64"}
  assert check_install.PYTHONS == ("3.11", "3.12", "3.13")
  assert set(check_install.PLATFORMS) == set(EXPECTED_TF)


@pytest.mark.parametrize("platform,python", TARGETS)
def test_exactly_one_tensorflow_and_it_has_wheels(platform, python):
  selected = _selected(platform, python)
  tfs = [n for n in TENSORFLOWS if n in selected]
  assert tfs == [EXPECTED_TF[platform]], f"{platform} py{python} gets {tfs}"
  assert platform in TF_WHEEL_PLATFORMS[tfs[0]]
  assert selected[tfs[0]].marker is None  # target_requirements strips markers
  assert "2.21.0" in selected[tfs[0]].specifier


@pytest.mark.parametrize("platform,python", TARGETS)
def test_tensorboard_is_installed(platform, python):
  selected = _selected(platform, python)
  assert "tensorboard" in selected, f"{platform} py{python}"
  assert "2.21.0" in selected["tensorboard"].specifier


def test_both_tensorflow_builds_have_the_same_version_range():
  reqs = {canonicalize_name(r.name): r for r in check_install.project_requirements()}
  assert reqs["tensorflow"].specifier == reqs["tensorflow-cpu"].specifier
  assert reqs["tensorflow"].specifier == SpecifierSet(">=2.21,<2.22")
  assert reqs["tensorboard"].marker is None  # every platform, unconditionally


@pytest.mark.parametrize("machine", [("darwin", "Darwin", "x86_64", "posix"),
                                     ("win32", "Windows", "ARM64", "nt"),
                                     ("linux", "Linux", "ppc64le", "posix")])
def test_other_machines_still_get_exactly_one_tensorflow(machine):
  # No TensorFlow 2.21 wheels here, but the markers must stay complementary:
  # neither build would install a genjax that fails at import.
  platform = check_install.Platform(*machine, wheel_tags=())
  selected = _selected(platform, "3.12")
  assert [n for n in TENSORFLOWS if n in selected] == ["tensorflow"]


def test_target_requirements_evaluates_markers_for_the_target_not_this_machine():
  reqs = [Requirement(s) for s in (
      'only-mac; sys_platform == "darwin" and platform_machine == "arm64"',
      'only-windows; os_name == "nt"',
      'new-python; python_version >= "3.12"',
      "everywhere>=1")]

  def names(platform, python):
    env = check_install.marker_environment(platform, python)
    return [r.name for r in check_install.target_requirements(reqs, env)]

  assert names("macos-arm64", "3.11") == ["only-mac", "everywhere"]
  assert names("windows-amd64", "3.13") == ["only-windows", "new-python", "everywhere"]
  assert names("linux-aarch64", "3.12") == ["new-python", "everywhere"]
  assert all(r.marker is None
             for r in check_install.target_requirements(reqs, check_install.marker_environment(
                 "macos-arm64", "3.13")))
  assert str(reqs[0].marker)  # the input is not modified


@pytest.mark.parametrize("platform,tag", [
    ("linux-x86_64", "manylinux_2_27_x86_64"),   # tensorflow(-cpu) 2.21
    ("linux-x86_64", "manylinux2014_x86_64"),
    ("linux-aarch64", "manylinux_2_27_aarch64"),
    ("linux-aarch64", "manylinux_2_17_aarch64"),
    ("macos-arm64", "macosx_12_0_arm64"),         # tensorflow 2.21
    ("macos-arm64", "macosx_11_0_arm64"),         # jaxlib
    ("windows-amd64", "win_amd64")])
def test_wheel_tags_accept_the_wheels_we_need(platform, tag):
  assert tag in check_install.PLATFORMS[platform].wheel_tags


def test_wheel_tags_do_not_accept_newer_systems():
  assert "manylinux_2_29_x86_64" not in check_install.PLATFORMS["linux-x86_64"].wheel_tags
  assert "macosx_15_0_arm64" not in check_install.PLATFORMS["macos-arm64"].wheel_tags
  assert not any("x86_64" in t for t in check_install.PLATFORMS["macos-arm64"].wheel_tags)
