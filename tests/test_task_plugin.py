"""A task from another package is one package plus one entry-point line: the planner, runner, summary,
report and CLI take it without naming it. The example package lives in tests/plugin_example and is
installed as a real plugin (a distribution with an entry point on the path) for a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO

EXAMPLE = REPO / "tests" / "plugin_example"


def _plugin_path(tmp_path: Path) -> str:
    """A folder holding the example's distribution metadata (its entry point), put on the path with it."""
    info = tmp_path / "site" / "monoculture_example_task-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: monoculture-example-task\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[monoculture.tasks]\ncoin = monoculture_example_task:CoinTask\n")
    return os.pathsep.join([str(tmp_path / "site"), str(EXAMPLE)])


def test_a_plugin_task_runs_through_the_whole_pipeline(tmp_path, data_root):
    study = tmp_path / "coin.toml"
    study.write_text('name = "coins"\nmodels = ["fake:uniform", "fake:constant"]\n'
                     'conditions = [{ context = "none" }]\n[coin]\nindividuals = 6\n')
    env = {**os.environ, "PYTHONPATH": _plugin_path(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "monoculture", "run", str(study), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "coins — coin" in result.stdout  # the plugin's own terminal table
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    uniform = summary["models"]["fake:uniform"]["none@default"]["tasks"]["coin"]
    constant = summary["models"]["fake:constant"]["none@default"]["tasks"]["coin"]
    assert uniform["accounting"]["free"]["planned"] == uniform["accounting"]["free"]["stored"] == 6 * 5 * 2
    # Everyone calls the same: no disagreement at all; random callers disagree about half the time.
    assert constant["result"]["internal_disagreement"] == constant["result"]["population_disagreement"] == 0.0
    assert 0.3 < uniform["result"]["internal_disagreement"] < 0.7
    assert 0.35 < uniform["result"]["population_disagreement"] < 0.65
    report = (tmp_path / "out" / "report.html").read_text()
    assert '<section id="coin">' in report and report.count('class="coin-row"') == 2
    # The study file's table is validated by the plugin's own spec: an unknown key is one line, exit 3.
    study.write_text(study.read_text() + "flips = 3\n")
    bad = subprocess.run([sys.executable, "-m", "monoculture", "run", str(study), "--out", str(tmp_path / "bad")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 3 and "coin.flips: unknown key" in bad.stderr


def test_without_the_plugin_its_table_is_an_unknown_key(tmp_path):
    study = tmp_path / "coin.toml"
    study.write_text('models = ["fake:uniform"]\nconditions = [{ context = "none" }]\n[coin]\nindividuals = 6\n')
    result = subprocess.run([sys.executable, "-m", "monoculture", "run", str(study), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3 and "coin: unknown key (known: name, seed, models" in result.stderr
