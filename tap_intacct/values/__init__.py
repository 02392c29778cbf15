"""Cell text to JSON values: inference and the lossless conversion contract. See
docs/ARCHITECTURE.md.
"""
