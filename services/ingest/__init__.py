"""Ingest: validating posted transactions and activity, storing them, and keeping the derived
tables (15-minute rollups, customers' first transaction) exact as rows arrive.
"""
