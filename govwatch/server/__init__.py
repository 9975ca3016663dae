"""`govwatch serve`: the topic feeds, the notice and diff pages, and the crawl scheduler in
one process (govwatch.server.app)."""
