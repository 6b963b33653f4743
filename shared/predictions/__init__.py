"""Predictions by a folder's current model and the reviews its labels make of them."""
