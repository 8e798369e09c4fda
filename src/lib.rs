
pub mod jose;
pub mod forge;
pub mod redact;
