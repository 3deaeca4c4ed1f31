//! SVG charts. Hand-written SVG: a few polylines need no plotting library.
//!
//! - [`svg_chart`]: backlog (top) and task count (bottom) over time, one line per
//!   strategy;
//! - [`scatter_svg`]: p99 wait against cost, for `tune`'s frontier.

use std::fmt::Write;

use crate::simulation::Outcome;
use crate::trace::Trace;

/// Line colours, one per series in order.
pub(crate) const COLOURS: [&str; 6] = [
    "#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e",
];

/// The geometry of a chart of stacked panels.
pub(crate) struct Layout {
    pub width: f64,
    pub panel: f64,
    pub left: f64,
    pub top: f64,
    pub gap: f64,
}

impl Layout {
    pub const STANDARD: Layout = Layout {
        width: 900.0,
        panel: 220.0,
        left: 70.0,
        top: 40.0,
        gap: 50.0,
    };

    pub fn plot_width(&self) -> f64 {
        self.width - self.left - 20.0
    }

    /// The top of panel `i`.
    pub fn panel_top(&self, i: usize) -> f64 {
        self.top + i as f64 * (self.panel + self.gap)
    }

    /// The panel's frame, its y-axis range and its label.
    pub fn frame(&self, svg: &mut String, i: usize, label: &str, max: f64) {
        let (left, panel, plot_w) = (self.left, self.panel, self.plot_width());
        let y0 = self.panel_top(i);
        let _ = writeln!(
            svg,
            r##"<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel}" fill="none" stroke="#ccc"/><text x="{}" y="{}" text-anchor="end">{max:.0}</text><text x="{}" y="{}" text-anchor="end">0</text><text x="{}" y="{}" transform="rotate(-90 {} {})" text-anchor="middle">{label}</text>"##,
            left - 4.0,
            y0 + 10.0,
            left - 4.0,
            y0 + panel,
            left - 45.0,
            y0 + panel / 2.0,
            left - 45.0,
            y0 + panel / 2.0,
        );
    }

    /// A polyline of `(x, y)` points in panel `i`, x over `0..=max_x` and y over `0..=max_y`.
    pub fn line(
        &self,
        svg: &mut String,
        i: usize,
        colour: &str,
        points: impl Iterator<Item = (f64, f64)>,
        (max_x, max_y): (f64, f64),
    ) {
        let y0 = self.panel_top(i);
        let points: Vec<String> = points
            .map(|(x, y)| {
                format!(
                    "{:.1},{:.1}",
                    self.left + self.plot_width() * x / max_x,
                    y0 + self.panel - self.panel * y / max_y
                )
            })
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/>"#,
            points.join(" ")
        );
    }

    /// One legend entry at height `y`.
    pub fn legend(&self, svg: &mut String, y: f64, colour: &str, text: &str) {
        let left = self.left;
        let _ = writeln!(
            svg,
            r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{y}">{text}</text>"#,
            y - 4.0,
            left + 24.0,
            y - 4.0,
            left + 30.0,
        );
    }
}

/// Opens an SVG document with a white background and a title.
pub(crate) fn open(svg: &mut String, layout: &Layout, height: f64, title: &str) {
    let (width, left) = (layout.width, layout.left);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{left}" y="22" font-size="15">{title}</text>"#
    );
}

/// An SVG chart of backlog (top) and task count (bottom) over time, one line per
/// strategy, with a legend of each strategy's figures.
pub fn svg_chart(trace: &Trace, outcomes: &[Outcome]) -> String {
    let layout = Layout::STANDARD;
    let duration = trace.arrivals.len().max(1) as f64;
    let max_backlog = outcomes
        .iter()
        .flat_map(|o| o.series.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let max_tasks = outcomes
        .iter()
        .flat_map(|o| o.series.iter().map(|p| f64::from(p.2)))
        .fold(1.0, f64::max);
    let height = layout.top + 2.0 * layout.panel + layout.gap + 40.0 + 18.0 * outcomes.len() as f64;
    let mut svg = String::new();
    let title = format!(
        r#"Trace "{}": backlog (messages) and tasks over {:.1} h"#,
        trace.name,
        duration / 3600.0
    );
    open(&mut svg, &layout, height, &title);
    for (i, (label, max)) in [("backlog", max_backlog), ("tasks", max_tasks)]
        .into_iter()
        .enumerate()
    {
        layout.frame(&mut svg, i, label, max);
        for (n, o) in outcomes.iter().enumerate() {
            let points = o.series.iter().map(|&(t, backlog, tasks)| {
                let value = if i == 0 { backlog } else { f64::from(tasks) };
                (t as f64, value)
            });
            let colour = COLOURS[n % COLOURS.len()];
            layout.line(&mut svg, i, colour, points, (duration, max));
        }
    }
    let axis_y = layout.top + 2.0 * layout.panel + layout.gap + 14.0;
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{axis_y}">0 h</text><text x="{}" y="{axis_y}" text-anchor="end">{:.1} h</text>"#,
        layout.left,
        layout.left + layout.plot_width(),
        duration / 3600.0
    );
    for (n, o) in outcomes.iter().enumerate() {
        let text = format!(
            "{}: p99 wait {:.0} s, {:.1} task-hours, {} actions",
            o.strategy,
            o.p99_wait_s,
            o.task_seconds / 3600.0,
            o.scaling_actions
        );
        let y = axis_y + 20.0 + 18.0 * n as f64;
        layout.legend(&mut svg, y, COLOURS[n % COLOURS.len()], &text);
    }
    svg.push_str("</svg>\n");
    svg
}

/// One series of a scatter chart: its points (x, y), colour, legend, and whether
/// to join them with a line.
pub struct Series<'a> {
    pub points: Vec<(f64, f64)>,
    pub colour: &'a str,
    pub label: String,
    pub line: bool,
}

/// A scatter chart of p99 wait (y) against task-hours (x): every tuned setting,
/// the frontier, the oracle's frontier and the baseline, with a legend.
pub fn scatter_svg(title: &str, series: &[Series<'_>]) -> String {
    let layout = Layout {
        width: 900.0,
        panel: 440.0,
        left: 70.0,
        top: 40.0,
        gap: 0.0,
    };
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut max_x, mut max_y) = (1e-9_f64, 1e-9_f64);
    for &(x, y) in all {
        max_x = max_x.max(x);
        max_y = max_y.max(y);
    }
    let (max_x, max_y) = (max_x * 1.05, max_y * 1.05);
    let height = layout.top + layout.panel + 50.0 + 18.0 * series.len() as f64;
    let mut svg = String::new();
    open(&mut svg, &layout, height, title);
    layout.frame(&mut svg, 0, "p99 wait (s)", max_y);
    let (left, plot_w, y0) = (layout.left, layout.plot_width(), layout.top + layout.panel);
    let at = |(x, y): (f64, f64)| {
        (
            left + plot_w * x / max_x,
            layout.top + layout.panel - layout.panel * y / max_y,
        )
    };
    for s in series {
        if s.line {
            layout.line(
                &mut svg,
                0,
                s.colour,
                s.points.iter().copied(),
                (max_x, max_y),
            );
        }
        for &p in &s.points {
            let (cx, cy) = at(p);
            let _ = writeln!(
                svg,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{}"/>"#,
                s.colour
            );
        }
    }
    let _ = writeln!(
        svg,
        r#"<text x="{left}" y="{}">0</text><text x="{}" y="{}" text-anchor="end">{max_x:.1} task-hours</text>"#,
        y0 + 16.0,
        left + plot_w,
        y0 + 16.0
    );
    for (n, s) in series.iter().enumerate() {
        let y = y0 + 40.0 + 18.0 * n as f64;
        layout.legend(&mut svg, y, s.colour, &s.label);
    }
    svg.push_str("</svg>\n");
    svg
}
