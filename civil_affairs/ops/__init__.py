"""Running the service: conversation storage for Rasa, locks, metrics, health, logs and retention."""
