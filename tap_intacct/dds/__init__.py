"""Data Delivery Service semantics: file naming, listing candidates, catalog, discovery, bookmarks,
when STATE is written, table versions. See docs/ARCHITECTURE.md.
"""
