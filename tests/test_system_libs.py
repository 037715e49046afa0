"""scripts/check_system_libs.py: the system libraries Qt's xcb window needs, named by package."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_system_libs.py"
spec = importlib.util.spec_from_file_location("check_system_libs", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

LDD_MISSING = """\
/x/libqxcb.so:
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f3b1931b000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
/x/libQt6XcbQpa.so.6:
\tlibxcb-icccm.so.4 => not found
"""


def test_missing_libraries_are_named_once_with_their_packages():
    missing = check.missing_libraries(LDD_MISSING)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert check.packages_for(missing) == (["libxcb-icccm4", "libxcb-keysyms1"], [])


def test_a_library_with_no_known_package_is_reported_as_such():
    assert check.packages_for(["libsomething-new.so.9"]) == ([], ["libsomething-new.so.9"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb platform is Linux's")
def test_a_missing_library_stops_with_the_one_command_to_run(monkeypatch, capsys):
    monkeypatch.setattr(check, "_ldd", lambda _paths: LDD_MISSING)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    assert check.main(["--check-only"]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4" in err
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb platform is Linux's")
def test_the_check_runs_on_this_machine():
    """Here, on the real Qt libraries: either all is there, or it names what to install."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--check-only"], capture_output=True,
                            text=True, timeout=120, env=env)
    missing = check.missing_libraries(check._ldd(check.qt_libraries()))
    if missing:
        assert result.returncode == 1 and "apt-get install" in result.stderr
    else:
        assert result.returncode == 0 and result.stderr == ""


def test_offscreen_needs_nothing(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(check, "_ldd", lambda _paths: LDD_MISSING)
    assert check.main(["--check-only"]) == 0


def test_run_and_test_share_one_setup(tmp_path):
    """A venv set up with the test extras serves ./scripts/run without a reinstall."""
    root = Path(__file__).resolve().parent.parent
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    inputs = subprocess.run(
        ["bash", "-c", "cat pyproject.toml scripts/_setup.sh | python3 -c 'import hashlib,sys; "
                       "print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'"],
        cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    (venv / ".edgechat-setup").write_text(f"{inputs} test,convert\n")
    script = (f'source scripts/_setup.sh; VENV="{venv}"; '
              'setup_venv "" && setup_venv "test" && echo reused')
    result = subprocess.run(["bash", "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("reused"), result.stderr
    assert "Installing" not in result.stdout
