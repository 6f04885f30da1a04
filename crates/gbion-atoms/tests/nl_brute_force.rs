//! Neighbour lists against brute force: every (i, j, image shift) triple within range, enumerated over all
//! images that can be in range (bounded with the cell's perpendicular widths), must be exactly the set the
//! cell-list build returns, for half and full lists, on random triclinic cells of every awkward kind; plus
//! analytic neighbour counts of simple lattices, the Verlet-skin rebuild criterion and `min_distance`.

use gbion_atoms::linalg::{Vec3, add, dot, norm, sub};
use gbion_atoms::neighbor::min_distance;
use gbion_atoms::{Cell, Element, ListKind, NeighborList, Structure};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::BTreeSet;

type Triple = (usize, usize, [i32; 3]);

/// Tolerance for comparing a vector recomputed from positions with the stored one (Å), relative to the
/// length scale of the positions involved.
const VECTOR_TOLERANCE: f64 = 1e-10;

/// Every (i, j, n) with |x_j + n·M − x_i| ≤ range, except (i, i, 0). Image n_k along a periodic direction
/// can only be in range when |Δs_k + n_k| · h_k ≤ range (h_k the perpendicular width), which bounds the
/// search exactly.
fn brute_force_full(cell: &Cell, positions: &[Vec3], range: f64) -> BTreeSet<Triple> {
    let heights = cell.heights();
    let mut found = BTreeSet::new();
    for (i, &xi) in positions.iter().enumerate() {
        for (j, &xj) in positions.iter().enumerate() {
            let ds = cell.to_fractional(sub(xj, xi));
            let bound = |k: usize| -> std::ops::RangeInclusive<i32> {
                if !cell.pbc()[k] {
                    return 0..=0;
                }
                let reach = range / heights[k];
                ((-ds[k] - reach).floor() as i32)..=((-ds[k] + reach).ceil() as i32)
            };
            for na in bound(0) {
                for nb in bound(1) {
                    for nc in bound(2) {
                        let shift = [na, nb, nc];
                        if i == j && shift == [0, 0, 0] {
                            continue;
                        }
                        let r = sub(add(xj, cell.translation(shift)), xi);
                        if dot(r, r) <= range * range {
                            found.insert((i, j, shift));
                        }
                    }
                }
            }
        }
    }
    found
}

/// The half-list convention: i < j, or i == j with a lexicographically positive shift.
fn is_half(&(i, j, shift): &Triple) -> bool {
    i < j || (i == j && shift > [0, 0, 0])
}

fn triples(list: &NeighborList) -> Vec<Triple> {
    (0..list.len())
        .flat_map(|i| {
            let (indices, shifts) = list.row(i);
            indices
                .iter()
                .zip(shifts)
                .map(move |(&j, &shift)| (i, j as usize, shift))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Build half and full lists and compare them with brute force; also check that every stored vector is
/// x_j + n·M − x_i with the caller's positions and that no entry is listed twice.
fn check_against_brute_force(cell: &Cell, positions: &[Vec3], cutoff: f64, skin: f64, label: &str) {
    let range = cutoff + skin;
    let expected_full = brute_force_full(cell, positions, range);
    let expected_half: BTreeSet<Triple> = expected_full.iter().filter(|t| is_half(t)).copied().collect();

    let half = NeighborList::build_from(cell, positions, cutoff, skin, ListKind::Half).unwrap();
    let half_triples = triples(&half);
    let half_set: BTreeSet<Triple> = half_triples.iter().copied().collect();
    assert_eq!(
        half_set.len(),
        half_triples.len(),
        "{label}: duplicate entries in the half list"
    );
    assert_eq!(half_set, expected_half, "{label}: half list differs from brute force");

    let full = NeighborList::build_from(cell, positions, cutoff, skin, ListKind::Full).unwrap();
    let full_triples = triples(&full);
    let full_set: BTreeSet<Triple> = full_triples.iter().copied().collect();
    assert_eq!(
        full_set.len(),
        full_triples.len(),
        "{label}: duplicate entries in the full list"
    );
    assert_eq!(full_set, expected_full, "{label}: full list differs from brute force");

    let reversed: BTreeSet<Triple> = half_set.iter().map(|&(i, j, n)| (j, i, n.map(|v| -v))).collect();
    let union: BTreeSet<Triple> = half_set.union(&reversed).copied().collect();
    assert_eq!(union, full_set, "{label}: full ≠ half ∪ reversed half");

    let scale = 1.0 + positions.iter().map(|&x| norm(x)).fold(range, f64::max);
    for (i, neighbor) in full.pairs(positions) {
        let expected = sub(
            add(positions[neighbor.index], cell.translation(neighbor.shift)),
            positions[i],
        );
        assert!(
            norm(sub(neighbor.vector, expected)) < VECTOR_TOLERANCE * scale,
            "{label}: vector"
        );
        assert!(neighbor.distance <= range * (1.0 + 1e-12), "{label}: pair beyond range");
    }
}

fn random_cell(rng: &mut Xoshiro256PlusPlus, pbc: [bool; 3], skew: f64) -> Cell {
    loop {
        let mut m = [[0.0; 3]; 3];
        for (k, row) in m.iter_mut().enumerate() {
            let length = rng.random_range(1.5..9.0);
            row[k] = length;
            for (c, v) in row.iter_mut().enumerate() {
                if c != k {
                    *v = skew * length * rng.random_range(-1.0..1.0);
                }
            }
        }
        if let Ok(cell) = Cell::new(m, pbc)
            && cell.volume() > 0.05 * cell.lengths().iter().product::<f64>()
        {
            return cell;
        }
    }
}

/// Positions mostly inside the cell, some well outside it (up to two cells away).
fn random_positions(rng: &mut Xoshiro256PlusPlus, cell: &Cell, n: usize) -> Vec<Vec3> {
    (0..n)
        .map(|_| {
            let spread = if rng.random_range(0.0..1.0) < 0.2 { 2.0 } else { 0.0 };
            let s: Vec3 = std::array::from_fn(|_| rng.random_range(-spread..1.0 + spread));
            cell.to_cartesian(s)
        })
        .collect()
}

#[test]
fn random_triclinic_cells_match_brute_force() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20240601);
    for trial in 0..120 {
        let skew = [0.0, 0.3, 0.9][trial % 3];
        let cell = random_cell(&mut rng, [true; 3], skew);
        let n = rng.random_range(1..40);
        let positions = random_positions(&mut rng, &cell, n);
        let cutoff = rng.random_range(0.5..7.0);
        let skin = rng.random_range(0.0..1.0);
        check_against_brute_force(&cell, &positions, cutoff, skin, &format!("trial {trial}"));
    }
}

#[test]
fn strongly_skewed_cells_match_brute_force() {
    let cells = [
        [[10.0, 0.0, 0.0], [9.5, 1.0, 0.0], [-9.0, 0.5, 1.2]],
        [[3.0, 0.0, 0.0], [2.9, 0.4, 0.0], [1.4, 0.3, 3.1]],
        [[6.2, 0.0, 0.0], [4.9, 5.3, 0.0], [-3.1, 2.6, 5.6]],
        [[12.0, 0.0, 0.0], [11.9, 0.7, 0.0], [11.8, 0.6, 0.8]],
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    for (c, matrix) in cells.iter().enumerate() {
        let cell = Cell::periodic(*matrix).unwrap();
        for cutoff in [1.0, 2.5, 4.0] {
            let positions = random_positions(&mut rng, &cell, 25);
            check_against_brute_force(
                &cell,
                &positions,
                cutoff,
                0.3,
                &format!("skewed cell {c}, cutoff {cutoff}"),
            );
        }
    }
}

#[test]
fn cells_smaller_than_the_cutoff_list_every_image() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    for trial in 0..30 {
        let cell = random_cell(&mut rng, [true; 3], 0.4);
        let n = rng.random_range(1..4);
        let positions = random_positions(&mut rng, &cell, n);
        // Range of two to three times the largest cell edge: several images of each atom.
        let largest = cell.lengths().into_iter().fold(0.0, f64::max);
        let cutoff = rng.random_range(2.0..3.0) * largest;
        check_against_brute_force(&cell, &positions, cutoff, 0.0, &format!("small cell {trial}"));
    }
}

#[test]
fn one_atom_cells_match_brute_force() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    for trial in 0..20 {
        let cell = random_cell(&mut rng, [true; 3], 0.6);
        let positions = random_positions(&mut rng, &cell, 1);
        let cutoff = rng.random_range(1.0..12.0);
        check_against_brute_force(&cell, &positions, cutoff, 0.5, &format!("one atom {trial}"));
    }
}

#[test]
fn non_periodic_directions_match_brute_force() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let patterns = [
        [true, true, false],
        [false, true, true],
        [true, false, false],
        [false, false, false],
    ];
    for trial in 0..60 {
        let pbc = patterns[trial % patterns.len()];
        let cell = random_cell(&mut rng, pbc, 0.5);
        let n = rng.random_range(1..35);
        let positions = random_positions(&mut rng, &cell, n);
        let cutoff = rng.random_range(0.5..6.0);
        check_against_brute_force(&cell, &positions, cutoff, 0.2, &format!("pbc {pbc:?} trial {trial}"));
    }
}

#[test]
fn open_cell_without_vectors_matches_brute_force() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let cell = Cell::default();
    for trial in 0..10 {
        let positions: Vec<Vec3> = (0..30)
            .map(|_| std::array::from_fn(|_| rng.random_range(-6.0..6.0)))
            .collect();
        check_against_brute_force(&cell, &positions, 3.0, 0.5, &format!("molecule {trial}"));
    }
    // Atoms on a line (zero extent in two directions) and a single atom.
    let line: Vec<Vec3> = (0..12).map(|i| [0.7 * i as f64, 0.0, 0.0]).collect();
    check_against_brute_force(&cell, &line, 1.5, 0.0, "line");
    let single = NeighborList::build_from(&cell, &[[1.0, 2.0, 3.0]], 5.0, 1.0, ListKind::Full).unwrap();
    assert_eq!(single.n_entries(), 0);
    let empty = NeighborList::build_from(&cell, &[], 5.0, 1.0, ListKind::Half).unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.offsets(), &[0]);
}

#[test]
fn open_direction_with_large_vacuum_matches_brute_force() {
    // A slab: periodic in-plane, open along c with a cell vector much longer than the atoms' extent.
    let cell = Cell::new(
        [[5.0, 0.0, 0.0], [1.0, 4.5, 0.0], [0.0, 0.0, 500.0]],
        [true, true, false],
    )
    .unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let positions: Vec<Vec3> = (0..40)
        .map(|_| {
            cell.to_cartesian([
                rng.random_range(0.0..1.0),
                rng.random_range(0.0..1.0),
                rng.random_range(0.49..0.52),
            ])
        })
        .collect();
    check_against_brute_force(&cell, &positions, 4.0, 0.5, "slab");
}

#[test]
fn slab_with_zero_open_vector_matches_brute_force() {
    // ASE's 2D convention: the open direction has a zero cell vector.
    let cell = Cell::new(
        [[4.2, 0.0, 0.0], [-1.3, 3.9, 0.0], [0.0, 0.0, 0.0]],
        [true, true, false],
    )
    .unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(29);
    let positions: Vec<Vec3> = (0..25)
        .map(|_| {
            add(
                cell.to_cartesian([rng.random_range(-0.5..1.5), rng.random_range(0.0..1.0), 0.0]),
                [0.0, 0.0, rng.random_range(-3.0..3.0)],
            )
        })
        .collect();
    check_against_brute_force(&cell, &positions, 3.5, 0.5, "zero-vector slab");
}

/// Number of points of the simple cubic lattice Z³ with n² ≤ 6 other than the origin: shells of n² = 1,
/// 2, 3, 4, 5, 6 hold 6, 12, 8, 6, 24, 24 points.
const SIMPLE_CUBIC_WITHIN_SQRT6: usize = 6 + 12 + 8 + 6 + 24 + 24;

#[test]
fn one_atom_simple_cubic_cell_counts_its_own_images() {
    // a = 2 Å, range 5 Å: images with |n| ≤ 2.5, i.e. n² ≤ 6.
    let cell = Cell::orthorhombic([2.0, 2.0, 2.0]).unwrap();
    let positions = [[0.3, 1.1, 1.9]];
    let full = NeighborList::build_from(&cell, &positions, 5.0, 0.0, ListKind::Full).unwrap();
    assert_eq!(full.n_entries(), SIMPLE_CUBIC_WITHIN_SQRT6);
    let half = NeighborList::build_from(&cell, &positions, 5.0, 0.0, ListKind::Half).unwrap();
    assert_eq!(half.n_entries(), SIMPLE_CUBIC_WITHIN_SQRT6 / 2);
    for n in half.neighbors_of(0, &positions) {
        assert_eq!(n.index, 0);
        assert!(
            n.shift > [0, 0, 0],
            "half list keeps lexicographically positive self shifts"
        );
    }
}

#[test]
fn fcc_primitive_cell_has_twelve_nearest_neighbours() {
    // Primitive fcc cell with conventional a = 4 Å: nearest neighbours at a/√2, 12 of them; next shell
    // (6) at a. The primitive cell is skewed (60° angles) and thinner than the range.
    let a = 4.0;
    let h = a / 2.0;
    let cell = Cell::periodic([[0.0, h, h], [h, 0.0, h], [h, h, 0.0]]).unwrap();
    let positions = [[0.1, 0.2, 0.3]];
    let nearest = a / 2f64.sqrt();
    let first = NeighborList::build_from(&cell, &positions, nearest * 1.01, 0.0, ListKind::Full).unwrap();
    assert_eq!(first.n_entries(), 12);
    for n in first.neighbors_of(0, &positions) {
        assert!((n.distance - nearest).abs() < 1e-12);
    }
    let second = NeighborList::build_from(&cell, &positions, a * 1.01, 0.0, ListKind::Full).unwrap();
    assert_eq!(second.n_entries(), 18);
}

/// Cubic perovskite ABO3 (Pm-3m): A at the corner, B at the body centre, O at the face centres.
fn perovskite(a: f64, repeat: usize) -> Structure {
    let basis = [
        ("Sr", [0.0, 0.0, 0.0]),
        ("Ti", [0.5, 0.5, 0.5]),
        ("O", [0.5, 0.5, 0.0]),
        ("O", [0.5, 0.0, 0.5]),
        ("O", [0.0, 0.5, 0.5]),
    ];
    let mut elements = Vec::new();
    let mut positions = Vec::new();
    for i in 0..repeat {
        for j in 0..repeat {
            for k in 0..repeat {
                for (symbol, s) in basis {
                    elements.push(Element::from_symbol(symbol).unwrap());
                    positions.push([(i as f64 + s[0]) * a, (j as f64 + s[1]) * a, (k as f64 + s[2]) * a]);
                }
            }
        }
    }
    let l = a * repeat as f64;
    Structure::new(Cell::orthorhombic([l, l, l]).unwrap(), elements, positions).unwrap()
}

#[test]
fn perovskite_coordination_numbers() {
    // Within 3 Å of a = 3.95 Å: Ti has 6 O at a/2; Sr has 12 O at a/√2; O has 2 Ti, 4 Sr and 8 O.
    let s = perovskite(3.95, 3);
    let full = NeighborList::build(&s, 3.0, 0.0, ListKind::Full).unwrap();
    for i in 0..s.len() {
        let mut counts = std::collections::BTreeMap::new();
        for n in full.neighbors_of(i, &s.positions) {
            *counts.entry(s.elements[n.index].symbol()).or_insert(0) += 1;
        }
        let expected: Vec<(&str, usize)> = match s.elements[i].symbol() {
            "Sr" => vec![("O", 12)],
            "Ti" => vec![("O", 6)],
            _ => vec![("O", 8), ("Sr", 4), ("Ti", 2)],
        };
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), expected, "atom {i}");
    }
}

fn displaced(positions: &[Vec3], atom: usize, by: Vec3) -> Vec<Vec3> {
    let mut moved = positions.to_vec();
    moved[atom] = add(moved[atom], by);
    moved
}

#[test]
fn rebuild_is_needed_only_beyond_half_the_skin() {
    let s = perovskite(3.95, 3);
    let skin = 0.6;
    let list = NeighborList::build(&s, 4.0, skin, ListKind::Half).unwrap();
    assert!(!list.needs_rebuild(&s.positions));
    let direction = [0.6, -0.8, 0.0];
    let small = displaced(&s.positions, 17, direction.map(|v| v * 0.49 * skin));
    let large = displaced(&s.positions, 17, direction.map(|v| v * 0.51 * skin));
    assert!(!list.needs_rebuild(&small));
    assert!(list.needs_rebuild(&large));
    assert!(
        list.needs_rebuild(&s.positions[1..]),
        "a different atom count needs a rebuild"
    );
    let strained = Cell::orthorhombic([11.86, 11.85, 11.85]).unwrap();
    assert!(list.needs_rebuild_in(&strained, &s.positions));
    assert!(!list.needs_rebuild_in(&s.cell, &small));
}

#[test]
fn list_stays_complete_while_atoms_move_less_than_half_the_skin() {
    // The Verlet-skin guarantee: after every atom moved by at most skin/2, every pair within the cutoff
    // is still in the list (with the same shift), and the vectors follow the new positions.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
    let (cutoff, skin) = (3.0, 0.8);
    for trial in 0..20 {
        let cell = random_cell(&mut rng, [true, true, trial % 2 == 0], 0.5);
        let positions = random_positions(&mut rng, &cell, 30);
        let list = NeighborList::build_from(&cell, &positions, cutoff, skin, ListKind::Full).unwrap();
        let moved: Vec<Vec3> = positions
            .iter()
            .map(|&x| {
                let u: Vec3 = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
                let length = rng.random_range(0.0..0.499 * skin);
                add(x, u.map(|v| v * length / norm(u).max(1e-12)))
            })
            .collect();
        assert!(!list.needs_rebuild(&moved));
        let within: BTreeSet<Triple> = list
            .pairs(&moved)
            .filter(|(_, n)| n.distance <= cutoff)
            .map(|(i, n)| (i, n.index, n.shift))
            .collect();
        let expected = brute_force_full(&cell, &moved, cutoff);
        assert_eq!(within, expected, "trial {trial}");
    }
}

#[test]
fn update_rebuilds_only_when_needed() {
    let mut s = perovskite(3.95, 3);
    let mut list = NeighborList::build(&s, 2.5, 0.4, ListKind::Half).unwrap();
    let (cell, original) = (s.cell.clone(), s.positions.clone());
    s.positions[0] = add(s.positions[0], [0.1, 0.0, 0.0]);
    assert!(!list.update(&s).unwrap());
    s.positions[0] = add(s.positions[0], [0.2, 0.0, 0.0]);
    assert!(list.update(&s).unwrap());
    assert!(!list.needs_rebuild(&s.positions));
    // Atom 0 (Sr) moved 0.3 Å along x: the pair list within 2.9 Å is that of the new positions.
    let expected: BTreeSet<Triple> = brute_force_full(&s.cell, &s.positions, 2.9)
        .into_iter()
        .filter(is_half)
        .collect();
    assert_eq!(triples(&list).into_iter().collect::<BTreeSet<_>>(), expected);
    // Rebuilt from the moved atom: the old list, checked against the old positions, differs.
    let old_list = NeighborList::build_from(&cell, &original, 2.5, 0.4, ListKind::Half).unwrap();
    assert_ne!(triples(&old_list), triples(&list));
}

#[test]
fn rebuild_in_place_equals_a_fresh_build_and_failure_leaves_the_list_unchanged() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(41);
    let cell = random_cell(&mut rng, [true; 3], 0.5);
    let first = random_positions(&mut rng, &cell, 30);
    let second = random_positions(&mut rng, &cell, 45);
    let mut list = NeighborList::build_from(&cell, &first, 3.5, 0.5, ListKind::Full).unwrap();
    let other_cell = random_cell(&mut rng, [true, false, true], 0.3);
    list.rebuild_from(&other_cell, &second).unwrap();
    let fresh = NeighborList::build_from(&other_cell, &second, 3.5, 0.5, ListKind::Full).unwrap();
    assert_eq!(list.offsets(), fresh.offsets());
    assert_eq!(list.neighbors(), fresh.neighbors());
    assert_eq!(list.shifts(), fresh.shifts());
    assert_eq!(list.cell(), &other_cell);
    assert!(!list.needs_rebuild_in(&other_cell, &second));
    let mut bad = second.clone();
    bad[3] = [f64::INFINITY, 0.0, 0.0];
    assert!(list.rebuild_from(&other_cell, &bad).is_err());
    assert_eq!(list.neighbors(), fresh.neighbors());
    assert_eq!(list.len(), second.len());
}

#[test]
fn bad_parameters_and_positions_are_errors() {
    let cell = Cell::orthorhombic([4.0, 4.0, 4.0]).unwrap();
    let ok = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]];
    for (cutoff, skin) in [
        (0.0, 0.0),
        (-1.0, 0.0),
        (f64::NAN, 0.0),
        (f64::INFINITY, 0.0),
        (3.0, -0.1),
        (3.0, f64::NAN),
    ] {
        assert!(
            NeighborList::build_from(&cell, &ok, cutoff, skin, ListKind::Half).is_err(),
            "{cutoff} {skin}"
        );
    }
    let bad = [[0.0, f64::NAN, 0.0], [1.0, 1.0, 1.0]];
    assert!(NeighborList::build_from(&cell, &bad, 3.0, 0.0, ListKind::Half).is_err());
    assert!(min_distance(&cell, &bad).is_err());
    assert!(
        min_distance(&Cell::default(), &bad).is_err(),
        "open cells check positions too"
    );
    let overflowing = [[-1e308, 0.0, 0.0], [1e308, 0.0, 0.0]];
    assert!(min_distance(&Cell::default(), &overflowing).is_err());
    let far = [[0.0, 0.0, 0.0], [1e200, 0.0, 0.0]];
    assert!(NeighborList::build_from(&cell, &far, 3.0, 0.0, ListKind::Half).is_err());
    // A cell 1e-7 Å thin with a 5 Å range would need 10⁸ images along c.
    let thin = Cell::orthorhombic([4.0, 4.0, 1e-7]).unwrap();
    assert!(NeighborList::build_from(&thin, &ok, 5.0, 0.0, ListKind::Half).is_err());
}

#[test]
fn min_distance_matches_brute_force() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(31);
    let patterns = [[true; 3], [true, false, true], [false; 3]];
    for trial in 0..60 {
        let pbc = patterns[trial % 3];
        let cell = random_cell(&mut rng, pbc, 0.6);
        let n = rng.random_range(1..30);
        let positions = random_positions(&mut rng, &cell, n);
        let s = Structure::new(cell, vec![Element(3); n], positions).unwrap();
        let fast = s.min_distance().unwrap();
        let slow = s.min_distance_brute_force();
        match (fast, slow) {
            (Some(f), Some(b)) => assert!((f - b).abs() <= 1e-10 * b.max(1.0), "trial {trial}: {f} vs {b}"),
            (None, None) => assert!(n < 2 && pbc == [false; 3]),
            other => panic!("trial {trial}: {other:?}"),
        }
    }
}

#[test]
fn min_distance_special_cases() {
    let open = Cell::default();
    assert_eq!(min_distance(&open, &[]).unwrap(), None);
    assert_eq!(min_distance(&open, &[[1.0, 2.0, 3.0]]).unwrap(), None);
    assert_eq!(
        min_distance(&open, &[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [5.0, 0.0, 0.0]]).unwrap(),
        Some(0.0)
    );
    // Two atoms 300 Å apart in vacuum: found after the range has doubled past 300 Å.
    let far = min_distance(&open, &[[0.0, 0.0, 0.0], [0.0, 300.0, 0.0]])
        .unwrap()
        .unwrap();
    assert!((far - 300.0).abs() < 1e-12);
    // One atom in a periodic cell: its nearest own image, the shortest lattice translation.
    let cell = Cell::periodic([[6.0, 0.0, 0.0], [5.5, 2.0, 0.0], [0.0, 0.0, 7.0]]).unwrap();
    let shortest = norm(sub(cell.translation([0, 1, 0]), cell.translation([1, 0, 0])));
    let found = min_distance(&cell, &[[0.3, 0.1, 0.2]]).unwrap().unwrap();
    assert!((found - shortest).abs() < 1e-12, "{found} vs {shortest}");
    // The perovskite's shortest distance is B–O, a/2.
    let s = perovskite(3.95, 4);
    assert!((s.min_distance().unwrap().unwrap() - 1.975).abs() < 1e-12);
}

#[test]
fn crowded_bins_in_shuffled_order_match_brute_force() {
    // 300 atoms in a 3 × 3 × 3 grid of bins (~11 per bin), stored in random order: every row scans many
    // bin suffixes whose cursors move in the caller's order, not in bin order.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(53);
    let cell = Cell::periodic([[15.0, 0.0, 0.0], [2.0, 14.5, 0.0], [-1.5, 1.0, 15.2]]).unwrap();
    let positions = random_positions(&mut rng, &cell, 300);
    check_against_brute_force(&cell, &positions, 4.6, 0.2, "crowded bins");
    // Coincident atoms (distance zero) are neighbours of each other.
    let mut doubled = positions[..40].to_vec();
    doubled.extend_from_slice(&positions[..10]);
    check_against_brute_force(&cell, &doubled, 3.0, 0.0, "coincident atoms");
}

/// Unit vectors spread over the sphere (a Fibonacci lattice).
fn directions(n: usize) -> Vec<Vec3> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..n)
        .map(|k| {
            let z = 1.0 - 2.0 * (k as f64 + 0.5) / n as f64;
            let r = (1.0 - z * z).sqrt();
            let phi = golden * k as f64;
            [r * phi.cos(), r * phi.sin(), z]
        })
        .collect()
}

#[test]
fn pairs_a_hair_inside_or_outside_the_range_are_decided_exactly() {
    // Candidates are screened in f32 and decided in f64: atoms at range·(1 ∓ 1e-9) from a centre, in
    // every direction and across the periodic boundary, are in (out of) the list exactly as in f64.
    let cell = Cell::periodic([[21.0, 0.0, 0.0], [3.0, 19.0, 0.0], [1.0, -2.0, 23.0]]).unwrap();
    let range = 4.0;
    let centre = cell.to_cartesian([0.02, 0.97, 0.5]);
    let mut positions = vec![centre];
    for (k, u) in directions(60).into_iter().enumerate() {
        let scale = if k % 2 == 0 { 1.0 - 1e-9 } else { 1.0 + 1e-9 };
        positions.push(add(centre, u.map(|v| v * range * scale)));
    }
    let half = NeighborList::build_from(&cell, &positions, range, 0.0, ListKind::Half).unwrap();
    let found: BTreeSet<usize> = half.neighbors_of(0, &positions).map(|n| n.index).collect();
    let inside: BTreeSet<usize> = (1..positions.len()).filter(|k| (k - 1) % 2 == 0).collect();
    assert_eq!(found, inside);
    check_against_brute_force(&cell, &positions, range, 0.0, "hair's breadth");
}

#[test]
fn atoms_far_from_the_origin_of_an_open_cell_match_brute_force() {
    // Coordinates near 1e10 Å lose all precision in f32 (spacing 1 km): the f32 screen must keep every
    // candidate and leave the decision to f64.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(61);
    let offset = [1e10, -3e9, 2e10];
    let positions: Vec<Vec3> = (0..40)
        .map(|_| add(offset, std::array::from_fn(|_| rng.random_range(0.0..8.0))))
        .collect();
    check_against_brute_force(&Cell::default(), &positions, 2.5, 0.3, "far cluster");
}
