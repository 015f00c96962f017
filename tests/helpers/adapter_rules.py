"""Adapter rules at the top level of an importable module, as a user would declare them: a sweep spec
names them by import path (``name = "adapter_rules:torch_adam"``, this folder on ``PYTHONPATH``)."""
import optax
import torch

from simopt.optim import from_optax, from_torch

torch_adam = from_torch(torch.optim.Adam)
optax_adam = from_optax(optax.adam)
