"""Rasa SDK custom actions; ``rasa run actions`` registers every Action subclass in this package."""
