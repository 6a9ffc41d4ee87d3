"""Export: CSV/JSON downloads, their formats and sources, and signed share links.
"""
