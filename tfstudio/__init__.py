"""tfstudio: sound event annotation, training and review."""

__version__ = "0.1.0"
