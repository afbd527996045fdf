//! Where things are: the outlines of the city's districts (区县), for
//! picking a point on a map and telling which district it falls in.
//!
//! The demo's outlines (`demo/districts.tsv`, 演示数据) are schematic: drawn
//! roughly after the corresponding districts of Chongqing's centre, in
//! WGS-84, not surveyed. A district without an outline is simply not on
//! the map.

use crate::{Db, DomainError};

/// The demo's outlines (`code<TAB>lon,lat lon,lat …`).
pub const DISTRICTS_TSV: &str = include_str!("../demo/districts.tsv");

/// A point as (latitude, longitude), WGS-84.
pub type Point = (f64, f64);

/// One district's outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The district's unit (departments.id).
    pub district_id: i64,
    pub name: String,
    /// The ring as (longitude, latitude), not closed.
    pub ring: Vec<(f64, f64)>,
}

impl Outline {
    /// Whether `point` lies inside (ray casting; a point on the border
    /// may count for either neighbour).
    pub fn contains(&self, (lat, lon): Point) -> bool {
        let mut inside = false;
        let n = self.ring.len();
        for i in 0..n {
            let (x1, y1) = self.ring[i];
            let (x2, y2) = self.ring[(i + 1) % n];
            if (y1 > lat) != (y2 > lat) && lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1 {
                inside = !inside;
            }
        }
        inside
    }
}

/// A district code with its ring of (longitude, latitude).
pub type Ring = (String, Vec<(f64, f64)>);

/// (code, ring) of each line of an outline file.
pub fn parse(tsv: &str) -> Vec<Ring> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (code, ring) = l.split_once('\t')?;
            let ring: Option<Vec<(f64, f64)>> = ring
                .split_whitespace()
                .map(|p| {
                    let (lon, lat) = p.split_once(',')?;
                    Some((lon.parse().ok()?, lat.parse().ok()?))
                })
                .collect();
            Some((code.trim().to_string(), ring.filter(|r| r.len() >= 3)?))
        })
        .collect()
}

/// The outlines of the districts in the org tree, in code order.
pub async fn outlines(db: &Db) -> Result<Vec<Outline>, DomainError> {
    let districts: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, code, name FROM departments WHERE level = '区县' ORDER BY code")
            .fetch_all(db.pool())
            .await?;
    static RINGS: std::sync::LazyLock<Vec<Ring>> =
        std::sync::LazyLock::new(|| parse(DISTRICTS_TSV));
    let rings = &*RINGS;
    Ok(districts
        .into_iter()
        .filter_map(|(id, code, name)| {
            let ring = rings.iter().find(|(c, _)| *c == code)?.1.clone();
            Some(Outline {
                district_id: id,
                name,
                ring,
            })
        })
        .collect())
}

/// The district `point` falls in, if any.
pub async fn district_at(db: &Db, point: Point) -> Result<Option<i64>, DomainError> {
    Ok(outlines(db)
        .await?
        .into_iter()
        .find(|o| o.contains(point))
        .map(|o| o.district_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_outlines_parse_and_tell_their_districts_apart() {
        let rings = parse(DISTRICTS_TSV);
        assert_eq!(rings.len(), 4);
        let outline = |code: &str| Outline {
            district_id: 0,
            name: code.into(),
            ring: rings
                .iter()
                .find(|(c, _)| c == code)
                .expect("ring")
                .1
                .clone(),
        };
        // 解放碑 is in 渝中, 观音桥 in 江北, 三峡广场 in 沙坪坝.
        let (yuzhong, jiangbei, shapingba) =
            (outline("500103"), outline("500105"), outline("500106"));
        assert!(yuzhong.contains((29.557, 106.577)));
        assert!(!jiangbei.contains((29.557, 106.577)));
        assert!(jiangbei.contains((29.583, 106.535)));
        assert!(shapingba.contains((29.560, 106.455)));
        assert!(
            !shapingba.contains((30.5, 106.455)),
            "far north of the city"
        );
    }
}
