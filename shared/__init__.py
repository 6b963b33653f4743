"""The pipeline's own library: everything the Functions in function_app.py do, testable without a trigger."""
