"""The AI enrichment: a packaged multilingual embedding model behind one small interface
(`model.Embedder`), and what is computed from its vectors (interests, sentiment, lookalikes).

It reads the silver captions contract and writes only its own tables, keyed by model and
version (analisa/core/migrations/014_enrichment.sql). It imports nothing of the project but
analisa.core, and nothing else in the project imports the model library: gold and the API work
with the enrichment switched off (ANALISA_ENRICHMENT=off) or its library not installed."""
