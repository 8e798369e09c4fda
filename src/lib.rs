
pub mod jose;
