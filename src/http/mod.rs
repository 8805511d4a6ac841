//! Shared web parts every route uses: the JSON body extractor, pagination, ETag/If-Match,
//! Idempotency-Key, the fallback that turns unknown routes and methods into problems, the
//! request id and the access log.

pub mod access;
pub mod body;
pub mod etag;
pub mod fallback;
pub mod idempotency;
pub mod pagination;
pub mod public;
pub mod query;
pub mod request_id;
pub mod route;
pub mod shape;

pub use body::{ApiJson, BodyRules, JsonBytes, NoFields, OptionalJson, RawJson};
pub use etag::{etag, tagged, IfMatch};
pub use idempotency::IdempotencyKey;
pub use pagination::{Page, PageParams};
pub use query::Query;
