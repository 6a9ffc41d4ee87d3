"""The panel timing itself: the request timer, the latency histogram, the system sampler, the
performance figures and the monitor's own cost.
"""
