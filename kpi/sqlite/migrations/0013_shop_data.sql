-- When each shop's first records were stored (Unix seconds; NULL: none
-- yet, such as a shop registered whose first sync has stored nothing): an
-- answer shows such a shop as having no data yet, not as zero. Before this
-- column a shop's registration and its records were not told apart: every
-- shop written before counts as having data.
ALTER TABLE shop_writes ADD COLUMN data_at INTEGER;
UPDATE shop_writes SET data_at = written_at;
