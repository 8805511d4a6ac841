//! The tables, in column types both backends share (ids and JSON as Text, naive UTC times).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        full_name -> Text,
        role -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agency_clients (id) {
        id -> Text,
        name -> Text,
        agency -> Text,
        client_id -> Text,
        secret_hash -> Text,
        active -> Bool,
        version -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        clears -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        token_hash -> Text,
        user_id -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    revoked_access_tokens (jti) {
        jti -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    auth_failures (subject) {
        subject -> Text,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (scope, idem_key) {
        scope -> Text,
        idem_key -> Text,
        request_hash -> Text,
        body -> Text,
        location -> Text,
        resource_version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        summary -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    portal_sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(portal_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    agency_clients,
    refresh_tokens,
    revoked_access_tokens,
    auth_failures,
    idempotency_keys,
    audit_log,
    audit_head,
    portal_sessions,
);

diesel::table! {
    organisations (id) {
        id -> Text,
        owner_id -> Text,
        legal_name -> Text,
        trade_name -> Nullable<Text>,
        registration_number -> Text,
        tax_number -> Text,
        registered_address -> Text,
        contact_email -> Text,
        contact_phone -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    people (id) {
        id -> Text,
        organisation_id -> Text,
        full_name -> Text,
        roles -> Text,
        id_type -> Text,
        id_number -> Text,
        nationality -> Text,
        ownership_bp -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sites (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        address -> Text,
        city_key -> Text,
        seat_count -> Integer,
        services -> Text,
        markets -> Text,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    phone_ranges (id) {
        id -> Text,
        site_id -> Text,
        kind -> Text,
        first_number -> BigInt,
        last_number -> BigInt,
        purpose -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ip_ranges (id) {
        id -> Text,
        site_id -> Text,
        cidr -> Text,
        family -> Integer,
        first_addr -> Text,
        last_addr -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    registry_locks (name) {
        name -> Text,
        counter -> BigInt,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        organisation_id -> Text,
        site_ids -> Text,
        category -> Text,
        term_months -> Integer,
        renewal_of -> Nullable<Text>,
        status -> Text,
        history -> Text,
        licence_number -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        invoice_id -> Nullable<Text>,
    }
}

diesel::table! {
    licences (licence_number) {
        licence_number -> Text,
        organisation_id -> Text,
        application_id -> Text,
        holder -> Text,
        site_ids -> Text,
        category -> Text,
        status -> Text,
        issued_at -> Timestamp,
        valid_from -> Timestamp,
        expires_at -> Timestamp,
        suspended_until -> Nullable<Text>,
        conditions -> Text,
        history -> Text,
        version -> BigInt,
        updated_at -> Timestamp,
        provisional_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    licence_events (seq) {
        seq -> BigInt,
        event_type -> Text,
        licence_number -> Text,
        status -> Text,
        expires_at -> Timestamp,
        at -> Timestamp,
        provisional_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    inspections (id) {
        id -> Text,
        site_id -> Text,
        inspector_id -> Text,
        created_by -> Text,
        kind -> Text,
        scheduled_for -> Timestamp,
        status -> Text,
        visited_at -> Nullable<Timestamp>,
        seats_declared -> Nullable<Integer>,
        seats_observed -> Nullable<Integer>,
        staff_present -> Nullable<Integer>,
        foreign_nationals_present -> Nullable<Integer>,
        findings -> Text,
        outcome -> Nullable<Text>,
        notes -> Nullable<Text>,
        evidence -> Text,
        cancel_reason -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inspection_evidence (id) {
        id -> Text,
        inspection_id -> Text,
        description -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        content -> Binary,
        taken_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    enforcement_items (id) {
        id -> Text,
        licence_number -> Text,
        site_id -> Text,
        inspection_id -> Nullable<Text>,
        status -> Text,
        raised_because -> Text,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        cause -> Text,
        violation_id -> Nullable<Text>,
    }
}

diesel::table! {
    licence_sites (licence_number, site_id) {
        licence_number -> Text,
        site_id -> Text,
    }
}

diesel::table! {
    verification_log_batches (first_id) {
        first_id -> Text,
        last_id -> Text,
        first_at -> Timestamp,
        last_at -> Timestamp,
        entries -> Integer,
        clients -> Text,
        results -> Text,
        body -> Text,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        organisation_id -> Text,
        kind -> Text,
        person_id -> Nullable<Text>,
        site_id -> Nullable<Text>,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        content -> Binary,
        uploaded_at -> Timestamp,
        uploaded_by -> Text,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        application_id -> Text,
        organisation_id -> Text,
        status -> Text,
        currency -> Text,
        lines -> Text,
        total_minor -> BigInt,
        paid_minor -> BigInt,
        issued_at -> Timestamp,
        due_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        invoice_id -> Text,
        amount_minor -> BigInt,
        paid_at -> Timestamp,
        channel -> Text,
        reference -> Text,
        receipt_document_id -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    clearances (id) {
        id -> Text,
        application_id -> Text,
        organisation_id -> Text,
        agency -> Text,
        status -> Text,
        requested_at -> Timestamp,
        due_by -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        reference -> Nullable<Text>,
        reason -> Nullable<Text>,
        version -> BigInt,
    }
}

diesel::table! {
    violations (id) {
        id -> Text,
        inspection_id -> Text,
        site_id -> Text,
        organisation_id -> Text,
        licence_number -> Nullable<Text>,
        code -> Text,
        severity -> Text,
        description -> Text,
        due_by -> Nullable<Date>,
        status -> Text,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
        resolution -> Nullable<Text>,
        queued_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    barred_persons (id) {
        id -> Text,
        person_id -> Text,
        id_type -> Text,
        id_number -> Text,
        full_name -> Text,
        licence_number -> Text,
        organisation_id -> Text,
        barred_at -> Timestamp,
        barred_until -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        number -> Text,
        site_id -> Nullable<Text>,
        called_at -> Timestamp,
        category -> Text,
        description -> Text,
        contact -> Nullable<Text>,
        status -> Text,
        triage_reason -> Nullable<Text>,
        triaged_by -> Nullable<Text>,
        triaged_at -> Nullable<Timestamp>,
        inspection_id -> Nullable<Text>,
        version -> BigInt,
        received_at -> Timestamp,
    }
}

diesel::table! {
    report_alerts (licence_number) {
        licence_number -> Text,
        site_id -> Text,
        enforcement_item_id -> Text,
        raised_at -> Timestamp,
    }
}

diesel::joinable!(applications -> organisations (organisation_id));
diesel::joinable!(licences -> organisations (organisation_id));
diesel::joinable!(people -> organisations (organisation_id));
diesel::joinable!(sites -> organisations (organisation_id));
diesel::joinable!(phone_ranges -> sites (site_id));
diesel::joinable!(ip_ranges -> sites (site_id));
diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    people,
    sites,
    phone_ranges,
    ip_ranges,
    registry_locks,
    users,
    applications,
    licences,
    licence_events,
    inspections,
    inspection_evidence,
    enforcement_items,
    licence_sites,
    verification_log_batches,
    documents,
    invoices,
    payments,
    clearances,
    violations,
    barred_persons,
    reports,
    report_alerts,
);

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        owner_id -> Text,
        url -> Text,
        events -> Text,
        secret_sealed -> Text,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        position -> BigInt,
        last_delivered_seq -> Nullable<BigInt>,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        lease_holder -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        message_id -> Text,
        event_seq -> BigInt,
        event_type -> Text,
        attempt -> Integer,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        outcome -> Text,
        error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        duration_ms -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, webhook_deliveries);
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, registry_locks);
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, users);
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, agency_clients);
