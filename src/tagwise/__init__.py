"""tagwise: tag suggestions for a catalogue of machine-learning projects."""

__version__ = "0.1.0"
