"""Live: the scheduler and its one list of periodic jobs (``jobs.py``), the snapshot pushed to the
dashboard, the leader lock across processes and the registry of open sockets.
"""
