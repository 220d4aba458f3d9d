"""Publishing: at `scheduled_at` a durable job sends each target of a post through its
account's connector (connectors/: Bluesky), or hands it to the user's own publisher
(`post.due` webhook, result reported back), exactly once through restarts and crashes.
Also the accounts API, since removing an account asks which posts still need it."""
