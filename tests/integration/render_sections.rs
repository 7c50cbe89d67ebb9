//! Cross-section images: sizes, scale bar, phase area fractions against the analytic
//! sphere/plane intersections, fibrils drawn where they cross, solver maps, stage sequence, GIF,
//! determinism and the `dryfilm render` command.

use crate::support::cli::{dryfilm, dryfilm_ok, stderr};
use crate::support::render::*;
use dryfilm_sim::render::figure::{self, INK};
use dryfilm_sim::render::image::{self, AnimationDecoder, RgbImage};
use dryfilm_sim::render::maps::{self, MapInputs, SolverMap};
use dryfilm_sim::render::raster::viridis;
use dryfilm_sim::render::{
    self, Plane, RenderOptions, SectionGeometry, SliceSpec, FIBRIL_COLOUR, NPS_SHADES, PORE_COLOUR,
    PTFE_COLOUR,
};
use dryfilm_sim::snapshot::{Phase, Snapshot};

fn spec(plane: Plane, fraction: f64) -> SliceSpec {
    SliceSpec { plane, fraction }
}

fn opts(ppu: f64) -> RenderOptions {
    let mut o = RenderOptions::from_fractions(ppu, &[0.5]);
    o.exports = false;
    o
}

fn panel(snap: &Snapshot, s: SliceSpec, ppu: f64) -> RgbImage {
    let g = SectionGeometry::new(snap, s, ppu);
    render::section_panel(snap, &g, 0.5)
}

#[test]
fn image_sizes_follow_box_and_resolution() {
    let snap = small_film(); // 24 × 16 × 10 µm
    for ppu in [1.0, 2.5, 4.0, 7.0] {
        for (plane, lu, lv) in [
            (Plane::Xz, 24.0, 10.0),
            (Plane::Yz, 16.0, 10.0),
            (Plane::Xy, 24.0, 16.0),
        ] {
            let fig = render::render_section(&snap, spec(plane, 0.5), &opts(ppu)).expect("render");
            let (pw, ph) = ((lu * ppu).round() as u32, (lv * ppu).round() as u32);
            assert_eq!(fig.panel_size, (pw, ph), "{plane:?} at {ppu} px/µm");
            let want_w = pw + figure::MARGIN_LEFT + figure::LEGEND_WIDTH;
            let want_h =
                ph.max(figure::MIN_PANEL_HEIGHT) + figure::MARGIN_TOP + figure::MARGIN_BOTTOM;
            assert_eq!(fig.image.dimensions(), (want_w, want_h));
            // The panel inside the figure is the bare section, pixel for pixel.
            let bare = panel(&snap, spec(plane, 0.5), ppu);
            let (ox, oy) = fig.panel_origin;
            for (x, y, p) in bare.enumerate_pixels() {
                assert_eq!(fig.image.get_pixel(ox + x, oy + y), p);
            }
        }
    }
}

#[test]
fn scale_bar_length_matches_resolution() {
    let snap = small_film();
    for ppu in [0.5, 1.0, 2.5, 4.0, 10.0, 13.7] {
        let fig = render::render_section(&snap, spec(Plane::Xz, 0.5), &opts(ppu)).expect("render");
        // Longest run of ink pixels in any row below the axis label and left of the legend
        // column: the bar.
        let (ox, oy) = fig.panel_origin;
        let (pw, ph) = fig.panel_size;
        let img = &fig.image;
        let mut longest = 0u32;
        for y in (oy + ph + 24)..img.height() {
            let mut run = 0;
            for x in 0..(ox + pw) {
                if img.get_pixel(x, y).0 == INK {
                    run += 1;
                    longest = longest.max(run);
                } else {
                    run = 0;
                }
            }
        }
        let expect = fig.scale_bar_um * ppu;
        assert!(
            (longest as f64 - expect).abs() <= 1.0,
            "bar {longest} px, expected {expect} at {ppu} px/µm"
        );
        // A 1-2-5 value no longer than 30% of the panel and not shorter than 12% of it.
        let panel_um = fig.panel_size.0 as f64 / ppu;
        assert!(fig.scale_bar_um <= 0.3 * panel_um + 1e-9 && fig.scale_bar_um >= 0.12 * panel_um);
        let mant = fig.scale_bar_um / 10f64.powf(fig.scale_bar_um.log10().floor());
        assert!(
            [1.0, 2.0, 5.0].iter().any(|m| (m - mant).abs() < 1e-9),
            "{}",
            fig.scale_bar_um
        );
    }
}

/// Spheres that do not overlap each other (also not in any slice) and stay inside the z range.
fn fraction_film() -> Snapshot {
    let mut s = empty(30.0, 12.0, 10.0);
    add_particle(&mut s, [5.0, 6.0, 5.0], 3.0, Phase::Nps);
    add_particle(&mut s, [14.0, 7.5, 5.0], 3.0, Phase::Nps);
    add_particle(&mut s, [29.0, 5.0, 4.0], 2.5, Phase::Nps); // crosses the periodic x face
    add_particle(&mut s, [21.0, 6.5, 6.0], 1.5, Phase::Ptfe);
    add_particle(&mut s, [10.0, 1.0, 2.0], 1.0, Phase::Nps);
    add_particle(&mut s, [24.0, 11.5, 7.5], 2.0, Phase::Nps); // crosses the periodic y face
    s
}

/// Analytic area fractions (NPS, PTFE) of a slice: Σ π (r² − d²) over the spheres cut by the plane
/// (d = minimum-image distance of the centre from the plane), over the slice area.
fn analytic_fractions(s: &Snapshot, sl: SliceSpec) -> (f64, f64) {
    let b = s.sim_box;
    let (axis, pos, period, area) = match sl.plane {
        Plane::Xz => (
            1,
            sl.fraction * b.ly,
            Some(b.ly),
            b.lx * (b.z_top - b.z_bottom),
        ),
        Plane::Yz => (
            0,
            sl.fraction * b.lx,
            Some(b.lx),
            b.ly * (b.z_top - b.z_bottom),
        ),
        Plane::Xy => (
            2,
            b.z_bottom + sl.fraction * (b.z_top - b.z_bottom),
            None,
            b.lx * b.ly,
        ),
    };
    let (mut nps, mut ptfe) = (0.0, 0.0);
    for i in 0..s.particles.pos.len() {
        let mut d = s.particles.pos[i][axis] - pos;
        if let Some(l) = period {
            d -= l * (d / l).round();
        }
        let r = s.particles.radius[i];
        if d.abs() < r {
            let a = std::f64::consts::PI * (r * r - d * d);
            match s.particles.phase[i] {
                Phase::Nps => nps += a,
                Phase::Ptfe => ptfe += a,
            }
        }
    }
    (nps / area, ptfe / area)
}

#[test]
fn phase_colours_cover_their_area_fractions() {
    let s = fraction_film();
    let ppu = 8.0;
    let cases = [
        spec(Plane::Xz, 0.5),
        spec(Plane::Xz, 0.97),
        spec(Plane::Yz, 0.5),
        spec(Plane::Yz, 0.98),
        spec(Plane::Xy, 0.5),
        spec(Plane::Xy, 0.72),
    ];
    for sl in cases {
        let img = panel(&s, sl, ppu);
        let (mut n_nps, mut n_ptfe, mut n_pore) = (0usize, 0usize, 0usize);
        for p in img.pixels() {
            if NPS_SHADES.contains(&p.0) {
                n_nps += 1;
            } else if p.0 == PTFE_COLOUR {
                n_ptfe += 1;
            } else if p.0 == PORE_COLOUR {
                n_pore += 1;
            } else {
                panic!("{sl:?}: unexpected colour {:?}", p.0);
            }
        }
        let total = (img.width() * img.height()) as f64;
        let (want_nps, want_ptfe) = analytic_fractions(&s, sl);
        let got_nps = n_nps as f64 / total;
        let got_ptfe = n_ptfe as f64 / total;
        assert!(want_nps > 0.02, "{sl:?}: test slice should cut NPS");
        // Pixel-centre sampling at 8 px/µm: relative error a few tenths of a percent per disc.
        assert!(
            (got_nps - want_nps).abs() <= 0.02 * want_nps,
            "{sl:?}: NPS {got_nps} vs {want_nps}"
        );
        if want_ptfe > 0.0 {
            assert!(
                (got_ptfe - want_ptfe).abs() <= 0.04 * want_ptfe,
                "{sl:?}: PTFE {got_ptfe} vs {want_ptfe}"
            );
        } else {
            assert_eq!(n_ptfe, 0);
        }
        let want_pore = 1.0 - want_nps - want_ptfe;
        assert!((n_pore as f64 / total - want_pore).abs() < 0.01);
    }
}

#[test]
fn touching_grains_get_different_shades() {
    let mut s = empty(20.0, 10.0, 10.0);
    add_particle(&mut s, [5.0, 5.0, 5.0], 2.5, Phase::Nps);
    add_particle(&mut s, [9.9, 5.0, 5.0], 2.5, Phase::Nps); // overlapping (a flattened contact)
    add_particle(&mut s, [14.8, 5.0, 5.0], 2.5, Phase::Nps);
    let ppu = 4.0;
    let img = panel(&s, spec(Plane::Xz, 0.5), ppu);
    let at = |x_um: f64, z_um: f64| {
        img.get_pixel((x_um * ppu) as u32, ((10.0 - z_um) * ppu) as u32)
            .0
    };
    let (a, b, c) = (at(5.0, 5.0), at(9.9, 5.0), at(14.8, 5.0));
    assert!(NPS_SHADES.contains(&a) && NPS_SHADES.contains(&b) && NPS_SHADES.contains(&c));
    assert_ne!(a, b);
    assert_ne!(b, c);
    // The boundary between overlapping grains is their radical plane, here x = 7.45 µm.
    assert_eq!(at(7.3, 5.0), a);
    assert_eq!(at(7.6, 5.0), b);
}

/// Pixel (column, row) of the panel containing world point (u, v) in µm for a slice whose top
/// edge is at `v_top_um`.
fn pixel_of(u_um: f64, v_um: f64, v_top_um: f64, ppu: f64) -> (u32, u32) {
    (
        (u_um * ppu).floor() as u32,
        ((v_top_um - v_um) * ppu).floor() as u32,
    )
}

/// Two NPS grains of radius `r_um` at the given centres (µm) joined by a fibril of radius `r_nm`
/// between the given body-frame anchor offsets (µm).
fn strand(
    s: &mut Snapshot,
    a: ([f64; 3], [f64; 3]),
    b: ([f64; 3], [f64; 3]),
    r_um: f64,
    r_nm: f64,
) {
    let i = add_particle(s, a.0, r_um, Phase::Nps);
    let j = add_particle(s, b.0, r_um, Phase::Nps);
    add_fibril(s, i, a.1, j, b.1, r_nm);
}

/// The colours of the 3 × 3 pixels centred on `(x, y)`, row by row.
fn around(img: &RgbImage, x: u32, y: u32) -> Vec<[u8; 3]> {
    (y - 1..=y + 1)
        .flat_map(|y| (x - 1..=x + 1).map(move |x| img.get_pixel(x, y).0))
        .collect()
}

#[test]
fn fibril_perpendicular_to_slice_is_a_dot_where_it_crosses() {
    let ppu = 4.0;
    // Crossing at x = 5.125 µm, z = 4.875 µm: the centre of pixel (20, 20).
    let mut s = empty(20.0, 10.0, 10.0);
    let (a, b) = ([5.125, 2.0, 4.875], [5.125, 8.0, 4.875]);
    strand(
        &mut s,
        (a, [0.0, 1.0, 0.0]),
        (b, [0.0, -1.0, 0.0]),
        1.0,
        30.0,
    ); // 60 nm: sub-pixel
    let img = panel(&s, spec(Plane::Xz, 0.5), ppu);
    let marked: Vec<(u32, u32)> = img
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0 != PORE_COLOUR)
        .map(|(x, y, _)| (x, y))
        .collect();
    assert_eq!(
        marked,
        vec![(20, 20)],
        "one fully covered pixel at the crossing"
    );
    assert_eq!(img.get_pixel(20, 20).0, FIBRIL_COLOUR);
    // Moving the slice away from the fibril's y range removes it.
    let img = panel(&s, spec(Plane::Xz, 0.95), ppu);
    assert!(img.pixels().all(|p| p.0 == PORE_COLOUR));
}

#[test]
fn oblique_and_periodic_fibrils_are_drawn_at_their_crossings() {
    let ppu = 4.0;
    let mut s = empty(20.0, 20.0, 10.0);
    // Oblique: from (2, 1, 2) to (8, 9, 8) µm (no periodic wrap in a 20 µm box); crosses y = 5
    // (the xz slice at 0.25) at (5, 5, 5).
    strand(
        &mut s,
        ([2.0, 1.0, 2.0], [0.0; 3]),
        ([8.0, 9.0, 8.0], [0.0; 3]),
        0.5,
        50.0,
    );
    // Along x through the periodic face: from x = 18 to x = 2 (+20), at y = 3, z = 8.
    let (c, d) = ([17.5, 3.0, 8.0], [2.5, 3.0, 8.0]);
    strand(
        &mut s,
        (c, [0.5, 0.0, 0.0]),
        (d, [-0.5, 0.0, 0.0]),
        0.5,
        50.0,
    );

    let xz = panel(&s, spec(Plane::Xz, 0.25), ppu);
    let (px, py) = pixel_of(5.0, 5.0, 10.0, ppu);
    let near = around(&xz, px, py);
    assert!(
        near.contains(&FIBRIL_COLOUR),
        "oblique fibril at its crossing: {near:?}"
    );
    // Nothing drawn far from the crossing on this slice (the x-fibril lies at y = 3, outside the slab).
    for (x, y, p) in xz.enumerate_pixels() {
        if p.0 != PORE_COLOUR {
            let (dx, dy) = (x as f64 + 0.5 - 5.0 * ppu, y as f64 + 0.5 - 5.0 * ppu);
            assert!(
                (dx * dx + dy * dy).sqrt() < 0.5 * ppu * 2.0f64.sqrt() + 2.0,
                "stray ink at ({x}, {y})"
            );
        }
    }
    // yz slice at x = 0 (the periodic face): the x-fibril crosses it at y = 3, z = 8, which is a
    // pixel corner, so its 1-px dot is shared by the four pixels around it: total ink (coverage
    // read back from the green channel, pore 28 → fibril 176) at least that of a 1-px disc, π/4.
    let yz = panel(&s, spec(Plane::Yz, 0.0), ppu);
    let (qx, qy) = pixel_of(3.0, 8.0, 10.0, ppu);
    let ink: f64 = around(&yz, qx, qy)
        .iter()
        .map(|p| (p[1] as f64 - 28.0) / (176.0 - 28.0))
        .sum();
    assert!(
        ink >= std::f64::consts::FRAC_PI_4,
        "fibril crossing the periodic face: ink {ink}"
    );
    let total: f64 = yz.pixels().map(|p| (p.0[1] as f64 - 28.0) / 148.0).sum();
    assert!(
        (total - ink).abs() < 1e-9,
        "no ink elsewhere on the face slice"
    );
    // xy slice at z = 5: the oblique fibril crosses it at (5, 5), a pixel corner; the stroke
    // passes within 0.1 px of a neighbouring pixel centre (coverage 0.9).
    let xy = panel(&s, spec(Plane::Xy, 0.5), ppu);
    let (rx, ry) = pixel_of(5.0, 5.0, 20.0, ppu);
    let best = around(&xy, rx, ry)
        .iter()
        .map(|p| (p[1] as f64 - 28.0) / 148.0)
        .fold(0.0, f64::max);
    assert!(
        best > 0.85,
        "oblique fibril on the in-plane slice: coverage {best}"
    );
}

/// `map` of `m` on the xz mid-plane of `s` at `ppu` pixels per µm.
fn xz_map(s: &Snapshot, m: &MapInputs, map: SolverMap, ppu: f64) -> figure::Figure {
    maps::render_map(s, m, map, spec(Plane::Xz, 0.5), &opts(ppu)).expect("map")
}

#[test]
fn potential_map_colours_grains_by_their_potential() {
    let s = small_film();
    let n = s.particles.pos.len();
    let mut phi: Vec<f64> = s.particles.pos.iter().map(|p| p[2] / UM * 0.01).collect();
    phi[8] = f64::NAN; // PTFE: not in the solve
    phi[6] = f64::NAN; // an isolated grain
    let m = MapInputs {
        potential_v: phi.clone(),
        ..Default::default()
    };
    let ppu = 4.0;
    let fig = xz_map(&s, &m, SolverMap::Potential, ppu);
    let lo = phi
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = phi
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let (ox, oy) = fig.panel_origin;
    for i in [0usize, 3] {
        let p = s.particles.pos[i];
        let (x, y) = pixel_of(p[0] / UM, p[2] / UM, 10.0, ppu);
        assert_eq!(
            fig.image.get_pixel(ox + x, oy + y).0,
            viridis((phi[i] - lo) / (hi - lo)),
            "grain {i}"
        );
    }
    assert_eq!(n, phi.len());
    // Wrong length is an error, not a panic.
    let bad = MapInputs {
        potential_v: vec![0.0; 3],
        ..Default::default()
    };
    assert!(maps::render_map(
        &s,
        &bad,
        SolverMap::Potential,
        spec(Plane::Xz, 0.5),
        &opts(ppu)
    )
    .is_err());
}

#[test]
fn current_density_from_contact_currents() {
    let mut s = empty(20.0, 10.0, 10.0);
    let a = add_particle(&mut s, [5.0, 5.0, 5.0], 2.0, Phase::Nps);
    let b = add_particle(&mut s, [8.9, 5.0, 5.0], 2.0, Phase::Nps);
    let c = add_particle(&mut s, [12.8, 5.0, 5.0], 2.0, Phase::Nps);
    add_contact(&mut s, a, b, 0.5, 0.0);
    add_contact(&mut s, b, c, 0.5, 0.75);
    let phi = vec![1.0, 0.4, f64::NAN];
    let j = maps::particle_current_density(&s, &phi);
    let sigma = s.materials.nps_sigma_ion;
    let i_ab = 2.0 * sigma * 0.5 * UM * 0.6; // Holm conductance × ΔV
    let area = std::f64::consts::PI * (2.0 * UM) * (2.0 * UM);
    assert!((j[0] - 0.5 * i_ab / area).abs() < 1e-12 * j[0].abs().max(1.0));
    assert!(
        (j[1] - 0.5 * i_ab / area).abs() < 1e-12 * j[1].abs().max(1.0),
        "no current to an unsolved grain"
    );
    assert!(j[2].is_nan());
    let m = MapInputs {
        potential_v: phi,
        ..Default::default()
    };
    let fig = xz_map(&s, &m, SolverMap::CurrentDensity, 4.0);
    assert!(fig.image.width() > 0);
}

#[test]
fn cluster_map_highlights_spanning_clusters() {
    let s = small_film();
    let m = MapInputs {
        particle_cluster: (0..s.particles.pos.len())
            .map(|i| if i == 8 { Some(4) } else { None })
            .collect(),
        fibril_cluster: vec![Some(4), Some(4), Some(9)],
        spanning_clusters: vec![4],
        ..Default::default()
    };
    let ppu = 4.0;
    let fig = xz_map(&s, &m, SolverMap::Clusters, ppu);
    let (ox, oy) = fig.panel_origin;
    // Midpoint of fibril 1 (PTFE particle → grain 4), projected on xz.
    let pa = s.particles.pos[8];
    let pb = s.particles.pos[4];
    let mid = [(pa[0] + pb[0]) / 2.0 / UM, (pa[2] + pb[2]) / 2.0 / UM];
    let (x, y) = pixel_of(mid[0], mid[1], 10.0, ppu);
    let red = (y - 1..=y + 1).any(|yy| {
        (x - 1..=x + 1).any(|xx| fig.image.get_pixel(ox + xx, oy + yy).0 == maps::SPANNING_COLOUR)
    });
    assert!(red, "spanning fibril drawn in the highlight colour");
    // The non-spanning cluster 9 is never red.
    assert_ne!(
        maps::cluster_colour(Some(9), &m.spanning_clusters),
        maps::SPANNING_COLOUR
    );
}

#[test]
fn default_set_writes_sequence_gif_and_is_deterministic() {
    let mut first = small_film();
    first.stage = "mixing".into();
    first.fibrils.clear();
    let last = small_film();
    let mut o = RenderOptions::from_fractions(3.0, &[0.5]);
    o.exports = true;
    let m = MapInputs {
        potential_v: vec![0.5; last.particles.pos.len()],
        ..Default::default()
    };
    let dir1 = scratch("default-set-1");
    let dir2 = scratch("default-set-2");
    let w1 = render::render_default_set(&[&first, &last], Some(&m), &o, &dir1).expect("render set");
    let w2 = render::render_default_set(&[&first, &last], Some(&m), &o, &dir2).expect("render set");
    let names: Vec<String> = w1
        .iter()
        .map(|p| p.strip_prefix(&dir1).expect("inside").display().to_string())
        .collect();
    for want in [
        "section_xz_0.500.png",
        "section_yz_0.500.png",
        "section_xy_0.500.png",
        "potential_xz_0.500.png",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(names.iter().any(|n| n.starts_with("stages/00_mixing_")));
    assert!(names
        .iter()
        .any(|n| n.starts_with("stages/01_calender_pass_1_")));
    assert!(names.iter().any(|n| n == "stages.gif"));
    assert!(names.iter().any(|n| n == "particles.vtk"));
    for (a, b) in w1.iter().zip(&w2) {
        assert_eq!(
            std::fs::read(a).expect("read"),
            std::fs::read(b).expect("read"),
            "{}",
            a.display()
        );
    }
    // The GIF has one frame per stage and decodes.
    let f = std::fs::File::open(dir1.join("stages.gif")).expect("gif");
    let dec = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(f)).expect("gif decoder");
    let frames = dec.into_frames().collect_frames().expect("frames");
    assert_eq!(frames.len(), 2);
    // PNGs decode to the figure size.
    let png = image::open(dir1.join("section_xz_0.500.png"))
        .expect("png")
        .to_rgb8();
    assert_eq!(
        png.width(),
        (24.0f64 * 3.0).round() as u32 + figure::MARGIN_LEFT + figure::LEGEND_WIDTH
    );
}

#[test]
fn bad_options_and_inputs_are_errors() {
    let s = small_film();
    let mut o = opts(4.0);
    o.px_per_um = 80.0;
    assert!(render::render_section(&s, spec(Plane::Xz, 0.5), &o).is_err());
    assert!("xq:0.5".parse::<SliceSpec>().is_err());
    assert!("xz:1.5".parse::<SliceSpec>().is_err());
    assert!("xz".parse::<SliceSpec>().is_err());
    assert_eq!("yz:0.25".parse::<SliceSpec>(), Ok(spec(Plane::Yz, 0.25)));
    let mut broken = small_film();
    broken.fibrils[0].a.particle = 999;
    assert!(render::render_section(&broken, spec(Plane::Xz, 0.5), &opts(4.0)).is_err());
    let mut flat = small_film();
    flat.sim_box.z_top = flat.sim_box.z_bottom;
    assert!(render::render_section(&flat, spec(Plane::Xz, 0.5), &opts(4.0)).is_err());
    assert!(render::render_default_set(&[], None, &opts(4.0), &scratch("empty")).is_err());
}

#[test]
fn cli_renders_saved_snapshots() {
    let dir = scratch("cli");
    let a = dir.join("mixing.snap.json.gz");
    let b = dir.join("final.snap.json.gz");
    let mut s0 = small_film();
    s0.stage = "mixing".into();
    s0.save(&a).expect("save");
    small_film().save(&b).expect("save");
    let out = dir.join("out");
    dryfilm_ok([
        "render",
        a.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
        "--px-per-um",
        "2",
        "--slice",
        "xz:0.5",
        "--slice",
        "xy:0.3",
        "--no-exports",
        "--gif",
        b.to_str().expect("utf8"),
    ]);
    assert!(out.join("section_xz_0.500.png").is_file());
    assert!(out.join("section_xy_0.300.png").is_file());
    assert!(out.join("stages.gif").is_file());
    assert!(!out.join("particles.vtk").exists());
    let bad = dryfilm(["render", b.to_str().expect("utf8"), "--slice", "qq:0.5"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("unknown plane"));
    let nope = dir.join("nope.snap.json.gz");
    let missing = dryfilm(["render", nope.to_str().expect("utf8")]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn map_inputs_from_solver_outputs_and_json() {
    use dryfilm_sim::solvers::continuity::NO_CLUSTER;
    let m =
        MapInputs::from_solver_outputs(&[0.1, f64::NAN], &[None, Some(2)], &[2, NO_CLUSTER], &[2]);
    assert_eq!(m.fibril_cluster, vec![Some(2), None]);
    // NaN potentials travel through JSON as null.
    let text = serde_json::to_string(&m).expect("serialize");
    assert!(text.contains("null"));
    let back: MapInputs = serde_json::from_str(&text).expect("parse");
    assert_eq!(back.potential_v[0], 0.1);
    assert!(back.potential_v[1].is_nan());
    assert_eq!(back.particle_cluster, m.particle_cluster);
}
