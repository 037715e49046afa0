"""PyInstaller runtime hook: the bundle's first code, before its entry point and before any
module it carries is imported. Telemetry is turned off here (desktop/privacy.py) so that no path
into the bundle (the window, the command line, the server, the ONNX engine's child process
re-running the launcher) can start the ONNX runtime before its switch is set."""

from desktop.privacy import harden_environment

harden_environment()
