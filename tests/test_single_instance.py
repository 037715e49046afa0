"""One running window per data folder: a second launch brings the first forward and exits."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop.ui.single_instance import SingleInstance, server_name

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def instances(qapp):
    made = []

    def make(folder):
        instance = SingleInstance(folder)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


def test_a_second_instance_on_the_same_folder_asks_the_first_to_come_forward(qtbot, tmp_path,
                                                                              instances):
    first = instances(tmp_path / "data")
    assert first.start() is True
    # However the path is written, it is the same folder.
    second = instances(tmp_path / "other" / ".." / "data")
    with qtbot.waitSignal(first.activate_requested, timeout=5000):
        assert second.start() is False
    assert second.server is None


def test_instances_on_different_folders_are_both_first(qtbot, tmp_path, instances):
    first, second = instances(tmp_path / "one"), instances(tmp_path / "two")
    assert first.name != second.name
    with qtbot.assertNotEmitted(first.activate_requested, wait=200):
        assert first.start() is True
        assert second.start() is True


@pytest.mark.skipif(sys.platform == "win32", reason="a named pipe leaves no file behind")
def test_a_socket_left_by_a_crash_is_taken_over(qtbot, tmp_path, instances):
    folder = tmp_path / "data"
    folder.mkdir()
    path = os.path.join(QDir.tempPath(), server_name(folder))
    # What a killed instance leaves: the socket file, with nobody listening on it.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()
    try:
        first = instances(folder)
        assert first.start() is True
        assert first.server is not None and first.server.isListening()
        with qtbot.waitSignal(first.activate_requested, timeout=5000):
            assert instances(folder).start() is False
    finally:
        QLocalServer.removeServer(server_name(folder))


def _listening(name: str) -> bool:
    probe = QLocalSocket()
    probe.connectToServer(name)
    try:
        return probe.waitForConnected(200)
    finally:
        probe.abort()


def test_a_second_launch_exits_and_the_first_keeps_running(qapp, tmp_path):
    data = tmp_path / "data"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EDGECHAT_DATA_DIR=str(data),
               # No model to load: this is about the window, and the machine has few cores.
               EDGECHAT_DEFAULT_MODEL=str(tmp_path / "no-model.gguf"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))  # not the user's QSettings
    env.pop("EDGECHAT_STARTUP_PROBE", None)
    command = [sys.executable, "-m", "desktop"]
    name = server_name(data)
    with open(tmp_path / "first.err", "wb") as first_err:
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=first_err)
    try:
        deadline = time.monotonic() + 60
        while not _listening(name):
            assert first.poll() is None, (tmp_path / "first.err").read_text()
            assert time.monotonic() < deadline, "the first instance never started listening"
            time.sleep(0.2)

        started = time.monotonic()
        second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert time.monotonic() - started < 30

        log = data / "logs" / "edgechat.log"
        deadline = time.monotonic() + 20
        while "asked this window to come forward" not in (log.read_text(encoding="utf-8")
                                                         if log.exists() else ""):
            assert time.monotonic() < deadline, "the first instance was never asked to come forward"
            time.sleep(0.2)
        assert first.poll() is None, "the first instance is gone"
    finally:
        first.terminate()
        try:
            first.wait(10)
        except subprocess.TimeoutExpired:
            first.kill()
            first.wait(10)
        # Killed, it could not remove its socket.
        QLocalServer.removeServer(name)
