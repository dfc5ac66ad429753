//! Recording and replaying AMI streams (`switchboard record` / `replay`).

pub mod format;
pub mod headless;
pub mod reader;
pub mod record;
pub mod replay;

pub use format::{Capture, CaptureError, CaptureWriter};
pub use reader::Reader;
pub use replay::{Replay, Speed, feed};

/// Opens the capture (or raw AMI stream) at `path` for streaming.
///
/// Errors: the file cannot be opened, or its header is malformed; both name
/// the file.
pub fn open(path: &std::path::Path) -> anyhow::Result<Reader<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read capture {}: {e}", path.display()))?;
    Reader::open(std::io::BufReader::new(file))
        .map_err(|e| anyhow::anyhow!("capture {}: {e}", path.display()))
}
