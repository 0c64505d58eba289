//! Small helpers every folder may use and that use nothing of the crate: request ids and
//! time formatting.

pub mod ids;
pub mod time;
