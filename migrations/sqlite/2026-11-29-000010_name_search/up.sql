-- A trigram index of organisations' legal names, so `?legal_name=` (case-insensitive contains)
-- finds its candidates without reading every organisation. The list query still applies its
-- exact `lower(legal_name) LIKE` test to what the index proposes.
CREATE VIRTUAL TABLE organisation_names USING fts5(id UNINDEXED, legal_name, tokenize = 'trigram');

INSERT INTO organisation_names (id, legal_name) SELECT id, legal_name FROM organisations;

CREATE TRIGGER organisation_names_insert AFTER INSERT ON organisations BEGIN
    INSERT INTO organisation_names (id, legal_name) VALUES (new.id, new.legal_name);
END;

CREATE TRIGGER organisation_names_update AFTER UPDATE OF legal_name ON organisations
WHEN new.legal_name IS NOT old.legal_name BEGIN
    UPDATE organisation_names SET legal_name = new.legal_name WHERE id = old.id;
END;

CREATE TRIGGER organisation_names_delete AFTER DELETE ON organisations BEGIN
    DELETE FROM organisation_names WHERE id = old.id;
END;
