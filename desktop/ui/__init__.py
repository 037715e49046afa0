"""Widgets, item models and the main window. The only package that builds widgets."""
