"""Pure converters from the engine's v2.1 results to the v4.0 (2024-11-30) shapes."""
