//! 3D exports read back with independent Python readers (meshio for VTK; tifffile and numpy for
//! the voxel volume), compared with the run's own numbers. Needs `sh tools/install-test-deps.sh`;
//! without the Python packages these tests fail and say so.

use crate::support::render::*;
use dryfilm_sim::render::export;
use dryfilm_sim::render::MapInputs;
use dryfilm_sim::snapshot::{FibrilState, Phase};
use dryfilm_sim::solvers::voxel::{self, voxelize};
use serde_json::Value;

/// Equal to within 4 ulp: the file holds shortest round-trip decimals, but numpy's text parser and
/// serde_json's default float parser are not correctly rounded in the last bit.
fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 4.0 * f64::EPSILON * w.abs(),
            "{what}[{k}]: {g} vs {w}"
        );
    }
}

/// Flatten a JSON number or nested array of numbers.
fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().expect("number")],
        other => panic!("not numeric: {other}"),
    }
}

/// The Python reader's view of the VTK file at `path`.
fn read_vtk(path: &std::path::Path) -> serde_json::Value {
    python_readback("readback.py", &[std::path::Path::new("vtk"), path])
}

/// The Python reader's view (as `kind`: vtk, tiff, npy) of the file named `name` among `written`.
fn read_back(written: &[std::path::PathBuf], name: &str, kind: &str) -> serde_json::Value {
    let path = written
        .iter()
        .find(|p| p.ends_with(name))
        .unwrap_or_else(|| panic!("{name} not written"));
    python_readback("readback.py", &[std::path::Path::new(kind), path])
}

#[test]
fn particles_vtk_reads_back_with_meshio() {
    let s = small_film();
    let n = s.particles.pos.len();
    let clusters: Vec<Option<u32>> = (0..n)
        .map(|i| {
            if s.particles.phase[i] == Phase::Ptfe {
                Some(3)
            } else {
                None
            }
        })
        .collect();
    let dir = scratch("export-particles");
    let path = dir.join("particles.vtk");
    export::write_file(&path, &export::particles_vtk(&s, &clusters)).expect("write");
    let r = read_vtk(&path);
    assert_eq!(r["n_points"].as_u64(), Some(n as u64));
    assert_eq!(r["cells"]["vertex"].as_u64(), Some(n as u64));
    let pts = flat(&r["points"]);
    let want: Vec<f64> = s.particles.pos.iter().flatten().copied().collect();
    assert_close(&pts, &want, "positions");
    assert_close(
        &flat(&r["point_data"]["radius"]),
        &s.particles.radius,
        "radius",
    );
    let phase = flat(&r["point_data"]["phase"]);
    let n_ptfe = s
        .particles
        .phase
        .iter()
        .filter(|p| **p == Phase::Ptfe)
        .count();
    assert_eq!(phase.iter().filter(|&&p| p == 1.0).count(), n_ptfe);
    assert_eq!(phase.iter().filter(|&&p| p == 0.0).count(), n - n_ptfe);
    let cid = flat(&r["point_data"]["cluster_id"]);
    let want_cid: Vec<f64> = clusters
        .iter()
        .map(|c| c.map(|v| v as f64).unwrap_or(-1.0))
        .collect();
    assert_eq!(cid, want_cid);
    // Stress: a symmetric 3×3 tensor per particle built from (xx, yy, zz, xy, xz, yz).
    let st = flat(&r["point_data"]["stress"]);
    assert_eq!(st.len(), 9 * n);
    for (i, t) in s.particles.stress.iter().enumerate() {
        let m = &st[9 * i..9 * i + 9];
        assert_eq!(
            m,
            &[t[0], t[3], t[4], t[3], t[1], t[5], t[4], t[5], t[2]],
            "particle {i}"
        );
    }
}

#[test]
fn fibrils_vtk_reads_back_with_meshio() {
    let mut s = small_film();
    // A fibril across the periodic x face: its end B is written at its minimum image.
    let a = add_particle(&mut s, [23.5, 4.0, 5.0], 0.4, Phase::Nps);
    let b = add_particle(&mut s, [0.5, 4.0, 5.0], 0.4, Phase::Nps);
    add_fibril(&mut s, a, [0.4, 0.0, 0.0], b, [-0.4, 0.0, 0.0], 80.0);
    let m = s.fibrils.len();
    let fc: Vec<Option<u32>> = (0..m)
        .map(|k| if k % 2 == 0 { Some(k as u32) } else { None })
        .collect();
    let dir = scratch("export-fibrils");
    let path = dir.join("fibrils.vtk");
    export::write_file(&path, &export::fibrils_vtk(&s, &fc)).expect("write");
    let r = read_vtk(&path);
    assert_eq!(r["n_points"].as_u64(), Some(2 * m as u64));
    assert_eq!(r["cells"]["line"].as_u64(), Some(m as u64));
    let pts = flat(&r["points"]);
    for (k, f) in s.fibrils.iter().enumerate() {
        let pa = s.anchor_world(&f.a);
        let pb = s.anchor_world(&f.b);
        let d = s.sim_box.delta(pb, pa);
        let got_len = {
            let q = &pts[6 * k..6 * k + 6];
            ((q[3] - q[0]).powi(2) + (q[4] - q[1]).powi(2) + (q[5] - q[2]).powi(2)).sqrt()
        };
        let want_len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        assert!(
            (got_len - want_len).abs() <= 1e-12 * want_len,
            "fibril {k}: {got_len} vs {want_len}"
        );
        assert_close(&pts[6 * k..6 * k + 3], &pa, &format!("end A of fibril {k}"));
    }
    let last = m - 1;
    assert!(
        (pts[6 * last + 3] - pts[6 * last]).abs() < 2e-6,
        "periodic fibril written at its minimum image"
    );
    let radius: Vec<f64> = s.fibrils.iter().map(|f| f.radius).collect();
    assert_close(&flat(&r["cell_data"]["radius"]), &radius, "fibril radius");
    let tension: Vec<f64> = s.fibrils.iter().map(|f| f.tension).collect();
    assert_close(
        &flat(&r["cell_data"]["tension"]),
        &tension,
        "fibril tension",
    );
    let state = flat(&r["cell_data"]["state"]);
    let broken = s
        .fibrils
        .iter()
        .filter(|f| f.state == FibrilState::Broken)
        .count();
    assert_eq!(state.iter().filter(|&&v| v == 1.0).count(), broken);
    let cid = flat(&r["cell_data"]["cluster_id"]);
    assert_eq!(
        cid,
        fc.iter()
            .map(|c| c.map(|v| v as f64).unwrap_or(-1.0))
            .collect::<Vec<_>>()
    );
}

#[test]
fn volume_vtk_image_data_reads_back_with_meshio() {
    let dims = [5usize, 4, 3];
    // Phase code = (x + 2y + z) mod 3, x fastest.
    let mut data = Vec::new();
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                data.push(((x + 2 * y + z) % 3) as u8);
            }
        }
    }
    let h = 0.5e-6;
    let dir = scratch("export-volume-vtk");
    let path = dir.join("phase.vtk");
    let text = export::volume_vtk(dims, &data, h, [0.0, 0.0, 1e-6], "phase").expect("text");
    export::write_file(&path, &text).expect("write");
    let r = read_vtk(&path);
    assert_eq!(r["cells"]["hexahedron"].as_u64(), Some(60));
    assert_eq!(
        flat(&r["cell_data"]["phase"]),
        data.iter().map(|&v| v as f64).collect::<Vec<_>>()
    );
    let hi = flat(&r["bounds"][1]);
    let want = [5.0 * h, 4.0 * h, 1e-6 + 3.0 * h];
    for k in 0..3 {
        assert!((hi[k] - want[k]).abs() < 1e-15, "bounds {hi:?} vs {want:?}");
    }
    assert!(export::volume_vtk(dims, &data[1..], h, [0.0; 3], "x").is_err());
}

#[test]
fn default_exports_carry_cluster_ids() {
    let s = small_film();
    let m = MapInputs {
        fibril_cluster: vec![Some(1), Some(1), None],
        spanning_clusters: vec![1],
        ..Default::default()
    };
    let dir = scratch("export-default");
    let written = export::write_default_exports(&s, Some(&m), 0.5e-6, &dir).expect("exports");
    let r = read_back(&written, "fibrils.vtk", "vtk");
    assert_eq!(flat(&r["cell_data"]["cluster_id"]), vec![1.0, 1.0, -1.0]);
}

/// The small test film and its voxel volume at voxel edge `h`, m.
fn small_film_volume(h: f64) -> (dryfilm_sim::snapshot::Snapshot, voxel::Volume) {
    let s = small_film();
    let vol = voxelize(&s, h).expect("voxelize");
    (s, vol)
}

#[test]
fn voxel_phase_volume_export_matches_the_voxelizer() {
    let h = 0.5e-6;
    let (s, vol) = small_film_volume(h);
    let dir = scratch("export-voxel");
    let written = export::write_default_exports(&s, None, h, &dir).expect("exports");
    let r = read_back(&written, "phase.vtk", "vtk");
    assert_eq!(r["cells"]["hexahedron"].as_u64(), Some(vol.len() as u64));
    let [nz, ny, nx] = vol.dims;
    let want_hi = [
        nx as f64 * h,
        ny as f64 * h,
        s.sim_box.z_bottom + nz as f64 * h,
    ];
    let hi = flat(&r["bounds"][1]);
    for k in 0..3 {
        assert!(
            (hi[k] - want_hi[k]).abs() < 1e-12,
            "bounds {hi:?} vs {want_hi:?}"
        );
    }
    let counts = &r["cell_data_counts"]["phase"];
    let total = vol.len() as f64;
    for (code, name) in [
        (voxel::PORE, "pore"),
        (voxel::NPS, "NPS"),
        (voxel::PTFE, "PTFE"),
    ] {
        let n = counts[code.to_string()].as_u64().unwrap_or(0) as f64;
        assert_eq!(n / total, vol.fraction(code), "{name} fraction read back");
    }
    assert!(vol.fraction(voxel::NPS) > 0.05 && vol.fraction(voxel::PTFE) > 0.0);
    // Particle count read back from particles.vtk equals the snapshot's.
    let r = read_back(&written, "particles.vtk", "vtk");
    assert_eq!(r["n_points"].as_u64(), Some(s.particles.pos.len() as u64));
}

#[test]
fn voxel_volume_tiff_stack_and_npy_read_back() {
    let (s, vol) = small_film_volume(0.5e-6);
    let dir = scratch("export-voxel-tiff-npy");
    let written = export::write_volume_exports(&vol, s.sim_box.z_bottom, &dir).expect("exports");
    let total = vol.len() as f64;
    for (kind, name) in [("tiff", "phase.tif"), ("npy", "phase.npy")] {
        let r = read_back(&written, name, kind);
        let shape: Vec<u64> = r["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|v| v.as_u64().expect("dim"))
            .collect();
        assert_eq!(
            shape,
            vol.dims.iter().map(|&d| d as u64).collect::<Vec<_>>(),
            "{name} shape [nz, ny, nx]"
        );
        assert_eq!(r["dtype"].as_str(), Some("uint8"), "{name}");
        if kind == "tiff" {
            assert_eq!(
                r["pages"].as_u64(),
                Some(vol.dims[0] as u64),
                "one page per z layer"
            );
        }
        for code in [voxel::PORE, voxel::NPS, voxel::PTFE] {
            let n = r["counts"][code.to_string()].as_u64().unwrap_or(0) as f64;
            assert_eq!(
                n / total,
                vol.fraction(code),
                "{name}: fraction of phase {code}"
            );
        }
    }
}
