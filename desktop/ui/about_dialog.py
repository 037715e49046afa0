"""Help ▸ About: what this build is made of (versions) and under which licences."""

from __future__ import annotations

import html
import sys
from importlib import metadata

from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout

from desktop import APP_NAME, __version__

# (component, distribution to read the version from, licence). The engines' versions come from
# their installed metadata: importing llama.cpp or ONNX Runtime just to name them would load
# hundreds of MB of native code into a window that does not use them.
COMPONENTS = (
    ("Qt", None, "LGPL-3.0"),
    ("PySide6", "PySide6", "LGPL-3.0"),
    ("llama.cpp (llama-cpp-python)", "llama_cpp_python", "MIT"),
    ("ONNX Runtime GenAI", "onnxruntime-genai", "MIT"),
    ("ONNX Runtime", "onnxruntime", "MIT"),
    ("Hugging Face Hub client", "huggingface_hub", "Apache-2.0"),
    ("QtAwesome", "QtAwesome", "MIT (icons: their fonts' own licences)"),
    ("SmolLM2-135M-Instruct (bundled model)", None, "Apache-2.0"),
)


def component_version(name: str, distribution: str | None) -> str | None:
    if name == "Qt":
        return qVersion()
    if name == "PySide6":  # installed as PySide6 or as its Essentials/Addons parts
        import PySide6

        return PySide6.__version__
    if distribution is None:
        return None
    if distribution == "llama_cpp_python" and "llama_cpp" in sys.modules:
        return getattr(sys.modules["llama_cpp"], "__version__", None)  # the one actually loaded
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def versions() -> list[tuple[str, str, str]]:
    """(component, version or "not installed", licence) for each part named in About."""
    rows = []
    for name, dist, licence in COMPONENTS:
        version = component_version(name, dist)
        if version is None and dist is not None:
            continue  # an optional part this install does not have
        rows.append((name, version or "", licence))
    return rows


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("About {app}").format(app=APP_NAME))
        self.resize(520, 440)
        heading = QLabel(f"<h2>{APP_NAME} {html.escape(__version__)}</h2>")
        blurb = QLabel(self.tr("Offline chat with small local language models. Everything runs on "
                               "this computer.") + "<br>" + self.tr("Licensed under the Apache "
                                                                    "License 2.0."))
        blurb.setWordWrap(True)
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>&nbsp;{html.escape(version)}&nbsp;</td>"
            f"<td>{html.escape(licence)}</td></tr>" for name, version, licence in versions())
        self.table = QTextBrowser()
        self.table.setOpenLinks(False)
        self.table.setHtml(
            f"<p><b>{html.escape(self.tr('Built with'))}</b></p>"
            f"<table cellspacing='0' cellpadding='3'><tr><th align='left'>"
            f"{html.escape(self.tr('Component'))}</th><th align='left'>{html.escape(self.tr('Version'))}"
            f"</th><th align='left'>{html.escape(self.tr('Licence'))}</th></tr>{rows}</table>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(blurb)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def text(self) -> str:
        return self.table.toPlainText()
