//! The district map (server-drawn SVG): on request forms a place to tap
//! for the point (with JavaScript; the district list and the location
//! button do without), and on a request's page the point the writer gave.

use zhiban_domain::geo::{self, Point};

use crate::error::AppError;
use zhiban_domain::Db;

/// One district as drawn.
#[derive(Debug, Clone)]
pub struct MapDistrict {
    /// The place picker's value for the whole district (`d:<id>`).
    pub place: String,
    pub name: String,
    /// The SVG path.
    pub path: String,
    pub label_x: f64,
    pub label_y: f64,
}

/// The map: an equirectangular projection of the districts' box, so that
/// the page's script turns a tap back into latitude and longitude with
/// the same four numbers.
#[derive(Debug, Clone)]
pub struct DistrictMap {
    pub width: f64,
    pub height: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    /// Drawing units per degree of longitude and of latitude.
    pub kx: f64,
    pub ky: f64,
    pub districts: Vec<MapDistrict>,
    /// The point shown, as drawn (x, y), with its (lat, lon).
    pub marker: Option<(f64, f64, Point)>,
}

const WIDTH: f64 = 600.0;
const MARGIN: f64 = 0.01;

impl DistrictMap {
    /// The map of the districts with outlines (None when none has one),
    /// with `marker` on it when given.
    pub async fn load(db: &Db, marker: Option<Point>) -> Result<Option<Self>, AppError> {
        Ok(Self::draw(&geo::outlines(db).await?, marker))
    }

    fn draw(outlines: &[geo::Outline], marker: Option<Point>) -> Option<Self> {
        let all = outlines.iter().flat_map(|o| o.ring.iter());
        let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) =
            (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (lon, lat) in all {
            min_lon = min_lon.min(*lon);
            max_lon = max_lon.max(*lon);
            min_lat = min_lat.min(*lat);
            max_lat = max_lat.max(*lat);
        }
        if outlines.is_empty() || max_lon <= min_lon || max_lat <= min_lat {
            return None;
        }
        let (min_lon, max_lon) = (min_lon - MARGIN, max_lon + MARGIN);
        let (min_lat, max_lat) = (min_lat - MARGIN, max_lat + MARGIN);
        let squeeze = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let kx = WIDTH / (max_lon - min_lon);
        let ky = kx / squeeze;
        let height = ((max_lat - min_lat) * ky).round();
        let mut map = DistrictMap {
            width: WIDTH,
            height,
            min_lon,
            max_lat,
            kx,
            ky,
            districts: Vec::new(),
            marker: None,
        };
        map.districts = outlines
            .iter()
            .map(|o| {
                let points: Vec<(f64, f64)> = o
                    .ring
                    .iter()
                    .map(|(lon, lat)| map.project((*lat, *lon)))
                    .collect();
                let n = points.len() as f64;
                let path = points
                    .iter()
                    .enumerate()
                    .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { 'M' } else { 'L' }))
                    .collect::<Vec<_>>()
                    .join(" ")
                    + " Z";
                MapDistrict {
                    place: format!("d:{}", o.district_id),
                    name: o.name.clone(),
                    path,
                    label_x: points.iter().map(|p| p.0).sum::<f64>() / n,
                    label_y: points.iter().map(|p| p.1).sum::<f64>() / n,
                }
            })
            .collect();
        map.marker = marker.map(|p| {
            let (x, y) = map.project(p);
            (x, y, p)
        });
        Some(map)
    }

    /// Where a point is drawn.
    pub fn project(&self, (lat, lon): Point) -> (f64, f64) {
        (
            (lon - self.min_lon) * self.kx,
            (self.max_lat - lat) * self.ky,
        )
    }

    /// The viewBox attribute.
    pub fn view_box(&self) -> String {
        format!("0 0 {} {}", self.width, self.height)
    }

    /// The numbers the page's script inverts the projection with.
    pub fn projection(&self) -> String {
        format!("{},{},{},{}", self.min_lon, self.max_lat, self.kx, self.ky)
    }
}

/// A point as forms carry it (`lat,lon`, as the map and the location
/// button write it).
pub fn parse_point(text: &str) -> Option<Point> {
    let (lat, lon) = text.split_once(',')?;
    Some((lat.trim().parse().ok()?, lon.trim().parse().ok()?))
}

/// A point as people read it: 29.55712,106.57700 (templates pass their
/// bindings by reference, twice).
pub fn point_text(p: &&Point) -> String {
    let (lat, lon) = **p;
    format!("{lat:.5},{lon:.5}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_drawn_inside_its_district_and_the_projection_inverts() {
        let outlines: Vec<geo::Outline> = geo::parse(geo::DISTRICTS_TSV)
            .into_iter()
            .enumerate()
            .map(|(i, (code, ring))| geo::Outline {
                district_id: i as i64,
                name: code,
                ring,
            })
            .collect();
        let map = DistrictMap::draw(&outlines, Some((29.557, 106.577))).expect("map");
        let (x, y, _) = map.marker.expect("marker");
        assert!(x > 0.0 && x < map.width && y > 0.0 && y < map.height);
        // What the page's script does with a tap at (x, y).
        let lon = map.min_lon + x / map.kx;
        let lat = map.max_lat - y / map.ky;
        assert!((lat - 29.557).abs() < 1e-9 && (lon - 106.577).abs() < 1e-9);
        assert!(map.districts[0].path.starts_with('M') && map.districts[0].path.ends_with('Z'));
        assert!(DistrictMap::draw(&[], None).is_none());
        assert_eq!(parse_point(" 29.5, 106.25"), Some((29.5, 106.25)));
        assert_eq!(parse_point("29.5"), None);
    }
}
