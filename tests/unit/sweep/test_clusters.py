"""--cluster slurm|pbs through dask-jobqueue: job scripts from the config, no queue needed."""

import os

import pandas as pd
import pytest
from typer.testing import CliRunner

import crackle.cli.sweep  # noqa: F401  (registers the command)
from crackle._validation import CrackleValueError
from crackle.cli.main import app
from crackle.sweep.clusters import check_submit_command, jobqueue_cluster
from crackle.sweep.config import ClusterConfig, parse_config
from crackle.sweep.runner import run_sweep

pytest.importorskip("dask_jobqueue")
runner = CliRunner()

CLUSTER = """
[cluster]
kind = "slurm"
cores = 8
memory = "32GB"
walltime = "02:30:00"
queue = "gpu"
account = "crit-lab"
job_extra_directives = ["--gres=gpu:1", "--constraint=a100"]
job_script_prologue = ["module load python", "source ~/venvs/crackle/bin/activate"]
jobs = 3
interface = "lo"
"""


@pytest.fixture
def config():
    import tomllib

    data = tomllib.loads('experiment = "smoke"\n[grid]\nx = [1.0]\n' + CLUSTER)
    return parse_config(data)


def test_the_toml_reaches_the_slurm_job_script(config):
    cl = config.cluster
    assert (cl.kind, cl.cores, cl.memory, cl.jobs) == ("slurm", 8, "32GB", 3)
    with jobqueue_cluster(cl) as jq:
        script = jq.job_script()
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    for directive in (
        "#SBATCH -J crackle-sweep",
        "#SBATCH -p gpu",
        "#SBATCH -A crit-lab",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH -t 02:30:00",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --constraint=a100",
    ):
        assert directive in lines, directive
    assert any(ln.startswith("#SBATCH --mem=") for ln in lines)  # 32GB in the queue's units
    assert "module load python" in lines
    assert script.index("source ~/venvs/crackle/bin/activate") < script.index("distributed.cli")
    # One single-thread worker per core, as on a local cluster.
    assert "--nworkers 8" in script
    assert "--nthreads 1" in script


def test_the_same_table_as_a_pbs_job_script(config):
    with jobqueue_cluster(config.cluster, "pbs") as jq:
        script = jq.job_script()
    lines = script.splitlines()
    for directive in (
        "#PBS -N crackle-sweep",
        "#PBS -q gpu",
        "#PBS -A crit-lab",
        "#PBS -l walltime=02:30:00",
    ):
        assert directive in lines, directive
    assert "#PBS --gres=gpu:1" in lines
    assert any(ln.startswith("#PBS -l select=1:ncpus=8:mem=") for ln in lines)
    assert "--nworkers 8" in script


def test_a_batch_cluster_needs_memory_and_a_known_kind():
    with pytest.raises(CrackleValueError, match="memory = '16GB'"):
        jobqueue_cluster(ClusterConfig(kind="slurm"))
    with pytest.raises(CrackleValueError, match="'kind' parameter of jobqueue_cluster"):
        jobqueue_cluster(ClusterConfig(memory="1GB"), "lsf")
    with pytest.raises(CrackleValueError, match=r"cluster\.kind: Input should be 'local'"):
        parse_config({"experiment": "smoke", "grid": {"x": [1.0]}, "cluster": {"kind": "sge"}})
    with pytest.raises(CrackleValueError, match="not both"):
        parse_config(
            {
                "experiment": "smoke",
                "grid": {"x": [1.0]},
                "cluster": {"kind": "pbs", "scheduler": "tcp://h:1"},
            }
        )


def test_no_submit_command_is_a_clear_error_before_anything_runs(config, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch, no qsub
    with pytest.raises(CrackleValueError, match="sbatch, which is not on this machine's PATH"):
        check_submit_command("slurm")
    with pytest.raises(CrackleValueError, match="qsub"):
        run_sweep(config, tmp_path / "o", cluster="pbs")
    assert not (tmp_path / "o" / "points").exists()
    cfg = tmp_path / "s.toml"
    cfg.write_text('experiment = "smoke"\n[grid]\nx = [1.0]\n[cluster]\nmemory = "1GB"\n')
    res = runner.invoke(
        app, ["sweep", str(cfg), "--cluster", "slurm", "--out", str(tmp_path / "c")]
    )
    assert res.exit_code == 2
    assert "sbatch" in res.output
    assert "SLURM batch jobs (1 x 1 cores)" in res.output
    res = runner.invoke(app, ["sweep", str(cfg), "--cluster", "sge", "--out", str(tmp_path / "c")])
    assert res.exit_code == 2
    assert "not one of slurm, pbs, local" in res.output


@pytest.mark.slow
def test_a_sweep_through_a_stand_in_for_slurm(tmp_path, monkeypatch):
    # A stand-in for SLURM: sbatch runs the job script in the background (its own
    # process group, whose id is the "job id") and scancel kills that group. The sweep
    # then runs end to end on workers that the job scripts started.
    bin_dir, jobs = tmp_path / "bin", tmp_path / "jobs"
    bin_dir.mkdir()
    jobs.mkdir()
    (bin_dir / "sbatch").write_text(
        "#!/bin/sh\n"
        f'cp "$1" {jobs}/script_$$.sh\n'
        f"setsid sh {jobs}/script_$$.sh > {jobs}/log_$$.txt 2>&1 < /dev/null &\n"
        'echo "Submitted batch job $!"\n'
    )
    (bin_dir / "scancel").write_text('#!/bin/sh\nfor j in "$@"; do kill -TERM -- "-$j"; done\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    toml = (
        'experiment = "smoke"\nseed = 3\n[grid]\nx = [0.0, 1.0, 2.0]\n[cluster]\n'
        'kind = "slurm"\ncores = 1\nmemory = "1GB"\njobs = 2\ninterface = "lo"\n'
        'queue = "debug"\n'
    )
    (tmp_path / "s.toml").write_text(toml)
    res = runner.invoke(app, ["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output + "".join(p.read_text() for p in jobs.glob("log_*.txt"))
    scripts = sorted(jobs.glob("script_*.sh"))
    assert len(scripts) == 2
    assert all("#SBATCH -p debug" in p.read_text() for p in scripts)
    # The same numbers as on local workers: seeds depend on the point only.
    local = toml.replace('kind = "slurm"', 'kind = "local"\nprocesses = false')
    (tmp_path / "l.toml").write_text(local)
    res = runner.invoke(app, ["sweep", str(tmp_path / "l.toml"), "--out", str(tmp_path / "l")])
    assert res.exit_code == 0, res.output
    a = pd.read_parquet(tmp_path / "o" / "results.parquet").sort_values("x")
    b = pd.read_parquet(tmp_path / "l" / "results.parquet").sort_values("x")
    assert a["y"].tolist() == b["y"].tolist()
