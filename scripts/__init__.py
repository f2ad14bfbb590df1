"""Maintenance scripts, run from the root of a clone: ``python -m scripts.NAME`` (release
weights, redraw figures, measure, stress-test). Never imported by srgan."""
