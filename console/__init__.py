"""Web console: the staff pages and JSON API, and the resident web chat."""
