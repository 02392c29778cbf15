"""Data Delivery Service semantics: file naming, listing candidates, catalog, discovery, bookmarks,
table versions, the setup check. See docs/ARCHITECTURE.md.
"""
