DROP TABLE enforcement_items;
DROP TABLE inspections;
