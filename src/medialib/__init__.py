"""medialib: upload media once, check it, prepare it for every network, reference it by id."""

__version__ = "0.1.0"
