"""The window's seams: a stand-in model is said, not remembered; a refused switch leaves the API
serving the model that still runs; slow work (a model's header, the hardware, the model lists,
an export) stays off the GUI thread. Real window, real model, real server over loopback."""

from __future__ import annotations

import shutil
import threading
import time

import openai
import pytest
from PySide6.QtCore import QSettings, QTimer

from desktop.ui import settings_keys
from desktop.ui.model_picker import load_at_start, same_model

HELLO = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(autouse=True)
def _no_remembered_model():
    QSettings().remove(settings_keys.LAST_MODEL)
    yield
    QSettings().remove(settings_keys.LAST_MODEL)


def _start(make_window, qtbot):
    """A new start of the app: a fresh window and the app's start-up load."""
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=120_000) as loaded:
        assert load_at_start(window)
    return window, loaded.args[0]


# -- the remembered model ----------------------------------------------------------------------
@pytest.mark.slow
def test_a_model_away_at_start_is_stood_in_for_and_loads_again_once_back(make_window, qtbot, tmp_path,
                                                                         model_path):
    drive = tmp_path / "usb-drive"
    drive.mkdir()
    mine = drive / "MyModel.Q4_1.gguf"
    shutil.copyfile(model_path, mine)
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=120_000):
        window.model_picker.choose(str(mine))  # the user's pick
    assert same_model(QSettings().value(settings_keys.LAST_MODEL), str(mine))
    window.close()

    unplugged = drive.rename(tmp_path / "unplugged")
    window, info = _start(make_window, qtbot)
    assert same_model(info.path, str(model_path))  # the bundled model stands in...
    assert "MyModel.Q4_1.gguf" in window.banner.text()  # ...and says so
    assert QSettings().value(settings_keys.LAST_MODEL) == str(mine)  # the pick is kept
    window.close()

    unplugged.rename(drive)
    window, info = _start(make_window, qtbot)
    assert same_model(info.path, str(mine))


@pytest.mark.slow
def test_a_model_that_will_not_load_at_start_is_stood_in_for_not_forgotten(make_window, qtbot, tmp_path,
                                                                           model_path, not_gguf):
    mine = tmp_path / "Mine.Q4_1.gguf"
    shutil.copyfile(model_path, mine)
    QSettings().setValue(settings_keys.LAST_MODEL, str(mine))
    saved = mine.rename(tmp_path / "aside.gguf")
    shutil.copyfile(not_gguf, mine)  # in its place, for now, a file that cannot load
    window, info = _start(make_window, qtbot)
    assert same_model(info.path, str(model_path))
    assert "could not be loaded" in window.banner.text()
    assert QSettings().value(settings_keys.LAST_MODEL) == str(mine)
    # Choosing the stand-in itself is a choice: remembered.
    window.model_picker.choose(str(model_path))
    assert same_model(QSettings().value(settings_keys.LAST_MODEL), str(model_path))
    QSettings().setValue(settings_keys.LAST_MODEL, str(mine))
    window.close()

    mine.unlink()
    saved.rename(mine)
    window, info = _start(make_window, qtbot)
    assert same_model(info.path, str(mine))


# -- the API server after a refused switch -----------------------------------------------------
@pytest.mark.slow
def test_a_refused_switch_leaves_the_api_serving_the_model_that_runs(make_window, qtbot, model_path,
                                                                     not_gguf):
    from desktop.ui import server_panel

    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(model_path), n_ctx=1024, n_threads=1)
    server_panel.show_panel(window)
    bridge = window.server_bridge
    bridge.start("127.0.0.1", 0)
    try:
        client = openai.OpenAI(base_url=bridge.url, api_key="unused", max_retries=0, timeout=300)
        with qtbot.waitSignal(window.host.model_load_failed, timeout=60_000):
            window.model_picker.choose(str(not_gguf))
        assert [m.id for m in client.models.list().data] == ["SmolLM2-135M-Instruct.Q4_1"]
        done = {}

        def call():
            try:
                done["reply"] = client.chat.completions.create(
                    model="SmolLM2-135M-Instruct.Q4_1", messages=HELLO, max_tokens=4, temperature=0)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                done["error"] = exc

        thread = threading.Thread(target=call)
        thread.start()
        qtbot.waitUntil(lambda: bool(done), timeout=120_000)
        thread.join(5)
        assert "error" not in done, done.get("error")
        assert done["reply"].choices[0].message.content
    finally:
        bridge.stop()


# -- slow work off the GUI thread ----------------------------------------------------------------
# Each slow step below is made to take 2 s; on the GUI thread that is a 2 s gap between beats. The
# bound leaves room for a loaded machine (two shared cores see 200 ms gaps with nothing wrong).
SLOW_S = 1.0
STALL_S = 1.0


class Heartbeat:
    """A 10 ms timer on the GUI thread, and the longest gap between its beats."""

    def __init__(self):
        self.beats = [time.perf_counter()]
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.beats.append(time.perf_counter()))
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self.beats.append(time.perf_counter())
        return max(b - a for a, b in zip(self.beats, self.beats[1:], strict=False))


@pytest.mark.slow
def test_load_settings_show_at_once_and_read_the_model_off_the_gui_thread(make_window, qtbot,
                                                                          monkeypatch):
    from PySide6.QtCore import QThread

    from desktop import hardware
    from desktop.models import load_settings

    window = make_window()
    read_on = []

    def slow(real):
        def call(*args, **kwargs):
            read_on.append(QThread.currentThread())
            time.sleep(SLOW_S)  # a cold header read, nvidia-smi up to its timeout
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(hardware, "detect", slow(hardware.detect))
    monkeypatch.setattr(load_settings, "shape_of", slow(load_settings.shape_of))
    heartbeat = Heartbeat()
    dialog = window.model_picker.open_load_settings("n_ctx")
    assert dialog.isVisible() and dialog.header.text() == "Reading the model…"
    assert not dialog.reload_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=30_000)
    longest = heartbeat.stop()
    assert len(read_on) >= 2 and QThread.currentThread() not in read_on
    assert heartbeat.beats[-1] - heartbeat.beats[0] > 2 * SLOW_S  # the slow reads really ran meanwhile
    assert longest < STALL_S, f"the GUI thread was blocked for {longest:.2f} s"
    assert dialog.n_ctx.isVisible() and not dialog.reading.isVisible()
    assert dialog.reload_button.isEnabled() and "is loaded with" in dialog.header.text()
    assert dialog.n_ctx.hasFocus() or dialog.focusWidget() is dialog.n_ctx  # the field asked for
    dialog.reject()


@pytest.mark.slow
def test_a_model_that_cannot_be_read_closes_its_load_settings_with_the_reason(make_window, qtbot,
                                                                              tmp_path, model_path):
    mine = tmp_path / "Mine.Q4_1.gguf"
    shutil.copyfile(model_path, mine)
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(mine))
    mine.unlink()  # gone since it loaded (the model runs on from memory)
    dialog = window.model_picker.open_load_settings()
    with qtbot.waitSignal(dialog.read_failed, timeout=10_000):
        pass
    assert not dialog.isVisible()
    assert window.banner.isVisible() and "Mine.Q4_1.gguf" in window.banner.text()


def test_an_export_is_written_off_the_gui_thread_and_a_failure_is_said(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QThread

    from desktop.storage import ConversationStore
    from desktop.ui import main_window
    from desktop.workers.generation import EngineHost

    store = ConversationStore(tmp_path / "chats.sqlite3")
    chat = store.create_conversation("Trip to Paris")
    store.add_message(chat.id, "user", "What is the capital of France?")
    window = main_window.MainWindow(store, EngineHost())
    qtbot.addWidget(window)
    window.show()
    written_on = []

    def slow_open(*args, **kwargs):  # a slow or network disk
        written_on.append(QThread.currentThread())
        time.sleep(2 * SLOW_S)
        return open(*args, **kwargs)

    monkeypatch.setattr(main_window, "open", slow_open, raising=False)
    try:
        window.session.open_conversation(chat.id)
        out = tmp_path / "trip.md"
        heartbeat = Heartbeat()
        with qtbot.waitSignal(window.background_tasks().task_done, timeout=30_000):
            window.export_conversation(str(out), "md")
        longest = heartbeat.stop()
        assert out.read_text(encoding="utf-8").startswith("# Trip to Paris")
        assert written_on and QThread.currentThread() not in written_on
        assert longest < STALL_S, f"the GUI thread was blocked for {longest:.2f} s"
        assert window.statusBar().currentMessage() == f"Exported to {out}"

        folder = tmp_path / "a-folder.md"
        folder.mkdir()  # cannot be written as a file
        with qtbot.waitSignal(window.background_tasks().task_failed, timeout=30_000):
            window.export_conversation(str(folder), "md")
        assert window.banner.isVisible() and f"Could not write {folder}" in window.banner.text()
    finally:
        window.close()
        assert not window.background_tasks().thread.isRunning()
        store.close()


# -- the picker's model lists ------------------------------------------------------------------
def _count_list_reads(monkeypatch) -> list[str]:
    from desktop.storage.jsondoc import JsonDocument

    reads: list[str] = []
    read = JsonDocument.read

    def counted(self):
        if self.path.name in ("library.json", "remotes.json"):
            reads.append(self.path.name)
        return read(self)

    monkeypatch.setattr(JsonDocument, "read", counted)
    return reads


@pytest.mark.slow
def test_the_picker_reads_the_model_lists_again_only_when_they_change(make_window, qtbot, monkeypatch,
                                                                     tmp_path, model_path):
    from desktop.models import remotes
    from desktop.models.library import Library

    remotes.save_server("http://127.0.0.1:9/v1", ["big-model"], name="GPU box")
    window = make_window()
    picker = window.model_picker
    reads = _count_list_reads(monkeypatch)
    for _ in range(20):  # loads asked for and answered, chats opened: each shows the state again
        picker.set_loading(str(model_path))
        picker._answered()
        picker._show_state()
        picker._on_chat_opened(-1)
    assert reads == []
    assert picker.button.text() == "SmolLM2-135M-Instruct" and "GGUF" in picker.detail.text()

    copy = tmp_path / "Another.Q4_1.gguf"
    shutil.copyfile(model_path, copy)
    Library().import_path(copy)  # a real change: read again once, then kept
    reads.clear()
    for _ in range(5):
        picker._show_state()
    assert reads.count("library.json") == 1
    assert any(e.name == "Another.Q4_1" for e in picker.entries())
    remotes.save_server("http://127.0.0.1:9/v1", ["bigger-model"], name="GPU box 2")
    reads.clear()
    picker._show_state()
    assert any(e.id.endswith("bigger-model") for e in picker.entries())
    assert reads.count("remotes.json") == 1
    # Opening the menu reads both afresh: a drive plugged in or out changes no list file.
    reads.clear()
    picker.menu.aboutToShow.emit()
    assert sorted(set(reads)) == ["library.json", "remotes.json"]
