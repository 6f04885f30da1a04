//! GB planes, interplanar spacing and composition of a constructed Σ5 (36.87°) [001] twist bicrystal of a
//! simple cubic lattice: grain 0 is the lattice itself, grain 1 the lattice rotated by atan(3/4) about z;
//! both are periodic in the CSL cell X = (1, 2, 0)·a, Y = (−2, 1, 0)·a (area 5a²). Each grain has
//! `LAYERS` (001) layers a apart; the GB planes lie at z = 0 and z = c/2, midway between the grains'
//! outer layers. Species are set per layer, so the composition of every slab is known exactly.

use gbion_analysis::gb::composition::region_composition;
use gbion_analysis::gb::planes::{PlaneSource, find_planes};
use gbion_analysis::gb::spacing::interplanar_spacing;
use gbion_analysis::gb::{GbOptions, GbWidth, analyze};
use gbion_atoms::structure::tags;
use gbion_atoms::{Cell, Element, Structure};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const A: f64 = 3.0;
const LAYERS: usize = 6;
/// In-plane repeats of the CSL cell along X and Y: 5·R² atoms per layer.
const R: i64 = 2;
const PER_LAYER: usize = 5 * (R * R) as usize;

/// Lattice points (in units of a) of one (001) layer inside the R × R CSL cell, for grain 0 or the rotated
/// grain 1, in a fixed order.
fn layer_points(rotated: bool) -> Vec<[f64; 2]> {
    let range = -3 * R - 2..=3 * R + 2;
    let mut points = Vec::new();
    for i in range.clone() {
        for j in range.clone() {
            // 5u and 5v, the fractional coordinates along X and Y times 5.
            let (u5, v5) = if rotated {
                (2 * i + j, -i + 2 * j)
            } else {
                (i + 2 * j, -2 * i + j)
            };
            if (0..5 * R).contains(&u5) && (0..5 * R).contains(&v5) {
                let (i, j) = (i as f64, j as f64);
                points.push(if rotated {
                    [(4.0 * i - 3.0 * j) / 5.0, (3.0 * i + 4.0 * j) / 5.0]
                } else {
                    [i, j]
                });
            }
        }
    }
    assert_eq!(points.len(), PER_LAYER);
    points
}

/// The bicrystal; `species(layer_distance_in_layers, index_in_layer)` names each atom, where the layer
/// distance is 0 for the layers next to a GB, 1 for the next, and so on.
fn bicrystal(species: impl Fn(usize, usize) -> &'static str, tagged: bool) -> Structure {
    let (mut elements, mut positions, mut grain) = (Vec::new(), Vec::new(), Vec::new());
    for g in 0..2 {
        let points = layer_points(g == 1);
        for k in 0..LAYERS {
            let from_gb = k.min(LAYERS - 1 - k);
            let z = (g * LAYERS + k) as f64 + 0.5;
            for (p, xy) in points.iter().enumerate() {
                elements.push(Element::from_symbol(species(from_gb, p)).unwrap());
                positions.push([xy[0] * A, xy[1] * A, z * A]);
                grain.push(g as i64);
            }
        }
    }
    let r = R as f64 * A;
    let cell = Cell::periodic([
        [r, 2.0 * r, 0.0],
        [-2.0 * r, r, 0.0],
        [0.0, 0.0, 2.0 * LAYERS as f64 * A],
    ])
    .unwrap();
    let mut s = Structure::new(cell, elements, positions).unwrap();
    if tagged {
        s.set_int_tag(tags::GRAIN, grain).unwrap();
    }
    s
}

/// 25 % Li in the layers next to the GBs, 10 % Li elsewhere, the rest Sr.
fn enriched(from_gb: usize, index: usize) -> &'static str {
    let li = if from_gb == 0 {
        index.is_multiple_of(4)
    } else {
        index.is_multiple_of(10)
    };
    if li { "Li" } else { "Sr" }
}

/// The same atoms with the GB normal along a: (x, y, z) → (z, x, y) for positions and cell vectors, the
/// cell rows reordered to (c, a, b) (a cyclic permutation, so still right-handed).
fn normal_along_a(s: &Structure) -> Structure {
    let cycle = |v: [f64; 3]| [v[2], v[0], v[1]];
    let m = s.cell.matrix();
    let cell = Cell::periodic([cycle(m[2]), cycle(m[0]), cycle(m[1])]).unwrap();
    let mut t = Structure::new(
        cell,
        s.elements.clone(),
        s.positions.iter().map(|&p| cycle(p)).collect(),
    )
    .unwrap();
    t.properties = s.properties.clone();
    t
}

/// Uniform displacements of up to `amplitude` Å in each direction (a seeded stand-in for thermal motion).
fn shaken(s: &Structure, amplitude: f64, seed: u64) -> Structure {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut t = s.clone();
    for p in &mut t.positions {
        for c in p.iter_mut() {
            *c += rng.random_range(-amplitude..amplitude);
        }
    }
    t
}

/// |x − y| to the nearest periodic image.
fn periodic_gap(x: f64, y: f64, period: f64) -> f64 {
    let d = (x - y).rem_euclid(period);
    d.min(period - d)
}

const HEIGHT: f64 = 2.0 * LAYERS as f64 * A;

#[test]
fn grain_tags_give_the_planes_midway_between_the_grains() {
    let s = bicrystal(enriched, true);
    for (structure, axis) in [(s.clone(), 2), (normal_along_a(&s), 0)] {
        let planes = find_planes(&structure, None).unwrap();
        assert_eq!(planes.source, PlaneSource::GrainTags);
        assert_eq!(planes.axis, axis);
        assert!((planes.height - HEIGHT).abs() < 1e-12);
        assert!(
            periodic_gap(planes.positions[0], 0.0, HEIGHT) < 1e-9,
            "{:?}",
            planes.positions
        );
        assert!(
            (planes.positions[1] - HEIGHT / 2.0).abs() < 1e-9,
            "{:?}",
            planes.positions
        );
    }
}

#[test]
fn without_tags_the_asymmetry_profile_finds_the_normal_and_the_planes() {
    let s = shaken(&bicrystal(enriched, false), 0.05, 3);
    for (structure, axis) in [(s.clone(), 2), (normal_along_a(&s), 0)] {
        let planes = find_planes(&structure, None).unwrap();
        assert_eq!(planes.source, PlaneSource::Structure);
        assert_eq!(planes.axis, axis);
        let mut found = planes.positions.clone();
        found.sort_by(|x, y| periodic_gap(*x, 0.0, HEIGHT).total_cmp(&periodic_gap(*y, 0.0, HEIGHT)));
        // Planes between the two layers that meet at each GB, i.e. within half a layer spacing of the true
        // ones (0 and c/2): the profile peak leans towards the more asymmetric of the two layers.
        assert!(periodic_gap(found[0], 0.0, HEIGHT) < 0.5 * A, "{found:?}");
        assert!((found[1] - HEIGHT / 2.0).abs() < 0.5 * A, "{found:?}");
    }
}

#[test]
fn a_perfect_crystal_has_no_gb_signature() {
    let s = bicrystal(enriched, false);
    // Grain 1 replaced by the unrotated lattice: a perfect simple cubic crystal.
    let mut perfect = s.clone();
    let points = layer_points(false);
    for (i, p) in perfect.positions.iter_mut().enumerate().skip(LAYERS * PER_LAYER) {
        let xy = points[i % PER_LAYER];
        *p = [xy[0] * A, xy[1] * A, p[2]];
    }
    let err = find_planes(&perfect, None).unwrap_err().to_string();
    assert!(err.contains("no GB signature"), "{err}");
}

#[test]
fn interplanar_spacing_is_the_layer_spacing() {
    for s in [bicrystal(enriched, true), shaken(&bicrystal(enriched, true), 0.1, 5)] {
        let planes = find_planes(&s, None).unwrap();
        let d = interplanar_spacing(&s, &planes).unwrap();
        assert!((d - A).abs() < 0.01 * A, "d = {d}");
    }
}

#[test]
fn gb_and_bulk_composition_of_known_layers() {
    let s = bicrystal(enriched, true);
    let planes = find_planes(&s, None).unwrap();
    // 5 Å: the two layers at ±a/2 of each plane (4 layers) are GB, the other 8 bulk.
    let c = region_composition(&s, &planes, 5.0).unwrap();
    assert_eq!((c.gb_atoms, c.bulk_atoms), (4 * PER_LAYER, 8 * PER_LAYER));
    assert!((c.gb_at_percent["Li"] - 25.0).abs() < 1e-12);
    assert!((c.gb_at_percent["Sr"] - 75.0).abs() < 1e-12);
    assert!((c.bulk_at_percent["Li"] - 10.0).abs() < 1e-12);
    // 11 Å (|d| ≤ 5.5): the layers at a/2 and 3a/2 of each plane.
    let c = region_composition(&s, &planes, 11.0).unwrap();
    assert_eq!(c.gb_atoms, 8 * PER_LAYER);
    assert!((c.gb_at_percent["Li"] - 17.5).abs() < 1e-12);
    let err = region_composition(&s, &planes, 40.0).unwrap_err().to_string();
    assert!(err.contains("bulk is empty"), "{err}");
}

#[test]
fn trajectory_profile_and_statistics_over_frames() {
    // Frame 1 has 50 % Li next to the GBs: GB Li is 25 % and 50 %, mean 37.5, sample std 25/√2.
    let richer = |from_gb: usize, index: usize| {
        let li = if from_gb == 0 {
            index.is_multiple_of(2)
        } else {
            index.is_multiple_of(10)
        };
        if li { "Li" } else { "Sr" }
    };
    let frames = vec![
        Ok(bicrystal(enriched, false)),
        Ok(shaken(&bicrystal(richer, false), 0.05, 9)),
    ];
    let analysis = analyze(frames, &GbOptions::default()).unwrap();
    assert_eq!(analysis.frames.len(), 2);
    assert!((analysis.interplanar_spacing.unwrap() - A).abs() < 0.01 * A);
    // Two spacings (6 Å) exceed the 5 Å minimum.
    assert!((analysis.width - 2.0 * analysis.interplanar_spacing.unwrap()).abs() < 1e-12);
    let li = analysis.gb_at_percent["Li"];
    assert!(
        (li.mean - 37.5).abs() < 1e-12 && (li.std - 25.0 / 2f64.sqrt()).abs() < 1e-12,
        "{li:?}"
    );
    let bulk_li = analysis.bulk_at_percent["Li"];
    assert!((bulk_li.mean - 10.0).abs() < 1e-12 && bulk_li.std.abs() < 1e-12);
    // Profile: bins one spacing wide holding one layer per side of each plane, both frames summed.
    let p = &analysis.profile;
    assert_eq!(p.species, vec!["Li", "Sr"]);
    assert_eq!(p.distance.len(), 6);
    let expected = [10.0, 10.0, 37.5, 37.5, 10.0, 10.0];
    for (k, (d, row)) in p.distance.iter().zip(&p.at_percent).enumerate() {
        let centre = (k as f64 - 2.5) * A;
        assert!((d - centre).abs() < 0.02 * A, "bin {k} at {d}");
        assert!((row[0] - expected[k]).abs() < 1e-12, "bin {k}: Li {} %", row[0]);
        assert!((row[0] + row[1] - 100.0).abs() < 1e-12);
        assert_eq!(p.atoms[k], 2 * 2 * PER_LAYER);
    }
}

#[test]
fn an_explicit_width_and_a_missing_axis_periodicity_are_checked() {
    let s = bicrystal(enriched, true);
    let options = GbOptions {
        width: GbWidth::Absolute(-1.0),
        ..GbOptions::default()
    };
    let err = analyze(vec![Ok(s.clone())], &options).unwrap_err().to_string();
    assert!(err.contains("frame 0") && err.contains("positive"), "{err}");
    let mut open = s.clone();
    open.cell = Cell::new(*s.cell.matrix(), [true, true, false]).unwrap();
    let err = find_planes(&open, Some(2)).unwrap_err().to_string();
    assert!(err.contains("not periodic along c"), "{err}");
}
