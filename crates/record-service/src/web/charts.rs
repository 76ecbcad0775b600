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
    // Each category is `slots` slots wide: one for a stacked bar; one per series and a gap
    // side by side.
    let slots = match bars {
        Bars::Stacked => 1,
        Bars::Grouped => u32::try_from(series.len()).map_err(|_| "too many series".to_owned())? + 1,
    };
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
            .build_cartesian_2d(
                (0u32..(categories * slots).max(1)).into_segmented(),
                0u64..top,
            )
            .map_err(|e| e.to_string())?;
        // At most about 12 labels along the axis.
        let every = (labels.len() / 12).max(1);
        let label = |value: &SegmentValue<u32>| match value {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if i % slots == 0 => {
                let category = (i / slots) as usize;
                labels
                    .get(category)
                    .filter(|_| category.is_multiple_of(every))
                    .cloned()
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels((labels.len() * slots as usize).max(1))
            .x_label_formatter(&label)
            .y_labels(6)
            .y_label_formatter(&|v| unit(*v))
            .light_line_style(WHITE)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut base = vec![0u64; labels.len()];
        for (index, one) in series.iter().enumerate() {
            let colour = PALETTE[index % PALETTE.len()];
            let rectangles =
                one.values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0)
                    .map(|(i, value)| {
                        let (slot, low) = match bars {
                            Bars::Stacked => (i as u32, base[i]),
                            Bars::Grouped => (i as u32 * slots + index as u32, 0),
                        };
                        let high = low + value;
                        base[i] = base[i].max(high);
                        let mut rectangle = Rectangle::new(
                            [
                                (SegmentValue::Exact(slot), low),
                                (SegmentValue::Exact(slot + 1), high),
                            ],
                            colour.filled(),
                        );
                        rectangle.set_margin(0, 0, 1, 1);
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

    #[test]
    fn grouped_bars_stand_side_by_side_within_their_category() {
        let labels = vec!["2026-11".to_owned(), "2026-12".to_owned()];
        let series = [
            Series {
                values: vec![8, 16],
            },
            Series {
                values: vec![8, 15],
            },
        ];
        let svg = bars(&labels, &series, Bars::Grouped, (600, 300), &|v| {
            v.to_string()
        })
        .unwrap();
        let rects = |fill: &str| -> Vec<(f64, f64, f64)> {
            svg.split("<rect")
                .filter(|r| r.contains(&format!("fill=\"{fill}\"")))
                .map(|r| {
                    let number = |name: &str| -> f64 {
                        let v = r.split(&format!(" {name}=\"")).nth(1).unwrap();
                        v[..v.find('"').unwrap()].parse().unwrap()
                    };
                    (number("x"), number("width"), number("height"))
                })
                .collect()
        };
        let (pbx, archive) = (rects(&fill_of(0)), rects(&fill_of(1)));
        assert_eq!((pbx.len(), archive.len()), (2, 2), "{svg}");
        for month in 0..2 {
            // Side by side, the archive's right after the PBX's, both of a good width.
            assert!(pbx[month].0 < archive[month].0);
            assert!(archive[month].0 - pbx[month].0 < pbx[month].1 + 5.0);
            assert!(pbx[month].1 > 40.0, "{pbx:?}");
        }
        assert!(archive[0].0 < pbx[1].0, "the months in order");
        assert!((pbx[1].2 / pbx[0].2 - 2.0).abs() < 0.05);
    }
}
