"""The review and labeling web page: its JSON API, page images and who may use it (served by the app)."""
