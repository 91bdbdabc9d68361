"""The headline use outside this checkout: build the wheel, install it into a fresh virtual
environment, and run `pytest` on a YAML suite in a temporary folder with no conftest.

The fresh environment reuses this one's installed dependencies (torch and the rest) through a
path entry, without this environment's editable install of adapter-harness: the package, its
templates and data, and the pytest11 entry point all come from the wheel.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SUITE = """\
name: wheel-smoke
generation: {max_new_tokens: 2}
cases:
  - id: a
    prompt: Say hi.
    checks: [{length: {max_words: 1000}}]
  - id: b
    prompt: Say hello.
    checks: [{length: {max_words: 1000}}]
thresholds:
  - {metric: pass_rate, min: 0.5}
"""


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_collects_yaml_suites(tmp_path, tiny_model_dir):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(REPO)], check=True, cwd=tmp_path, timeout=600)
    (wheel,) = dist.glob("adapter_harness-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # this environment's dependencies, as a plain path: its .pth files (the editable install) are not run
    (site / "reuse_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=600)

    project = tmp_path / "project"
    (project / "my_suites").mkdir(parents=True)
    (project / "my_suites" / "smoke.yaml").write_text(SUITE)
    where = subprocess.run([str(python), "-c", "import harness, harness.report; print(harness.__file__); "
                            "print(harness.report.__file__)"], cwd=project, check=True, capture_output=True, text=True)
    assert all(line.startswith(str(site)) for line in where.stdout.split()), where.stdout  # the wheel's copy
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "ADAPTER_HARNESS_STORE": str(tmp_path / "runs.sqlite3")}
    done = subprocess.run([str(python), "-m", "pytest", "my_suites/", "-o", "harness_suite_dirs=my_suites",
                           "--model", str(tiny_model_dir), "-p", "no:cacheprovider", "-q"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout  # two cases and one threshold, collected from YAML
    report = subprocess.run([str(python), "-m", "harness", "report", "--out", "r.html"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stdout + report.stderr  # templates shipped as package data
    assert "<!doctype html>" in (project / "r.html").read_text().lower()


def test_the_sdist_and_wheel_name_their_package_data():
    """Templates and scorer weights are package data (the wheel test above proves they load)."""
    text = (REPO / "pyproject.toml").read_text()
    assert "report/templates/*.j2" in text and "**/*.json" in text
    assert textwrap.dedent('''[project.entry-points.pytest11]''') in text
