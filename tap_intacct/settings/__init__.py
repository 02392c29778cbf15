"""The settings contract: config keys (config.py) and TAP_INTACCT_* variables (knobs.py). See
docs/ARCHITECTURE.md.
"""
