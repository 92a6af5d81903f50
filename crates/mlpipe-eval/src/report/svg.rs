//! Hand-written SVG plots: line charts over the unit square (ROC, precision–recall,
//! calibration) with one polyline per candidate, and a confusion-matrix heat map. No
//! plotting dependency; the output is plain, self-contained SVG text.

use std::fmt::Write as _;

/// Colours of the candidates' lines, in order (colour-blind friendly, Okabe–Ito).
pub const PALETTE: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Points (x, y), both in [0, 1].
    pub points: Vec<(f64, f64)>,
}

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const W: f64 = 420.0;
const H: f64 = 360.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 46.0;

fn px(x: f64) -> f64 {
    LEFT + x.clamp(0.0, 1.0) * (W - LEFT - RIGHT)
}

fn py(y: f64) -> f64 {
    H - BOTTOM - y.clamp(0.0, 1.0) * (H - TOP - BOTTOM)
}

/// A line chart on [0, 1] × [0, 1]: title, axis labels, grid, an optional dashed diagonal
/// (chance for ROC, perfect calibration), one `<polyline class="series">` per series
/// (markers too when `markers`), and a legend.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    diagonal: bool,
    markers: bool,
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{t}">"#,
        t = escape(title)
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{t}</text>"##,
        cx = W / 2.0,
        t = escape(title)
    );
    for i in 0..=5 {
        let v = i as f64 / 5.0;
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#ddd"/><line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#ddd"/><text x="{x}" y="{ty}" text-anchor="middle" font-size="10">{v:.1}</text><text x="{tx}" y="{y}" text-anchor="end" font-size="10" dy="3">{v:.1}</text>"##,
            x = px(v),
            y = py(v),
            y0 = py(0.0),
            y1 = py(1.0),
            x0 = px(0.0),
            x1 = px(1.0),
            ty = py(0.0) + 14.0,
            tx = px(0.0) - 5.0,
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="#333"/><text x="{cx}" y="{by}" text-anchor="middle" font-size="12">{xl}</text><text x="14" y="{cy}" text-anchor="middle" font-size="12" transform="rotate(-90 14 {cy})">{yl}</text>"##,
        x = px(0.0),
        y = py(1.0),
        w = px(1.0) - px(0.0),
        h = py(0.0) - py(1.0),
        cx = (px(0.0) + px(1.0)) / 2.0,
        by = H - 10.0,
        cy = (py(0.0) + py(1.0)) / 2.0,
        xl = escape(x_label),
        yl = escape(y_label),
    );
    if diagonal {
        let _ = write!(
            s,
            r##"<line class="reference" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999" stroke-dasharray="4 4"/>"##,
            px(0.0),
            py(0.0),
            px(1.0),
            py(1.0)
        );
    }
    for (i, ser) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let pts: Vec<String> = ser
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| format!("{:.2},{:.2}", px(*x), py(*y)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="series" data-candidate="{l}" fill="none" stroke="{colour}" stroke-width="2" points="{p}"/>"#,
            l = escape(&ser.label),
            p = pts.join(" ")
        );
        if markers {
            for p in &pts {
                if let Some((x, y)) = p.split_once(',') {
                    let _ = write!(s, r#"<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>"#);
                }
            }
        }
        let ly = py(0.0) - 10.0 - 16.0 * (series.len() - 1 - i) as f64;
        let lx = px(1.0) - 150.0;
        let _ = write!(
            s,
            r##"<rect x="{lx}" y="{ry}" width="12" height="4" fill="{colour}"/><text x="{tx}" y="{ly}" font-size="11" fill="#222">{l}</text>"##,
            ry = ly - 5.0,
            tx = lx + 16.0,
            l = escape(&ser.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A confusion-matrix heat map: truth by row, prediction by column, counts in the cells,
/// darker for larger shares of the row.
pub fn confusion_chart(title: &str, labels: &[i64], counts: &[Vec<u64>]) -> String {
    let k = labels.len().max(1);
    let cell = (220.0 / k as f64).clamp(24.0, 70.0);
    let (x0, y0) = (70.0, 48.0);
    let w = (x0 + cell * k as f64 + 16.0).max(8.0 * title.chars().count() as f64 + 20.0);
    let h = y0 + cell * k as f64 + 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="plot confusion" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><rect width="{w}" height="{h}" fill="#fff"/><text x="{tx}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{t}</text><text x="{cx}" y="34" text-anchor="middle" font-size="11">predicted</text><text x="14" y="{cy}" text-anchor="middle" font-size="11" transform="rotate(-90 14 {cy})">truth</text>"##,
        cx = x0 + cell * k as f64 / 2.0,
        cy = y0 + cell * k as f64 / 2.0,
        tx = w / 2.0,
        t = escape(title)
    );
    for (i, row) in counts.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (j, c) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                *c as f64 / total as f64
            };
            let light = (95.0 - 60.0 * share).round();
            let text = if share > 0.5 { "#fff" } else { "#111" };
            let _ = write!(
                s,
                r##"<rect class="cell" x="{x}" y="{y}" width="{cell}" height="{cell}" fill="hsl(210,70%,{light}%)" stroke="#fff"/><text x="{tx}" y="{ty}" text-anchor="middle" font-size="12" fill="{text}">{c}</text>"##,
                x = x0 + j as f64 * cell,
                y = y0 + i as f64 * cell,
                tx = x0 + (j as f64 + 0.5) * cell,
                ty = y0 + (i as f64 + 0.5) * cell + 4.0,
            );
        }
    }
    for (i, l) in labels.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{x}" y="{y}" text-anchor="middle" font-size="11">{l}</text><text x="{lx}" y="{ly}" text-anchor="end" font-size="11">{l}</text>"#,
            x = x0 + (i as f64 + 0.5) * cell,
            y = y0 + cell * k as f64 + 14.0,
            lx = x0 - 6.0,
            ly = y0 + (i as f64 + 0.5) * cell + 4.0,
        );
    }
    s.push_str("</svg>");
    s
}
