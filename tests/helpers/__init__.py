"""Test helpers shared across the suite (fake servers, factories)."""
