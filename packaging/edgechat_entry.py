"""The bundle's entry point. The guard matters: the ONNX engine's child process re-runs this
file under multiprocessing's spawn, and must not start a second app."""

import sys

from desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
