//! The A-site ordering parameter S along constructed trajectories of LSTZ0.75 cells (paper 000, Fig. 2b):
//! the layered cell has S = S_max = 7/9, one Sr moved from a rich to a poor layer gives 5/9, a random
//! occupation gives S ≈ 0; the layering axis found on the first frame is kept for later frames.

use gbion_analysis::trajectory_ordering::{MeanStd, ordering_series};
use gbion_atoms::{Cell, Element, Structure};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;

const A: f64 = 3.95;

/// A cubic perovskite (A at cube corners, Ta at the centres, O at the face centres) of `n` cubes, the
/// A site of cube (x, y, z) holding `a_site(x, y, z)` ("Va": vacant). No site tags: sites by element.
fn perovskite(n: [usize; 3], a_site: impl Fn(usize, usize, usize) -> &'static str) -> Structure {
    const B_AND_O: [(&str, [f64; 3]); 4] = [
        ("Ta", [0.5, 0.5, 0.5]),
        ("O", [0.5, 0.5, 0.0]),
        ("O", [0.5, 0.0, 0.5]),
        ("O", [0.0, 0.5, 0.5]),
    ];
    let mut atoms: Vec<(&str, [f64; 3])> = Vec::new();
    for (x, y, z) in (0..n[0]).flat_map(|x| (0..n[1]).flat_map(move |y| (0..n[2]).map(move |z| (x, y, z)))) {
        let corner = [x as f64, y as f64, z as f64];
        atoms.push((a_site(x, y, z), corner));
        atoms.extend(B_AND_O.map(|(e, d)| (e, [0, 1, 2].map(|k| corner[k] + d[k]))));
    }
    atoms.retain(|(e, _)| *e != "Va");
    let elements = atoms.iter().map(|(e, _)| Element::from_symbol(e).unwrap()).collect();
    let positions = atoms.iter().map(|(_, p)| p.map(|c| c * A)).collect();
    Structure::new(
        Cell::orthorhombic(n.map(|k| k as f64 * A)).unwrap(),
        elements,
        positions,
    )
    .unwrap()
}

/// LSTZ0.75's layered A sublattice along c: even layers 7 Sr + 1 Li per 2 × 2, odd layers 5 Li + 3 Va.
fn layered_along_c(x: usize, y: usize, z: usize) -> &'static str {
    let rich = ["Sr", "Sr", "Sr", "Li"];
    let poor = ["Li", "Li", "Li", "Va"];
    let poor_alt = ["Li", "Li", "Va", "Va"];
    let in_plane = 2 * (x % 2) + y % 2;
    match z % 4 {
        0 => "Sr",
        2 => rich[in_plane],
        1 => poor[in_plane],
        _ => poor_alt[in_plane],
    }
}

/// The same pattern with the layers along a.
fn layered_along_a(x: usize, y: usize, z: usize) -> &'static str {
    layered_along_c(y, z, x)
}

#[test]
fn layered_moved_and_random_frames_along_one_axis() {
    let n = [4, 4, 8];
    // One Sr moved from a rich layer (z = 0) to a vacant site of a poor layer (z = 3): of the 64 rich sites
    // of the 4 × 4 × 8 cell, 55 hold Sr instead of 56.
    let moved = |x, y, z| match (x, y, z) {
        (0, 0, 0) => "Va",
        (1, 1, 3) => "Sr",
        _ => layered_along_c(x, y, z),
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let mut random: Vec<&'static str> = [vec!["Sr"; 56], vec!["Li"; 48], vec!["Va"; 24]].concat();
    random.shuffle(&mut rng);
    let frames = vec![
        Ok(perovskite(n, layered_along_c)),
        Ok(perovskite(n, moved)),
        Ok(perovskite(n, |x, y, z| random[32 * x + 8 * y + z])),
    ];
    let series = ordering_series(frames, None).unwrap();
    let s: Vec<f64> = series.frames.iter().map(|o| o.s).collect();
    assert!(series.frames.iter().all(|o| o.axis == 2));
    assert!((s[0] - 7.0 / 9.0).abs() < 1e-12 && (series.frames[0].s_max - 7.0 / 9.0).abs() < 1e-12);
    // R_rich = 55/64 and R_overall = 7/16: S = (55/64 − 28/64)/(36/64) = 27/36 = 3/4.
    assert!((s[1] - 0.75).abs() < 1e-12, "S = {}", s[1]);
    // Random: the rich/poor split of 56 Sr over 2 × 64 sites is hypergeometric, σ(S) ≈ 0.1.
    assert!(s[2].abs() < 0.3, "S = {}", s[2]);
    let expected = MeanStd::of(&s);
    assert_eq!(series.s, expected);
    let mean = (7.0 / 9.0 + 0.75 + s[2]) / 3.0;
    assert!((series.s.mean - mean).abs() < 1e-12);
}

#[test]
fn the_first_frames_axis_is_kept() {
    let n = [8, 4, 4];
    // Frame 0 layered along a; frame 1 the same cell layered along b (its own best axis, S = 7/9). On the
    // kept axis a, frame 1's even a-layers hold 8 Sr each and its odd ones 6 (the Li of the partly rich
    // b-layers sits at odd x): R_rich = 32/64, S = (1/2 − 7/16)/(9/16) = 1/9.
    let along_b = |x: usize, y: usize, z: usize| layered_along_c(z, x, y);
    let frames = vec![Ok(perovskite(n, layered_along_a)), Ok(perovskite(n, along_b))];
    let series = ordering_series(frames, None).unwrap();
    assert_eq!(series.frames[0].axis, 0);
    assert_eq!(series.frames[1].axis, 0);
    assert!((series.frames[0].s - 7.0 / 9.0).abs() < 1e-12);
    assert!(
        (series.frames[1].s - 1.0 / 9.0).abs() < 1e-12,
        "S = {}",
        series.frames[1].s
    );
    let std = (6.0 / 9.0) / 2f64.sqrt();
    assert!((series.s.mean - 4.0 / 9.0).abs() < 1e-12 && (series.s.std - std).abs() < 1e-12);
}

#[test]
fn a_bad_frame_is_named() {
    let s = perovskite([2, 2, 4], layered_along_c);
    let mut no_b = s.clone();
    no_b.elements
        .iter_mut()
        .for_each(|e| *e = Element::from_symbol("Sr").unwrap());
    let err = ordering_series(vec![Ok(s), Ok(no_b)], None).unwrap_err().to_string();
    assert!(err.starts_with("frame 1:"), "{err}");
    assert!(
        ordering_series(Vec::new(), None)
            .unwrap_err()
            .to_string()
            .contains("no frames")
    );
}
