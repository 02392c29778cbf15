"""Singer messages on stdout and BATCH files. See docs/ARCHITECTURE.md.
"""
