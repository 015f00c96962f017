"""Reproductions of the seed papers' synthetic experiments, installed as ``simopt.paper_repro``.

Each module ``simopt.paper_repro.<name>`` has a ``main(argv) -> int`` that writes
``figures/<name>.png/.pdf/.json`` and returns non-zero if one of the paper's claims, checked in code,
fails.  Run them with ``simopt repro NAME`` (or ``python -m simopt.paper_repro.NAME``).  The sources
live in the repository's top-level ``paper_repro/`` folder, which the package maps to
``simopt.paper_repro`` (so nothing named ``paper_repro`` is installed at the top level)."""

#: the seed papers' reproductions (the first gallery)
SEED = (
    "balles2018_fig2",
    "balles2018_fig3",
    "balles2018_methods",
    "zhang2024_quadratic",
    "tomihari2025_heterogeneity",
    "pan2023_sharpness",
    "phase_diagram",
)

#: checks of the 2024-2026 theory that followed the seed papers (the second gallery)
EXTENSIONS = (
    "xie2025_linf",
    "zhang_maes2025_rotation",
    "das2024_preconditioning",
    "muon_shampoo_matrix",
    "batch_size_gap",
    "kunstner_bach2025_zipf",
    "heavy_tails",
    "phase_diagram_families",
)

#: every reproduction, in the order ``simopt repro all`` runs them
REPRODUCTIONS = SEED + EXTENSIONS

#: gallery section title -> its reproductions (``simopt repro gallery``)
GALLERIES = {"The seed papers": SEED, "The 2024-2026 theory": EXTENSIONS}
