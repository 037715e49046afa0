"""Run the real window and start a long reply; the test kills this process mid-reply."""

import sys

from PySide6.QtWidgets import QApplication

from desktop.models.default_model import default_model_path
from desktop.paths import database_path
from desktop.storage import ConversationStore
from desktop.ui.main_window import MainWindow
from desktop.workers.generation import EngineHost

app = QApplication([])
window = MainWindow(ConversationStore(database_path()), EngineHost())
window.show()
window.session.params = {"temperature": 0, "max_tokens": 4000}
window.host.model_loaded.connect(lambda _info: window.send(sys.argv[1]))
window.host.chunk_generated.connect(lambda _r, _t: print("streaming", flush=True))
window.load_model(str(default_model_path()))
app.exec()
