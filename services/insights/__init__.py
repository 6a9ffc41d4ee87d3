"""Insights: revenue analytics, user activity, customers, channels and the timeline, read from the
ingested tables and their rollups.
"""
