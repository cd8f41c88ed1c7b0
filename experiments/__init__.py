"""One script per claim of the theory; each writes report.md, figures and results.json.

    python -m experiments.pca_vs_linear_ae --workdir=runs/pca [--quick]
"""
