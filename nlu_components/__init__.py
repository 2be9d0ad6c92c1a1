"""Custom Rasa 3.6 components of the project (referenced from config.yml by module path)."""
