"""Training runs: when a folder trains, starting and following a run, promoting its model."""
