"""The learner: candidate spans, their features, the shared scorer, typed values."""
