#!/usr/bin/env bash
# Create .venv with Python >= 3.13 and install reforge with its test extras.
# Finds Python on PATH first (python3.13, python3.14, python3), then in pyenv's
# versions folder. Re-running is cheap: the install is skipped while
# pyproject.toml is unchanged.
set -euo pipefail

cd "$(dirname "$0")/.."
venv=".venv"
stamp="$venv/.reforge-installed"

python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in python3.13 python3.14 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    for candidate in "$root"/versions/3.1[3-9]*/bin/python3 /root/.pyenv/versions/3.1[3-9]*/bin/python3; do
        if [ -x "$candidate" ] && python_ok "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$venv/bin/python" ] || ! python_ok "$venv/bin/python"; then
    if ! python=$(find_python); then
        echo "error: Python 3.13 or newer not found on PATH or in ~/.pyenv/versions;" \
             "install it (flatline needs >= 3.13) and run this again" >&2
        exit 1
    fi
    echo "creating $venv with $python"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi

wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "installing reforge and its dependencies into $venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e '.[dev]'
    echo "$wanted" > "$stamp"
fi
