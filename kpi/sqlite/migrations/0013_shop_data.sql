-- When each shop's first records were stored (Unix seconds; NULL: none
-- yet, such as a shop registered whose first sync has stored nothing): an
-- answer shows such a shop as having no data yet, not as zero. The shops
-- that have records already count from now; shop_writes may not have them
-- (it began empty in 0009, and a shop imported once before has no row).
ALTER TABLE shop_writes ADD COLUMN data_at INTEGER;
INSERT INTO shop_writes (shop, written_at, data_at)
SELECT s.id, CAST(strftime('%s', 'now') AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER) FROM shops s
WHERE EXISTS (SELECT 1 FROM orders WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM shipments WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM returns WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM reviews WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM inventory WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM inbound WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM ads WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM customs WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM tickets WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM agent_shifts WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM listings WHERE shop = s.id)
   OR EXISTS (SELECT 1 FROM competitors WHERE shop = s.id)
ON CONFLICT (shop) DO UPDATE SET data_at = COALESCE(shop_writes.data_at, excluded.data_at);
