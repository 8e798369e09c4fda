
pub mod jose;
pub mod forge;
pub mod redact;
pub mod html_form;
