"""One error policy: what nobody caught is logged with its traceback and shown as a banner; the
log rotates, is set up once however often it is asked, and the Help menu opens its folder."""

import logging
import sys
import threading

import pytest
from PySide6.QtCore import QUrl, qWarning
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QPushButton

from desktop import logs
from desktop.ui.errors import ErrorHooks


@pytest.fixture
def log_dir(tmp_path):
    folder = tmp_path / "logs"
    logs.setup_logging(folder)
    yield folder
    logs.shutdown_logging()


@pytest.fixture
def hooks(qapp, request):
    """Ours instead of pytest-qt's for one test, and pytest-qt's back after."""
    before = (sys.excepthook, threading.excepthook)
    installed = ErrorHooks()
    installed.install()
    yield installed
    installed.uninstall()
    assert (sys.excepthook, threading.excepthook) == before
    # PySide6 does not hand back a message handler installed from Python, so uninstall() can only
    # restore Qt's default one: pytest-qt's capture (which fails a test on a Qt warning) is
    # started again by hand.
    capture = getattr(request.node, "qt_log_capture", None)
    if capture is not None:
        capture._start()


def ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger("edgechat").handlers if getattr(h, "_edgechat_handler", False)]


def test_an_exception_in_a_slot_is_logged_and_shown_as_a_banner(make_window, qtbot, log_dir, hooks):
    window = make_window(load=False)
    hooks.reported.connect(window.show_error)
    button = QPushButton("Break")
    qtbot.addWidget(button)

    def broken_slot():
        raise RuntimeError("the slot broke")

    button.clicked.connect(broken_slot)
    button.click()
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    assert window.banner.text().startswith("Something went wrong — details in the log.")
    assert str(log_dir / "edgechat.log") in window.banner.text()
    text = (log_dir / "edgechat.log").read_text(encoding="utf-8")
    assert "Traceback" in text and "broken_slot" in text and "RuntimeError: the slot broke" in text


def test_an_exception_in_a_thread_reaches_the_gui_thread(qtbot, log_dir, hooks):
    seen = []
    hooks.reported.connect(lambda message: seen.append(threading.current_thread()))

    def fails():
        raise ZeroDivisionError("in the background")

    thread = threading.Thread(target=fails, name="background-job")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [threading.main_thread()]
    text = (log_dir / "edgechat.log").read_text(encoding="utf-8")
    assert "in thread background-job" in text and "ZeroDivisionError: in the background" in text


def test_qt_warnings_go_to_the_log(log_dir, hooks, qtlog):
    qWarning("a warning from Qt itself")
    text = (log_dir / "edgechat.log").read_text(encoding="utf-8")
    assert "WARNING edgechat.qt [MainThread] a warning from Qt itself" in text
    assert qtlog.records == []  # not also pytest-qt's: it would fail this test


def test_the_log_rotates(tmp_path):
    folder = tmp_path / "logs"
    try:
        logs.setup_logging(folder, max_bytes=2_000, backups=2)
        log = logging.getLogger("edgechat.test")
        for i in range(200):
            log.info("line %d %s", i, "x" * 60)
    finally:
        logs.shutdown_logging()
    assert sorted(p.name for p in folder.iterdir()) == ["edgechat.log", "edgechat.log.1",
                                                        "edgechat.log.2"]
    assert all(p.stat().st_size <= 2_000 for p in folder.iterdir())
    assert "line 199 " in (folder / "edgechat.log").read_text(encoding="utf-8")


def test_setting_up_twice_writes_each_line_once(tmp_path):
    folder = tmp_path / "logs"
    try:
        logs.setup_logging(folder)
        logs.setup_logging(folder)
        assert len(ours()) == 2  # the file and the console
        logging.getLogger("edgechat.test").warning("only once")
        logging.getLogger("desktop.test").warning("from a module logger")
    finally:
        logs.shutdown_logging()
    text = (folder / "edgechat.log").read_text(encoding="utf-8")
    assert text.count("only once") == 1 and text.count("from a module logger") == 1
    assert ours() == []


def test_the_log_lives_in_the_data_folder_and_needs_no_console(data_dir, monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)  # a windowed bundle has none
    try:
        assert logs.setup_logging() == data_dir / "logs" / "edgechat.log"
        assert logs.log_folder() == data_dir / "logs"
        logging.getLogger("edgechat.test").error("no console to write to")
    finally:
        logs.shutdown_logging()
    assert "no console to write to" in (data_dir / "logs" / "edgechat.log").read_text(encoding="utf-8")


def test_help_opens_the_log_folder(make_window, monkeypatch, data_dir):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window = make_window(load=False)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert window.open_log_action in help_menu.actions()
    assert window.about_action in help_menu.actions()
    window.open_log_action.trigger()
    assert opened == [QUrl.fromLocalFile(str(data_dir / "logs"))]
    assert (data_dir / "logs").is_dir()


def test_the_log_setup_is_qt_free():
    # The command line and the core log through it before (or without) any Qt.
    import subprocess

    code = "import sys, desktop.logs; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
