"""The demo distributor: a realistic company loaded into the hub through the ingest pipeline.

It sells industrial MRO, electrical, safety, janitorial and food-service products in the US,
Canada, the UK, Germany, France and the Netherlands. Five systems (ERP, CRM, WMS, web shop, EDI)
send their own versions of the same customers, items, locations and prices, with the variations
real systems have. Most duplicates share a strong identifier and link exactly; some share none
and are left for fuzzy matching. Every value is valid (check digits, phone numbers).

The data depend only on the seed and the sizes, never on the clock, so loading them again sends
the same records and every one comes back "unchanged". ``payloads.build_payloads`` makes them
(``world*`` draws the world, ``customers``, ``items``, ``locations`` and ``prices`` each system's
records of it); ``loader`` sends them.
"""
