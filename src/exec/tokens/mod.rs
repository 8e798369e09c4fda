//! Actor tokens the harness presents: honest ones from the profile's token sources and
//! deliberate forgeries.

pub mod actor_token;
pub mod forge;
