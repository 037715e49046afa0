"""QObject workers and their threads. QtCore only: no widgets here."""
