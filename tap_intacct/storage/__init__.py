"""Stores: the Store protocol (store.py), S3 (s3.py, boto3) and Azure (azure.py), resumable reads.
See docs/ARCHITECTURE.md.
"""
