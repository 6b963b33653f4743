"""Document Intelligence v4.0 (api-version 2024-11-30) on top of the engine's v2.1 Layout and custom models.

The v4 routes (routes.py) convert, they do not re-implement: Layout results come from engine.layout
and custom models from engine.custom, and pure converters turn their v2.1 shapes into v4 ones.
"""
