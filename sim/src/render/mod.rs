//! Cross-section images, solver maps, stage sequences and 3D exports of snapshots.
//!
//! In scope: PNG cross-sections (xz, yz through the thickness; xy in-plane) with NPS grains shaded
//! so neighbours differ, pores, PTFE source particles and anti-aliased fibrils, a µm scale bar, a
//! legend and MD/TD/ND labels ([`render_section`]); solver maps on a section: ionic potential,
//! current density and PTFE clusters with spanning clusters highlighted ([`maps`]); a stage
//! sequence (one PNG per snapshot on the same slice) and an animated GIF ([`render_stage_sequence`],
//! [`write_gif`]); ParaView-readable VTK files of particles, fibrils and the voxelized film
//! ([`export`]). [`render_default_set`] writes all of it for `dryfilm run` and `dryfilm render`.
//!
//! Not in scope: 3D shaded rendering (use ParaView on the exports), solving anything (potentials
//! and clusters come in through [`MapInputs`]).
//!
//! Everything is deterministic and single-threaded: the same snapshot gives bitwise identical
//! files.

pub mod export;
pub mod figure;
pub mod maps;
pub mod raster;
pub mod section;

pub use figure::Figure;
/// The `image` crate the figures are made with (so callers can name `RgbImage` and decode PNGs
/// and GIFs without a version mismatch).
pub use image;
pub use maps::MapInputs;
pub use section::{Plane, SectionGeometry, SectionRaster, SliceSpec};

use crate::fileio::FileError;
use crate::snapshot::{FibrilState, Phase, Snapshot};
use figure::Side;
use image::{Rgb, RgbImage};
use raster::{hex_colours, Colour};
use std::path::{Path, PathBuf};

/// Colour of pore space in sections.
pub const PORE_COLOUR: Colour = [28, 28, 40];
/// Shades of NPS grains; neighbouring grains in a section get different shades.
pub const NPS_SHADES: [Colour; 6] =
    hex_colours([0xc4a068, 0xe4c68c, 0xa68254, 0xd4b47a, 0xb6925e, 0xf0d6a4]);
/// Colour of PTFE source particles.
pub const PTFE_COLOUR: Colour = [236, 242, 255];
/// Colour of intact fibrils.
pub const FIBRIL_COLOUR: Colour = [0, 176, 255];
/// Colour of broken or detached fibrils.
pub const BROKEN_FIBRIL_COLOUR: Colour = [255, 80, 80];

/// Rendering options, shared by `dryfilm run` and `dryfilm render`.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Image resolution, px/µm. Range [0.5, 50]. Default 4.
    pub px_per_um: f64,
    /// Slices to draw. Default: xz, yz and xy at 0.5.
    pub slices: Vec<SliceSpec>,
    /// Half-thickness of the slab around a slice whose fibrils are drawn (projected onto it), µm.
    /// Range (0, 100]. Default 0.5. Raising it shows more fibrils, each as a longer stroke.
    pub fibril_slab_um: f64,
    /// Write an animated GIF of the stage sequence when there are several snapshots. Default true.
    pub gif: bool,
    /// Delay between GIF frames, ms. Default 800.
    pub gif_frame_ms: u32,
    /// Write the PNG/GIF images (sections, maps, stage sequence). Default true.
    pub images: bool,
    /// Write VTK/TIFF/NPY 3D exports. Default true.
    pub exports: bool,
    /// Voxel edge for the exported phase volume, µm. Range (0, 100]. Default 0.5.
    pub voxel_um: f64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions::from_fractions(4.0, &[0.5])
    }
}

impl RenderOptions {
    /// Options for the scenario's `output` block: every fraction in `slice_fractions` gives an xz,
    /// a yz and an xy slice; other fields take their defaults.
    pub fn from_fractions(px_per_um: f64, slice_fractions: &[f64]) -> Self {
        let mut slices = Vec::new();
        for plane in [Plane::Xz, Plane::Yz, Plane::Xy] {
            for &fraction in slice_fractions {
                slices.push(SliceSpec { plane, fraction });
            }
        }
        RenderOptions {
            px_per_um,
            slices,
            fibril_slab_um: 0.5,
            gif: true,
            gif_frame_ms: 800,
            images: true,
            exports: true,
            voxel_um: 0.5,
        }
    }

    /// Options for a scenario's `output` block (`images`, `px_per_um`, `slice_fractions`,
    /// `exports`); see [`RenderOptions::from_fractions`].
    pub fn from_raw_output(out: &crate::scenario::raw::RawOutput) -> Self {
        let mut o = RenderOptions::from_fractions(out.px_per_um, &out.slice_fractions);
        o.images = out.images;
        o.exports = out.exports;
        o
    }

    /// Check ranges; every problem is reported.
    pub fn validate(&self) -> Result<(), RenderError> {
        let mut problems = Vec::new();
        if !(0.5..=50.0).contains(&self.px_per_um) {
            problems.push(format!(
                "px_per_um = {} is outside [0.5, 50]",
                self.px_per_um
            ));
        }
        if !(self.fibril_slab_um > 0.0 && self.fibril_slab_um <= 100.0) {
            problems.push(format!(
                "fibril_slab_um = {} is outside (0, 100]",
                self.fibril_slab_um
            ));
        }
        if !(self.voxel_um > 0.0 && self.voxel_um <= 100.0) {
            problems.push(format!("voxel_um = {} is outside (0, 100]", self.voxel_um));
        }
        for s in &self.slices {
            if !(0.0..=1.0).contains(&s.fraction) {
                problems.push(format!(
                    "slice {} at {} is outside [0, 1]",
                    s.plane.name(),
                    s.fraction
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RenderError::Options(problems.join("; ")))
        }
    }
}

/// Largest panel rendered, px (guards against absurd resolutions on large boxes).
pub const MAX_PANEL_PIXELS: u64 = 64_000_000;

/// Errors of the renderer and exporters.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Bad option values (all problems listed).
    #[error("invalid render options: {0}")]
    Options(String),
    /// The snapshot cannot be drawn.
    #[error("snapshot cannot be rendered: {0}")]
    Snapshot(String),
    /// Solver map inputs do not match the snapshot.
    #[error("map inputs: {0}")]
    MapInputs(String),
    /// File-system error.
    #[error(transparent)]
    Io(#[from] FileError),
    /// Image encoding error.
    #[error("{path}: {source}")]
    Image {
        /// File path.
        path: String,
        /// Underlying error.
        source: image::ImageError,
    },
    /// A voxel volume does not match its dimensions.
    #[error("volume export: {0}")]
    Volume(String),
    /// Voxelizing the snapshot failed.
    #[error("voxelizing for export: {0}")]
    Voxel(#[from] crate::solvers::voxel::VoxelError),
}

/// Check that a snapshot's arrays are consistent and its box is usable.
pub fn check_snapshot(snap: &Snapshot) -> Result<(), RenderError> {
    let p = &snap.particles;
    let n = p.pos.len();
    if p.radius.len() != n || p.phase.len() != n || p.orientation.len() != n {
        return Err(RenderError::Snapshot(format!(
            "particle arrays differ in length (pos {n}, radius {}, phase {}, orientation {})",
            p.radius.len(),
            p.phase.len(),
            p.orientation.len()
        )));
    }
    let b = &snap.sim_box;
    let finite =
        b.lx.is_finite() && b.ly.is_finite() && b.z_top.is_finite() && b.z_bottom.is_finite();
    if !finite || b.lx <= 0.0 || b.ly <= 0.0 || b.z_top <= b.z_bottom {
        return Err(RenderError::Snapshot(format!("degenerate box {b:?}")));
    }
    for (k, f) in snap.fibrils.iter().enumerate() {
        if f.a.particle as usize >= n || f.b.particle as usize >= n {
            return Err(RenderError::Snapshot(format!(
                "fibril {k} is anchored to a particle index ≥ {n}"
            )));
        }
    }
    Ok(())
}

fn checked_geometry(
    snap: &Snapshot,
    spec: SliceSpec,
    px_per_um: f64,
) -> Result<SectionGeometry, RenderError> {
    check_snapshot(snap)?;
    let g = SectionGeometry::new(snap, spec, px_per_um);
    if g.width as u64 * g.height as u64 > MAX_PANEL_PIXELS {
        return Err(RenderError::Options(format!(
            "slice {} would be {}×{} px at {px_per_um} px/µm (limit {MAX_PANEL_PIXELS} px); lower px_per_um",
            spec.plane.name(),
            g.width,
            g.height
        )));
    }
    Ok(g)
}

/// Draw the phase panel of a slice (no frame): pores, NPS grains in alternating shades, PTFE
/// particles, then fibrils within the slab (intact ones over broken ones).
pub fn section_panel(snap: &Snapshot, geom: &SectionGeometry, fibril_slab_um: f64) -> RgbImage {
    let raster = SectionRaster::new(snap, *geom);
    let shades = raster.grain_colouring(snap, NPS_SHADES.len());
    let mut img = RgbImage::new(geom.width, geom.height);
    for (k, px) in img.pixels_mut().enumerate() {
        let o = raster.owner[k];
        let c = if o < 0 {
            PORE_COLOUR
        } else {
            match snap.particles.phase[o as usize] {
                Phase::Nps => NPS_SHADES[shades[o as usize]],
                Phase::Ptfe => PTFE_COLOUR,
            }
        };
        *px = Rgb(c);
    }
    draw_fibrils(snap, geom, fibril_slab_um, &mut img, |state| match state {
        FibrilState::Intact => Some(FIBRIL_COLOUR),
        _ => Some(BROKEN_FIBRIL_COLOUR),
    });
    img
}

/// Draw the fibril strokes of a slice on a panel with a colour chosen per fibril (None = skip);
/// broken ones first so intact ones lie on top.
fn draw_fibrils(
    snap: &Snapshot,
    geom: &SectionGeometry,
    fibril_slab_um: f64,
    img: &mut RgbImage,
    colour: impl Fn(FibrilState) -> Option<Colour>,
) {
    let strokes = section::fibril_strokes(snap, geom, fibril_slab_um * 1e-6);
    let clip = [0, 0, geom.width as i64, geom.height as i64];
    for pass_intact in [false, true] {
        for s in &strokes {
            let state = snap.fibrils[s.fibril as usize].state;
            if (state == FibrilState::Intact) != pass_intact {
                continue;
            }
            if let Some(c) = colour(state) {
                raster::draw_capsule(img, s.a_px, s.b_px, s.width_px, c, clip);
            }
        }
    }
}

/// Legend of the phase section.
pub fn phase_legend() -> Vec<(Colour, String)> {
    vec![
        (NPS_SHADES[0], "NPS grain".into()),
        (NPS_SHADES[1], "NPS grain (neighbour)".into()),
        (PORE_COLOUR, "pore".into()),
        (PTFE_COLOUR, "PTFE particle".into()),
        (FIBRIL_COLOUR, "PTFE fibril".into()),
        (BROKEN_FIBRIL_COLOUR, "fibril, broken".into()),
    ]
}

fn slice_title(snap: &Snapshot, spec: &SliceSpec, geom: &SectionGeometry) -> String {
    let what = match spec.plane {
        Plane::Xz => "y",
        Plane::Yz => "x",
        Plane::Xy => "z",
    };
    format!(
        "{} · {} · {} slice at {what} = {:.1} µm ({:.2})",
        snap.scenario,
        snap.stage,
        spec.plane.name(),
        geom.normal_pos_m * 1e6,
        spec.fraction
    )
}

/// Render a framed phase cross-section of `snap` at `spec`.
pub fn render_section(
    snap: &Snapshot,
    spec: SliceSpec,
    opts: &RenderOptions,
) -> Result<Figure, RenderError> {
    opts.validate()?;
    let geom = checked_geometry(snap, spec, opts.px_per_um)?;
    let panel = section_panel(snap, &geom, opts.fibril_slab_um);
    let title = slice_title(snap, &spec, &geom);
    Ok(figure::compose(
        &panel,
        &title,
        spec.plane.axis_labels(),
        opts.px_per_um,
        &Side::Legend(phase_legend()),
    ))
}

/// One framed section per snapshot (in the given stage order) on the same slice and scale, so an
/// engineer can watch the film form.
pub fn render_stage_sequence(
    snaps: &[&Snapshot],
    spec: SliceSpec,
    opts: &RenderOptions,
) -> Result<Vec<Figure>, RenderError> {
    snaps
        .iter()
        .map(|s| render_section(s, spec, opts))
        .collect()
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> RenderError + '_ {
    crate::fileio::at(path)
}

/// Save an image as PNG.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), RenderError> {
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| RenderError::Image {
            path: path.display().to_string(),
            source: e,
        })
}

/// Write an animated, endlessly looping GIF of `frames` (padded to the largest frame), `delay_ms`
/// per frame.
pub fn write_gif(frames: &[RgbImage], delay_ms: u32, path: &Path) -> Result<(), RenderError> {
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame};
    let w = frames.iter().map(|f| f.width()).max().unwrap_or(1);
    let h = frames.iter().map(|f| f.height()).max().unwrap_or(1);
    let file = std::fs::File::create(path).map_err(io_err(path))?;
    let ie = |e| RenderError::Image {
        path: path.display().to_string(),
        source: e,
    };
    let mut enc = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
    enc.set_repeat(Repeat::Infinite).map_err(ie)?;
    for f in frames {
        let rgba = image::DynamicImage::ImageRgb8(figure::pad_to(f, w, h)).to_rgba8();
        enc.encode_frame(Frame::from_parts(
            rgba,
            0,
            0,
            Delay::from_numer_denom_ms(delay_ms, 1),
        ))
        .map_err(ie)?;
    }
    Ok(())
}

/// Make a stage name safe for a file name (alphanumerics, `-` and `_` kept).
fn file_safe(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() {
        "stage".into()
    } else {
        t
    }
}

/// Write the default set of images and exports into `out_dir` (created if missing) and return the
/// paths written, in order:
///
/// - for the last snapshot (the finished film): `section_<plane>_<fraction>.png` per slice;
/// - if `maps` is given: `potential_<slice>.png` and `current_<slice>.png` on the first slice
///   (when potentials are given), `clusters.png` (when cluster ids are given);
/// - if there are several snapshots (stage order, e.g. after mixing, after fibrillation, after each
///   calender pass): `stages/<k>_<stage>_<slice>.png` on the first slice, and `stages.gif` if
///   `opts.gif`;
/// - if `opts.exports` (written first): `particles.vtk`, `fibrils.vtk` and the voxelized phase
///   volume (see [`export::write_default_exports`]).
///
/// With `opts.images == false` only the exports are written.
pub fn render_default_set(
    snaps: &[&Snapshot],
    maps: Option<&MapInputs>,
    opts: &RenderOptions,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, RenderError> {
    opts.validate()?;
    let Some(last) = snaps.last() else {
        return Err(RenderError::Snapshot("no snapshot given".into()));
    };
    for s in snaps {
        check_snapshot(s)?;
    }
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let mut written = Vec::new();
    if opts.exports {
        written.extend(export::write_default_exports(
            last,
            maps,
            opts.voxel_um * 1e-6,
            out_dir,
        )?);
    }
    if !opts.images {
        return Ok(written);
    }
    for spec in &opts.slices {
        let fig = render_section(last, *spec, opts)?;
        let path = out_dir.join(format!("section_{}.png", spec.stem()));
        save_png(&fig.image, &path)?;
        written.push(path);
    }
    let first = opts.slices.first().copied().unwrap_or(SliceSpec {
        plane: Plane::Xz,
        fraction: 0.5,
    });
    if let Some(m) = maps {
        m.check(last)?;
        for map in maps::SolverMap::available(m) {
            let fig = maps::render_map(last, m, map, first, opts)?;
            let path = out_dir.join(map.file_name(first));
            save_png(&fig.image, &path)?;
            written.push(path);
        }
    }
    if snaps.len() > 1 {
        let dir = out_dir.join("stages");
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let figs = render_stage_sequence(snaps, first, opts)?;
        for (k, (fig, snap)) in figs.iter().zip(snaps).enumerate() {
            let path = dir.join(format!(
                "{k:02}_{}_{}.png",
                file_safe(&snap.stage),
                first.stem()
            ));
            save_png(&fig.image, &path)?;
            written.push(path);
        }
        if opts.gif {
            let path = out_dir.join("stages.gif");
            let frames: Vec<RgbImage> = figs.into_iter().map(|f| f.image).collect();
            write_gif(&frames, opts.gif_frame_ms, &path)?;
            written.push(path);
        }
    }
    Ok(written)
}
/// The renderer of `dryfilm run` ([`crate::pipeline::RunOptions::render`]): the default set of
/// images and exports of the run's snapshots, with the solver maps, into the job's folder.
pub fn render_run(job: &crate::pipeline::RenderJob) -> Result<(), String> {
    let opts = RenderOptions::from_raw_output(job.output);
    let maps = MapInputs::from_solver_outputs(
        job.potentials,
        job.ptfe_particle_cluster,
        job.fibril_cluster,
        job.spanning_clusters,
    );
    let refs: Vec<&Snapshot> = job.snapshots.iter().collect();
    render_default_set(&refs, Some(&maps), &opts, job.dir)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
