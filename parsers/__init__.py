"""Site parsers: pure functions from a page's text to a `Page` record.

Importing the package registers every parser; `clean` is the one entry point.
"""

from govwatch.parsers import (  # noqa: F401  (register on import)
    generic,
    hanweb_jcms,
    hanweb_jpaas,
    qianjiang,
    sd_gongkai,
    textdump,
    tongling,
    trs_wcm,
)
from govwatch.parsers.clean import clean, clean_bytes
from govwatch.parsers.records import Attachment, ListingItem, Page

__all__ = ["Attachment", "ListingItem", "Page", "clean", "clean_bytes"]
