"""Pure shared code: models, catalogue, ids and policies.

Workflows import this package, so nothing here may do I/O, read settings or clocks at import time.
"""
