"""formloop's local Form Recognizer v2.x-compatible engine (Layout + custom models), a separate service."""
