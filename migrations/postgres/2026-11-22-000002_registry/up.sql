CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    legal_name TEXT NOT NULL,
    trade_name TEXT,
    registration_number TEXT NOT NULL UNIQUE,
    tax_number TEXT NOT NULL UNIQUE,
    registered_address TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_owner ON organisations (owner_id);

CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    full_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    nationality TEXT NOT NULL,
    ownership_bp INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, id_type, id_number)
);

CREATE TABLE sites (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    city_key TEXT NOT NULL,
    seat_count INTEGER NOT NULL,
    services TEXT NOT NULL,
    markets TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sites_organisation ON sites (organisation_id);
CREATE INDEX sites_city ON sites (city_key);

-- Single numbers are ranges of one. Ranges never overlap (checked under the registry lock),
-- so the range holding a number is the one with the greatest first_number <= it.
CREATE TABLE phone_ranges (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    kind TEXT NOT NULL,
    first_number BIGINT NOT NULL UNIQUE,
    last_number BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (first_number <= last_number)
);
CREATE INDEX phone_ranges_site ON phone_ranges (site_id);

-- Bounds as 32 hex digits, which sort as the addresses do.
CREATE TABLE ip_ranges (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    cidr TEXT NOT NULL,
    family INTEGER NOT NULL,
    first_addr TEXT NOT NULL,
    last_addr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (family, first_addr)
);
CREATE INDEX ip_ranges_site ON ip_ranges (site_id);

-- Rows bumped at the start of a transaction to serialise one kind of write across processes.
CREATE TABLE registry_locks (
    name TEXT PRIMARY KEY NOT NULL,
    counter BIGINT NOT NULL
);
INSERT INTO registry_locks (name, counter) VALUES ('phone_ranges', 0), ('ip_ranges', 0);

-- Defence in depth on PostgreSQL: the database itself refuses overlapping number ranges.
ALTER TABLE phone_ranges ADD CONSTRAINT phone_ranges_no_overlap
    EXCLUDE USING gist (int8range(first_number, last_number, '[]') WITH &&);
