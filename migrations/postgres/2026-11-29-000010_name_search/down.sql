DROP INDEX IF EXISTS licences_holder_trgm;
DROP INDEX IF EXISTS organisations_legal_name_trgm;
