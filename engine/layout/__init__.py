"""Layout: a document's bytes to the v2.x analyzeResult, whatever kind of document it is."""
