"""Entry modules of the service's internal servers, wrapping Rasa's and rasa-sdk's own with the
transport controls the service needs (loopback binding, shared tokens, masked logs)."""
