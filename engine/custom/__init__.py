"""Custom models: learn to extract labeled fields from a handful of forms of one layout."""
