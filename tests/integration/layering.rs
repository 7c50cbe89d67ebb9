//! The library's layering (`sim/src/lib.rs`): a module uses only modules of lower layers, so there
//! are no import cycles and no lower layer reaches up into a higher one. Checked on the source: every
//! `crate::<module>` path outside comments, in every file of a top-level module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer of every top-level module of `dryfilm_sim`, lowest first (the order in `lib.rs`).
const LAYERS: &[(&str, u32)] = &[
    ("fileio", 0),
    ("geom", 0),
    ("numerics", 0),
    ("par", 0),
    ("results", 0),
    ("scenario", 1),
    ("snapshot", 1),
    ("dem", 2),
    ("process", 3),
    ("solvers", 4),
    ("volume_io", 5),
    ("pipeline", 6),
    ("render", 7),
    ("sweep", 7),
    ("calibrate", 8),
];

fn files(p: &Path) -> Vec<PathBuf> {
    if p.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .unwrap()
            .flat_map(|e| files(&e.unwrap().path()))
            .collect();
        v.sort();
        v
    } else if p.extension().is_some_and(|e| e == "rs") {
        vec![p.to_path_buf()]
    } else {
        Vec::new()
    }
}

/// The `crate::<module>` references of a file, outside `//` comments.
fn uses(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push((no + 1, name));
            rest = tail;
        }
    }
    out
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/src");
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    // Every top-level module has a layer.
    for entry in std::fs::read_dir(&src).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if name != "lib" {
            assert!(
                layer.contains_key(name.as_str()),
                "module {name} has no layer"
            );
        }
    }
    let mut violations = Vec::new();
    for &(module, l) in LAYERS {
        let dir = src.join(module);
        let paths = if dir.is_dir() {
            files(&dir)
        } else {
            files(&src.join(format!("{module}.rs")))
        };
        assert!(!paths.is_empty(), "no source for {module}");
        for p in paths {
            for (line, used) in uses(&p) {
                if used == module {
                    continue;
                }
                match layer.get(used.as_str()) {
                    Some(&u) if u < l => {}
                    Some(&u) => violations.push(format!(
                        "{}:{line}: {module} (layer {l}) uses {used} (layer {u})",
                        p.strip_prefix(&src).unwrap().display()
                    )),
                    None => violations.push(format!(
                        "{}:{line}: unknown module crate::{used}",
                        p.display()
                    )),
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}
