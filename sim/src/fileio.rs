//! File helpers shared by the readers: gzip-transparent reading.

use std::io::Read;
use std::path::Path;

/// The bytes of the file at `path`, decompressed when they start with the gzip magic (`1f 8b`).
pub fn read_maybe_gzip(path: &Path) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
    Ok(out)
}
