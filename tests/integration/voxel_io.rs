//! Volume I/O: TIFF stack and .npy round trips, raw files, conversions, and bad files; plus the
//! `dryfilm conductivity` command line on a written volume.

use dryfilm_sim::solvers::voxel::Volume;
use dryfilm_sim::volume_io::{
    read_volume, write_npy, write_raw, write_tiff_stack, ReadOptions, VolumeIoError,
};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dryfilm_voxel_io_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn sample() -> Volume {
    let dims = [3, 4, 5];
    let data = (0..60u32).map(|i| ((i * 7) % 3) as u8).collect();
    Volume {
        dims,
        data,
        voxel_size: 1.0,
    }
}

/// A .npy file with the given dtype string, shape text and payload.
fn npy_bytes(descr: &str, fortran: bool, shape: &str, payload: &[u8], major: u8) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
    let pre = if major == 1 { 10 } else { 12 };
    while (pre + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.push(major);
    out.push(0);
    if major == 1 {
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(payload);
    out
}

#[test]
fn npy_and_tiff_round_trip() {
    let v = sample();
    type Writer = fn(&Volume, &Path) -> Result<(), VolumeIoError>;
    for (name, write) in [
        ("rt.npy", write_npy as Writer),
        ("rt.tif", write_tiff_stack),
    ] {
        let p = tmp(name);
        write(&v, &p).expect("write");
        let back = read_volume(&p, &ReadOptions::default()).expect("read");
        assert_eq!(back.volume, v, "{name}");
        assert!(!back.converted, "{name}");
    }
    let bytes = std::fs::read(tmp("rt.npy")).expect("read bytes");
    assert_eq!(
        (bytes.len() - 60) % 64,
        0,
        "header must be padded to 64 bytes"
    );
}

#[test]
fn raw_needs_matching_dims() {
    let v = sample();
    let p = tmp("rt.raw");
    write_raw(&v, &p).expect("write");
    let back = read_volume(
        &p,
        &ReadOptions {
            dims: Some([3, 4, 5]),
            phase: None,
        },
    )
    .expect("read");
    assert_eq!(back.volume, v);
    let e = read_volume(
        &p,
        &ReadOptions {
            dims: Some([3, 4, 6]),
            phase: None,
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            VolumeIoError::DimsMismatch {
                need: 72,
                found: 60,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("rt.raw"));
    let e = read_volume(&p, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("--dims"), "{e}");
}

#[test]
fn npy_other_dtypes_are_converted() {
    let vals: [f32; 4] = [0.0, 2.5, 0.0, 7.0];
    let payload: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = tmp("f4.npy");
    std::fs::write(&p, npy_bytes("<f4", false, "(1, 2, 2)", &payload, 2)).expect("write");
    let r = read_volume(&p, &ReadOptions::default()).expect("read");
    assert!(r.converted);
    assert_eq!(r.volume.data, vec![0, 1, 0, 1]);
    let r = read_volume(
        &p,
        &ReadOptions {
            dims: None,
            phase: Some(7.0),
        },
    )
    .expect("read");
    assert_eq!(r.volume.data, vec![0, 0, 0, 1]);
    let u2: Vec<u8> = [3u16, 0, 1, 3]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&p, npy_bytes("<u2", false, "(2, 2)", &u2, 1)).expect("write");
    let r = read_volume(
        &p,
        &ReadOptions {
            dims: None,
            phase: Some(3.0),
        },
    )
    .expect("read");
    assert_eq!(r.volume.dims, [1, 2, 2]);
    assert_eq!(r.volume.data, vec![1, 0, 0, 1]);
}

#[test]
fn bad_npy_files_are_refused_with_reasons() {
    let p = tmp("bad.npy");
    std::fs::write(&p, npy_bytes("|u1", true, "(2, 2, 2)", &[0; 8], 1)).expect("write");
    let e = read_volume(&p, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("Fortran"), "{e}");
    std::fs::write(&p, npy_bytes("|u1", false, "(2, 2, 2)", &[0; 5], 1)).expect("write");
    let e = read_volume(&p, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, VolumeIoError::DimsMismatch { .. }), "{e}");
    std::fs::write(&p, npy_bytes(">u2", false, "(2, 2, 2)", &[0; 16], 1)).expect("write");
    let e = read_volume(&p, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains(">u2"), "{e}");
    std::fs::write(&p, b"\x93NUMPY\x01\x00\xff\x00{'descr'").expect("write");
    let e = read_volume(&p, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    assert!(e.to_string().contains("bad.npy"), "{e}");
}

#[test]
fn bad_tiff_is_refused() {
    let p = tmp("bad.tif");
    std::fs::write(&p, b"II*\0garbage").expect("write");
    let e = read_volume(&p, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("bad.tif"), "{e}");
    let missing = tmp("does_not_exist.tif");
    assert!(matches!(
        read_volume(&missing, &ReadOptions::default()),
        Err(VolumeIoError::Io { .. })
    ));
}

#[test]
fn cli_reports_json_and_non_percolation() {
    // Straight channels: D = 0.5 along z; blocked along y by an empty plane.
    let mut v = Volume::filled([8, 6, 4], 0, 1.0);
    for (i, x) in v.data.iter_mut().enumerate() {
        *x = u8::from(i % 2 == 0);
    }
    let p = tmp("cli.npy");
    write_npy(&v, &p).expect("write");
    let out = crate::support::cli::dryfilm_ok([
        "conductivity".as_ref(),
        "--volume".as_ref(),
        p.as_os_str(),
        "--json".as_ref(),
        "--tol".as_ref(),
        "1e-10".as_ref(),
    ]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!((j["d_eff"].as_f64().expect("d_eff") - 0.5).abs() < 1e-9);
    assert_eq!(j["percolates"], serde_json::Value::Bool(true));
    // Along x (axis 2) the alternating columns do not connect.
    let out = crate::support::cli::dryfilm_ok([
        "conductivity".as_ref(),
        "--axis".as_ref(),
        "x".as_ref(),
        "--json".as_ref(),
        "--volume".as_ref(),
        p.as_os_str(),
    ]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["percolates"], serde_json::Value::Bool(false));
    assert!(j["tortuosity_factor"].is_null());
    // A missing file is an error naming the file, exit code non-zero.
    let out = crate::support::cli::dryfilm(["conductivity", "--volume", "/nonexistent/vol.npy"]);
    assert!(!out.status.success());
    assert!(crate::support::cli::stderr(&out).contains("/nonexistent/vol.npy"));
}
