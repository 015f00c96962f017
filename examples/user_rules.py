"""A user's own update rules, declared with ``simopt.optim.rule`` (compiled) and
``simopt.optim.numpy_rule`` (a NumPy prototype that runs without compiling).

Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Alg. 2, without weight decay --
pass ``weight_decay=`` for the decoupled decay of the paper):

    c = beta1 m + (1 - beta1) g;   x <- x - lr sign(c);   m <- beta2 m + (1 - beta2) g

Use them like any built-in rule: ``simopt.run(problem, lion(1e-4), ...)``, ``simopt.tune_lr``, or in a
sweep spec as ``name = "user_rules:lion"`` (this folder on ``PYTHONPATH``).
"""
import numpy as np

from simopt.optim import numpy_rule, rule


@rule(hyper={"beta1": 0.9, "beta2": 0.99}, state={"m": "d"})
def lion(x, g, m, lr, beta1, beta2):
    for i in range(x.shape[0]):
        c = beta1 * m[i] + (1.0 - beta1) * g[i]
        x[i] -= lr * np.sign(c)
        m[i] = beta2 * m[i] + (1.0 - beta2) * g[i]


@numpy_rule(hyper={"beta1": 0.9, "beta2": 0.99}, state={"m": "d"})
def lion_numpy(x, g, m, lr, beta1, beta2):
    x -= lr * np.sign(beta1 * m + (1.0 - beta1) * g)
    m[...] = beta2 * m + (1.0 - beta2) * g
