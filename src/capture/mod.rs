//! Recording and replaying AMI streams (`switchboard record` / `replay`).

pub mod format;
pub mod headless;
pub mod record;
pub mod replay;

pub use format::{Capture, CaptureError, CaptureWriter};
pub use replay::Replay;
