
pub mod jose;
pub mod forge;
