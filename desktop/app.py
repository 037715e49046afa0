"""The composition root: builds the store, the engine host and the window, and wires them."""

from __future__ import annotations

import json
import os
import sys
import time

from desktop import APP_NAME, __version__, config


def _probe(event: str) -> None:
    # EDGECHAT_STARTUP_PROBE makes the app report start-up milestones for bench/startup.py.
    if config.startup_probe():
        print(json.dumps({"event": event, "t": time.time()}), flush=True)


def apply_preferences(app) -> None:
    """Language and theme from Settings (or the system's), before any window is built: widgets
    read their text when they are made."""
    from PySide6.QtCore import QSettings

    from desktop.ui import settings_keys
    from desktop.ui.i18n import choose_language, install_translator
    from desktop.ui.theme import apply_theme

    settings = QSettings()
    install_translator(app, choose_language(settings.value(settings_keys.LANGUAGE, "system")))
    apply_theme(app, settings.value(settings_keys.THEME, "system"))


def run_app(argv: list[str]) -> int:
    # First of all: whatever fails from here on is written down (a windowed app has no console).
    from desktop.logs import setup_logging

    setup_logging()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)

    # One window per data folder: a second launch brings the first one forward and ends here,
    # before it opens the database the first one is writing.
    from desktop.ui.single_instance import SingleInstance, bring_to_front

    instance = SingleInstance()
    if not instance.start():
        return 0
    app.aboutToQuit.connect(instance.close)
    from desktop.ui.errors import install_error_hooks

    hooks = install_error_hooks()
    apply_preferences(app)

    from desktop.paths import database_path
    from desktop.storage.recovery import open_store
    from desktop.storage.store import StoreError

    try:
        # A damaged database is moved aside and a fresh one opened (the notice says where the
        # old one went); only what that cannot fix stops the start.
        store, store_notice = open_store(database_path())
    except StoreError as exc:
        QMessageBox.critical(None, APP_NAME, str(exc))
        return 1
    if store_notice:
        from desktop import notices

        # Shown by the window from its start until the user closes it (a model loading later
        # no longer takes it away).
        notices.post(store_notice)

    from desktop.ui.icons import app_icon
    from desktop.ui.main_window import MainWindow
    from desktop.workers.generation import EngineHost

    app.setWindowIcon(app_icon())

    host = EngineHost()
    window = MainWindow(store, host)
    hooks.reported.connect(window.show_error)
    instance.activate_requested.connect(lambda: bring_to_front(window))
    window.show()
    # Reported from the running event loop, once the show has been processed, not before.
    QTimer.singleShot(0, lambda: _probe("window_shown"))

    probe_prompt = config.startup_probe()
    if probe_prompt:
        def on_first_chunk(_request_id, _text):
            host.chunk_generated.disconnect(on_first_chunk)
            _probe("first_token")
            QTimer.singleShot(0, window.close)

        host.chunk_generated.connect(on_first_chunk)

    def load_default() -> None:
        # The model the user chose last, or the bundled one standing in for it (said in a notice,
        # not remembered: the choice loads again once it is back).
        from desktop.ui.model_picker import load_at_start

        if not load_at_start(window):
            return
        if probe_prompt:
            window.send(probe_prompt)

    # After the first paint: the window is up before the model starts loading.
    QTimer.singleShot(0, load_default)
    try:
        code = app.exec()
    finally:
        store.close()
    from desktop.workers.base import abandoned_threads

    stuck = abandoned_threads()
    if stuck:
        # A thread that would not stop in time (logged at close) must not hold the exit up,
        # and Qt aborts the process if a running QThread is destroyed: leave at once instead.
        import logging

        logging.getLogger("edgechat").error("exiting with threads still running: %s", stuck)
        logging.shutdown()
        os._exit(code)
    return code
