"""The account as a whole: a workspace's settings as they apply to its media (retention),
its API keys, its usage, and deleting it. Above the domains it reaches across."""
