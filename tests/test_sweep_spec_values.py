"""Spec values are validated when the spec is parsed (not per cell at run time), each error naming
the spec path of the value; numbers of real-valued parameters are normalised before hashing."""
import pytest

from simopt.sweep import SpecError, parse


def _spec(problem=None, optimizer=None):
    return {"steps": 10, "seeds": [0],
            "problems": [problem or {"type": "quadratic", "eigvals": [0.1, 1.0]}],
            "optimizers": [optimizer or {"name": "sgd", "lr": 0.1}]}


@pytest.mark.parametrize("problem, where", [
    ({"type": "quadratic", "eigvals": [-1.0, 1.0]}, "problems[0].eigvals"),
    ({"type": "quadratic", "eigvals": [5e-324, 1.0]}, "problems[0].eigvals"),
    ({"type": "quadratic", "eigvals": {"spectrum": "logspace", "d": 4, "low": -1.0, "high": 1.0}},
     "problems[0].eigvals.low"),
    ({"type": "quadratic", "eigvals": {"spectrum": "linear", "d": 10 ** 13, "low": 0.1, "high": 1.0}},
     "problems[0].eigvals.d"),
    ({"type": "quadratic", "eigvals": [0.1, 1.0], "noise": {"type": "gaussian", "scale": -0.1}},
     "problems[0].noise.scale"),
    ({"type": "quadratic", "eigvals": [0.1, 1.0], "noise": {"type": "gaussian", "scale": [1.0]}},
     "problems[0].noise.scale"),
    ({"type": "quadratic", "eigvals": [0.1, 1.0], "noise": {"type": "student_t", "df": 0.0}},
     "problems[0].noise.df"),
    ({"type": "quadratic", "eigvals": [0.1, 1.0], "rotation": 1.5}, "problems[0].rotation"),
    ({"type": "quadratic", "eigvals": [0.1, 1.0], "rotation": "sideways"}, "problems[0].rotation"),
    ({"type": "quadratic", "eigvals": [0.1, 1.0], "x0": [1.0, 2.0, 3.0]}, "problems[0].x0"),
    ({"type": "quadratic", "eigvals": [0.1, 1.0], "blocks": [1, 2]}, "problems[0].blocks"),
    ({"type": "block_diagonal", "block_eigvals": [[1.0], [-2.0]]}, "problems[0].block_eigvals[1]"),
    ({"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 2, "heterogeneity": 0.5,
      "condition_number": 0.5},
     "problems[0].condition_number"),
    ({"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 2,
      "grid": {"heterogeneity": [0.5, 2.0]}}, "problems[0].heterogeneity"),
])
def test_bad_problem_values_are_refused_at_parse_time_naming_the_path(problem, where):
    with pytest.raises(SpecError) as e:
        parse(_spec(problem))
    assert str(e.value).startswith(where + ":"), str(e.value)


def test_a_bad_grid_point_is_named():
    with pytest.raises(SpecError, match=r"heterogeneity.*\(at .*heterogeneity=2"):
        parse(_spec({"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 2,
                     "grid": {"heterogeneity": [0.5, 2.0]}}))


def test_integer_and_float_spellings_of_a_number_are_one_cell():
    a = parse(_spec({"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 2,
                     "heterogeneity": 1, "condition_number": 100},
                    {"name": "sgd", "lr": 1, "momentum": 0}))
    b = parse(_spec({"type": "heterogeneous_blocks", "n_blocks": 2, "block_size": 2,
                     "heterogeneity": 1.0, "condition_number": 100.0},
                    {"name": "sgd", "lr": 1.0, "momentum": 0.0}))
    assert a.hashes == b.hashes
    p = a.cells[0].problem
    assert p["condition_number"] == 100.0 and isinstance(p["condition_number"], float)
    assert isinstance(p["n_blocks"], int) and isinstance(p["block_size"], int)


def test_sizes_and_seeds_stay_integers():
    s = parse(_spec({"type": "quadratic", "seed": 3,
                     "eigvals": {"spectrum": "two_cluster", "d": 4, "frac_high": 0.5, "low": 1,
                                 "high": 10, "seed": 2}},
                    {"name": "sgd", "lr": 0.1, "schedule": {"type": "step", "step_size": 5}}))
    p, o = s.cells[0].problem, s.cells[0].optimizer
    assert p["seed"] == 3 and isinstance(p["seed"], int)
    assert isinstance(p["eigvals"]["d"], int) and isinstance(p["eigvals"]["seed"], int)
    assert p["eigvals"]["low"] == 1.0 and isinstance(p["eigvals"]["low"], float)
    assert isinstance(o["schedule"]["step_size"], int)
