//! Charts as SVG, drawn by plotters' SVG backend: bars per category (a day, a month), stacked
//! or side by side. The page puts the SVG in its HTML (no script), with the figures in a table
//! beside it.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// The series' colours, in order (the legend's `s0`, `s1` … in `app.css`).
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x24, 0x58, 0xc6),
    RGBColor(0xe0, 0x7b, 0x24),
    RGBColor(0x2f, 0x9e, 0x5b),
    RGBColor(0xb8, 0x38, 0x4e),
    RGBColor(0x7b, 0x5c, 0xc4),
    RGBColor(0x8a, 0x8f, 0x99),
    RGBColor(0xc2, 0xa3, 0x1b),
    RGBColor(0x1b, 0x9b, 0xb0),
];

/// One series: a value per category.
pub(crate) struct Series {
    pub(crate) values: Vec<u64>,
}

/// How a chart's bars stand.
#[derive(Clone, Copy)]
pub(crate) enum Bars {
    /// One bar per category, the series on top of each other.
    Stacked,
    /// One bar per category and series, side by side.
    Grouped,
}

/// A bar chart of `series` over `labels` (`(width, height)` pixels); `unit` formats the
/// values on the axis.
pub(crate) fn bars(
    labels: &[String],
    series: &[Series],
    bars: Bars,
    size: (u32, u32),
    unit: &dyn Fn(u64) -> String,
) -> Result<String, String> {
    let categories = u32::try_from(labels.len()).map_err(|_| "too many bars".to_owned())?;
    let top = match bars {
        Bars::Stacked => (0..labels.len())
            .map(|i| {
                series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0))
                    .sum()
            })
            .max(),
        Bars::Grouped => series.iter().flat_map(|s| s.values.iter().copied()).max(),
    }
    .unwrap_or(0)
    .max(1);
    let top = top + top / 20 + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d((0u32..categories.max(1)).into_segmented(), 0u64..top)
            .map_err(|e| e.to_string())?;
        // At most about 12 labels along the axis.
        let every = (labels.len() / 12).max(1);
        let label = |value: &SegmentValue<u32>| match value {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => labels
                .get(*i as usize)
                .filter(|_| (*i as usize).is_multiple_of(every))
                .cloned()
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().max(1))
            .x_label_formatter(&label)
            .y_labels(6)
            .y_label_formatter(&|v| unit(*v))
            .light_line_style(WHITE)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut base = vec![0u64; labels.len()];
        let count = series.len().max(1) as f64;
        for (index, one) in series.iter().enumerate() {
            let colour = PALETTE[index % PALETTE.len()];
            let rectangles =
                one.values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0)
                    .map(|(i, value)| {
                        let at = i as u32;
                        let (left, right, low) = match bars {
                            Bars::Stacked => (at, at + 1, base[i]),
                            Bars::Grouped => (at, at + 1, 0),
                        };
                        let high = low + value;
                        base[i] = high;
                        let mut rectangle = Rectangle::new(
                            [
                                (SegmentValue::Exact(left), low),
                                (SegmentValue::Exact(right), high),
                            ],
                            colour.filled(),
                        );
                        // Side by side: each series its share of the category's width.
                        if let Bars::Grouped = bars {
                            let width = f64::from(size.0) / f64::from(categories.max(1));
                            let share = width * 0.8 / count;
                            let before = (width * 0.1 + share * index as f64) as i32;
                            let after = (width - width * 0.1 - share * (index as f64 + 1.0)) as i32;
                            rectangle.set_margin(0, 0, before.max(0) as u32, after.max(0) as u32);
                        } else {
                            rectangle.set_margin(0, 0, 1, 1);
                        }
                        rectangle
                    });
            chart.draw_series(rectangles).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The fill plotters writes for the series `index`, as it appears in the SVG.
#[cfg(test)]
pub(crate) fn fill_of(index: usize) -> String {
    let RGBColor(r, g, b) = PALETTE[index % PALETTE.len()];
    format!("#{r:02X}{g:02X}{b:02X}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_stacked_chart_has_a_rectangle_per_nonzero_value_and_heights_in_proportion() {
        let labels: Vec<String> = (1..=5).map(|d| format!("12-0{d}")).collect();
        let series = [
            Series {
                values: vec![4, 0, 2, 8, 1],
            },
            Series {
                values: vec![4, 3, 0, 0, 1],
            },
        ];
        let svg = bars(&labels, &series, Bars::Stacked, (600, 300), &|v| {
            v.to_string()
        })
        .unwrap();
        let heights = |fill: &str| -> Vec<f64> {
            svg.split("<rect")
                .filter(|r| r.contains(&format!("fill=\"{fill}\"")))
                .map(|r| {
                    let h = r.split("height=\"").nth(1).unwrap();
                    h[..h.find('"').unwrap()].parse().unwrap()
                })
                .collect()
        };
        let first = heights(&fill_of(0));
        let second = heights(&fill_of(1));
        assert_eq!(first.len(), 4, "{svg}");
        assert_eq!(second.len(), 3);
        // 8 calls stand twice as high as 4.
        assert!((first[2] / first[0] - 2.0).abs() < 0.05, "{first:?}");
        assert!(svg.contains("12-01"));
    }
}
