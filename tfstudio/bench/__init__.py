"""Benchmarks that print numbers (``tfstudio bench …``): each builds what it measures from
generated material, so it runs anywhere without downloads. One module per subject."""
