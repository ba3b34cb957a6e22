"""Lambda handlers of the stack's custom resources, each one file that is its function's whole code asset."""
