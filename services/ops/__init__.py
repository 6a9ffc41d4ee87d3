"""Operations: the health report and the retention (pruning) of old rows.
"""
