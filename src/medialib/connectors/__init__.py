"""How posts reach a network: one small Protocol (`base.Connector`) and one module per
network protocol, speaking it through `fetch/` (deadlines, SSRF rules, bounded answers).
Pure adapters: no database, no storage; the publisher (publishing/) hands them the files'
bytes and records what they answer."""
