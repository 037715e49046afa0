"""An import-linter contract type for what the built-in ones cannot say.

import-linter squashes an external package to its top level ("PySide6"), so a forbidden contract
cannot tell QtCore from QtWidgets. This one reads the import lines themselves. Loaded only by
``lint-imports`` (see pyproject.toml); the app never imports it.
"""

from __future__ import annotations

import re

from importlinter import Contract, ContractCheck, fields, output

_QT_NAME = re.compile(r"PySide6\.(\w+)|from\s+PySide6\s+import\s+\(?([\w\s,]+)")


def _qt_modules(line: str) -> set[str]:
    found = set()
    for dotted, listed in _QT_NAME.findall(line):
        if dotted:
            found.add(dotted)
        else:
            found.update(n.strip().split(" as ")[0] for n in listed.split(",") if n.strip())
    return found


class QtModulesContract(Contract):
    """The source packages may import only the listed PySide6 modules."""

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_qt_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        allowed = set(self.allowed_qt_modules)
        sources = [m.name for m in self.source_modules]
        violations = []
        if "PySide6" in graph.modules:
            for importer in sorted(graph.find_modules_that_directly_import("PySide6")):
                if not any(importer == s or importer.startswith(s + ".") for s in sources):
                    continue
                for detail in graph.get_import_details(importer=importer, imported="PySide6"):
                    bad = _qt_modules(detail["line_contents"]) - allowed
                    if bad:
                        violations.append((importer, detail["line_number"],
                                           detail["line_contents"], sorted(bad)))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, line_number, line, bad in check.metadata["violations"]:
            output.print_error(f"{importer}:{line_number}: {line}  (uses {', '.join(bad)})")
            output.new_line()
