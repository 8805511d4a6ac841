//! Value types that parse themselves: once a value has its type, nobody checks it again.

pub mod email;
pub mod text;

pub use email::Email;
pub use text::Name;
