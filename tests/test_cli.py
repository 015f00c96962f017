"""The ``simopt`` command line: complete, user-facing help for every verb, positional and option
(with defaults), and one line ``simopt: error: ...`` with exit status 2 for every misuse."""
import argparse
import errno
import json
import os
import socket
import subprocess
import sys

import pytest

from simopt import cli
from simopt.cli import build_parser, main

SPEC = {"steps": 20, "runs": 2, "seeds": [0], "record_every": 5, "eps": 0.1,
        "problems": [{"type": "quadratic", "eigvals": [0.5, 1.0]}],
        "optimizers": [{"name": "sgd", "lr": [0.1, 0.5]}]}


def _parsers(parser, path=("simopt",)):
    """Every (command path, parser) of the tree."""
    yield path, parser
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                yield from _parsers(sub, path + (name,))


PARSERS = list(_parsers(build_parser()))


def test_every_verb_is_listed():
    names = {" ".join(p) for p, _ in PARSERS}
    for verb in ("simopt info", "simopt demo", "simopt bounds", "simopt sweep", "simopt sweep run",
                 "simopt sweep status", "simopt sweep tune", "simopt sweep export",
                 "simopt sweep plot", "simopt repro", "simopt bench"):
        assert verb in names


@pytest.mark.parametrize("path,parser", PARSERS, ids=[" ".join(p) for p, _ in PARSERS])
def test_help_is_complete(path, parser):
    text = parser.format_help()
    assert parser.description and len(parser.description) > 20, f"{path}: no description"
    for bad in ("_VERB_MODULES", "see examples/", "simopt/sweep/spec.py", "register(", "``"):
        assert bad not in text, f"{path}: internal text {bad!r} in its help"
    for a in parser._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if isinstance(a, argparse._SubParsersAction):
            for choice in a._choices_actions:
                assert choice.help, f"{path} {choice.dest}: no help"
            continue
        name = a.option_strings[-1] if a.option_strings else a.dest
        assert a.help and len(a.help) > 5, f"{path} {name}: no help"
        shown = parser._get_formatter()._get_help_string(a) % {"default": a.default}
        if a.default not in (None, False, argparse.SUPPRESS):
            d = a.default if not isinstance(a.default, (tuple, list)) else ",".join(map(str, a.default))
            assert str(d) in shown, f"{path} {name}: default {a.default!r} not shown"


def test_top_level_help_is_user_facing(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "reproduce" in out and "sweep" in out and "SIMOPT_DEBUG" in out


# -- misuse: one line, exit 2 --------------------------------------------------------------------

def _one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.startswith("simopt: error: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from simopt.sweep import run_sweep
    out = tmp_path_factory.mktemp("store")
    assert run_sweep(SPEC, out, workers=1, quiet=True).ok
    return out


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("spec") / "s.toml"
    p.write_text('steps = 20\nruns = 2\nseeds = [0]\nrecord_every = 5\n'
                 '[[problems]]\ntype = "quadratic"\neigvals = [0.5, 1.0]\n'
                 '[[optimizers]]\nname = "sgd"\nlr = [0.1]\n')
    return p


@pytest.mark.parametrize("verb", ["status", "tune", "export", "plot"])
def test_not_a_store_directory(verb, tmp_path, capsys):
    assert main(["sweep", verb, str(tmp_path)]) == 2
    assert str(tmp_path) in _one_error_line(capsys)
    assert main(["sweep", verb, str(tmp_path / "missing")]) == 2
    assert "no such directory" in _one_error_line(capsys)


@pytest.mark.parametrize("eps", ["abc", "-1", "0", "inf"])
def test_bad_eps(store, eps, capsys):
    with pytest.raises(SystemExit) as e:
        main(["sweep", "tune", str(store), "--eps", eps])
    assert e.value.code == 2
    assert "--eps" in _one_error_line(capsys)


def test_bad_option_values_are_one_line(store, spec_file, capsys):
    for argv in (["sweep", "run", str(spec_file), "--out", str(store), "--workers", "0"],
                 ["sweep", "tune", str(store), "--criterion", "best"],
                 ["sweep", "export", str(store), "--tables", "long,nope"],
                 ["sweep", "export", str(store), "--per-decade", "0"],
                 ["sweep", "run", str(spec_file)],                        # --out missing
                 ["bounds", "newton"], ["nonsense"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv
        _one_error_line(capsys)


def test_library_input_errors_are_one_line(capsys):
    assert main(["repro", "no_such_figure"]) == 2
    assert "no_such_figure" in _one_error_line(capsys)
    assert main(["bounds", "sgd", "--runs", "10"]) == 2         # sgd needs --noise-scale
    assert "noise" in _one_error_line(capsys)


def test_unwritable_out(store, spec_file, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert main(["sweep", "export", str(store), "--out", str(blocker / "sub")]) == 2
    assert str(blocker / "sub") in _one_error_line(capsys)
    assert main(["sweep", "run", str(spec_file), "--out", str(blocker), "--quiet"]) == 2
    assert "not a directory" in _one_error_line(capsys)
    assert main(["sweep", "plot", str(store), "--out", str(blocker / "p.png")]) == 2
    _one_error_line(capsys)


def test_bad_spec_files(tmp_path, capsys):
    assert main(["sweep", "run", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "none.toml" in _one_error_line(capsys)
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = [\n")
    assert main(["sweep", "run", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "bad.toml" in _one_error_line(capsys)
    neg = tmp_path / "neg.toml"
    neg.write_text('steps = 10\n[[problems]]\ntype = "quadratic"\neigvals = [1.0]\n'
                   '[[optimizers]]\nname = "sgd"\nlr = "fast"\n')
    assert main(["sweep", "run", str(neg), "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys)


def test_disk_full_is_one_line(store, tmp_path, monkeypatch, capsys):
    import importlib
    ex = importlib.import_module("simopt.sweep.export")  # the module (simopt.sweep.export is also a function)

    def full(path, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    monkeypatch.setattr(ex, "_write", full)
    assert main(["sweep", "export", str(store), "--out", str(tmp_path)]) == 2
    err = _one_error_line(capsys)
    assert "No space left on device" in err and str(tmp_path) in err


def test_damaged_cells_are_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    import shutil

    from simopt.sweep import run_sweep
    from simopt.sweep.store import Store, StoreError
    assert run_sweep(SPEC, tmp_path / "s", workers=1, quiet=True).ok
    shutil.copytree(tmp_path / "s", tmp_path / "d")
    record = sorted(p for p in (tmp_path / "d" / "cells").glob("*.json"))[0]
    record.write_text("{not json")                  # a garbage commit record
    # a damaged cell is skipped with one warning line naming its file; the others are still used
    assert main(["sweep", "tune", str(tmp_path / "d")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "damaged cell file" in err[0] and str(record) in err[0]
    # a store error naming the file (e.g. raised while loading) is printed as one line, exit 2
    bad = str(tmp_path / "s" / "cells" / "x.npz")

    def damaged(self, h):
        raise StoreError(f"damaged cell file {bad}: truncated")
    monkeypatch.setattr(Store, "load", damaged)
    for verb in ("tune", "export", "plot"):
        assert main(["sweep", verb, str(tmp_path / "s")]) == 2
        assert bad in _one_error_line(capsys)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_dask_gives_up_in_bounded_time(spec_file, tmp_path):
    pytest.importorskip("distributed")
    import time
    addr = f"tcp://127.0.0.1:{_free_port()}"
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "simopt.cli", "sweep", "run", str(spec_file), "--out",
                        str(tmp_path / "o"), "--dask", addr, "--dask-timeout", "2"],
                       capture_output=True, text=True, timeout=120)
    assert time.perf_counter() - t < 60
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("simopt: error: --dask " + addr)
    assert "Traceback" not in p.stderr


def test_not_a_store_from_a_subprocess_has_no_traceback(tmp_path):
    p = subprocess.run([sys.executable, "-m", "simopt.cli", "sweep", "export", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.startswith("simopt: error: ") and p.stderr.count("\n") == 1


# -- bugs keep their traceback -------------------------------------------------------------------

def test_a_bug_is_not_hidden(monkeypatch, store):
    import importlib
    tune_mod = importlib.import_module("simopt.sweep.tune")

    def broken(*a, **k):
        raise TypeError("unsupported operand")  # what a bug looks like
    monkeypatch.setattr(tune_mod, "tune", broken)
    with pytest.raises(TypeError):
        main(["sweep", "tune", str(store)])


def test_debug_shows_the_traceback_of_a_misuse(monkeypatch, tmp_path):
    from simopt.sweep.store import StoreError
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    with pytest.raises(StoreError):
        main(["sweep", "status", str(tmp_path)])


def test_commands_still_work(store, capsys, tmp_path):
    assert main(["sweep", "status", str(store)]) == 0
    assert "2 done" in capsys.readouterr().out
    assert main(["sweep", "tune", str(store)]) == 0
    assert "best lr" in capsys.readouterr().out
    assert main(["info"]) == 0
    assert "numba cache dir" in capsys.readouterr().out
    assert main(["sweep", "export", str(store), "--out", str(tmp_path), "--no-parquet",
                 "--tables", "summary"]) == 0
    assert json.dumps(sorted(os.listdir(tmp_path))) == '["summary.csv"]'


def test_repro_runs_from_any_directory(tmp_path):
    """The reproductions ship inside the package (simopt.paper_repro), not as a top-level
    ``paper_repro`` that only resolves from the repository root."""
    p = subprocess.run([sys.executable, "-m", "simopt.cli", "repro", "list"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    from simopt.paper_repro import REPRODUCTIONS
    listed = [line.split()[0] for line in p.stdout.splitlines() if line.strip()]
    assert listed == list(REPRODUCTIONS)
    p = subprocess.run([sys.executable, "-c", "import paper_repro"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "No module named 'paper_repro'" in p.stderr
