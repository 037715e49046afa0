"""EdgeChat: offline chat with small quantized language models."""

__version__ = "0.1.0"
APP_NAME = "EdgeChat"
