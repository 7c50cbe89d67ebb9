//! Voxel volume readers and writers: multi-page TIFF stacks, NumPy `.npy`, raw bytes.
//!
//! Layout everywhere: C order `(n0, n1, n2)`, axis 0 = TIFF page index ("z"), axis 1 = image
//! row, axis 2 = image column. What is read:
//! - TIFF: every page, greyscale, all of one size; samples u8 (kept as labels), u16/u32/i8/i16/
//!   i32/f32/f64 (converted to labels, see [`ReadOptions::phase`]).
//! - `.npy` (format versions 1, 2 and 3): `|u1` and `|b1` kept as labels; `<u2`, `<f4`, `<f8`
//!   converted. 3-D arrays (a 2-D array is one page); Fortran order and big-endian data are
//!   refused.
//! - raw: `n0·n1·n2` bytes of u8 labels; the dims must be given.
//!
//! Conversion of non-u8 data: with `phase = Some(v)` a voxel is 1 where the value equals `v` and 0
//! elsewhere; without, every nonzero value is 1 (a binary segmentation).
//!
//! Writers: [`write_tiff_stack`] (uint8, one page per axis-0 index, uncompressed) and
//! [`write_npy`] (`|u1`, version 1). Files carry no voxel size: volumes read back get 1.0.

use crate::fileio::FileError;
use crate::solvers::voxel::Volume;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// Errors reading or writing volumes; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum VolumeIoError {
    /// File-system error.
    #[error(transparent)]
    Io(#[from] FileError),
    /// The content is not a valid file of the expected format (bad magic, header, truncation).
    #[error("{path}: {message}")]
    Format {
        /// File path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Valid file, but a layout or sample type this reader does not handle.
    #[error("{path}: unsupported: {message}")]
    Unsupported {
        /// File path.
        path: String,
        /// What is not supported.
        message: String,
    },
    /// The data size does not match the dims.
    #[error("{path}: dims {dims:?} need {need} voxels but the file holds {found}")]
    DimsMismatch {
        /// File path.
        path: String,
        /// Dims given or declared.
        dims: [usize; 3],
        /// Voxels needed.
        need: usize,
        /// Voxels present.
        found: usize,
    },
}

/// Options of [`read_volume`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReadOptions {
    /// Dims of a raw file (required for raw, ignored otherwise).
    pub dims: Option<[usize; 3]>,
    /// Value that becomes label 1 when converting non-u8 data (others become 0); `None`: nonzero
    /// values become 1.
    pub phase: Option<f64>,
}

/// A volume as read, and whether its values were converted to 0/1 labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedVolume {
    /// The labels.
    pub volume: Volume,
    /// True if the file held non-u8 samples that were converted (the conducting label is then 1).
    pub converted: bool,
}

impl LoadedVolume {
    /// Labels `data` of a volume of `dims` voxels with voxel size 1 (the files carry none; the
    /// caller sets it), `converted` as read.
    fn unit_voxels(dims: [usize; 3], data: Vec<u8>, converted: bool) -> Self {
        LoadedVolume {
            volume: Volume {
                dims,
                data,
                voxel_size: 1.0,
            },
            converted,
        }
    }
}

/// File formats this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeFormat {
    /// Multi-page TIFF.
    Tiff,
    /// NumPy `.npy`.
    Npy,
    /// Raw u8 bytes.
    Raw,
}

/// Guess the format from the magic bytes, then the extension (anything else is raw).
pub fn detect_format(path: &Path, head: &[u8]) -> VolumeFormat {
    if head.starts_with(b"\x93NUMPY") {
        return VolumeFormat::Npy;
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") || head.starts_with(b"II+\0") {
        return VolumeFormat::Tiff;
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("tif" | "tiff") => VolumeFormat::Tiff,
        Some("npy") => VolumeFormat::Npy,
        _ => VolumeFormat::Raw,
    }
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

fn convert<T: Copy + Into<f64>>(values: &[T], phase: Option<f64>) -> Vec<u8> {
    match phase {
        Some(v) => values.iter().map(|&x| u8::from(x.into() == v)).collect(),
        None => values.iter().map(|&x| u8::from(x.into() != 0.0)).collect(),
    }
}

/// Read a volume from a TIFF stack, `.npy` or raw file (format from magic bytes and extension).
pub fn read_volume(path: &Path, opts: &ReadOptions) -> Result<LoadedVolume, VolumeIoError> {
    let bytes = std::fs::read(path).map_err(crate::fileio::at::<VolumeIoError>(path))?;
    match detect_format(path, &bytes[..bytes.len().min(8)]) {
        VolumeFormat::Npy => parse_npy(path, &bytes, opts.phase),
        VolumeFormat::Tiff => parse_tiff(path, bytes, opts.phase),
        VolumeFormat::Raw => {
            let dims = opts.dims.ok_or_else(|| VolumeIoError::Format {
                path: name(path),
                message: "not a TIFF or .npy file; give --dims n0,n1,n2 to read it as raw uint8"
                    .into(),
            })?;
            let need = dims
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .unwrap_or(usize::MAX);
            if need != bytes.len() {
                return Err(VolumeIoError::DimsMismatch {
                    path: name(path),
                    dims,
                    need,
                    found: bytes.len(),
                });
            }
            Ok(LoadedVolume {
                volume: Volume {
                    dims,
                    data: bytes,
                    voxel_size: 1.0,
                },
                converted: false,
            })
        }
    }
}

/// Parse the bytes of a `.npy` file.
pub fn parse_npy(
    path: &Path,
    bytes: &[u8],
    phase: Option<f64>,
) -> Result<LoadedVolume, VolumeIoError> {
    let fmt = |m: String| VolumeIoError::Format {
        path: name(path),
        message: m,
    };
    let unsup = |m: String| VolumeIoError::Unsupported {
        path: name(path),
        message: m,
    };
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err(fmt(
            "bad magic: not a .npy file (expected \\x93NUMPY)".into()
        ));
    }
    if bytes.len() < 10 {
        return Err(fmt("truncated .npy header".into()));
    }
    let major = bytes[6];
    let (hlen, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(fmt("truncated .npy header".into()));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(unsup(format!(
                ".npy format version {v} (1, 2 or 3 are read)"
            )))
        }
    };
    let end = start.checked_add(hlen).filter(|&e| e <= bytes.len());
    let end = end.ok_or_else(|| fmt("truncated .npy header".into()))?;
    let header = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| fmt(".npy header is not text".into()))?;
    let descr = dict_value(header, "descr")
        .ok_or_else(|| fmt(format!("no 'descr' in header {header:?}")))?;
    let descr = descr
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .to_string();
    let fortran = dict_value(header, "fortran_order")
        .ok_or_else(|| fmt(format!("no 'fortran_order' in header {header:?}")))?;
    if fortran.trim() == "True" {
        return Err(unsup(
            "Fortran-order array; save it in C order (numpy.ascontiguousarray) and retry".into(),
        ));
    }
    let shape = dict_value(header, "shape")
        .ok_or_else(|| fmt(format!("no 'shape' in header {header:?}")))?;
    let shape: Vec<usize> = shape
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| fmt(format!("bad shape in header {header:?}")))?;
    let dims = match shape.as_slice() {
        [a, b, c] => [*a, *b, *c],
        [b, c] => [1, *b, *c],
        s => return Err(unsup(format!("{}-D array (3-D volumes are read)", s.len()))),
    };
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let count = count.ok_or_else(|| fmt(format!("shape {dims:?} overflows")))?;
    let item = match descr.as_str() {
        "|u1" | "u1" | "|b1" | "b1" | "?" => 1,
        "<u2" => 2,
        "<f4" => 4,
        "<f8" => 8,
        d => {
            return Err(unsup(format!(
                "dtype '{d}' (read: '|u1', '|b1', '<u2', '<f4', '<f8'; big-endian is refused)"
            )))
        }
    };
    let body = &bytes[end..];
    let need = count.saturating_mul(item);
    if body.len() < need {
        return Err(VolumeIoError::DimsMismatch {
            path: name(path),
            dims,
            need: count,
            found: body.len() / item,
        });
    }
    let body = &body[..need];
    let (data, converted) = match item {
        1 => (body.to_vec(), false),
        2 => {
            let v: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            (convert(&v, phase), true)
        }
        4 => {
            let v: Vec<f32> = body
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (convert(&v, phase), true)
        }
        _ => {
            let v: Vec<f64> = body
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect();
            (convert(&v, phase), true)
        }
    };
    Ok(LoadedVolume::unit_voxels(dims, data, converted))
}

/// The text of `'key': value` in a Python dict literal (up to the next top-level comma).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let k1 = format!("'{key}'");
    let k2 = format!("\"{key}\"");
    let at = header
        .find(&k1)
        .map(|i| i + k1.len())
        .or_else(|| header.find(&k2).map(|i| i + k2.len()))?;
    let rest = header[at..].trim_start().strip_prefix(':')?;
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    Some(rest)
}

/// Decode a multi-page TIFF held in memory.
fn parse_tiff(
    path: &Path,
    bytes: Vec<u8>,
    phase: Option<f64>,
) -> Result<LoadedVolume, VolumeIoError> {
    use tiff::decoder::{Decoder, DecodingResult, Limits};
    let terr = |e: tiff::TiffError| match e {
        tiff::TiffError::UnsupportedError(u) => VolumeIoError::Unsupported {
            path: name(path),
            message: u.to_string(),
        },
        other => VolumeIoError::Format {
            path: name(path),
            message: format!("bad TIFF: {other}"),
        },
    };
    let mut dec = Decoder::new(std::io::Cursor::new(bytes))
        .map_err(terr)?
        .with_limits(Limits::unlimited());
    let mut data = Vec::new();
    let mut dims: Option<(u32, u32)> = None;
    let mut pages = 0usize;
    let mut converted = false;
    loop {
        let (w, h) = dec.dimensions().map_err(terr)?;
        if let Some(d) = dims {
            if d != (w, h) {
                return Err(VolumeIoError::Format {
                    path: name(path),
                    message: format!("page {pages} is {w}×{h} but page 0 is {}×{}", d.0, d.1),
                });
            }
        }
        dims = Some((w, h));
        let ct = dec.colortype().map_err(terr)?;
        if !matches!(ct, tiff::ColorType::Gray(_)) {
            return Err(VolumeIoError::Unsupported {
                path: name(path),
                message: format!("page {pages} has colour type {ct:?} (greyscale pages are read)"),
            });
        }
        let page = dec.read_image().map_err(terr)?;
        let wide = match (page, ct) {
            (DecodingResult::U8(v), tiff::ColorType::Gray(8)) => {
                data.extend_from_slice(&v);
                None
            }
            (DecodingResult::U16(v), _) => Some(convert(&v, phase)),
            (DecodingResult::U32(v), _) => Some(convert(&v, phase)),
            (DecodingResult::I8(v), _) => Some(convert(&v, phase)),
            (DecodingResult::I16(v), _) => Some(convert(&v, phase)),
            (DecodingResult::I32(v), _) => Some(convert(&v, phase)),
            (DecodingResult::F32(v), _) => Some(convert(&v, phase)),
            (DecodingResult::F64(v), _) => Some(convert(&v, phase)),
            (_, ct) => {
                return Err(VolumeIoError::Unsupported {
                    path: name(path),
                    message: format!("page {pages}: sample type {ct:?}"),
                })
            }
        };
        if let Some(v) = wide {
            converted = true;
            data.extend(v);
        }
        pages += 1;
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(terr)?;
    }
    let (w, h) = dims.unwrap_or((0, 0));
    let dims = [pages, h as usize, w as usize];
    if data.len() != pages * (h as usize) * (w as usize) {
        return Err(VolumeIoError::DimsMismatch {
            path: name(path),
            dims,
            need: pages * (h as usize) * (w as usize),
            found: data.len(),
        });
    }
    Ok(LoadedVolume::unit_voxels(dims, data, converted))
}

fn check_volume(vol: &Volume, path: &Path) -> Result<(), VolumeIoError> {
    if !vol.is_consistent() {
        let need = vol.dims.iter().fold(1usize, |a, &d| a.saturating_mul(d));
        return Err(VolumeIoError::DimsMismatch {
            path: name(path),
            dims: vol.dims,
            need,
            found: vol.data.len(),
        });
    }
    Ok(())
}

/// Write `vol` as an uncompressed uint8 multi-page TIFF: one `n2 × n1` greyscale page per index
/// of axis 0 (BigTIFF when the file would exceed 4 GiB).
pub fn write_tiff_stack(vol: &Volume, path: &Path) -> Result<(), VolumeIoError> {
    check_volume(vol, path)?;
    let [n0, n1, n2] = vol.dims;
    let (w, h) = match (u32::try_from(n2), u32::try_from(n1)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 && n0 > 0 => (w, h),
        _ => {
            return Err(VolumeIoError::Unsupported {
                path: name(path),
                message: format!("dims {:?} cannot be written as TIFF pages", vol.dims),
            })
        }
    };
    let io = crate::fileio::at::<VolumeIoError>(path);
    let terr = |e: tiff::TiffError| VolumeIoError::Format {
        path: name(path),
        message: e.to_string(),
    };
    let f = std::fs::File::create(path).map_err(io)?;
    let mut out = BufWriter::new(f);
    let plane = n1 * n2;
    let big = vol.data.len() as u64 + 4096 * n0 as u64 > u32::MAX as u64;
    if big {
        let mut enc = tiff::encoder::TiffEncoder::new_big(&mut out).map_err(terr)?;
        for page in vol.data.chunks(plane) {
            enc.write_image::<tiff::encoder::colortype::Gray8>(w, h, page)
                .map_err(terr)?;
        }
    } else {
        let mut enc = tiff::encoder::TiffEncoder::new(&mut out).map_err(terr)?;
        for page in vol.data.chunks(plane) {
            enc.write_image::<tiff::encoder::colortype::Gray8>(w, h, page)
                .map_err(terr)?;
        }
    }
    out.flush().map_err(io)
}

/// Write `vol` as a version-1 `.npy` file of dtype `|u1`, C order, shape `(n0, n1, n2)`.
pub fn write_npy(vol: &Volume, path: &Path) -> Result<(), VolumeIoError> {
    check_volume(vol, path)?;
    let io = crate::fileio::at::<VolumeIoError>(path);
    let [a, b, c] = vol.dims;
    let mut header =
        format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({a}, {b}, {c}), }}");
    // Pad with spaces so that magic (6) + version (2) + length (2) + header ends on 64 bytes.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let hlen = u16::try_from(header.len()).map_err(|_| VolumeIoError::Unsupported {
        path: name(path),
        message: "npy header too long".into(),
    })?;
    let f = std::fs::File::create(path).map_err(io)?;
    let mut out = BufWriter::new(f);
    out.write_all(b"\x93NUMPY\x01\x00").map_err(io)?;
    out.write_all(&hlen.to_le_bytes()).map_err(io)?;
    out.write_all(header.as_bytes()).map_err(io)?;
    out.write_all(&vol.data).map_err(io)?;
    out.flush().map_err(io)
}

/// Write the raw C-order bytes of `vol`.
pub fn write_raw(vol: &Volume, path: &Path) -> Result<(), VolumeIoError> {
    check_volume(vol, path)?;
    std::fs::write(path, &vol.data).map_err(crate::fileio::at::<VolumeIoError>(path))
}

/// Read up to `n` bytes from the start of a file (for format sniffing).
pub fn read_head(path: &Path, n: usize) -> Result<Vec<u8>, VolumeIoError> {
    let mut f = std::fs::File::open(path).map_err(crate::fileio::at::<VolumeIoError>(path))?;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = f
            .read(&mut buf[got..])
            .map_err(crate::fileio::at::<VolumeIoError>(path))?;
        if k == 0 {
            break;
        }
        got += k;
    }
    buf.truncate(got);
    Ok(buf)
}
