//! Small helpers every folder may use and that use nothing of the crate: the one wall clock
//! (`clock`), the one task spawner (`tasks`), request ids (`ids`) and time formatting
//! (`time`).

pub mod clock;
pub(crate) mod ids;
pub mod tasks;
pub(crate) mod time;
