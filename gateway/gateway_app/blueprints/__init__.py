"""One blueprint per area of API.md."""
