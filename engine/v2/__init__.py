"""The Form Recognizer v2.x HTTP routes (Layout and custom models) and how they read a document."""
