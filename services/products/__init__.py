"""Products and stock: the catalogue as ingested, order lines, sales rollups, low-stock episodes."""
