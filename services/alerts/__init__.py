"""Alerts: rules and the metric values they watch, the alert lifecycle (pending, firing,
acknowledged, resolved), the history, and notifications over webhook and e-mail.
"""
