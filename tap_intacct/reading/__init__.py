"""From bytes to CSV rows: decompression, zip, dialects, line numbers. See docs/ARCHITECTURE.md.
"""
