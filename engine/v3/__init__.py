"""Form Recognizer 3.x (api-versions 2023-07-31 and 2022-08-31, `/formrecognizer/documentModels/...`), served
by the v4.0 code (engine.v4.routes) through a Dialect: the paths differ only in their prefix and the bodies
in a few keys, so this package holds only those differences.
"""
