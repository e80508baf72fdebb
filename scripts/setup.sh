#!/usr/bin/env bash
# Create .venv with Python 3.11, install a requirements file and the project itself (editable:
# `punks_core` and `ui` import from anywhere) into it, only when one of them changed.
# Usage: scripts/setup.sh requirements.txt | requirements-dev.txt
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="$1"
python=$(command -v python3.11 || command -v python3)
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
    echo "Punk Lab needs Python 3.11 or newer; found $("$python" --version)." >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(cat requirements*.txt requirements.lock pyproject.toml | sha256sum | cut -c1-16)-$(basename "$requirements")"
if [ ! -e "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    # requirements.lock pins every transitive dependency too (see its header).
    .venv/bin/python -m pip install --quiet -r "$requirements" -c requirements.lock
    # The dependencies are in place, pinned: install only the project's own packages
    # (quietly: setuptools warns that the source folders shadow the install, as meant here).
    PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --no-deps --editable .
    touch "$stamp"
fi
