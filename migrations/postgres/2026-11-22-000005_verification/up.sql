-- Which licences cover which sites, indexed both ways (the JSON column is for display).
CREATE TABLE licence_sites (
    licence_number TEXT NOT NULL REFERENCES licences (licence_number),
    site_id TEXT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (licence_number, site_id)
);
CREATE INDEX licence_sites_site ON licence_sites (site_id);
INSERT INTO licence_sites (licence_number, site_id)
    SELECT licence_number, json_array_elements_text(site_ids::json) FROM licences;

CREATE TABLE verification_log (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    query_type TEXT NOT NULL,
    query TEXT NOT NULL,
    result TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX verification_log_client ON verification_log (client_id);
CREATE INDEX organisations_registration ON organisations (registration_number);
