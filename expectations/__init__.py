"""The gates between layers: bronze rules every record keeps, and what dbt tests cannot say about
silver and gold (volume, bounds, freshness, quarantine share). Each computes in the database and
judges a few numbers (thresholds.py), so its memory stays flat as the data grows."""
