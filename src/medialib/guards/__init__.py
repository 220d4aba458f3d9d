"""HTTP guards in front of the routes: body caps, rate limits, response headers."""
