//! Helpers shared by the sweep and Slurm tests.

use std::path::{Path, PathBuf};

use dryfilm_sim::scenario::raw::RawScenario;

/// A fresh, empty temporary folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dryfilm-{name}-{}", std::process::id()));
    if d.exists() {
        std::fs::remove_dir_all(&d).expect("remove an old temp folder");
    }
    std::fs::create_dir_all(&d).expect("create a temp folder");
    d
}

/// Writes a base scenario (defaults) as `base.ron` and the sweep file `sweep.ron` with the
/// given body (the text between the outer parentheses) into `dir`; returns the sweep path.
pub fn write_sweep(dir: &Path, body: &str) -> PathBuf {
    let base = ron::ser::to_string_pretty(&RawScenario::default(), Default::default())
        .expect("default scenario serializes");
    std::fs::write(dir.join("base.ron"), base).expect("write base");
    let p = dir.join("sweep.ron");
    std::fs::write(&p, format!("(\n    base: \"base.ron\",\n{body}\n)\n")).expect("write sweep");
    p
}

/// Every file under `dir` (relative path → bytes), skipping `logs/`.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(d)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            if rel == "logs" || rel.ends_with("sweep.sbatch") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).expect("read file"));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A JSON document with the run-record fields (`wall_seconds`, `stage_wall_seconds`,
/// `peak_memory_mb`, `threads`) removed at every level.
fn without_timing(bytes: &[u8]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for key in [
                    "wall_seconds",
                    "stage_wall_seconds",
                    "peak_memory_mb",
                    "threads",
                ] {
                    m.remove(key);
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).expect("JSON file");
    strip(&mut v);
    v
}

/// Asserts two sweep folders hold the same files: the same bytes, except run-record fields (wall
/// times, threads, peak memory) in JSON files.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let ka: Vec<&String> = ta.keys().collect();
    let kb: Vec<&String> = tb.keys().collect();
    assert_eq!(ka, kb, "file lists differ");
    for (k, v) in &ta {
        // Run records (wall times, thread count, peak memory) legitimately differ between two real
        // runs: JSON files are compared with those fields removed, everything else byte for byte.
        if k.ends_with(".json") {
            assert_eq!(
                without_timing(v),
                without_timing(&tb[k]),
                "{k} differs (beyond timing fields) between {} and {}",
                a.display(),
                b.display()
            );
            continue;
        }
        assert!(
            v == &tb[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Reads a CSV written by the sweep (header, rows).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    dryfilm_sim::sweep::table::read_csv(path).expect("read csv")
}
