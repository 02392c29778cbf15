"""Record assembly: the record layout (records.py) and the fast columnar engine. See
docs/ARCHITECTURE.md.
"""
