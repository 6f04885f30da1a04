//! The cubic perovskite supercells of the neighbour-list benchmark, shared with `examples/nl_profile.rs`
//! (included there by `#[path]`), so instruction counts and criterion times are of the same cells.

use gbion_atoms::{Cell, Vec3};

/// Lattice parameter of the cubic perovskite (Å).
pub const LATTICE: f64 = 3.95;

/// Positions of an n×n×n supercell of cubic ABO3: A at the corner, B at the body centre, O at the face
/// centres (5 n³ atoms), in the supercell's periodic cubic cell.
pub fn perovskite_supercell(n: usize) -> (Cell, Vec<Vec3>) {
    const BASIS: [Vec3; 5] = [
        [0.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.5, 0.5, 0.0],
        [0.5, 0.0, 0.5],
        [0.0, 0.5, 0.5],
    ];
    let mut positions = Vec::with_capacity(5 * n * n * n);
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                for s in BASIS {
                    positions.push([
                        (i as f64 + s[0]) * LATTICE,
                        (j as f64 + s[1]) * LATTICE,
                        (k as f64 + s[2]) * LATTICE,
                    ]);
                }
            }
        }
    }
    let length = LATTICE * n as f64;
    let cell = Cell::orthorhombic([length; 3]).expect("a cubic cell");
    (cell, positions)
}
