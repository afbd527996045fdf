-- #19: an item's English name (the en pages show it) and the other names
-- people use for it (俗称, older names, English search words), one per line;
-- search finds the item by any of them.
ALTER TABLE services ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN aliases TEXT NOT NULL DEFAULT '';
