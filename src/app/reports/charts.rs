//! Server-side SVG charts for dashboards and reports, drawn by `charts-rs` from its JSON
//! options. Each chart comes with what makes it accessible and printable: a title and a
//! text description (also inside the SVG as `<title>`/`<desc>`, referenced by
//! `aria-labelledby`), and the same numbers as a data table. Colours differ in
//! lightness as well as hue, and series also differ in marker shape or dash, so the
//! charts read in grey-scale print.

use serde::Serialize;
use serde_json::{Value, json};

/// Manager (dark blue) and peer worker (light orange): far apart in lightness.
pub const ROLE_COLOURS: [&str; 2] = ["#1F3A5F", "#E69F3C"];
/// Further series: mid grey, then dark green and a light purple.
pub const MORE_COLOURS: [&str; 3] = ["#7A7A7A", "#2E6B4F", "#B9A3D6"];
const FONT: &str = "Roboto";
const FUNNEL_95: &str = "#5B8DB8";
const FUNNEL_998: &str = "#8C1C13";

/// A chart ready for a page: the SVG (markup, inserted unescaped), its title and
/// description, and the data table that carries the same numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub description: String,
    pub svg: String,
    pub table: DataTable,
}

impl Chart {
    /// The chart's numbers as `lang` writes them: a decimal comma in bokmål, as in the
    /// tables beside it. Rewrites only text nodes that are a whole number with a decimal
    /// point (value and axis labels), never names or markup.
    #[must_use]
    pub fn in_lang(mut self, lang: &str) -> Self {
        if lang == "nb" {
            // Names stay as they are: a wave called "2025.1" is a name, not a number.
            let names: Vec<&str> = self
                .table
                .headers
                .iter()
                .chain(self.table.rows.iter().filter_map(|r| r.first()))
                .map(String::as_str)
                .collect();
            self.svg = decimal_commas(&self.svg, &names);
        }
        self
    }
}

/// `svg` with every text node that is a decimal number written with a comma, except
/// those that are one of `names` (category labels).
fn decimal_commas(svg: &str, names: &[&str]) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(start) = rest.find('>') {
        out.push_str(&rest[..=start]);
        rest = &rest[start + 1..];
        let end = rest.find('<').unwrap_or(rest.len());
        let text = &rest[..end];
        let t = text.trim();
        let numeric = t.contains('.')
            && !names.contains(&t)
            && t.trim_start_matches(['-', '−', '+'])
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && t.parse::<f64>().is_ok();
        if numeric {
            out.push_str(&text.replace('.', ","));
        } else {
            out.push_str(text);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Column headers and rows of text; the first cell of a row is its header.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DataTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One series of values over the categories, with optional error bars.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub bounds: Option<Vec<Option<(f64, f64)>>>,
    /// Its colour; by default the palette's by position. A role's series takes
    /// [`role_colour`], so a role looks the same on every chart whatever others are drawn.
    pub colour: Option<&'static str>,
}

/// The colour of the role at `index` in the survey file's roles (in code order): the
/// same on every chart and every page.
pub fn role_colour(index: usize) -> &'static str {
    palette(index + 1)[index]
}

/// Each series' colour: its own, else the palette's by position.
fn colours(series: &[Series]) -> Vec<&'static str> {
    let defaults = palette(series.len());
    series
        .iter()
        .zip(defaults)
        .map(|(s, d)| s.colour.unwrap_or(d))
        .collect()
}

fn rounded(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |x| json!((x * 100.0).round() / 100.0))
}

/// Decimals a chart's value labels show, as the tables beside them do: two on the
/// 0-4 phase scale, one on the 0-100 index.
fn digits_for(max: f64) -> i32 {
    if max > 10.0 { 1 } else { 2 }
}

/// `v` rounded as the chart's table rounds it (see [`digits_for`]), so a label never
/// says 16.6 beside a table's 16.7.
fn rounded_to(v: Option<f64>, digits: i32) -> Value {
    let scale = 10f64.powi(digits);
    v.map_or(Value::Null, |x| json!((x * scale).round() / scale))
}

/// An error bar kept within the value axis `0..=max`: a confidence interval past the
/// scale's end would draw beyond the chart (a mean of 3.9 with an upper bound of 4.6 on
/// a 1-4 scale).
fn clipped(bounds: Option<(f64, f64)>, max: f64) -> Option<(f64, f64)> {
    bounds.map(|(lo, hi)| (lo.clamp(0.0, max), hi.clamp(0.0, max)))
}

fn base(title: &str, width: u32, height: u32) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("width".into(), json!(width));
    m.insert("height".into(), json!(height));
    m.insert("font_family".into(), json!(FONT));
    m.insert("title_text".into(), json!(title));
    m.insert("title_font_size".into(), json!(15));
    m.insert("title_align".into(), json!("left"));
    m.insert("legend_align".into(), json!("right"));
    m.insert("legend_category".into(), json!("rect"));
    m.insert(
        "margin".into(),
        json!({"left": 8, "top": 8, "right": 16, "bottom": 8}),
    );
    m
}

/// Value labels with the decimals of the tables beside the chart ([`digits_for`]);
/// `charts-rs` would otherwise write 1.64 as "1.6" (one decimal from 1.1 up). Trailing
/// zeros are still dropped ("2" for 2.00).
fn label_digits(m: &mut serde_json::Map<String, Value>, max: f64) {
    m.insert(
        "series_label_formatter".into(),
        json!(format!("{{:.{}}}", digits_for(max))),
    );
}

/// A value axis from 0 to `max` in four steps, as every chart here draws it.
fn value_axis(max: f64) -> Value {
    json!({"axis_min": 0, "axis_max": max, "axis_split_number": 4, "axis_font_size": 12})
}

/// Puts the title and description into the SVG and labels it for assistive technology.
fn accessible(svg: &str, id: &str, title: &str, description: &str) -> String {
    let esc = handlebars::html_escape;
    let open_end = svg.find('>').unwrap_or(0);
    let (open, rest) = svg.split_at(open_end);
    format!(
        "{open} role=\"img\" aria-labelledby=\"{id}-t {id}-d\" focusable=\"false\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>{}",
        esc(title),
        esc(description),
        rest.strip_prefix('>').unwrap_or(rest)
    )
}

fn finish(
    id: &str,
    title: &str,
    description: &str,
    svg: Result<String, charts_rs::Error>,
    table: DataTable,
) -> anyhow::Result<Chart> {
    let svg = svg
        .map_err(|e| anyhow::anyhow!("chart {id}: {e:?}"))?
        // Measured with the bundled Roboto; browsers without it fall back to a sans serif.
        .replace(
            "font-family=\"Roboto\"",
            "font-family=\"Roboto, 'Helvetica Neue', Arial, sans-serif\"",
        );
    Ok(Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        description: description.to_owned(),
        svg: accessible(&svg, id, title, description),
        table,
    })
}

/// Grouped vertical bars (one group per category) with error bars where bounds are
/// given, on a fixed value axis `0..=max`.
pub fn bars(
    id: &str,
    title: &str,
    description: &str,
    categories: &[String],
    series: &[Series],
    max: f64,
    table: DataTable,
) -> anyhow::Result<Chart> {
    let mut m = base(title, 640, 320);
    label_digits(&mut m, max);
    // Below the plot: with three roles or more the legend beside the title ran into it.
    m.insert("legend_position".into(), json!("bottom"));
    m.insert("legend_align".into(), json!("left"));
    m.insert("x_axis_data".into(), json!(categories));
    m.insert("y_axis_configs".into(), json!([value_axis(max)]));
    m.insert("x_axis_font_size".into(), json!(12));
    m.insert("series_colors".into(), json!(colours(series)));
    m.insert("series_label_font_size".into(), json!(12));
    m.insert(
        "series_list".into(),
        Value::Array(
            series
                .iter()
                .map(|s| {
                    let digits = digits_for(max);
                    let mut o = json!({
                        "name": s.name,
                        "data": s.values.iter().map(|v| rounded_to(*v, digits)).collect::<Vec<_>>(),
                        "label_show": true,
                    });
                    if let Some(b) = &s.bounds {
                        o["error_bar"] = json!({
                            "lower": b.iter().map(|x| rounded(clipped(*x, max).map(|p| p.0))).collect::<Vec<_>>(),
                            "upper": b.iter().map(|x| rounded(clipped(*x, max).map(|p| p.1))).collect::<Vec<_>>(),
                            "stroke_width": 1.5,
                        });
                    }
                    o
                })
                .collect(),
        ),
    );
    let svg = charts_rs::BarChart::from_json(&Value::Object(m).to_string()).and_then(|c| c.svg());
    finish(id, title, description, svg, table)
}

/// Lines over ordered categories (waves), dashed differently per series.
pub fn lines(
    id: &str,
    title: &str,
    description: &str,
    categories: &[String],
    series: &[Series],
    max: f64,
    table: DataTable,
) -> anyhow::Result<Chart> {
    let mut m = base(title, 640, 280);
    label_digits(&mut m, max);
    m.insert("x_axis_data".into(), json!(categories));
    m.insert("y_axis_configs".into(), json!([value_axis(max)]));
    m.insert("x_axis_font_size".into(), json!(12));
    m.insert("series_colors".into(), json!(colours(series)));
    m.insert("series_stroke_width".into(), json!(2.5));
    m.insert(
        "series_list".into(),
        Value::Array(
            series
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    json!({
                        "name": s.name,
                        "data": s.values.iter().map(|v| rounded_to(*v, digits_for(max))).collect::<Vec<_>>(),
                        "label_show": true,
                        "stroke_dash_array": if i % 2 == 1 { "6 3" } else { "" },
                    })
                })
                .collect(),
        ),
    );
    let svg = charts_rs::LineChart::from_json(&Value::Object(m).to_string()).and_then(|c| c.svg());
    finish(id, title, description, svg, table)
}

/// A funnel plot: the peer group's units as points (unit size on x, score on y), the
/// highlighted unit as its own series, and the 95 % and 99.8 % control limits as lines.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per chart; all are data"
)]
pub fn funnel(
    id: &str,
    title: &str,
    description: &str,
    peers: &[(f64, f64)],
    own: (f64, f64),
    limits: &[(String, Vec<(f64, f64)>)],
    labels: (&str, &str, &str),
    max: f64,
    table: DataTable,
) -> anyhow::Result<Chart> {
    let mut m = base(title, 640, 340);
    let flat = |pts: &[(f64, f64)]| -> Vec<Value> {
        pts.iter()
            .flat_map(|(x, y)| [rounded(Some(*x)), rounded(Some(*y))])
            .collect()
    };
    let mut series = vec![
        json!({"name": labels.0, "data": flat(peers)}),
        json!({"name": labels.1, "data": flat(&[own])}),
    ];
    for (name, pts) in limits {
        series.push(json!({"name": name, "data": flat(pts)}));
    }
    m.insert("series_list".into(), Value::Array(series));
    let sizes = peers.iter().map(|p| p.0).chain(std::iter::once(own.0));
    let (lo, hi, split) = fitted_axis(
        sizes.clone().fold(f64::INFINITY, f64::min),
        sizes.fold(0.0_f64, f64::max),
    );
    m.insert(
        "x_axis_config".into(),
        json!({"axis_min": lo, "axis_max": hi, "axis_split_number": split, "axis_font_size": 12}),
    );
    m.insert("x_axis_title".into(), json!(labels.2));
    m.insert(
        "series_colors".into(),
        // The 95 % limits a lighter blue in small squares, the 99.8 % limits a dark red
        // in triangles: told apart by lightness and shape as well as hue.
        json!([
            "#9A9A9A",
            ROLE_COLOURS[0],
            FUNNEL_95,
            FUNNEL_95,
            FUNNEL_998,
            FUNNEL_998
        ]),
    );
    m.insert(
        "series_symbols".into(),
        json!(["circle", "diamond", "rect", "rect", "triangle", "triangle"]),
    );
    m.insert(
        "series_symbol_sizes".into(),
        json!([3, 8, 1.5, 1.5, 2.5, 2.5]),
    );
    m.insert("y_axis_configs".into(), json!([value_axis(max)]));
    m.insert("x_axis_font_size".into(), json!(12));
    let svg =
        charts_rs::ScatterChart::from_json(&Value::Object(m).to_string()).and_then(|c| c.svg());
    finish(id, title, description, svg, table)
}

/// A funnel plot's size axis fitted to the data: whole numbers of respondents from just
/// below the smallest unit to just above the largest, in steps of whole numbers, instead
/// of from 0 (where every point sat in the right tenth of the plot at 5 to 7). Returns
/// `(min, max, steps)`.
fn fitted_axis(smallest: f64, largest: f64) -> (f64, f64, u32) {
    let lo = (smallest.floor() - 1.0).max(0.0);
    let hi = (largest.ceil() + 1.0).max(lo + 2.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a span of respondents, positive and small"
    )]
    let span = (hi - lo) as u32;
    if span <= 8 {
        return (lo, hi, span);
    }
    // At most eight steps of a whole number each.
    let step = span.div_ceil(8);
    (lo, lo + f64::from(step * 8), 8)
}

/// A heatmap of rows × columns; `None` cells stay empty (suppressed or no data).
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per chart; all are data"
)]
pub fn heatmap(
    id: &str,
    title: &str,
    description: &str,
    columns: &[String],
    rows: &[String],
    values: &[Vec<Option<f64>>],
    max: f64,
    table: DataTable,
) -> anyhow::Result<Chart> {
    let height = 80 + 28 * u32::try_from(rows.len()).unwrap_or(20);
    let mut m = base(title, 640, height);
    label_digits(&mut m, max);
    m.insert("x_axis_data".into(), json!(columns));
    // Rows run bottom to top in the chart: reversed, so the first row is at the top.
    let reversed: Vec<&String> = rows.iter().rev().collect();
    m.insert("y_axis_data".into(), json!(reversed));
    let width = columns.len();
    let mut data = Vec::new();
    for (r, row) in values.iter().rev().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if let Some(v) = v {
                data.push(json!([r * width + c, (v * 100.0).round() / 100.0]));
            }
        }
    }
    m.insert(
        "series".into(),
        json!({
            "min": 0, "max": max, "data": data,
            // Light to dark: a lightness ramp that survives grey-scale print.
            "colors": ["#F3F0E4", "#C9D7E3", "#7FA3C4", "#3F6C99", "#1F3A5F"],
            "min_font_color": "#1A1A1A", "max_font_color": "#FFFFFF",
        }),
    );
    m.insert("x_axis_font_size".into(), json!(12));
    m.insert("legend_show".into(), json!(false));
    let svg =
        charts_rs::HeatmapChart::from_json(&Value::Object(m).to_string()).and_then(|c| c.svg());
    finish(id, title, description, svg, table)
}

/// Box plots, one per category: `[min, q1, median, q3, max]` of the values.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per chart; all are data"
)]
pub fn boxes(
    id: &str,
    title: &str,
    description: &str,
    categories: &[String],
    name: &str,
    five: &[Option<[f64; 5]>],
    max: f64,
    table: DataTable,
) -> anyhow::Result<Chart> {
    let mut m = base(title, 640, 300);
    m.insert("x_axis_data".into(), json!(categories));
    m.insert(
        "box_series".into(),
        json!([{
            "name": name,
            "data": five.iter().map(|f| f.map_or(Value::Null, |v| json!(v.map(|x| (x * 100.0).round() / 100.0)))).collect::<Vec<_>>(),
        }]),
    );
    m.insert("series_colors".into(), json!([ROLE_COLOURS[0]]));
    m.insert("y_axis_configs".into(), json!([value_axis(max)]));
    m.insert("x_axis_font_size".into(), json!(12));
    m.insert("x_axis_label_overflow".into(), json!("ellipsis"));
    let svg =
        charts_rs::BoxPlotChart::from_json(&Value::Object(m).to_string()).and_then(|c| c.svg());
    finish(id, title, description, svg, table)
}

/// One role at a corner of [`perspectives`]: its name and its mean, when shown.
#[derive(Debug, Clone)]
pub struct Corner {
    pub name: String,
    /// The role's colour ([`role_colour`]).
    pub colour: &'static str,
    /// The mean as the table beside it writes it, or why there is none.
    pub text: String,
    pub shown: bool,
}

/// One side of [`perspectives`]: the corners it joins, the gap as written, and whether
/// it is flagged. `None` where either corner is hidden.
#[derive(Debug, Clone)]
pub struct Side {
    pub from: usize,
    pub to: usize,
    pub gap: Option<String>,
    pub flagged: bool,
}

/// A phase's perspectives as a small polygon: one corner per role (a line for two, a
/// triangle for three, a square for four), labelled with the role's mean, and a side
/// between every two labelled with their gap. A flagged gap is drawn thick and dashed
/// in dark red, so it reads in grey-scale print; a side with a hidden corner is a thin
/// dotted line without a number. Drawn by hand: a chart library has no such chart.
#[expect(
    clippy::many_single_char_names,
    reason = "geometry: n corners, w and h the canvas, r the radius, x and y a point"
)]
pub fn perspectives(
    id: &str,
    title: &str,
    description: &str,
    corners: &[Corner],
    sides: &[Side],
    table: DataTable,
) -> Chart {
    use std::fmt::Write as _;
    let esc = handlebars::html_escape;
    let n = corners.len().max(1);
    let (w, r) = (360.0_f64, 95.0_f64);
    #[expect(clippy::cast_precision_loss, reason = "a handful of roles")]
    let unit = |i: usize| -> (f64, f64) {
        if n == 2 {
            // Two roles: a level line.
            return (if i == 0 { -1.2 } else { 1.2 }, 0.0);
        }
        let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
        (angle.cos(), angle.sin())
    };
    // Room for two lines of label above the top corner and below the lowest.
    let lowest = (0..n).map(|i| unit(i).1).fold(0.0_f64, f64::max);
    let (cx, cy) = (w / 2.0, 40.0 + r);
    let h = (cy + r * lowest + 46.0).round();
    let at = |i: usize| -> (f64, f64) {
        let (x, y) = unit(i);
        (cx + r * x, cy + r * y)
    };
    let font = "font-family=\"Roboto, 'Helvetica Neue', Arial, sans-serif\"";
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\">"
    );
    for side in sides {
        let ((x1, y1), (x2, y2)) = (at(side.from), at(side.to));
        let (stroke, width, dash) = match (&side.gap, side.flagged) {
            (Some(_), true) => (FUNNEL_998, 4.0, " stroke-dasharray=\"9 4\""),
            (Some(_), false) => ("#5A5A5A", 2.0, ""),
            (None, _) => ("#9A9A9A", 1.0, " stroke-dasharray=\"2 4\""),
        };
        let _ = write!(
            svg,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash}/>"
        );
        if let Some(gap) = &side.gap {
            let (mx, my) = (f64::midpoint(x1, x2), f64::midpoint(y1, y2));
            let colour = if side.flagged { FUNNEL_998 } else { "#333333" };
            let weight = if side.flagged { "700" } else { "400" };
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"44\" height=\"18\" rx=\"3\" fill=\"#FFFFFF\"/>\
                 <text x=\"{mx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"{weight}\" fill=\"{colour}\" {font}>{}</text>",
                mx - 22.0,
                my - 9.0,
                my + 4.5,
                esc(gap)
            );
        }
    }
    for (i, c) in corners.iter().enumerate() {
        let (x, y) = at(i);
        let colour = c.colour;
        let fill = if c.shown { colour } else { "#FFFFFF" };
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"2\"/>"
        );
        // Names centred above the top corner and below the others (the lower corners
        // are far enough apart for two names of about twenty letters).
        let (ty, anchor) = if y < cy - 1.0 {
            (y - 28.0, "middle")
        } else {
            (y + 24.0, "middle")
        };
        let tx = x;
        let weight = if c.shown { "700" } else { "400" };
        let _ = write!(
            svg,
            "<text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"{anchor}\" font-size=\"14\" fill=\"#222222\" {font}>{}</text>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-size=\"14\" font-weight=\"{weight}\" fill=\"#222222\" {font}>{}</text>",
            esc(&c.name),
            ty + 15.0,
            esc(&c.text)
        );
    }
    svg.push_str("</svg>");
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        description: description.to_owned(),
        svg: accessible(&svg, id, title, description),
        table,
    }
}

fn palette(n: usize) -> Vec<&'static str> {
    ROLE_COLOURS
        .iter()
        .chain(MORE_COLOURS.iter())
        .copied()
        .cycle()
        .take(n.max(1))
        .collect()
}

/// Five-number summary of `values` (sorted here), quartiles by linear interpolation.
pub fn five_numbers(values: &mut [f64]) -> Option<[f64; 5]> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    #[expect(clippy::cast_precision_loss, reason = "counts of services")]
    let q = |p: f64| {
        let pos = p * (values.len() - 1) as f64;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "pos is within 0..len"
        )]
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(values.len() - 1);
        #[expect(clippy::cast_precision_loss, reason = "an index")]
        let frac = pos - lo as f64;
        values[lo] + (values[hi] - values[lo]) * frac
    };
    Some([
        values[0],
        q(0.25),
        q(0.5),
        q(0.75),
        values[values.len() - 1],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DataTable {
        DataTable {
            headers: vec!["Phase".into(), "Managers".into()],
            rows: vec![vec!["Co-define".into(), "2.10".into()]],
        }
    }

    #[test]
    fn labels_round_as_the_tables_do_and_error_bars_stay_on_the_scale() {
        assert_eq!(rounded_to(Some(16.66), digits_for(100.0)), json!(16.7));
        assert_eq!(rounded_to(Some(2.345_6), digits_for(4.0)), json!(2.35));
        assert_eq!(rounded_to(None, 1), Value::Null);
        assert_eq!(clipped(Some((3.2, 4.6)), 4.0), Some((3.2, 4.0)));
        assert_eq!(clipped(Some((-0.3, 0.9)), 4.0), Some((0.0, 0.9)));
        assert_eq!(clipped(None, 4.0), None);
        // Drawn: an index of 16.66 is labelled 16.7, as its table shows it.
        let chart = lines(
            "trend",
            "Index",
            "Index per wave",
            &["2025".into()],
            &[Series {
                name: "Managers".into(),
                values: vec![Some(16.66)],
                bounds: None,
                colour: None,
            }],
            100.0,
            table(),
        )
        .expect("chart");
        assert!(chart.svg.contains("\n16.7\n"), "{}", chart.svg);
        // Two decimals on the phase scale: 1.64 is not written as 1.6.
        let bars = bars(
            "profile",
            "Profile",
            "By phase",
            &["Co-define".into()],
            &[Series {
                name: "Managers".into(),
                values: vec![Some(1.644)],
                bounds: None,
                colour: None,
            }],
            4.0,
            table(),
        )
        .expect("chart");
        assert!(bars.svg.contains("\n1.64\n"), "{}", bars.svg);
    }

    #[test]
    fn bokmal_charts_write_decimal_commas_in_numbers_only() {
        let svg = r#"<svg><title>Fase 1.2 of 3.5</title><text x="1.5">
2.35
</text><text>40</text><text>-0.5</text><text>v1.2</text></svg>"#;
        let nb = decimal_commas(svg, &[]);
        assert!(
            decimal_commas("<text>2025.1</text><text>2.5</text>", &["2025.1"])
                == "<text>2025.1</text><text>2,5</text>",
            "a category named like a number keeps its point"
        );
        assert!(nb.contains("\n2,35\n"), "{nb}");
        assert!(nb.contains(">-0,5<"), "{nb}");
        assert!(
            nb.contains("Fase 1.2 of 3.5"),
            "names keep their points: {nb}"
        );
        assert!(nb.contains(r#"x="1.5""#), "attributes are untouched: {nb}");
        assert!(nb.contains(">v1.2<") && nb.contains(">40<"), "{nb}");
        let chart = lines(
            "trend",
            "Indeks",
            "Indeks per runde",
            &["2025".into()],
            &[Series {
                name: "Ledere".into(),
                values: vec![Some(16.66)],
                bounds: None,
                colour: None,
            }],
            100.0,
            table(),
        )
        .expect("chart");
        assert!(chart.clone().in_lang("nb").svg.contains("\n16,7\n"));
        assert!(chart.in_lang("en").svg.contains("\n16.7\n"));
    }

    #[test]
    fn bars_are_labelled_svg_with_error_bars() {
        let chart = bars(
            "profile",
            "Profile <by phase>",
            "Managers & peer workers",
            &["A".into(), "B".into()],
            &[
                Series {
                    name: "Managers".into(),
                    values: vec![Some(2.1), None],
                    bounds: Some(vec![Some((1.8, 2.4)), None]),
                    colour: None,
                },
                Series {
                    name: "Peer workers".into(),
                    values: vec![Some(1.4), Some(3.0)],
                    bounds: None,
                    colour: None,
                },
            ],
            4.0,
            table(),
        )
        .expect("chart");
        assert!(chart.svg.starts_with("<svg"), "{}", &chart.svg[..80]);
        assert!(
            chart
                .svg
                .contains(r#"role="img" aria-labelledby="profile-t profile-d""#)
        );
        assert!(
            chart
                .svg
                .contains("<title id=\"profile-t\">Profile &lt;by phase&gt;</title>")
        );
        assert!(
            chart
                .svg
                .contains("<desc id=\"profile-d\">Managers &amp; peer workers</desc>")
        );
        assert!(chart.svg.contains("2.1"), "value labels are drawn");
        assert!(chart.svg.contains(ROLE_COLOURS[1]));
    }

    #[test]
    fn every_chart_kind_renders() {
        let s = |v: Vec<Option<f64>>| Series {
            name: "x".into(),
            values: v,
            bounds: None,
            colour: None,
        };
        lines(
            "l",
            "t",
            "d",
            &["2024".into(), "2025".into()],
            &[s(vec![Some(40.0), None])],
            100.0,
            table(),
        )
        .expect("lines");
        funnel(
            "f",
            "t",
            "d",
            &[(5.0, 50.0), (9.0, 60.0)],
            (7.0, 55.0),
            &[("95 %".into(), vec![(5.0, 30.0), (9.0, 40.0)])],
            ("Peers", "You", "Respondents"),
            100.0,
            table(),
        )
        .expect("funnel");
        heatmap(
            "h",
            "t",
            "d",
            &["A".into(), "B".into()],
            &["Vest".into(), "Nord".into()],
            &[vec![Some(1.0), None], vec![Some(2.5), Some(3.9)]],
            4.0,
            table(),
        )
        .expect("heatmap");
        boxes(
            "b",
            "t",
            "d",
            &["Vest".into(), "Nord".into()],
            "Index",
            &[Some([10.0, 20.0, 30.0, 40.0, 50.0]), None],
            100.0,
            table(),
        )
        .expect("boxes");
    }

    #[test]
    fn funnel_axes_fit_the_units_in_whole_steps() {
        assert_eq!(fitted_axis(5.0, 7.0), (4.0, 8.0, 4));
        assert_eq!(fitted_axis(1.0, 1.0), (0.0, 2.0, 2));
        assert_eq!(fitted_axis(3.0, 40.0), (2.0, 42.0, 8));
        let (lo, hi, steps) = fitted_axis(12.0, 97.5);
        assert!(lo <= 12.0 && hi >= 97.5, "{lo}..{hi}");
        assert!(((hi - lo) % f64::from(steps)).abs() < 1e-9, "whole steps");
    }

    #[test]
    fn five_numbers_interpolate() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        assert_eq!(five_numbers(&mut v), Some([1.0, 2.0, 3.0, 4.0, 5.0]));
        assert_eq!(five_numbers(&mut []), None);
    }
}
