"""The Linux bundle and .deb, built for real and run headless (EDGECHAT_PACKAGE_TEST=1; CI sets it).

Builds with ./scripts/package unless EDGECHAT_PACKAGE_REUSE=1 and a bundle is already in dist/.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"

pytestmark = [
    pytest.mark.skipif(os.environ.get("EDGECHAT_PACKAGE_TEST") != "1",
                       reason="set EDGECHAT_PACKAGE_TEST=1 to build and test the installer"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux path runs here"),
    pytest.mark.timeout(3600),
]


@pytest.fixture(scope="module")
def built():
    if not (os.environ.get("EDGECHAT_PACKAGE_REUSE") == "1" and (DIST / "edgechat" / "edgechat").exists()):
        result = subprocess.run([str(ROOT / "scripts" / "package")], cwd=ROOT, text=True,
                                capture_output=True, timeout=3500)
        print(result.stdout[-3000:])
        assert result.returncode == 0, result.stderr[-4000:]
    return DIST


def clean_env(tmp_path) -> dict:
    """A user's session: no venv, no source tree on the path, a fresh home."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "EDGECHAT_", "HF_", "QT_"))}
    env.update(HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen", LANG="C.UTF-8",
               PATH="/usr/bin:/bin", XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"))
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def self_test(launcher: Path, tmp_path, **env) -> dict:
    result = subprocess.run([str(launcher), "--self-test", "--json"], capture_output=True, text=True,
                            timeout=300, env={**clean_env(tmp_path), **env}, cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    report = json.loads(lines[-1])
    failed = [c for c in report["checks"] if not c["ok"]]
    assert result.returncode == 0 and report["ok"], failed
    return report


def test_bundle_self_test(built, tmp_path):
    report = self_test(built / "edgechat" / "edgechat", tmp_path)
    assert report["frozen"] is True
    # the portable llama.cpp picked a CPU variant for this machine at run time
    assert report["cpu_variant"] not in (None, "built-in")
    names = {c["name"] for c in report["checks"]}
    # "api server": uvicorn, Starlette and the openai client made it into the bundle and serve
    assert {"generation", "engine child process", "bundled model", "qt", "api server"} <= names
    # user data went to the (fresh) home, not into the bundle
    assert (tmp_path / "home" / ".local" / "share" / "EdgeChat").is_dir()


@pytest.mark.parametrize("variant", ["x64", "sse42"])
def test_baseline_cpu_variants_run(built, tmp_path, variant):
    """What a CPU without AVX2 (or without AVX at all) gets: the same bundle, a baseline build."""
    report = self_test(built / "edgechat" / "edgechat", tmp_path, EDGECHAT_CPU_VARIANT=variant)
    assert report["cpu_variant"] == variant
    assert next(c for c in report["checks"] if c["name"] == "generation")["ok"]


def test_bundle_is_lean(built):
    bundle = built / "edgechat"
    names = {p.name for p in bundle.rglob("*")}
    for unwanted in ("torch", "transformers", "QtWebEngineCore", "libQt6WebEngineCore.so.6",
                     "pytest", "onnx_ir"):
        assert unwanted not in names, unwanted
    libs = {p.name for p in (bundle / "_internal" / "llama_cpp" / "lib").iterdir()}
    assert any(n.startswith("libggml-cpu-") for n in libs)  # the variants keep their layout
    assert any(n.startswith("libggml-cpu-x64") or n.startswith("libggml-cpu-sse42") for n in libs), \
        "a variant for CPUs without AVX2"


def test_deb_installs_under_opt_and_runs(built, tmp_path):
    (deb,) = built.glob("edgechat_*_*.deb")
    (tarball,) = built.glob("edgechat-*-linux-*.tar.gz")
    assert tarball.stat().st_size > 50_000_000
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True, check=True)
    assert "Package: edgechat" in info.stdout
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    assert (root / "usr/share/applications/edgechat.desktop").is_file()
    assert (root / "usr/share/icons/hicolor/256x256/apps/edgechat.png").is_file()
    assert os.readlink(root / "usr/bin/edgechat") == "/opt/edgechat/edgechat"
    report = self_test(root / "opt" / "edgechat" / "edgechat", tmp_path)
    assert report["ok"]
    shutil.rmtree(root)
