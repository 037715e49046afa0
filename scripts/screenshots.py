"""Screenshots of the real window for the README and reviews: a real chat with the default model,
in a theme and a language. Run it on a screen (Xvfb is fine); it never touches the user's data.

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py --theme dark --out dark.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--theme", default="light", choices=("light", "dark", "system"))
    parser.add_argument("--language", default="en")
    parser.add_argument("--out", required=True)
    parser.add_argument("--prompt", default="Write a Python function that reverses a string, "
                                            "and show how to call it.")
    args = parser.parse_args()
    os.environ["EDGECHAT_DATA_DIR"] = tempfile.mkdtemp(prefix="edgechat-shots-")

    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      os.environ["EDGECHAT_DATA_DIR"])
    app = QApplication([sys.argv[0]])
    QCoreApplication.setOrganizationName("EdgeChatScreenshots")

    from desktop.models.default_model import default_model_path
    from desktop.paths import database_path
    from desktop.storage import ConversationStore
    from desktop.ui.i18n import install_translator
    from desktop.ui.theme import apply_theme

    install_translator(app, args.language)
    apply_theme(app, args.theme)
    from desktop.ui.main_window import MainWindow
    from desktop.workers.generation import EngineHost

    store = ConversationStore(database_path())
    window = MainWindow(store, EngineHost())
    window.resize(1280, 800)
    window.show()

    def wait(signal, timeout_ms=120_000):
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()

    def settle(ms=300):
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    window.load_model(str(default_model_path()))
    wait(window.host.model_loaded)
    window.chat_settings.preset_combo.setCurrentIndex(3)  # a built-in preset: "Coding helper"
    window.chat_settings._on_preset_chosen(3)
    window.session.params = {"temperature": 0.3, "seed": 3, "max_tokens": 160}
    window.send(args.prompt)
    wait(window.session.reply_finished)
    window.session.params = {"temperature": 0.8, "seed": 11, "max_tokens": 160}
    window.session.regenerate(window.store.messages(window.session.current_id)[-1].id)
    wait(window.session.reply_finished)
    window.show_chat_settings(True, focus=False)
    window.prompt.setPlainText("Now make it work for lists too.")
    wait(window.counter.latest_counted, 10_000)
    settle(500)
    window.grab().save(args.out)
    print(args.out)
    window.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
