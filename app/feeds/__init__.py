"""Journey-stage feeds for BI tools: CSV, NDJSON and Parquet, streamed."""
