"""Gold (and silver posts and snapshots) as typed, partitioned, versioned Parquet for data
scientists: `exports.parquet.export_gold` writes a version, `exports.schema` declares its types."""
