"""Reproductions of the seed papers' synthetic experiments.  Each module ``paper_repro.<name>`` has a
``main(argv) -> int`` that writes ``figures/<name>.png/.pdf/.json`` and returns non-zero if one of the
paper's claims, checked in code, fails.  Run them with ``simopt repro``."""

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
