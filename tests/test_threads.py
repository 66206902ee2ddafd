"""llama.cpp's CPU threads: the ``threads`` model setting, its default, and that it reaches the runtime."""

import os
import subprocess
import sys

import pytest

from monoculture.backends._embedded import default_threads
from monoculture.errors import StudyFileError
from monoculture.study import parse_study

SMOLLM2 = "embedded:smollm2-135m-instruct"


def _study(entry: dict) -> dict:
    return {"models": [entry], "conditions": [{"context": "none"}],
            "colour": {"individuals": 2, "words": ["lemon"], "mode": "constrained"}}


TWIN = {"reward": "consensus", "beta": 0.3}


@pytest.mark.parametrize("entry", [{"spec": "embedded:gemma-3-270m"}, {"spec": "gguf:/models/x.gguf"},
                                   {"spec": "aligned:embedded:gemma-3-270m", **TWIN}])
def test_models_run_by_llama_cpp_take_threads(entry):
    assert parse_study(_study({**entry, "threads": 3})).models[0].threads == 3


@pytest.mark.parametrize(("entry", "fragment"), [
    ({"spec": "openai:m@http://127.0.0.1:8000/v1", "threads": 2}, "threads applies only to models run in-process"),
    ({"spec": "fake:uniform", "threads": 2}, "threads applies only to models run in-process"),
    ({"spec": "aligned:fake:uniform", **TWIN, "threads": 2}, "threads applies only to models run in-process"),
    ({"spec": SMOLLM2, "threads": 0}, "models.0.threads: Input should be greater than or equal to 1"),
    ({"spec": SMOLLM2, "threads": "all"}, "models.0.threads"),
])
def test_threads_elsewhere_or_out_of_range_is_one_line(entry, fragment):
    with pytest.raises(StudyFileError) as caught:
        parse_study(_study(entry))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_default_leaves_a_core_only_where_one_can_be_spared():
    assert [default_threads(cores) for cores in (1, 2, 3, 4, 5, 8, 64)] == [1, 2, 3, 3, 4, 7, 63]
    assert default_threads() == default_threads(os.cpu_count())


# Runs a one-word study in a fresh process and prints, once the model is loaded, how many threads the process has and
# the OpenMP settings llama.cpp was loaded with.
_COUNT_THREADS = """
import os, sys
from monoculture._run import run_study
from monoculture.study import parse_study

class Count:
    def planned(self, total, remaining, expected_s): ...
    def model_timed(self, info, expected_s): ...
    def sample_stored(self, record): ...
    def model_started(self, info, remaining):
        print(len(os.listdir("/proc/self/task")), os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT"),
              flush=True)

study = {"models": [{"spec": "embedded:smollm2-135m-instruct", "threads": int(sys.argv[1]), "parallel": 1}],
         "conditions": [{"context": "none"}], "colour": {"individuals": 2, "words": ["lemon"], "mode": "constrained"}}
run_study(parse_study(study), sys.argv[2], observer=Count())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_a_studys_threads_reach_llama_cpp_and_its_threads_spin_briefly(tmp_path, data_root):
    # llama.cpp computes with OpenMP: a model with n threads has n - 1 worker threads beside the one that leads,
    # started while the model loads; everything else in a fresh process is the same whatever the threads.
    loaded, openmp = {}, {}
    for threads, environment in ((1, {"OMP_WAIT_POLICY": "ACTIVE"}), (3, {})):
        clean = {name: value for name, value in os.environ.items() if name not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
        done = subprocess.run([sys.executable, "-c", _COUNT_THREADS, str(threads), str(tmp_path / str(threads))],
                              capture_output=True, text=True, timeout=300, check=True, env={**clean, **environment})
        count, *openmp[threads] = done.stdout.split()[:3]
        loaded[threads] = int(count)
    assert loaded[3] - loaded[1] == 2
    # Waiting threads spin about 0.1 ms before they sleep, unless the user chose how OpenMP waits.
    assert openmp == {1: ["ACTIVE", "None"], 3: ["None", "10000"]}
