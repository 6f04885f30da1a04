//! The benchmark cells and the benchmark MTP shared by gbion-potentials' benches and those of
//! gbion-dynamics and gbion-learn (included there by `#[path]`), so the MD, MC and fit speeds are measured on
//! exactly the cells and potential of the potential benchmarks.

#![allow(dead_code)]

use gbion_atoms::{Cell, Element, Structure, Vec3};
use gbion_potentials::mtp::{Mtp, MtpParameters};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Buckingham parameters (formal charges) of the SrTiO3 rigid-ion benchmark; the `[coulomb]` table is added
/// by each bench.
pub const SRTIO3_PAIRS: &str = r#"
cutoff = 10.0
[charges]
Sr = 2.0
Ti = 4.0
O = -2.0
[[pair]]
species = ["O", "O"]
buckingham = { a = 22764.0, rho = 0.149, c = 27.88 }
[[pair]]
species = ["Ti", "O"]
buckingham = { a = 4590.7279, rho = 0.261, c = 0.0 }
[[pair]]
species = ["Sr", "O"]
buckingham = { a = 1956.702, rho = 0.3252, c = 0.0 }
"#;

pub fn element(symbol: &str) -> Element {
    Element::from_symbol(symbol).unwrap()
}

/// 10,080-atom SrTiO3: 12 × 12 × 14 cubic cells, a = 3.905 Å, atoms displaced by up to 0.1 Å (seed 1).
pub fn srtio3_supercell() -> Structure {
    let (a, reps) = (3.905, [12usize, 12, 14]);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut elements = Vec::new();
    let mut positions: Vec<Vec3> = Vec::new();
    let sites = [
        ("Sr", [0.0, 0.0, 0.0]),
        ("Ti", [0.5, 0.5, 0.5]),
        ("O", [0.5, 0.5, 0.0]),
        ("O", [0.5, 0.0, 0.5]),
        ("O", [0.0, 0.5, 0.5]),
    ];
    for i in 0..reps[0] {
        for j in 0..reps[1] {
            for k in 0..reps[2] {
                for (symbol, offset) in sites {
                    elements.push(element(symbol));
                    let cell = [i as f64, j as f64, k as f64];
                    positions.push(std::array::from_fn(|d| {
                        a * (cell[d] + offset[d]) + rng.random_range(-0.1..0.1)
                    }));
                }
            }
        }
    }
    let cell = Cell::orthorhombic(reps.map(|r| r as f64 * a)).unwrap();
    Structure::new(cell, elements, positions).unwrap()
}

/// Lattice constant (Å) of the LSTZ0.75-like cells.
pub const LSTZ_LATTICE: f64 = 3.95;

/// An LSTZ0.75-like perovskite of `cells` cubic cells with random A-site (Li 0.375 / Sr 0.4375 / vacancy)
/// and B-site (Ta 0.75 / Zr 0.25) occupation and 0.05 Å noise (seed 75).
pub fn lstz(cells: [usize; 3]) -> Structure {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(75);
    let mut elements = Vec::new();
    let mut positions: Vec<Vec3> = Vec::new();
    let mut place = |e: &str, frac: [f64; 3], cell: [usize; 3], rng: &mut Xoshiro256PlusPlus| {
        elements.push(element(e));
        positions.push([0, 1, 2].map(|d| (cell[d] as f64 + frac[d]) * LSTZ_LATTICE + rng.random_range(-0.05..0.05)));
    };
    for i in 0..cells[0] {
        for j in 0..cells[1] {
            for k in 0..cells[2] {
                let cell = [i, j, k];
                let a: f64 = rng.random_range(0.0..1.0);
                if a < 0.375 {
                    place("Li", [0.0; 3], cell, &mut rng);
                } else if a < 0.8125 {
                    place("Sr", [0.0; 3], cell, &mut rng);
                }
                let b = if rng.random_range(0.0..1.0) < 0.75 { "Ta" } else { "Zr" };
                place(b, [0.5; 3], cell, &mut rng);
                for o in [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                    place("O", o, cell, &mut rng);
                }
            }
        }
    }
    let lengths = cells.map(|c| c as f64 * LSTZ_LATTICE);
    Structure::new(Cell::orthorhombic(lengths).unwrap(), elements, positions).unwrap()
}

/// The trained level-16 fixture `l16_5sp.mtp` (cutoff 5 Å) with its species Li, Sr, Ta, Zr, O.
pub fn lstz_mtp() -> Mtp {
    let text = include_str!("../../tests/fixtures/mtp/potentials/l16_5sp.mtp");
    let species = ["Li", "Sr", "Ta", "Zr", "O"].map(element).to_vec();
    Mtp::new(MtpParameters::parse(text, "l16_5sp.mtp").unwrap())
        .unwrap()
        .with_species(species)
        .unwrap()
}

/// `copies` copies of [`lstz`]`(cells)`, each coordinate displaced by up to 0.1 Å (seed 16).
pub fn rattled_lstz(cells: [usize; 3], copies: usize) -> Vec<Structure> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(16);
    (0..copies)
        .map(|_| {
            let mut structure = lstz(cells);
            for x in structure.positions.iter_mut().flatten() {
                *x += rng.random_range(-0.1..0.1);
            }
            structure
        })
        .collect()
}
