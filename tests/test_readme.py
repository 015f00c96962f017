"""The README's API example runs as written and its numbers are the ones it states; its Quick start
names the commands CI runs; the package list ships every package folder."""
import configparser
import pathlib
import re

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _api_blocks():
    section = README.split("## The API in brief", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_api_example_runs_and_states_its_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)              # the I/O example writes adam.npz
    first, io = _api_blocks()
    env = {}
    exec(compile(first, "README.md", "exec"), env)
    res = env["res"]
    assert res.loss.shape == (64, 101)
    assert int(res.diverged.sum()) == 0                          # "0 of the 64 runs diverged"
    assert float(np.median(env["T"])) == 210.0                   # "210.0 steps"
    assert float(np.median(res.iterations_to(1e-6))) == 960.0    # "at 1e-6 the median is 960"
    assert env["best"].best_lr is not None
    exec(compile(io, "README.md", "exec"), env)
    assert env["res"].loss.tobytes() == res.loss.tobytes()      # loaded back bit-identical
    assert len(env["df"]) == 64 * 101
    assert env["ax"].get_lines()


def test_quick_start_has_exactly_two_commands_and_ci_runs_them():
    block = re.search(r"## Quick start\n\n<!-- quick-start -->\n```bash\n(.*?)```", README,
                      re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci                      # verbatim
    assert commands[0] in ci                      # the sequence step runs both, in order


def test_every_package_folder_is_shipped():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "simopt").rglob("__init__.py")}
    assert on_disk | {"simopt.paper_repro"} == listed
    assert "paper_repro" not in listed            # never a top-level package
    assert cfg["options"]["package_dir"].split() == ["simopt.paper_repro", "=", "paper_repro"]
