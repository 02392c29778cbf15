"""One file's open stream read into records in a sink: the engines and their choice (engine.py),
the file being read and the row path (file_reading.py), the record layout (records.py) and the
fast columnar engine. See docs/ARCHITECTURE.md.
"""
