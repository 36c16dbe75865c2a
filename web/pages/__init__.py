"""Server-rendered pages of the core shell."""
