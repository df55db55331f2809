"""Process plumbing shared by the worker and the CLI: settings, logging, keys, Temporal client."""
