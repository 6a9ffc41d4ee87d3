"""Demo mode (``python app.py --demo``): the demo admin, backfilled history, live traffic and the console banner.
"""
