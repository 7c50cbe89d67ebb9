//! Reader for LAMMPS / LIGGGHTS data files with `atom_style sphere` (`id type diameter density x y z`
//! columns, optional image flags), plain or gzipped, so runs can start from exactly the same packing
//! as those codes.

use crate::fileio::FileError;
use std::path::Path;

/// A packing read from a data file (SI units as written in the file).
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// Box bounds `[lo, hi]` per axis, m.
    pub bounds: [[f64; 2]; 3],
    /// Atom ids in file order.
    pub ids: Vec<u64>,
    /// Atom types.
    pub types: Vec<u32>,
    /// Diameters, m.
    pub diameter: Vec<f64>,
    /// Densities, kg/m³.
    pub density: Vec<f64>,
    /// Positions, m.
    pub pos: Vec<[f64; 3]>,
}

/// Errors reading a data file.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    /// File-system error.
    #[error(transparent)]
    Io(#[from] FileError),
    /// Malformed content.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// Path.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Read a LAMMPS data file (gzipped when it starts with the gzip magic).
pub fn read_data_file(path: &Path) -> Result<DataFile, DataFileError> {
    let p = path.display().to_string();
    let bytes =
        crate::fileio::read_maybe_gzip(path).map_err(crate::fileio::at::<DataFileError>(path))?;
    let text = String::from_utf8(bytes).map_err(|_| DataFileError::Parse {
        path: p.clone(),
        line: 0,
        message: "not a text file".into(),
    })?;
    parse_data(&text, &p)
}

/// Parse the text of a data file; `origin` names it in errors.
pub fn parse_data(text: &str, origin: &str) -> Result<DataFile, DataFileError> {
    let err = |line: usize, message: String| DataFileError::Parse {
        path: origin.to_string(),
        line,
        message,
    };
    let mut natoms: Option<usize> = None;
    let mut bounds = [[f64::NAN; 2]; 3];
    let mut lines = text.lines().enumerate().skip(1); // first line is a comment
    let mut out = DataFile {
        bounds,
        ids: vec![],
        types: vec![],
        diameter: vec![],
        density: vec![],
        pos: vec![],
    };
    while let Some((ln, raw)) = lines.next() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        let num = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| err(ln + 1, format!("expected a number, found '{s}'")))
        };
        if toks.len() == 2 && toks[1] == "atoms" {
            natoms = Some(
                toks[0]
                    .parse()
                    .map_err(|_| err(ln + 1, format!("bad atom count '{}'", toks[0])))?,
            );
        } else if toks.len() == 4 && toks[2].ends_with("lo") && toks[3].ends_with("hi") {
            let ax = match toks[2] {
                "xlo" => 0,
                "ylo" => 1,
                "zlo" => 2,
                o => return Err(err(ln + 1, format!("unknown bounds keyword '{o}'"))),
            };
            bounds[ax] = [num(toks[0])?, num(toks[1])?];
        } else if toks[0] == "Atoms" {
            let n =
                natoms.ok_or_else(|| err(ln + 1, "Atoms section before the atom count".into()))?;
            let mut got = 0;
            while got < n {
                let (ln2, raw2) = lines
                    .next()
                    .ok_or_else(|| err(ln + 1, format!("file ends after {got} of {n} atoms")))?;
                let l2 = raw2.split('#').next().unwrap_or("").trim();
                if l2.is_empty() {
                    continue;
                }
                let t: Vec<&str> = l2.split_whitespace().collect();
                if t.len() < 7 {
                    return Err(err(
                        ln2 + 1,
                        format!(
                            "atom line needs 7 columns (id type diameter density x y z), found {}",
                            t.len()
                        ),
                    ));
                }
                let numl = |s: &str| {
                    s.parse::<f64>()
                        .map_err(|_| err(ln2 + 1, format!("expected a number, found '{s}'")))
                };
                out.ids.push(
                    t[0].parse()
                        .map_err(|_| err(ln2 + 1, format!("bad id '{}'", t[0])))?,
                );
                out.types.push(
                    t[1].parse()
                        .map_err(|_| err(ln2 + 1, format!("bad type '{}'", t[1])))?,
                );
                let d = numl(t[2])?;
                let rho = numl(t[3])?;
                if !(d > 0.0 && d.is_finite() && rho > 0.0 && rho.is_finite()) {
                    return Err(err(
                        ln2 + 1,
                        format!("diameter {d} and density {rho} must be positive and finite"),
                    ));
                }
                out.diameter.push(d);
                out.density.push(rho);
                out.pos.push([numl(t[4])?, numl(t[5])?, numl(t[6])?]);
                got += 1;
            }
        } else if toks[0] == "Velocities" {
            break;
        }
    }
    if natoms.is_none() || out.ids.is_empty() {
        return Err(err(
            0,
            "no atoms found (needs an 'N atoms' header and an Atoms section)".into(),
        ));
    }
    if bounds.iter().flatten().any(|b| !b.is_finite()) {
        return Err(err(
            0,
            "box bounds (xlo xhi, ylo yhi, zlo zhi) missing".into(),
        ));
    }
    out.bounds = bounds;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_minimal_file() {
        let t = "comment\n\n2 atoms\n1 atom types\n0 1e-4 xlo xhi\n0 1e-4 ylo yhi\n0 2e-4 zlo zhi\n\nAtoms # sphere\n\n1 1 5e-6 2200 1e-5 1e-5 1e-5\n2 1 4e-6 2200 3e-5 1e-5 1e-5 0 0 0\n";
        let d = parse_data(t, "mem").unwrap();
        assert_eq!(d.ids, vec![1, 2]);
        assert_eq!(d.diameter[1], 4e-6);
        assert_eq!(d.bounds[2][1], 2e-4);
    }
    #[test]
    fn reports_short_file() {
        let t = "c\n3 atoms\n0 1 xlo xhi\n0 1 ylo yhi\n0 1 zlo zhi\nAtoms\n1 1 1 1 0 0 0\n";
        let e = parse_data(t, "mem").unwrap_err().to_string();
        assert!(e.contains("1 of 3 atoms"), "{e}");
    }
}
