"""Reproductions of the seed papers' synthetic experiments, installed as ``simopt.paper_repro``.

Each module ``simopt.paper_repro.<name>`` has a ``main(argv) -> int`` that writes
``figures/<name>.png/.pdf/.json`` and returns non-zero if one of the paper's claims, checked in code,
fails.  Run them with ``simopt repro NAME`` (or ``python -m simopt.paper_repro.NAME``).  The sources
live in the repository's top-level ``paper_repro/`` folder, which the package maps to
``simopt.paper_repro`` (so nothing named ``paper_repro`` is installed at the top level)."""

#: the reproductions, in the order ``simopt repro all`` runs them
REPRODUCTIONS = (
    "balles2018_fig2",
    "balles2018_fig3",
    "balles2018_methods",
    "zhang2024_quadratic",
    "tomihari2025_heterogeneity",
    "pan2023_sharpness",
    "phase_diagram",
)
