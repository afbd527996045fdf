//! Server-drawn charts: the geometry is worked out here and the templates
//! draw it as SVG (no script, sharp at any zoom). Every chart is hidden
//! from screen readers and stands beside a table with the same numbers.

/// One day's column: the whole and the part of it that is marked (the
/// negative items of all items).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub x: u32,
    pub width: u32,
    /// Top and height of the whole bar.
    pub y: u32,
    pub height: u32,
    /// Top and height of the marked part (drawn over the bottom of the bar).
    pub part_y: u32,
    pub part_height: u32,
    /// A date label under the column (every few columns), e.g. "12-07".
    pub label: Option<String>,
}

/// Columns by day, scaled to the largest.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyColumns {
    pub width: u32,
    pub height: u32,
    /// Where the bars stand (the labels go below).
    pub base: u32,
    pub max: i64,
    pub columns: Vec<Column>,
}

impl DailyColumns {
    /// `days`: (YYYY-MM-DD, whole, part).
    pub fn new(days: &[(String, i64, i64)]) -> DailyColumns {
        let (width, plot, base) = (720u32, 160u32, 170u32);
        // Room on the right for the last date's label.
        let (pad, n) = (36u32, days.len().max(1) as u32);
        let step = (width - pad) / n;
        let bar = (step * 3 / 4).max(2);
        let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
        let every = (days.len() / 8).max(1);
        let scale = |v: i64| ((v.max(0) as f64 / max as f64) * plot as f64).round() as u32;
        let columns = days
            .iter()
            .enumerate()
            .map(|(i, (day, whole, part))| {
                let h = scale(*whole);
                let ph = scale((*part).min(*whole));
                Column {
                    x: i as u32 * step + (step - bar) / 2,
                    width: bar,
                    y: base - h,
                    height: h,
                    part_y: base - ph,
                    part_height: ph,
                    // Every few columns and the last, never two on top of each other.
                    label: ((i % every == 0 && i + every / 2 < days.len().saturating_sub(1))
                        || i + 1 == days.len())
                    .then(|| day.get(5..).unwrap_or(day).to_string()),
                }
            })
            .collect();
        DailyColumns {
            width,
            height: base + 24,
            base,
            max,
            columns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_scale_to_the_largest_and_stand_on_the_base() {
        let c = DailyColumns::new(&[
            ("2026-12-01".into(), 10, 5),
            ("2026-12-02".into(), 0, 0),
            ("2026-12-03".into(), 5, 9),
        ]);
        assert_eq!(c.max, 10);
        assert_eq!(c.columns[0].height, 160);
        assert_eq!(c.columns[0].part_height, 80);
        assert_eq!(c.columns[1].height, 0);
        // A part is never taller than its whole.
        assert_eq!(c.columns[2].part_height, c.columns[2].height);
        for col in &c.columns {
            assert_eq!(col.y + col.height, c.base);
            assert!(col.x + col.width <= c.width);
        }
        assert_eq!(c.columns[0].label.as_deref(), Some("12-01"));
        // 90 days: a label every 11th day, but none crowding the last one.
        let days: Vec<(String, i64, i64)> = (0..90)
            .map(|i| (format!("2026-{:02}-{:02}", 9 + i / 30, 1 + i % 30), 1, 0))
            .collect();
        let c = DailyColumns::new(&days);
        let labelled: Vec<usize> = (0..90).filter(|i| c.columns[*i].label.is_some()).collect();
        assert_eq!(labelled, [0, 11, 22, 33, 44, 55, 66, 77, 89]);
    }
}
