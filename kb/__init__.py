"""kb: a searchable knowledge base of clinical articles."""

__version__ = "0.1.0"
