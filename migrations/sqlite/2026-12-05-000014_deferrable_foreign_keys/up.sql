-- Nothing to change: SQLite defers a transaction's foreign-key checks to its commit with
-- `PRAGMA defer_foreign_keys = ON`, which `ccreg copy` sets (PostgreSQL's migration 000014
-- makes its keys deferrable for the same purpose). Kept so both backends list the same versions.
SELECT 1;
