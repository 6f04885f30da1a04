//! Cross-check of the CSL builder against aimsgb (fixtures made once, see tests/fixtures/aimsgb/README.md):
//! Σ, θ, the in-plane cell and the atoms per grain of the paper-000 boundaries.

use gbion_build::bicrystal::{BicrystalSpec, Misorientation};
use gbion_build::csl::with_sigma;
use gbion_build::formula::Formula;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/aimsgb/aimsgb_gbs.json");
const ANGLE_TOLERANCE_DEG: f64 = 1e-9;
const AREA_TOLERANCE: f64 = 1e-6;

fn ints(v: &Value) -> [i64; 3] {
    let a: Vec<i64> = v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
    [a[0], a[1], a[2]]
}

#[test]
fn five_boundaries_match_aimsgb() {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let a = fixture["a"].as_f64().unwrap();
    let gbs = fixture["gbs"].as_array().unwrap();
    assert_eq!(gbs.len(), 5);
    for gb in gbs {
        let name = gb["name"].as_str().unwrap();
        let (axis, plane, sigma) = (ints(&gb["axis"]), ints(&gb["plane"]), gb["sigma"].as_i64().unwrap());
        let theta = gb["theta_deg"].as_f64().unwrap();
        let angles: Vec<f64> = with_sigma(axis, sigma).unwrap().iter().map(|r| r.angle_deg).collect();
        assert!(
            angles.iter().any(|t| (t - theta).abs() < ANGLE_TOLERANCE_DEG),
            "{name}: {theta} not in {angles:?}"
        );
        let mut spec = BicrystalSpec {
            formula: Formula::parse("SrTiO3").unwrap(),
            a,
            axis,
            misorientation: Misorientation::Sigma(sigma),
            plane,
            plane2: None,
            layers: Some(1),
            repeat: [1, 1],
            translation: [0.0, 0.0],
            merge_distance: 0.0,
            seed: 0,
        };
        let one_layer = spec.build().unwrap();
        let thickness = gb["grain_a_thickness_A"].as_f64().unwrap();
        let layers = (thickness / one_layer.geometry.plane_spacing_a[0]).round() as usize;
        assert!(
            (layers as f64 * one_layer.geometry.plane_spacing_a[0] - thickness).abs() < AREA_TOLERANCE,
            "{name}"
        );
        spec.layers = Some(layers);
        let built = spec.build().unwrap();
        assert_eq!(built.geometry.sigma, sigma, "{name}");
        let area_ratio = gb["gb_area_A2"].as_f64().unwrap() / built.geometry.gb_area_a2;
        assert!(
            area_ratio >= 1.0 - AREA_TOLERANCE && (area_ratio - area_ratio.round()).abs() < AREA_TOLERANCE,
            "{name}: {area_ratio}"
        );
        let grain = built.built.structure.int_tag("grain").unwrap();
        for (index, key) in [(0, "grain_a_atoms"), (1, "grain_b_atoms")] {
            let ours = grain.iter().filter(|g| **g == index).count() as f64 * area_ratio.round();
            assert_eq!(ours as u64, gb[key].as_u64().unwrap(), "{name} {key}");
        }
    }
}
