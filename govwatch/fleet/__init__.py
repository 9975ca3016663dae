"""The fleet: `govwatch worker` processes on several machines over one PostgreSQL store,
crawling through procrastinate's job queue (jobs.py) with the crawl code `serve` runs
in-process (crawler/claimed.py), and the figures operators watch (figures.py)."""
