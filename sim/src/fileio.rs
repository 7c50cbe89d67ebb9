//! File helpers shared by the readers and writers: gzip-transparent reading, CSV text, and the
//! file-system error (path and cause) that the snapshot, data-file, volume, render and sweep errors
//! wrap.

use std::io::Read;
use std::path::Path;

/// A file-system error with the path it concerns: shown as `path: cause`.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct FileError {
    /// The file or directory concerned, as displayed.
    pub path: String,
    /// The underlying error.
    pub source: std::io::Error,
}

/// A closure turning an I/O error into a [`FileError`] at `path` (for `map_err`), converted into
/// any error type that wraps it.
pub fn at<E: From<FileError>>(path: &Path) -> impl Fn(std::io::Error) -> E + Copy + '_ {
    move |source| {
        E::from(FileError {
            path: path.display().to_string(),
            source,
        })
    }
}

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

/// CSV text of `header` and `rows` (RFC 4180 quoting where a cell needs it, `\n` line ends).
pub fn csv_text(header: &[String], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>, r: &[String]| {
        w.write_record(r)
            .expect("writing CSV to memory cannot fail");
    };
    write(&mut w, header);
    for r in rows {
        write(&mut w, &r);
    }
    let bytes = w.into_inner().expect("flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}
