"""Core: errors, clock, text normalisation, signals shared by every layer."""
