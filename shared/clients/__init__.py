"""Clients of the services the pipeline talks to: storage (blobs, queues, tables) and Form Recognizer."""
