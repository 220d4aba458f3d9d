"""Pure work on bytes and files: no database, storage or web imports here."""
