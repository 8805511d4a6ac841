//! Shared web parts every route uses: the JSON body extractor, pagination, ETag/If-Match,
//! Idempotency-Key, and the fallback that turns unknown routes and methods into problems.

pub mod body;
pub mod etag;
pub mod fallback;
pub mod idempotency;
pub mod pagination;

pub use body::{ApiJson, OptionalJson};
pub use etag::{etag, IfMatch};
pub use idempotency::IdempotencyKey;
pub use pagination::{Page, PageParams};
