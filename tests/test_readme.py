"""The README's API example runs as written, and its Quick start names the commands CI runs."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_api_example_runs():
    code = re.search(r"## The API in brief\n\n```python\n(.*?)```", README, re.S).group(1)
    env = {}
    exec(compile(code, "README.md", "exec"), env)
    assert env["res"].loss.shape == (64, 101)
    assert env["best"].best_lr is not None


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    block = re.search(r"## Quick start\n\n```bash\n(.*?)```", README, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
