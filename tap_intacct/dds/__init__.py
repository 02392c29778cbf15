"""Data Delivery Service semantics: file naming, listing candidates, catalog, discovery, bookmarks,
when STATE is written, job order and table versions. See docs/ARCHITECTURE.md.
"""
