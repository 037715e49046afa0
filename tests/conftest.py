"""Shared fixtures. Tests run against the real SmolLM2 model, real Qt widgets and real SQLite.

Everything a test writes (conversations, settings) goes to its own temporary folder: the user's
real data and settings are never touched.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The user's real keyring is never touched, here or in the processes tests start (the prompt
# cache keeps its key there): a test that needs one installs memory_keyring.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(tmp_path_factory):
    from PySide6.QtCore import QCoreApplication, QSettings

    settings_dir = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    QCoreApplication.setOrganizationName("EdgeChatTests")
    QCoreApplication.setApplicationName("EdgeChatTests")


@pytest.fixture(autouse=True)
def _no_leftover_notices():
    """A notice one test's core posted is not shown by the next test's window."""
    from desktop import notices

    notices.drain()
    yield
    notices.drain()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("EDGECHAT_DATA_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    from desktop.models.default_model import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def engine(model_path):
    from desktop.engines.llama_engine import LlamaEngine

    with LlamaEngine(model_path, n_ctx=2048) as eng:
        yield eng


@pytest.fixture
def host(qapp):
    from desktop.workers.generation import EngineHost

    h = EngineHost()
    yield h
    assert h.shutdown(), "the generation thread did not stop"
    assert h.thread.isFinished()


@pytest.fixture
def loaded_host(host, qtbot, model_path):
    with qtbot.waitSignal(host.model_loaded, timeout=60_000):
        host.load(str(model_path))
    return host


@pytest.fixture
def make_window(qtbot, tmp_path, model_path):
    """The real main window on a real SQLite file in this test's folder; make(load=False) leaves
    it without a model, make(n_ctx=1024) loads the model with a smaller context. Closed after."""
    from desktop.storage import ConversationStore
    from desktop.ui.main_window import MainWindow
    from desktop.workers.generation import EngineHost

    made = []

    def make(load=True, n_ctx=None):
        store = ConversationStore(tmp_path / "conversations.sqlite3")
        window = MainWindow(store, EngineHost())
        qtbot.addWidget(window)
        window.show()
        if load:
            options = {"n_ctx": n_ctx} if n_ctx else {}
            with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
                window.load_model(str(model_path), **options)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
        assert window.host.thread.isFinished()
        window.store.close()


@pytest.fixture
def not_gguf(tmp_path) -> Path:
    path = tmp_path / "notes.gguf"
    path.write_bytes(b"This is a text file someone renamed to .gguf\n" * 100)
    return path


@pytest.fixture
def truncated_gguf(tmp_path, model_path) -> Path:
    path = tmp_path / "truncated.gguf"
    with open(model_path, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read(20_000_000))
    return path


@pytest.fixture
def unknown_arch_gguf(tmp_path, model_path) -> Path:
    """A whole GGUF whose header is valid but names an architecture llama.cpp does not know:
    our header check passes it, llama.cpp itself refuses it."""
    path = tmp_path / "alien.gguf"
    shutil.copyfile(model_path, path)
    with open(path, "r+b") as f:
        head = f.read(1 << 16)
        key = b"general.architecture"
        at = head.index(key) + len(key)
        vtype, length = struct.unpack_from("<IQ", head, at)
        assert vtype == 8 and head[at + 12 : at + 12 + length] == b"llama"
        f.seek(at + 12)
        f.write(b"zzzzz")
    return path


LONG_PROMPT = "Write a very long story about a dragon who learns to read."


@pytest.fixture(scope="session")
def onnx_model(model_path) -> Path:
    """The default model converted to an ONNX GenAI int4 folder (built once, cached)."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "scripts" / "make_onnx_fixture.py"
    out = subprocess.run([sys.executable, str(script), str(model_path)], capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0, f"could not build the ONNX fixture:\n{out.stderr[-4000:]}"
    folder = Path(out.stdout.strip().splitlines()[-1])
    assert (folder / "genai_config.json").is_file()
    return folder


@pytest.fixture
def onnx_copy(tmp_path, onnx_model):
    """A throwaway copy of the ONNX folder to damage. The big files are hard links (ONNX Runtime
    refuses weights that resolve outside the model folder, so no symlinks): a test replaces a
    file by unlinking it first, never by writing through it into the shared fixture."""

    def make(name="model-copy"):
        folder = tmp_path / name
        folder.mkdir()
        for f in onnx_model.iterdir():
            if f.stat().st_size > 1_000_000:
                try:
                    os.link(f, folder / f.name)
                    continue
                except OSError:  # another file system
                    pass
            shutil.copyfile(f, folder / f.name)
        return folder

    return make


@pytest.fixture
def memory_keyring():
    """A MemoryKeyring installed for one test (tokens, servers' API keys, the API server's key)."""
    import keyring

    from tests.helpers.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture(scope="module")
def fault():
    """A fault-injecting OpenAI-compatible server on loopback (tests/helpers/fault_server.py)."""
    from tests.helpers.fault_server import FaultServer

    server = FaultServer()
    yield server
    server.close()


@pytest.fixture
def faults(fault):
    fault.reset()
    yield fault
    fault.reset()
