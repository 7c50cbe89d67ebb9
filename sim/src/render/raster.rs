//! Low-level drawing on `image::RgbImage`: alpha blending, anti-aliased thick segments and discs
//! (coverage based), rectangles, text (ab_glyph with the embedded Ubuntu Light font) and the
//! viridis-like colour map.
//!
//! Anti-aliasing is coverage based: a pixel whose centre lies at distance `d` (px) from the
//! centre line of a stroke of width `w` (px) is covered by `c = clamp(w/2 + 1/2 - d, 0, 1)`, the
//! exact area fraction of a 1-px box filter across a straight edge. Strokes thinner than one pixel
//! are widened to 1 px so that sub-pixel fibrils stay visible (their true width is not resolved at
//! that resolution anyway). Everything here is deterministic and single-threaded.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::{Rgb, RgbImage};

/// An sRGB colour, 8 bits per channel.
pub type Colour = [u8; 3];

/// The colours of `0xRRGGBB` values.
pub const fn hex_colours<const N: usize>(hex: [u32; N]) -> [Colour; N] {
    let mut out = [[0u8; 3]; N];
    let mut k = 0;
    while k < N {
        let h = hex[k];
        out[k] = [(h >> 16) as u8, (h >> 8) as u8, h as u8];
        k += 1;
    }
    out
}

/// Blend `colour` over pixel `(x, y)` with opacity `alpha` in [0, 1]; out-of-image writes are
/// ignored.
pub fn blend(img: &mut RgbImage, x: i64, y: i64, colour: Colour, alpha: f64) {
    if x < 0 || y < 0 || x >= img.width() as i64 || y >= img.height() as i64 || alpha <= 0.0 {
        return;
    }
    let a = alpha.min(1.0);
    let p = img.get_pixel_mut(x as u32, y as u32);
    for (ch, &c) in p.0.iter_mut().zip(&colour) {
        let v = *ch as f64 * (1.0 - a) + c as f64 * a;
        *ch = v.round().clamp(0.0, 255.0) as u8;
    }
}

/// Fill the axis-aligned rectangle `[x0, x0 + w) × [y0, y0 + h)` (px) with `colour`.
pub fn fill_rect(img: &mut RgbImage, x0: i64, y0: i64, w: i64, h: i64, colour: Colour) {
    for y in y0.max(0)..(y0 + h).min(img.height() as i64) {
        for x in x0.max(0)..(x0 + w).min(img.width() as i64) {
            img.put_pixel(x as u32, y as u32, Rgb(colour));
        }
    }
}

/// Draw the 1-px outline of a rectangle.
pub fn stroke_rect(img: &mut RgbImage, x0: i64, y0: i64, w: i64, h: i64, colour: Colour) {
    fill_rect(img, x0, y0, w, 1, colour);
    fill_rect(img, x0, y0 + h - 1, w, 1, colour);
    fill_rect(img, x0, y0, 1, h, colour);
    fill_rect(img, x0 + w - 1, y0, 1, h, colour);
}

/// Distance (px) from point `p` to the segment `a`–`b`.
pub fn point_segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    (qx * qx + qy * qy).sqrt()
}

/// Anti-aliased capsule (segment with round caps) from `a` to `b` in pixel coordinates (pixel
/// `(i, j)` has its centre at `(i + 0.5, j + 0.5)`), stroke width `width_px` (widened to at least
/// 1 px), clipped to the rectangle `clip = [x0, y0, x1, y1)` (px).
pub fn draw_capsule(
    img: &mut RgbImage,
    a: [f64; 2],
    b: [f64; 2],
    width_px: f64,
    colour: Colour,
    clip: [i64; 4],
) {
    let half = 0.5 * width_px.max(1.0);
    let pad = half + 1.0;
    let xmin = ((a[0].min(b[0]) - pad).floor() as i64).max(clip[0]);
    let xmax = ((a[0].max(b[0]) + pad).ceil() as i64).min(clip[2] - 1);
    let ymin = ((a[1].min(b[1]) - pad).floor() as i64).max(clip[1]);
    let ymax = ((a[1].max(b[1]) + pad).ceil() as i64).min(clip[3] - 1);
    if !(a[0].is_finite() && a[1].is_finite() && b[0].is_finite() && b[1].is_finite()) {
        return;
    }
    for y in ymin..=ymax {
        for x in xmin..=xmax {
            let d = point_segment_distance([x as f64 + 0.5, y as f64 + 0.5], a, b);
            let cov = (half + 0.5 - d).clamp(0.0, 1.0);
            blend(img, x, y, colour, cov);
        }
    }
}

/// Anti-aliased arrow from `from` to `to` (px) with a head of 6 px, 1.5 px strokes.
pub fn draw_arrow(img: &mut RgbImage, from: [f64; 2], to: [f64; 2], colour: Colour) {
    let clip = [0, 0, img.width() as i64, img.height() as i64];
    let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
    let len = (dx * dx + dy * dy).sqrt();
    if len <= 0.0 {
        return;
    }
    let (ux, uy) = (dx / len, dy / len);
    draw_capsule(img, from, to, 1.5, colour, clip);
    for side in [-1.0, 1.0] {
        // Head strokes at ±30° from the shaft.
        let hx = -ux * 0.866 - side * uy * 0.5;
        let hy = -uy * 0.866 + side * ux * 0.5;
        draw_capsule(
            img,
            to,
            [to[0] + 6.0 * hx, to[1] + 6.0 * hy],
            1.5,
            colour,
            clip,
        );
    }
}

/// Anti-aliased filled disc of radius `r_px` centred at `c` (px), clipped to `clip`.
pub fn fill_disc(img: &mut RgbImage, c: [f64; 2], r_px: f64, colour: Colour, clip: [i64; 4]) {
    draw_capsule(img, c, c, 2.0 * r_px, colour, clip);
}

/// Anti-aliased circle outline of radius `r_px` and stroke `width_px` centred at `c` (px).
pub fn stroke_circle(
    img: &mut RgbImage,
    c: [f64; 2],
    r_px: f64,
    width_px: f64,
    colour: Colour,
    clip: [i64; 4],
) {
    let half = 0.5 * width_px.max(1.0);
    let pad = r_px + half + 1.0;
    let xmin = ((c[0] - pad).floor() as i64).max(clip[0]);
    let xmax = ((c[0] + pad).ceil() as i64).min(clip[2] - 1);
    let ymin = ((c[1] - pad).floor() as i64).max(clip[1]);
    let ymax = ((c[1] + pad).ceil() as i64).min(clip[3] - 1);
    for y in ymin..=ymax {
        for x in xmin..=xmax {
            let (dx, dy) = (x as f64 + 0.5 - c[0], y as f64 + 0.5 - c[1]);
            let d = ((dx * dx + dy * dy).sqrt() - r_px).abs();
            blend(img, x, y, colour, (half + 0.5 - d).clamp(0.0, 1.0));
        }
    }
}

/// The embedded UI font (Ubuntu Light, SIL OFL / Ubuntu Font Licence, from the
/// `epaint_default_fonts` crate).
fn font() -> FontRef<'static> {
    FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)
        .expect("embedded Ubuntu-Light.ttf must parse; check the epaint_default_fonts version")
}

/// Width (px) of `text` at font size `size_px`.
pub fn text_width(text: &str, size_px: f32) -> f64 {
    let f = font();
    let sf = f.as_scaled(PxScale::from(size_px));
    let mut w = 0.0f32;
    let mut prev = None;
    for ch in text.chars() {
        let id = sf.glyph_id(ch);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    w as f64
}

/// Draw `text` with its top-left corner at `(x, y)` (px), font size `size_px`, anti-aliased.
/// Returns the width drawn, px.
pub fn draw_text(
    img: &mut RgbImage,
    x: f64,
    y: f64,
    text: &str,
    size_px: f32,
    colour: Colour,
) -> f64 {
    let f = font();
    let sf = f.as_scaled(PxScale::from(size_px));
    let baseline = y as f32 + sf.ascent();
    let mut pen = x as f32;
    let mut prev = None;
    for ch in text.chars() {
        let id = sf.glyph_id(ch);
        if let Some(p) = prev {
            pen += sf.kern(p, id);
        }
        let glyph =
            id.with_scale_and_position(PxScale::from(size_px), ab_glyph::point(pen, baseline));
        pen += sf.h_advance(id);
        prev = Some(id);
        if let Some(og) = f.outline_glyph(glyph) {
            let bb = og.px_bounds();
            og.draw(|gx, gy, cov| {
                let px = bb.min.x as i64 + gx as i64;
                let py = bb.min.y as i64 + gy as i64;
                blend(img, px, py, colour, cov as f64);
            });
        }
    }
    pen as f64 - x
}

/// Draw `text` rotated 90° counter-clockwise (reading bottom to top), its bounding box's
/// bottom-left corner at `(x, y_bottom)` (px).
pub fn draw_text_vertical(
    img: &mut RgbImage,
    x: f64,
    y_bottom: f64,
    text: &str,
    size_px: f32,
    colour: Colour,
) {
    let w = text_width(text, size_px).ceil().max(1.0) as u32;
    let h = (size_px * 1.3).ceil() as u32;
    let mut tmp = RgbImage::from_pixel(w, h, Rgb([0, 0, 0]));
    draw_text(&mut tmp, 0.0, 0.0, text, size_px, [255, 255, 255]);
    // tmp pixel (tx, ty) goes to (x + ty, y_bottom - tx).
    for ty in 0..h {
        for tx in 0..w {
            let a = tmp.get_pixel(tx, ty).0[0] as f64 / 255.0;
            blend(
                img,
                x as i64 + ty as i64,
                y_bottom as i64 - tx as i64,
                colour,
                a,
            );
        }
    }
}

/// Sample points of the viridis colour map (perceptually uniform, colour-blind safe; van der Walt
/// & Smith 2015) at t = 0, 1/8, ..., 1, in sRGB; intermediate values are interpolated linearly.
const VIRIDIS_KNOTS: [Colour; 9] = hex_colours([
    0x440154, 0x472c7a, 0x3b518b, 0x2c718e, 0x21908d, 0x27ad81, 0x5cc863, 0xaadc32, 0xfde725,
]);

/// Viridis-like colour for `t` in [0, 1] (clamped; NaN gives the lowest colour).
pub fn viridis(t: f64) -> Colour {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let s = t * (VIRIDIS_KNOTS.len() - 1) as f64;
    let i = (s.floor() as usize).min(VIRIDIS_KNOTS.len() - 2);
    let f = s - i as f64;
    let mut out = [0u8; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let (lo, hi) = (
            f64::from(VIRIDIS_KNOTS[i][k]),
            f64::from(VIRIDIS_KNOTS[i + 1][k]),
        );
        let v = lo * (1.0 - f) + hi * f;
        *o = v.round().clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capsule_coverage_is_area_of_a_one_pixel_wide_stroke() {
        let mut img = RgbImage::from_pixel(40, 40, Rgb([0, 0, 0]));
        // Horizontal 1-px line through pixel centres: covers exactly 30 pixels fully.
        draw_capsule(
            &mut img,
            [5.0, 20.5],
            [35.0, 20.5],
            1.0,
            [255, 255, 255],
            [0, 0, 40, 40],
        );
        let total: f64 = img.pixels().map(|p| p.0[0] as f64 / 255.0).sum();
        // Length 30 + round caps (area π/4 spread over neighbouring pixels) ≈ 30.8.
        assert!(
            (total - (30.0 + std::f64::consts::FRAC_PI_4)).abs() < 0.6,
            "ink = {total}"
        );
    }

    #[test]
    fn viridis_is_monotone_in_luminance() {
        let lum = |c: Colour| 0.2126 * c[0] as f64 + 0.7152 * c[1] as f64 + 0.0722 * c[2] as f64;
        let mut prev = -1.0;
        for k in 0..=50 {
            let l = lum(viridis(k as f64 / 50.0));
            assert!(l > prev, "luminance must rise along the map");
            prev = l;
        }
    }

    #[test]
    fn text_draws_ink() {
        let mut img = RgbImage::from_pixel(100, 30, Rgb([255, 255, 255]));
        let w = draw_text(&mut img, 2.0, 2.0, "10 µm", 16.0, [0, 0, 0]);
        assert!(w > 20.0 && w < 100.0);
        assert!(img.pixels().any(|p| p.0[0] < 100));
    }
}
