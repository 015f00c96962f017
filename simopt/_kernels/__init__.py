"""Numba kernels.  Nothing here validates input or knows about problems/optimizer objects: the Python
API (``simopt.optim``, ``simopt.engine``) prepares plain arrays and calls in."""
