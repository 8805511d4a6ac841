-- Trigram indexes for the name filters (`?legal_name=`, `?holder=`: case-insensitive contains).
-- pg_trgm ships with PostgreSQL and is a trusted extension (13+), so a database owner may
-- create it; where it cannot be created the filters still work, by reading every row.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): name filters will read every row', SQLERRM;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX organisations_legal_name_trgm ON organisations USING gin (lower(legal_name) gin_trgm_ops);
        CREATE INDEX licences_holder_trgm ON licences USING gin (lower(holder) gin_trgm_ops);
    END IF;
END
$$;
