"""Representations: pure to_x(notes) / from_x(array) pairs."""
