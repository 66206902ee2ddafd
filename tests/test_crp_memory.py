"""The CRP sampler's memory is linear in people x questions: 20,000 people fit under an address-space limit.

The sampler once kept people x people lookup tables: 0.33 GB at 2,000 people, 1.67 GB at 5,000, killed by the
out-of-memory killer at 19.4 GB for one concept of 20,000. The run here happens in a subprocess whose address
space is capped (resource.RLIMIT_AS), so a regression fails with a MemoryError instead of exhausting the machine.
``benchmarks/crp_memory.py`` measures the default settings' peak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

LIMIT_BYTES = 3 * 1024**3

_CHILD = r"""
import json, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
from monoculture.metrics import run_crp

# The cap bites: one people x people table of float64 (3.2 GB) cannot be allocated.
try:
    np.ones((20_001, 20_001))
    capped = False
except MemoryError:
    capped = True
rng = np.random.default_rng(1)
# Compile the sampler first (a fresh machine has no numba cache; LLVM's compile peaks near 1 GB), then reset the
# peak resident size (Linux's clear_refs 5) so that the figure is the sampler's own, as on every later run.
run_crp(np.random.default_rng(2).integers(0, 2, (30, 36)).astype(np.int8), sweeps=3, burn_in=1, chains=2, starts=("together", "kmeans"),
        seed=0)
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
prototypes = rng.integers(0, 2, (4, 36))
x = prototypes[rng.integers(0, 4, 20_000)] ^ (rng.random((20_000, 36)) < 0.12)
# Starts that skip the everyone-alone chain, whose first sweeps score ~20,000 tables per person (minutes):
# memory does not depend on the start, every per-table array is allocated for N tables per chain anyway.
result = run_crp(x.astype(np.int8), sweeps=3, burn_in=1, chains=2, starts=("together", "kmeans"), seed=0)
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
print(json.dumps({"capped": capped, "peak": peak, "tables": result.tables_trace[:, -1].tolist(),
                  "p": result.p_multiple_concepts}))
"""


def test_twenty_thousand_people_cluster_within_an_address_space_limit() -> None:
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(LIMIT_BYTES)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["capped"], "the address-space limit did not stop a people x people allocation"
    assert report["peak"] < 1.0 * 1024**3, report  # measured 0.32 GB, 0.15 GB of it numba and the compiled sampler
    # Four prototypes with 12% noise, 3 sweeps: the chains hold a few concepts (the k-modes start's ⌈√N⌉ = 142
    # centres still merging), not thousands.
    assert all(1 <= tables <= 142 for tables in report["tables"]), report
    assert 0.5 < report["p"] < 0.8, report
