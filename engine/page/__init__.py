"""The page model every reader produces, and words to lines in reading order."""
