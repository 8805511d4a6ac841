//! Typed record ids: where ids of two kinds travel together (`find_person(conn, org, person)`),
//! each has its own type, so a call with the arguments swapped does not compile. Stored as
//! text (UUIDs written as strings), like every id column.

/// Declares a record id type: a `String` newtype with `as_str`, `Display` and conversions.
macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }
    };
}

record_id!(
    /// An organisation's id.
    OrganisationId
);
record_id!(
    /// A person's id (a director or owner of an organisation).
    PersonId
);
record_id!(
    /// A site's id.
    SiteId
);
record_id!(
    /// An application's id.
    ApplicationId
);
record_id!(
    /// An invoice's id.
    InvoiceId
);
record_id!(
    /// A user's id (the actor of a change).
    UserId
);
record_id!(
    /// An enforcement item's id (a licence on the regulator's queue).
    EnforcementItemId
);
record_id!(
    /// A registered phone number or range's id.
    PhoneRangeId
);
record_id!(
    /// A registered IP range's id.
    IpRangeId
);
record_id!(
    /// A webhook endpoint's id.
    EndpointId
);
record_id!(
    /// A process's name on the webhook leases it takes (`lease_holder`): not a record's id.
    LeaseHolder
);
