//! Charts as inline SVG, drawn on the server: no script, no CDN, no font download.
//!
//! Each chart is an `<svg role="img">` labelled by its own `<title>` and `<desc>` (screen
//! readers read both), every bar carries a `<title>` with its label and value, and the numbers
//! are printed next to the bars so the chart reads without hovering. Colours come from the
//! console's stylesheet through class names (`bar`, `bar-alt`, `seg-ok`, …), so the markup
//! holds no inline style and the page's Content-Security-Policy can forbid inline styles.
//!
//! Every text that goes into the SVG is XML-escaped here; the templates insert the result
//! with `|safe`.
//!
//! ```
//! use fraudshield_server::console::chart::{Bar, columns};
//! let svg = columns("c1", "Tips per day", "Tips received per day, last 3 days", &[
//!     Bar::new("11-01", 3), Bar::new("11-02", 0), Bar::new("11-03", 7),
//! ]);
//! assert!(svg.as_str().starts_with("<svg"));
//! assert!(svg.as_str().contains("<title id=\"c1-title\">Tips per day</title>"));
//! ```

use std::fmt::Write as _;

/// A finished SVG fragment, safe to insert into HTML as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One bar: a label and a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// What the bar stands for.
    pub label: String,
    /// Its value (a count or a number of bytes).
    pub value: u64,
}

impl Bar {
    /// A bar.
    pub fn new(label: impl Into<String>, value: u64) -> Bar {
        Bar {
            label: label.into(),
            value,
        }
    }
}

/// One part of a [`share`] bar, with its stylesheet class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// What the part stands for.
    pub label: String,
    /// Its count.
    pub value: u64,
    /// The CSS class that colours it (`seg-ok`, `seg-late`, `seg-overdue`, `seg-open`).
    pub class: &'static str,
}

/// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A compact number: `950`, `12.3k`, `4.5M`.
pub fn compact(v: u64) -> String {
    match v {
        0..1_000 => v.to_string(),
        1_000..1_000_000 => format!("{:.1}k", v as f64 / 1e3),
        _ => format!("{:.1}M", v as f64 / 1e6),
    }
}

/// A byte count for people: `812 B`, `3.4 KiB`, `1.2 MiB`.
pub fn bytes(v: u64) -> String {
    match v {
        0..1024 => format!("{v} B"),
        1024..1_048_576 => format!("{:.1} KiB", v as f64 / 1024.0),
        _ => format!("{:.1} MiB", v as f64 / 1_048_576.0),
    }
}

fn open(out: &mut String, id: &str, title: &str, desc: &str, width: u32, height: u32) {
    let id = escape(id);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {width} {height}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
}

/// A vertical bar chart (one column per bar, left to right), e.g. tips per day.
///
/// Labels are printed under every column when there are at most 16, else under every
/// `n / 8`-th one; values are printed above every non-zero column.
pub fn columns(id: &str, title: &str, desc: &str, bars: &[Bar]) -> Svg {
    const W: u32 = 640;
    const H: u32 = 220;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 34.0;
    const LEFT: f64 = 8.0;
    let mut out = String::new();
    open(&mut out, id, title, desc, W, H);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let plot_h = f64::from(H) - TOP - BOTTOM;
    let n = bars.len().max(1) as f64;
    let slot = (f64::from(W) - 2.0 * LEFT) / n;
    // Wide enough to see, never a slab: a few bars stay slim.
    let bar_w = (slot * 0.7).clamp(1.0, 40.0);
    let label_every = if bars.len() <= 16 {
        1
    } else {
        bars.len().div_ceil(8)
    };
    let baseline = TOP + plot_h;
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{baseline:.1}\" x2=\"{:.1}\" y2=\"{baseline:.1}\"/>",
        f64::from(W) - LEFT
    );
    for (i, b) in bars.iter().enumerate() {
        let h = b.value as f64 / max * plot_h;
        let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
        let y = baseline - h;
        let label = escape(&b.label);
        let _ = write!(
            out,
            "<g><title>{label}: {}</title><rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\"/>",
            b.value
        );
        let cx = x + bar_w / 2.0;
        if b.value > 0 {
            let _ = write!(
                out,
                "<text class=\"value\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                y - 4.0,
                compact(b.value)
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                out,
                "<text class=\"label\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
                baseline + 16.0
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    Svg(out)
}

/// A horizontal bar chart (one row per bar, label on the left, value on the right), e.g.
/// entries by category. `fmt` formats the printed values (counts or bytes).
pub fn rows(id: &str, title: &str, desc: &str, bars: &[Bar], fmt: fn(u64) -> String) -> Svg {
    const W: u32 = 640;
    const ROW: f64 = 26.0;
    const LABEL_W: f64 = 270.0;
    const VALUE_W: f64 = 80.0;
    let h = (ROW * bars.len().max(1) as f64 + 8.0).ceil() as u32;
    let mut out = String::new();
    open(&mut out, id, title, desc, W, h);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let plot_w = f64::from(W) - LABEL_W - VALUE_W;
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let w = b.value as f64 / max * plot_w;
        let label = escape(&b.label);
        let value = escape(&fmt(b.value));
        let _ = write!(
            out,
            "<g><title>{label}: {value}</title>\
             <text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>\
             <rect class=\"bar\" x=\"{LABEL_W:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\"/>\
             <text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{value}</text></g>",
            LABEL_W - 6.0,
            y + ROW * 0.62,
            ROW - 8.0,
            LABEL_W + w + 6.0,
            y + ROW * 0.62,
        );
    }
    out.push_str("</svg>");
    Svg(out)
}

/// One 100 % bar split into parts (e.g. answered in time / late / overdue), with a legend
/// that prints each part's count and share.
pub fn share(id: &str, title: &str, desc: &str, parts: &[Segment]) -> Svg {
    const W: u32 = 640;
    const BAR_H: f64 = 34.0;
    const LEGEND_ROW: f64 = 22.0;
    let h = (BAR_H + 16.0 + LEGEND_ROW * parts.len() as f64).ceil() as u32;
    let mut out = String::new();
    open(&mut out, id, title, desc, W, h);
    let total: u64 = parts.iter().map(|p| p.value).sum();
    let width = f64::from(W) - 2.0;
    let mut x = 1.0;
    if total == 0 {
        let _ = write!(
            out,
            "<rect class=\"seg-empty\" x=\"1\" y=\"1\" width=\"{width:.1}\" height=\"{BAR_H:.1}\"/>"
        );
    }
    for p in parts {
        if total == 0 || p.value == 0 {
            continue;
        }
        let w = p.value as f64 / total as f64 * width;
        let _ = write!(
            out,
            "<g><title>{}: {}</title><rect class=\"{}\" x=\"{x:.1}\" y=\"1\" width=\"{w:.1}\" height=\"{BAR_H:.1}\"/></g>",
            escape(&p.label),
            p.value,
            p.class
        );
        x += w;
    }
    for (i, p) in parts.iter().enumerate() {
        let y = BAR_H + 16.0 + LEGEND_ROW * i as f64;
        let pct = if total == 0 {
            0.0
        } else {
            p.value as f64 * 100.0 / total as f64
        };
        let _ = write!(
            out,
            "<rect class=\"{}\" x=\"1\" y=\"{:.1}\" width=\"14\" height=\"14\"/>\
             <text class=\"label\" x=\"22\" y=\"{:.1}\">{}: {} ({pct:.0} %)</text>",
            p.class,
            y - 12.0,
            y,
            escape(&p.label),
            p.value
        );
    }
    out.push_str("</svg>");
    Svg(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        let evil = "<script>alert('x')</script>&\"";
        for svg in [
            columns("a", evil, evil, &[Bar::new(evil, 3)]),
            rows("b", evil, evil, &[Bar::new(evil, 3)], compact),
            share(
                "c",
                evil,
                evil,
                &[Segment {
                    label: evil.into(),
                    value: 1,
                    class: "seg-ok",
                }],
            ),
        ] {
            assert!(!svg.as_str().contains("<script"), "{}", svg.as_str());
            assert!(svg.as_str().contains("&lt;script&gt;"));
            assert!(!svg.as_str().contains("'x'"));
        }
    }

    #[test]
    fn bars_scale_to_the_largest_value_and_print_it() {
        let svg = columns("t", "T", "D", &[Bar::new("a", 5), Bar::new("b", 10)]);
        let s = svg.as_str();
        // The plot is 220 - 18 - 34 = 168 high: 10 fills it, 5 fills half.
        assert!(s.contains("height=\"168.0\""), "{s}");
        assert!(s.contains("height=\"84.0\""), "{s}");
        assert!(s.contains("<title>b: 10</title>"));
        assert!(s.contains("role=\"img\""));
        assert!(s.contains("aria-labelledby=\"t-title t-desc\""));
    }

    #[test]
    fn empty_and_zero_data_draw_without_dividing_by_zero() {
        for svg in [
            columns("z", "T", "D", &[]),
            columns("z", "T", "D", &[Bar::new("a", 0)]),
            rows("z", "T", "D", &[], bytes),
            share("z", "T", "D", &[]),
        ] {
            assert!(!svg.as_str().contains("NaN"), "{}", svg.as_str());
            assert!(!svg.as_str().contains("inf"), "{}", svg.as_str());
        }
    }

    #[test]
    fn a_share_bar_prints_counts_and_percentages() {
        let svg = share(
            "s",
            "SLA",
            "answered within five working days",
            &[
                Segment {
                    label: "in time".into(),
                    value: 3,
                    class: "seg-ok",
                },
                Segment {
                    label: "late".into(),
                    value: 1,
                    class: "seg-late",
                },
            ],
        );
        assert!(svg.as_str().contains("in time: 3 (75 %)"));
        assert!(svg.as_str().contains("late: 1 (25 %)"));
    }

    #[test]
    fn units() {
        assert_eq!(compact(999), "999");
        assert_eq!(compact(12_345), "12.3k");
        assert_eq!(bytes(800), "800 B");
        assert_eq!(bytes(3 * 1024 + 512), "3.5 KiB");
        assert_eq!(bytes(3 * 1_048_576), "3.0 MiB");
    }
}
