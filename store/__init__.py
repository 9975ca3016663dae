"""The versioned store: notices, every version of their pages, and what happened to them.

with Store.open("sqlite:///govwatch.db") as store:
    outcome = store.record_page(site_id, url, page, raw_html, run_id)
"""

from govwatch.store.rows import ErrorRow, EventRow, NoticeRow, Outcome, VersionRow
from govwatch.store.store import Store

__all__ = ["ErrorRow", "EventRow", "NoticeRow", "Outcome", "Store", "VersionRow"]
