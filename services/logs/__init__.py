"""Logs: the panel's own log capture (handler, throttle, writer), the log query and the live tail relay.
"""
