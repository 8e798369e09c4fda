//! Self-validation and inspection tools built on the library: the kill matrix (`selfcheck`), the
//! requirement × case matrix (`coverage`), model-based fuzzing (`fuzz`) and `explain`.
//! They expose functions and result types; the command line lives in the binary.

pub mod coverage;
pub mod explain;
// Both start in-process reference servers (fuzz: for built-in targets; selfcheck: always).
#[cfg(feature = "reference")]
pub mod fuzz;
#[cfg(feature = "reference")]
pub mod selfcheck;
