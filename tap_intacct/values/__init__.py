"""Cell text to JSON values: inference and the lossless conversion contract; and the date-times
the config and the state hold (datetimes.py). See docs/ARCHITECTURE.md.
"""
