"""Before the window opens on Linux: are the system libraries Qt's xcb platform needs there?

PySide6's wheels carry Qt but not the X11/xcb, EGL/GL, fontconfig and D-Bus libraries it links
to; on a bare machine Qt then fails with "could not load the Qt platform plugin xcb", naming a
library other than the one that is missing. This asks the dynamic linker (ldd) what is missing,
installs the packages when it can (root, or sudo without a password, through apt-get), and
otherwise prints the one command to run. Exit 0 when the window can open, 1 when it cannot.

Usage: python scripts/check_system_libs.py [--check-only]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Debian and Ubuntu package of each library the xcb platform plugin and Qt GUI load.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}


def qt_libraries() -> list[Path]:
    """The xcb platform plugin and the Qt libraries it pulls in, from the installed PySide6."""
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    candidates = [qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6",
                  qt / "lib" / "libQt6Gui.so.6"]
    return [p for p in candidates if p.is_file()]


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames ldd reports as "not found", in order, once each."""
    missing: list[str] = []
    for line in ldd_output.splitlines():
        name, _, where = line.strip().partition("=>")
        if "not found" in where and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def packages_for(missing: list[str]) -> tuple[list[str], list[str]]:
    """(Debian packages to install, libraries with no known package)."""
    packages, unknown = [], []
    for soname in missing:
        package = DEBIAN_PACKAGES.get(soname)
        if package is None:
            unknown.append(soname)
        elif package not in packages:
            packages.append(package)
    return packages, unknown


def _ldd(paths: list[Path]) -> str:
    result = subprocess.run(["ldd", *map(str, paths)], capture_output=True, text=True, timeout=60)
    return result.stdout


def _can_install() -> list[str] | None:
    """The command prefix that installs packages without asking, or None."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return ["apt-get"]
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n", "apt-get"]
    return None


def main(argv: list[str]) -> int:
    check_only = "--check-only" in argv
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return 0
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return 0  # offscreen, wayland...: the xcb plugin is not loaded
    libraries = qt_libraries()
    if not libraries:
        return 0
    missing = missing_libraries(_ldd(libraries))
    if not missing:
        return 0
    packages, unknown = packages_for(missing)
    print(f"EdgeChat's window needs system libraries that are missing: {', '.join(missing)}.",
          file=sys.stderr)
    if unknown or not packages:
        print("Install the packages that provide them with your system's package manager.", file=sys.stderr)
        return 1
    command = ["apt-get", "install", "-y", *packages]
    installer = None if check_only else _can_install()
    if installer is not None:
        print(f"==> Installing {' '.join(packages)}", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([*installer, "update", "-qq"], env=env, check=False)
        done = subprocess.run([*installer, "install", "-y", "-qq", *packages], env=env).returncode == 0
        if done and not missing_libraries(_ldd(libraries)):
            return 0
    print(f"Run this, then start EdgeChat again:\n    sudo {' '.join(command)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
