"""A workspace's accounts on the networks: who a post is published as. Credentials are
sealed at rest (`sealing.py`), never returned, never logged, and checked when added."""
