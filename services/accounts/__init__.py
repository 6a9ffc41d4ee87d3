"""Accounts: users and roles, login sessions, sign-in while the database is down, and the audit log.
"""
