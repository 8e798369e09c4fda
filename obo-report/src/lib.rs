//! Report model and renderers for obo-conformance.

pub mod model;

pub use model::*;
