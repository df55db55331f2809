"""Department steps and all I/O. Workflows never import from here except activity names."""
