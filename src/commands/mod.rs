//! The binary's command layer: parsed arguments to library calls and output.
//! Private to the `switchboard` binary; the library knows nothing of clap.

pub(crate) mod campaign;
pub(crate) mod history;
pub(crate) mod services;
pub(crate) mod supervise;
