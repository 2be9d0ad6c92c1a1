"""Starts and watches every process of the service (`make run`); tests reuse the same commands."""
