-- Every foreign key becomes DEFERRABLE INITIALLY IMMEDIATE: checked at the end of each statement
-- as before, unless a transaction says `SET CONSTRAINTS ALL DEFERRED`. Only `ccreg copy` says
-- so, to insert a whole registry table by table (in any order, cycles included) and have the
-- keys checked at its commit.
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT conrelid::regclass AS tbl, conname
        FROM pg_constraint
        WHERE contype = 'f' AND connamespace = current_schema()::regnamespace AND NOT condeferrable
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER CONSTRAINT %I DEFERRABLE INITIALLY IMMEDIATE', fk.tbl, fk.conname);
    END LOOP;
END
$$;
