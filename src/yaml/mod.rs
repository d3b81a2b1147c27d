//! YAML, in one place: splitting streams into documents, scalars and
//! quoting, the fast block parser and its arena tree, comment-preserving
//! edits, and the one serde-saphyr entry point.
//!
//! - [`parse`]: a file split into documents (`---`, `...`, a BOM), each
//!   parsed into a [`tree::Tree`] by the fast parser ([`fast`]) when the YAML
//!   is of the common block kind, else by serde-saphyr through the strict
//!   visitor (null fields dropped, duplicate keys recorded with their path);
//!   JSON by serde_json. A flow collection closed at its key's column is read
//!   as libyaml reads it ([`flow`]).
//! - [`resources`]: a parsed document as resources, `kind: List` and typed
//!   `…List`s expanded (the one Kubernetes notion here, shared by `validate`
//!   and the `repo` index).
//! - [`scalar`]: plain and quoted scalars, typed as serde-saphyr types them.
//! - [`edit`]: surgical edits of block YAML text that keep every comment.
//! - [`saphyr`]: serde-saphyr with one set of options (the depth and alias
//!   limits of [`crate::limits`]) for every other read of YAML.
//!
//! Apart from [`resources`] (which mapping is a resource, `List` expansion)
//! it does not know about Kubernetes: schemas and policies are `validate`'s
//! and `policy`'s.

pub(crate) mod edit;
pub(crate) mod fast;
pub(crate) mod flow;
pub(crate) mod parse;
pub(crate) mod resources;
pub mod saphyr;
pub(crate) mod scalar;
pub(crate) mod tree;

pub use saphyr::{manifest_values, to_string, typed, value, values, Error, WriteError};
