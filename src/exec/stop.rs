//! Why a case stops before its last step, and the one conversion of each error into it.

use super::control::ControlError;
use super::session::TransportError;

/// Why a case stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The case does not apply to the target (a capability or profile value it lacks).
    Skip(String),
    /// The harness could not drive or observe the target.
    Error(String),
}

/// The result of driving one step, or part of one.
pub(crate) type Flow<T = ()> = Result<T, Stop>;

/// Transport trouble stops the case in error (the harness could not drive the target), never
/// in fail.
impl From<TransportError> for Stop {
    fn from(e: TransportError) -> Stop {
        Stop::Error(e.to_string())
    }
}

/// A control operation the adapter lacks makes the case a skip; any other control failure is
/// the harness's trouble.
impl From<ControlError> for Stop {
    fn from(e: ControlError) -> Stop {
        match e {
            ControlError::Unavailable(_) => Stop::Skip(e.to_string()),
            _ => Stop::Error(e.to_string()),
        }
    }
}
