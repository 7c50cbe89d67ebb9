//! The reference pellet is pressed quasi-statically through its whole thickness.
//!
//! `scenarios/pellet.ron` in a 30 × 30 µm column (its full ~400 µm of powder, so the die fill
//! the mixing stage leaves is as uneven through the height as the shipped pellet's: a dense top
//! half over a loose bottom one), without the tensile test and images: after pressing and release,
//! the solid fills every tenth of the thickness to within 10 % of the mean (voxel model, overlaps
//! counted once), the NPS contact network percolates through the thickness, the hold ended on its
//! force balance, not at its cap, and the peak pressure lies within 2 % of the pellet pressure.
//! (The inertial number is not checked: the compaction's rate rule keeps it at or under the cap
//! by construction.)
//! About 2 minutes on 2 cores.

use std::path::PathBuf;

use dryfilm_sim::pipeline::{run_to_dir, RunOptions};
use dryfilm_sim::scenario::load_str;

fn quiet(_: &str, _: f64) {}

#[test]
fn the_reference_pellet_is_pressed_through_its_whole_thickness() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("scenarios/pellet.ron")).expect("pellet.ron");
    let narrow = text
        .replace("lx_um: 60.0, ly_um: 60.0", "lx_um: 30.0, ly_um: 30.0")
        .replace(
            "    numerics:",
            "    properties: (tensile: false),\n    output: (images: false, exports: false),\n    numerics:",
        );
    assert!(
        narrow.contains("lx_um: 30.0") && narrow.contains("tensile: false"),
        "pellet.ron's domain or numerics line changed; update this test"
    );
    let loaded = load_str(&narrow, "pellet.ron").expect("valid scenario");
    let dir = std::env::temp_dir().join(format!("dryfilm-pellet-{}", std::process::id()));
    let opts = RunOptions {
        threads: 2,
        progress: &quiet,
        render: None,
    };
    let out = run_to_dir(&loaded, &dir, &opts).expect("run");
    let json = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(dir.join(name)).expect(name);
        serde_json::from_str(&text).expect(name)
    };
    let (voxel, summary) = (json("voxel_conductivity.json"), json("summary_pellet.json"));
    let _ = std::fs::remove_dir_all(&dir);
    let profile: Vec<f64> =
        serde_json::from_value(voxel["solid_fraction_profile"].clone()).expect("profile");
    let mean = profile.iter().sum::<f64>() / profile.len() as f64;
    eprintln!("pellet: solid fraction per tenth {profile:.3?}, mean {mean:.3}");
    assert_eq!(profile.len(), 10);
    for (k, f) in profile.iter().enumerate() {
        assert!(
            (f / mean - 1.0).abs() <= 0.10,
            "tenth {k} (from the bottom): solid fraction {f:.3} against the mean {mean:.3}"
        );
    }
    let r = &out.result;
    assert!(r.ion_percolates, "the pellet does not percolate: {r:?}");
    assert!(r.sigma_ion_s_cm > 0.0);
    assert!(
        !r.warnings.iter().any(|w| w.contains("hold")),
        "the hold stopped at its cap: {:?}",
        r.warnings
    );
    // Pressed to its pressure, not past it (the compaction ends on the wall's load at the step).
    let target = loaded.scenario.pellet.pressure * 1e-6;
    let peak = summary["peak_pressure_mpa"]
        .as_f64()
        .expect("peak pressure");
    assert!(
        peak >= 0.98 * target && peak <= 1.02 * target,
        "peak pressure {peak:.1} MPa against the pellet's {target:.1} MPa"
    );
}
