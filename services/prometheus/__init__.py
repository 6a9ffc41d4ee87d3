"""Prometheus: the /metrics exposition, its request series, and the alerting rules file for Prometheus.
"""
