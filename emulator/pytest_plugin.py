"""The pytest plugin (entry point `convex_py`): the `convex` fixture arrives with time travel."""
