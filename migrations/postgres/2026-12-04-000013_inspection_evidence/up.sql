-- Inspection evidence (API.md §14): the photos the assigned inspector uploads to a visit,
-- before or with the record. Stored in the database itself, like the dossier's documents, so
-- every process sees them; never changed once stored.
CREATE TABLE inspection_evidence (
    id TEXT PRIMARY KEY NOT NULL,
    inspection_id TEXT NOT NULL REFERENCES inspections (id),
    description TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BYTEA NOT NULL,
    taken_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    CHECK (content_type IN ('image/png', 'image/jpeg'))
);
CREATE INDEX inspection_evidence_inspection ON inspection_evidence (inspection_id);
