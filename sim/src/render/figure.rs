//! Figure layout: a section panel framed by a title, MD/TD/ND axis labels, a scale bar in µm, a
//! legend and, for solver maps, a colour bar with ticks.
//!
//! Layout (px): a left margin of [`MARGIN_LEFT`] (vertical axis label), a top margin of
//! [`MARGIN_TOP`] (title), the panel at 1:1 scale, a bottom margin of [`MARGIN_BOTTOM`] (horizontal
//! axis label and the scale bar) and a right column of [`LEGEND_WIDTH`] (legend or colour bar).
//! The margins are fixed, so the figure is `panel + (MARGIN_LEFT + LEGEND_WIDTH, MARGIN_TOP +
//! MARGIN_BOTTOM)` and at least [`MIN_PANEL_HEIGHT`] tall for the legend to fit.

use super::raster::{
    draw_arrow, draw_text, draw_text_vertical, fill_rect, stroke_rect, text_width, viridis, Colour,
};
use image::{Rgb, RgbImage};

/// Left margin, px.
pub const MARGIN_LEFT: u32 = 40;
/// Top margin, px.
pub const MARGIN_TOP: u32 = 30;
/// Bottom margin, px.
pub const MARGIN_BOTTOM: u32 = 64;
/// Width of the legend column, px.
pub const LEGEND_WIDTH: u32 = 190;
/// Minimum height reserved for the panel row (legend space), px.
pub const MIN_PANEL_HEIGHT: u32 = 150;
/// Thickness of the scale bar, px.
pub const SCALE_BAR_THICKNESS: u32 = 5;
/// Background colour of the figure.
pub const BACKGROUND: Colour = [255, 255, 255];
/// Colour of text, frames and the scale bar.
pub const INK: Colour = [0, 0, 0];

const FONT_PX: f32 = 14.0;

/// What goes in the right-hand column.
#[derive(Debug, Clone)]
pub enum Side {
    /// A legend: colour swatches with labels.
    Legend(Vec<(Colour, String)>),
    /// A colour bar for the viridis map between `min` and `max` (in the map's units), with a
    /// label (quantity and unit) and whether the tick values are log10 of the quantity.
    ColourBar {
        /// Value at the bottom of the bar.
        min: f64,
        /// Value at the top of the bar.
        max: f64,
        /// Quantity and unit, e.g. `φ (V)`.
        label: String,
        /// Ticks show 10^value (the map is logarithmic).
        log10: bool,
        /// Extra legend entries below the bar (e.g. pore, not solved).
        extra: Vec<(Colour, String)>,
    },
}

/// A finished figure and where its parts are.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The image.
    pub image: RgbImage,
    /// Top-left corner of the panel in the figure, px.
    pub panel_origin: (u32, u32),
    /// Panel size (width, height), px.
    pub panel_size: (u32, u32),
    /// Length the scale bar represents, µm.
    pub scale_bar_um: f64,
    /// Scale bar rectangle (x, y, width, height), px.
    pub scale_bar_rect: (u32, u32, u32, u32),
}

/// Largest "nice" length (1, 2 or 5 × 10^k µm) not longer than `max_um`.
pub fn nice_length_um(max_um: f64) -> f64 {
    if max_um.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !max_um.is_finite() {
        return 1.0;
    }
    let e = max_um.log10().floor();
    let base = 10f64.powf(e);
    for m in [5.0, 2.0, 1.0] {
        if m * base <= max_um * (1.0 + 1e-12) {
            return m * base;
        }
    }
    base
}

fn format_um(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0} µm")
    } else {
        format!("{v} µm")
    }
}

/// Format a tick value compactly (3 significant digits).
pub fn format_tick(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e-2 && v.abs() < 1e4 {
        let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.2e}")
    }
}

/// Frame `panel` into a figure. `axes` are the (horizontal, vertical) axis labels, `px_per_um` the
/// panel resolution (for the scale bar, whose length is a nice value of at most 30% of the panel
/// width, drawn `round(length · px_per_um)` px long).
pub fn compose(
    panel: &RgbImage,
    title: &str,
    axes: (&str, &str),
    px_per_um: f64,
    side: &Side,
) -> Figure {
    let (pw, ph) = panel.dimensions();
    let row_h = ph.max(MIN_PANEL_HEIGHT);
    let width = MARGIN_LEFT + pw + LEGEND_WIDTH;
    let height = MARGIN_TOP + row_h + MARGIN_BOTTOM;
    let mut img = RgbImage::from_pixel(width, height, Rgb(BACKGROUND));
    let (ox, oy) = (MARGIN_LEFT, MARGIN_TOP);
    image::imageops::replace(&mut img, panel, ox as i64, oy as i64);
    stroke_rect(
        &mut img,
        ox as i64 - 1,
        oy as i64 - 1,
        pw as i64 + 2,
        ph as i64 + 2,
        INK,
    );

    // Title: shrunk (down to 9 px) to fit the figure width, then truncated.
    let room = width as f64 - 12.0;
    let mut size = FONT_PX;
    while size > 9.0 && text_width(title, size) > room {
        size -= 1.0;
    }
    let mut t = title.to_string();
    while t.chars().count() > 1 && text_width(&t, size) > room {
        t.pop();
    }
    draw_text(&mut img, 6.0, 6.0, &t, size, INK);
    // Axis labels with arrows: horizontal under the panel, vertical left of it (reading upwards).
    let w = draw_text(
        &mut img,
        ox as f64,
        (oy + ph + 6) as f64,
        axes.0,
        FONT_PX,
        INK,
    );
    let ya = (oy + ph + 6) as f64 + 0.5 * FONT_PX as f64 + 1.0;
    let xa = ox as f64 + w + 5.0;
    draw_arrow(&mut img, [xa, ya], [xa + 22.0, ya], INK);
    draw_text_vertical(&mut img, 8.0, (oy + ph) as f64, axes.1, FONT_PX, INK);
    let yv = (oy + ph) as f64 - text_width(axes.1, FONT_PX) - 5.0;
    let xv = 8.0 + 0.5 * FONT_PX as f64 + 1.0;
    draw_arrow(&mut img, [xv, yv], [xv, yv - 22.0], INK);

    // Scale bar.
    let panel_um = pw as f64 / px_per_um;
    let bar_um = nice_length_um(0.3 * panel_um);
    let bar_px = ((bar_um * px_per_um).round() as u32).max(1);
    let bar_x = ox;
    let bar_y = oy + ph + 28;
    fill_rect(
        &mut img,
        bar_x as i64,
        bar_y as i64,
        bar_px as i64,
        SCALE_BAR_THICKNESS as i64,
        INK,
    );
    let label = format_um(bar_um);
    let lx = bar_x as f64 + bar_px as f64 + 8.0;
    draw_text(&mut img, lx, bar_y as f64 - 6.0, &label, FONT_PX, INK);

    // Right column.
    let cx = ox + pw + 14;
    match side {
        Side::Legend(items) => draw_legend(&mut img, cx, oy, items),
        Side::ColourBar {
            min,
            max,
            label,
            log10,
            extra,
        } => {
            let bar_h = (row_h.saturating_sub(40)).clamp(40, 400);
            draw_text(&mut img, cx as f64, oy as f64, label, FONT_PX, INK);
            let top = oy + 22;
            for k in 0..bar_h {
                let t = 1.0 - k as f64 / (bar_h - 1).max(1) as f64;
                fill_rect(&mut img, cx as i64, (top + k) as i64, 18, 1, viridis(t));
            }
            stroke_rect(
                &mut img,
                cx as i64 - 1,
                top as i64 - 1,
                20,
                bar_h as i64 + 2,
                INK,
            );
            for k in 0..5 {
                let t = k as f64 / 4.0;
                let y = top as f64 + (1.0 - t) * (bar_h - 1) as f64;
                let v = min + t * (max - min);
                let shown = if *log10 { 10f64.powf(v) } else { v };
                fill_rect(&mut img, cx as i64 + 19, y as i64, 5, 1, INK);
                draw_text(
                    &mut img,
                    (cx + 28) as f64,
                    y - 8.0,
                    &format_tick(shown),
                    12.0,
                    INK,
                );
            }
            draw_legend(&mut img, cx, top + bar_h + 10, extra);
        }
    }
    Figure {
        image: img,
        panel_origin: (ox, oy),
        panel_size: (pw, ph),
        scale_bar_um: bar_um,
        scale_bar_rect: (bar_x, bar_y, bar_px, SCALE_BAR_THICKNESS),
    }
}

fn draw_legend(img: &mut RgbImage, x: u32, y: u32, items: &[(Colour, String)]) {
    for (k, (c, label)) in items.iter().enumerate() {
        let yy = y + 20 * k as u32;
        fill_rect(img, x as i64, yy as i64 + 2, 14, 14, *c);
        stroke_rect(img, x as i64, yy as i64 + 2, 14, 14, INK);
        let room = (img.width() as f64 - x as f64 - 22.0).max(0.0);
        let mut text = label.clone();
        while text.chars().count() > 1 && text_width(&text, FONT_PX) > room {
            text.pop();
        }
        draw_text(img, (x + 20) as f64, yy as f64, &text, FONT_PX, INK);
    }
}

/// Pad or place `img` on a canvas of `(w, h)` px (top-left aligned) with the figure background,
/// for animation frames of different sizes.
pub fn pad_to(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let mut out = RgbImage::from_pixel(w, h, Rgb(BACKGROUND));
    image::imageops::replace(&mut out, img, 0, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_lengths() {
        assert_eq!(nice_length_um(7.0), 5.0);
        assert_eq!(nice_length_um(20.0), 20.0);
        assert_eq!(nice_length_um(0.3), 0.2);
        assert_eq!(nice_length_um(99.0), 50.0);
    }

    #[test]
    fn ticks_have_three_significant_digits() {
        assert_eq!(format_tick(245.167), "245");
        assert_eq!(format_tick(7.753), "7.75");
        assert_eq!(format_tick(0.2449), "0.245");
        assert_eq!(format_tick(-1.5), "-1.50");
        assert_eq!(format_tick(1.5e-5), "1.50e-5");
        assert_eq!(format_tick(0.0), "0");
    }
}
