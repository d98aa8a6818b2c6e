"""The environment is declared once: pyproject.toml pins, environment.yml mirrors them, CI runs the README's command.

conda is not reachable on the project's machines, so environment.yml is never solved here; this
test keeps it in step with pyproject.toml instead (conda-forge names are the same names, lower-cased).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = "make test"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;]+)\s*$")
_CONDA = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*([^\s=]+)\s*$")
NOT_MIRRORED = {"python", "pip"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pyproject_pins() -> dict[str, str]:
    project = _pyproject()["project"]
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _PIN.match(requirement)
        assert match, f"pyproject.toml: {requirement!r} is not pinned exactly (name==version)"
        name = _normalise(match.group(1))
        assert name not in pins, f"pyproject.toml pins {name} twice"
        pins[name] = match.group(2)
    return pins


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def _conda_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for item in _environment()["dependencies"]:
        if isinstance(item, dict):  # the pip: block (installs the project itself)
            assert set(item) == {"pip"}, f"environment.yml: unexpected block {item}"
            continue
        match = _CONDA.match(str(item))
        name = _normalise(match.group(1) if match else str(item).strip())
        if name in NOT_MIRRORED:
            continue
        assert match, f"environment.yml: {item!r} has no version (name=version)"
        assert name not in pins, f"environment.yml lists {name} twice"
        pins[name] = match.group(2)
    return pins


def test_every_pyproject_pin_is_in_environment_yml() -> None:
    conda = _conda_pins()
    missing = sorted(set(_pyproject_pins()) - set(conda))
    assert not missing, f"pinned in pyproject.toml but not in environment.yml: {missing}"


def test_environment_yml_has_nothing_pyproject_lacks() -> None:
    extra = sorted(set(_conda_pins()) - set(_pyproject_pins()))
    assert not extra, f"in environment.yml but not pinned in pyproject.toml: {extra}"


def test_versions_agree() -> None:
    pip, conda = _pyproject_pins(), _conda_pins()
    differ = {name: (pip[name], conda[name]) for name in sorted(set(pip) & set(conda)) if pip[name] != conda[name]}
    assert not differ, f"pyproject.toml vs environment.yml versions differ: {differ}"


def test_environment_yml_shape() -> None:
    env = _environment()
    assert env["channels"] == ["conda-forge"]
    names = [_normalise(re.split(r"[=<>]", str(i))[0]) for i in env["dependencies"] if not isinstance(i, dict)]
    assert "python" in names and "pip" in names
    # The conda python must satisfy pyproject's requires-python (">=3.11,<3.13").
    python = next(str(i) for i in env["dependencies"] if str(i).startswith("python="))
    major, minor = (int(x) for x in python.split("=", 1)[1].split(".")[:2])
    requires = _pyproject()["project"]["requires-python"]
    low = re.search(r">=\s*(\d+)\.(\d+)", requires)
    high = re.search(r"<\s*(\d+)\.(\d+)", requires)
    assert low and (major, minor) >= (int(low.group(1)), int(low.group(2)))
    assert high is None or (major, minor) < (int(high.group(1)), int(high.group(2)))


def _commands(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_the_test_command() -> None:
    ci = ROOT / ".ci" / "run"
    assert ci.is_file(), ".ci/run is missing"
    assert TEST_COMMAND in _commands(ci), f".ci/run does not call `{TEST_COMMAND}`"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test:", makefile, flags=re.MULTILINE), "the Makefile has no `test` target"


def test_readme_states_the_same_test_command() -> None:
    readme = ROOT / "README.md"
    assert TEST_COMMAND in readme.read_text(encoding="utf-8"), f"README.md does not give `{TEST_COMMAND}` as the test command"


# --- the Makefile's environment: which interpreter, and when the venv is made again ------------

FAKE_PYTHON = """#!/bin/sh
# Stands in for a Python: logs its arguments; `-m venv [--clear] DIR` makes DIR/bin/python (this script).
echo "$0 $*" >> "{log}"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    for last; do :; done
    mkdir -p "$last/bin" && cp "$0" "$last/bin/python"
    [ "$3" = "--clear" ] && rm -f "$last"/.installed*
fi
exit 0
"""


def _make(*args: str, cwd: Path | None = None) -> str:
    """The project's Makefile run by ``make -s`` with ``args``, in an environment of the test's own
    (nothing a parent make such as ``make test PYTHON=…`` passes down); returns what it printed."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    drop = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHON"}
    proc = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={k: v for k, v in os.environ.items() if k not in drop})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _make_setup(work: Path, python: Path, log: Path) -> list[str]:
    """``make setup`` in ``work`` with ``python`` as the interpreter; returns the calls ``log`` got."""
    log.unlink(missing_ok=True)
    _make("setup", f"PYTHON={python}", "VENV=venv", cwd=work)
    return log.read_text().splitlines() if log.exists() else []


def _fake_python(path: Path, log: Path) -> Path:
    path.write_text(FAKE_PYTHON.format(log=log))
    path.chmod(0o755)
    return path


def test_make_setup_remakes_only_a_venv_it_made_with_another_interpreter(tmp_path: Path) -> None:
    """The venv is made with --clear (which empties the folder) only when a stamp of make's own says
    another interpreter made it: never a venv someone made by hand, never on a pin change alone."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    log = tmp_path / "calls.log"
    first, second = _fake_python(tmp_path / "py_a", log), _fake_python(tmp_path / "py_b", log)

    calls = _make_setup(tmp_path, first, log)
    assert calls[0] == f"{first} -m venv venv" and any("pip install" in c for c in calls)
    assert _make_setup(tmp_path, first, log) == []  # made, and nothing changed: nothing to do

    calls = _make_setup(tmp_path, second, log)  # another interpreter: made again from scratch
    assert calls[0] == f"{second} -m venv --clear venv"
    assert sorted(p.name for p in (tmp_path / "venv").glob(".installed*")) == [f".installed-{str(second).replace('/', '_')}"]

    later = time.time() + 5
    os.utime(tmp_path / "pyproject.toml", (later, later))  # a pin changed: installed again, not cleared
    calls = _make_setup(tmp_path, second, log)
    assert calls[0] == f"{second} -m venv venv" and any("pip install" in c for c in calls)

    mine = tmp_path / "mine"
    (mine / "venv" / "bin").mkdir(parents=True)
    (mine / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (mine / "venv" / "keep.txt").write_text("a venv someone made by hand")
    calls = _make_setup(mine, first, log)
    assert calls[0] == f"{first} -m venv venv"  # no --clear: make did not write it
    assert (mine / "venv" / "keep.txt").is_file()


def test_make_prefers_the_distributions_optimised_python_when_it_can_make_a_venv() -> None:
    chosen = _make("--eval", "print-python: ; @echo $(PYTHON)", "print-python").strip()
    distro = Path("/usr/bin/python3.11")
    usable = distro.exists() and subprocess.run([str(distro), "-c", "import ensurepip, venv"], capture_output=True).returncode == 0
    assert chosen == (str(distro) if usable else "python3.11")
