"""The body of each trigger in function_app.py, one module per trigger, named after it."""
