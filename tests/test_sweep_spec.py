"""Sweep specs: grids, content hashes, validation (one clear error each, nothing written)."""
import copy
import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simopt import cli
from simopt.sweep import (SpecError, SpecTypeError, canonical_json, content_hash, load, parse,
                          product, union, zipped)
from simopt.sweep.spec import expand_grid

BASE = """
steps = 20
runs = 2
seeds = [0, 1]

[[problems]]
type = "quadratic"
eigvals = {spectrum = "logspace", d = 6, low = 0.1, high = 1.0}

[[optimizers]]
name = "sgd"
lr = [0.1, 0.5]
"""


def _spec(**over):
    d = {"steps": 20, "runs": 2, "seeds": [0, 1],
         "problems": [{"type": "quadratic",
                       "eigvals": {"spectrum": "logspace", "d": 6, "low": 0.1, "high": 1.0}}],
         "optimizers": [{"name": "sgd", "lr": [0.1, 0.5]}]}
    d.update(over)
    return d


def test_cells_are_problem_x_optimizer_x_lr_x_seed():
    s = parse(_spec(
        problems=[{"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 3,
                   "grid": {"heterogeneity": [0.0, 0.5, 1.0]}}],
        optimizers=[{"name": "sgd", "lr": [0.1, 0.2], "grid": {"momentum": [0.0, 0.9]}},
                    {"name": "adam", "lr": [0.01]}]))
    # 3 problems x (2 lr x 2 momentum + 1 lr) x 2 seeds
    assert len(s.cells) == 3 * (4 + 1) * 2
    assert len(set(s.hashes)) == len(s.cells)
    # tuning groups: everything but lr fixed
    groups = {c.group_key for c in s.cells}
    assert len(groups) == 3 * (2 + 1)
    c = s.cells[0]
    assert c.problem["heterogeneity"] == 0.0 and c.optimizer == {"name": "sgd", "momentum": 0.0,
                                                                   "lr": 0.1}
    assert c.seed == 0 and c.payload["runs"] == 2


def test_grid_product_zip_union():
    g = {"a": [1, 2, 3], "zip": {"b": [10, 20], "c": ["x", "y"]}}
    pts = expand_grid(g)
    assert len(pts) == 6
    assert {(p["a"], p["b"], p["c"]) for p in pts} == {
        (a, b, c) for a in (1, 2, 3) for b, c in ((10, "x"), (20, "y"))}
    u = expand_grid([{"a": [1, 2]}, {"a": [3], "b": [4, 5]}])
    assert u == [{"a": 1}, {"a": 2}, {"a": 3, "b": 4}, {"a": 3, "b": 5}]
    # python helpers build the same structures
    assert expand_grid({**product(a=[1, 2, 3]), **zipped(b=[10, 20], c=["x", "y"])}) == pts
    assert expand_grid(union(product(a=[1, 2]), product(a=[3], b=[4, 5]))) == u
    # two zip groups multiply
    assert len(expand_grid({"zip": [{"a": [1, 2], "b": [3, 4]}, {"c": [5, 6, 7]}]})) == 6


def test_union_of_overlapping_grids_keeps_each_cell_once():
    s = parse(_spec(optimizers=[{"name": "sgd", "lr": [0.1, 0.5]},
                                {"name": "sgd", "lr": [0.5, 0.9]}]))
    assert sorted({c.lr for c in s.cells}) == [0.1, 0.5, 0.9]
    assert len(s.cells) == 3 * 2


def test_dotted_axis_sets_nested_field():
    s = parse(_spec(problems=[{"type": "quadratic", "eigvals": [0.5, 1.0],
                               "noise": {"type": "gaussian", "scale": 1.0},
                               "grid": {"noise.scale": [0.1, 0.2]}}], seeds=[0]))
    scales = sorted({c.problem["noise"]["scale"] for c in s.cells})
    assert scales == [0.1, 0.2]
    assert all(c.problem["noise"]["type"] == "gaussian" for c in s.cells)


def test_seeds_range_form():
    assert parse(_spec(seeds={"start": 3, "count": 4})).seeds == [3, 4, 5, 6]


def test_hash_ignores_key_order_and_analysis_settings(tmp_path):
    # the same content with every table's keys in another order
    text = """seeds = [0, 1]
runs = 2
steps = 20
eps = 0.5
name = "x"

[[optimizers]]
lr = [0.1, 0.5]
name = "sgd"

[[problems]]
eigvals = {high = 1.0, low = 0.1, d = 6, spectrum = "logspace"}
type = "quadratic"
"""
    (tmp_path / "a.toml").write_text(BASE)
    (tmp_path / "b.toml").write_text(text)
    a, b = load(tmp_path / "a.toml"), load(tmp_path / "b.toml")
    assert a.hashes == b.hashes  # eps and name are analysis settings, not hashed


def test_hash_changes_with_content():
    a = parse(_spec())
    b = parse(_spec(steps=21))
    c = parse(_spec(runs=3))
    assert not set(a.hashes) & set(b.hashes)
    assert not set(a.hashes) & set(c.hashes)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children,
                                                                       max_size=4),
    max_leaves=12)


def _shuffled(obj, rnd):
    if isinstance(obj, dict):
        items = list(obj.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(obj, list):
        return [_shuffled(v, rnd) for v in obj]
    return obj


@settings(max_examples=40, deadline=None)
@given(json_values, st.integers(0, 2**16))
def test_content_hash_is_key_order_independent(obj, seed):
    """Property: the hash is a function of content only (sha256 of sorted-key JSON), whatever the
    insertion order of keys at any depth."""
    other = _shuffled(copy.deepcopy(obj), random.Random(seed))
    assert canonical_json(other) == canonical_json(obj)
    assert content_hash(other) == content_hash(obj)


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.sampled_from("abcd"), st.lists(st.integers(0, 9), min_size=1, max_size=3,
                                                         unique=True), min_size=1))
def test_product_grid_size_is_product_of_axis_lengths(axes):
    pts = expand_grid(axes)
    assert len(pts) == math.prod(len(v) for v in axes.values())
    assert sorted(map(canonical_json, pts)) == sorted(
        canonical_json(dict(zip(axes, combo))) for combo in itertools.product(*axes.values()))


# ----------------------------------------------------------------------------------------------
# bad configs: one clear error each, and the CLI writes nothing

BAD = [
    # (TOML text, exception type, fragments the message must contain)
    ("foo = 1\n" + BASE, SpecError, ["unknown key 'foo'", "allowed:", "steps"]),
    (BASE.replace('type = "quadratic"', 'type = "quadratic"\nrotaton = "haar"'), SpecError,
     ["unknown key 'rotaton'", "did you mean 'rotation'", "allowed:"]),
    (BASE.replace('name = "sgd"', 'name = "sgd"\nmomentun = 0.9'), SpecError,
     ["unknown key 'momentun'", "momentum"]),
    (BASE.replace('lr = [0.1, 0.5]', 'lr = [0.1]\ngrid = {betaa = [1]}'), SpecError,
     ["unknown grid axis 'betaa'"]),
    (BASE.replace("steps = 20", 'steps = "20"'), SpecTypeError, ["steps", "expected an integer"]),
    (BASE.replace("runs = 2", "runs = 0"), SpecError, ["runs", ">= 1"]),
    (BASE.replace("lr = [0.1, 0.5]", "lr = []"), SpecError, ["lr", "empty grid axis"]),
    (BASE.replace("lr = [0.1, 0.5]", "lr = [0.1, -1.0]"), SpecError, ["lr[1]", "positive"]),
    (BASE.replace("lr = [0.1, 0.5]", 'lr = "big"'), SpecTypeError, ["lr", "positive number"]),
    (BASE.replace("lr = [0.1, 0.5]", "lr = [0.1]\ngrid = {momentum = []}"), SpecError,
     ["momentum", "empty grid axis"]),
    (BASE.replace("seeds = [0, 1]", "seeds = [0, -1]"), SpecError, ["seeds[1]", ">= 0"]),
    (BASE.replace("seeds = [0, 1]", "seeds = [0, 0]"), SpecError, ["duplicate seed"]),
    (BASE.replace("seeds = [0, 1]", "seeds = []"), SpecError, ["seeds", "empty"]),
    (BASE.replace("steps = 20\n", ""), SpecError, ["missing required key 'steps'"]),
    (BASE.replace('type = "quadratic"\n', ""), SpecError, ["problems[0]", "missing required key 'type'"]),
    (BASE.replace('eigvals = {spectrum = "logspace", d = 6, low = 0.1, high = 1.0}', ""), SpecError,
     ["missing required key 'eigvals'"]),
    (BASE.replace('name = "sgd"\nlr = [0.1, 0.5]', 'name = "sgd"'), SpecError,
     ["missing required key 'lr'"]),
    (BASE.replace('"quadratic"', '"cubic"'), SpecError, ["unknown value 'cubic'", "quadratic"]),
    (BASE.replace('"sgd"', '"sgdd"'), SpecError, ["unknown value 'sgdd'", "did you mean 'sgd'"]),
    (BASE.replace("d = 6", 'd = "six"'), SpecTypeError, ["eigvals.d", "integer"]),
    (BASE.replace('"logspace"', '"logspaced"'), SpecError, ["spectrum", "logspace"]),
    (BASE.replace('type = "quadratic"', 'type = "quadratic"\nnoise = {type = "gauss"}'), SpecError,
     ["noise.type", "gaussian"]),
    (BASE.replace('type = "quadratic"', 'type = "quadratic"\nnoise = {type = "gaussian", sd = 1}'),
     SpecError, ["unknown key 'sd'", "scale"]),
    (BASE.replace("lr = [0.1, 0.5]", "lr = [0.1]\nmomentum = 1.5"), SpecError,
     ["momentum"]),
    (BASE.replace("lr = [0.1, 0.5]", "lr = [0.1]\ngrid = {zip = {momentum = [0.0, 0.5], "
                                     "dampening = [0.0]}}"), SpecError, ["equal lengths"]),
    ("eps = -1.0\n" + BASE, SpecError, ["eps", "positive"]),
    ('record = ["loss2"]\n' + BASE, SpecError, ["record[0]", "sharpness"]),
    ('criterion = "ert"\n' + BASE, SpecError, ["criterion", "needs 'eps'"]),
    (BASE.replace("[[problems]]", "[problems]"), SpecTypeError, ["problems", "list of tables"]),
    (BASE + "\nsteps2 = [\n", SpecError, ["invalid TOML"]),
]


@pytest.mark.parametrize("text,exc,fragments", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_config_one_clear_error_nothing_written(tmp_path, capsys, text, exc, fragments):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(exc) as ei:
        load(path)
    msg = str(ei.value)
    for f in fragments:
        assert f in msg, (f, msg)
    out = tmp_path / "out"
    rc = cli.main(["sweep", "run", str(path), "--out", str(out), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid spec" in err and fragments[0] in err
    assert not out.exists()


def test_every_bad_case_differs_from_the_valid_base():
    parse(__import__("tomllib").loads(BASE))  # the base itself is valid
    assert len({t for t, _, _ in BAD}) == len(BAD)


def test_python_api_accepts_the_same_structure():
    s = parse(_spec(optimizers=[{"name": "adam", "lr": 0.01,
                                 "grid": union(product(beta1=[0.0, 0.9]), product(beta2=[0.99]))},
                                {"name": "clipped", "base": "sgd", "fraction": 0.5, "lr": [0.1]},
                                {"name": "gd_oracle", "rule": "1/L"},
                                {"name": "sgd", "lr": [0.1], "schedule": {"type": "cosine"}}]))
    labels = sorted({c.optimizer_label for c in s.cells})
    assert labels == ["adam(beta1=0)", "adam(beta1=0.9)", "adam(beta2=0.99)", "clipped-sgd",
                      "gd_oracle", "sgd"]
    assert any(c.lr is None for c in s.cells)  # the oracle sets its own step


def test_example_configs_are_valid():
    from pathlib import Path
    examples = sorted((Path(__file__).resolve().parent.parent / "examples").glob("sweep_*.toml"))
    assert len(examples) >= 2
    for path in examples:
        s = load(path)
        assert s.cells and len(set(s.hashes)) == len(s.cells)


def test_a_rule_is_named_by_its_import_path(monkeypatch):
    """A user's rule at the top level of an importable module: ``name = "user_rules:lion"``, with its
    hyperparameters checked as a built-in's are."""
    import os
    monkeypatch.syspath_prepend(os.path.join(os.path.dirname(__file__), os.pardir, "examples"))
    spec = parse(_spec(optimizers=[{"name": "user_rules:lion", "lr": [1e-3, 1e-2], "beta1": 0.95}]))
    assert len(spec.cells) == 2 * 2
    from simopt.sweep.spec import build_optimizer
    opt = build_optimizer(spec.cells[0].payload["optimizer"])
    assert opt.describe() == {"name": "user_rules:lion", "lr": 1e-3, "beta1": 0.95, "beta2": 0.99}
    for name, match in (("user_rules:lion_typo", "has no"), ("user_rules:np", "not a rule"),
                        ("no_such_module:lion", "cannot import"), ("lionx", "name")):
        with pytest.raises(SpecError, match=match):
            parse(_spec(optimizers=[{"name": name, "lr": 0.1}]))
    with pytest.raises(SpecError, match="beta3"):
        parse(_spec(optimizers=[{"name": "user_rules:lion", "lr": 0.1, "beta3": 0.5}]))
    with pytest.raises(SpecError, match="beta1"):
        parse(_spec(optimizers=[{"name": "user_rules:lion", "lr": 0.1, "beta1": "high"}]))
