#!/usr/bin/env bash
# Set up .venv and run Punk Lab at http://localhost:8501 (works offline).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
