//! Shared fixtures: an argon-like Lennard-Jones solid (ε = 0.0104 eV, σ = 3.40 Å, m = 39.95 amu).

use gbion_atoms::{Cell, Element, Structure};
use gbion_potentials::rigid_ion::RigidIon;

pub const EPSILON: f64 = 0.0104;
pub const SIGMA: f64 = 3.40;

/// Lennard-Jones argon with the MDF taper from `inner` to `cutoff` (smooth forces, for energy conservation).
pub fn argon_tapered(inner: f64, cutoff: f64) -> RigidIon {
    let text = format!(
        r#"
name = "argon-like LJ"
cutoff = {cutoff}
cutoff_mode = "taper"
taper_inner = {inner}
[coulomb]
method = "none"
[charges]
Ar = 0.0
[[pair]]
species = ["Ar", "Ar"]
lennard_jones = {{ epsilon = {EPSILON}, sigma = {SIGMA} }}
"#
    );
    RigidIon::from_toml(&text, "argon.toml").unwrap()
}

/// Plain truncated Lennard-Jones argon (`cut` mode).
pub fn argon_cut(cutoff: f64) -> RigidIon {
    let text = format!(
        r#"
name = "argon-like LJ"
cutoff = {cutoff}
[coulomb]
method = "none"
[charges]
Ar = 0.0
[[pair]]
species = ["Ar", "Ar"]
lennard_jones = {{ epsilon = {EPSILON}, sigma = {SIGMA} }}
"#
    );
    RigidIon::from_toml(&text, "argon.toml").unwrap()
}

/// An fcc crystal of `n × n × n` conventional cells with lattice constant `a` (Å), 4n³ atoms.
pub fn fcc(symbol: &str, a: f64, n: usize) -> Structure {
    let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let mut positions = Vec::new();
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                for b in basis {
                    positions.push([(i as f64 + b[0]) * a, (j as f64 + b[1]) * a, (k as f64 + b[2]) * a]);
                }
            }
        }
    }
    let cell = Cell::orthorhombic([n as f64 * a; 3]).unwrap();
    let element = Element::from_symbol(symbol).unwrap();
    Structure::new(cell, vec![element; positions.len()], positions).unwrap()
}

/// Mean and its standard error by block averaging (`blocks` blocks), and the variance.
pub fn block_stats(x: &[f64], blocks: usize) -> (f64, f64, f64) {
    let n = x.len() / blocks * blocks;
    let mean = x[..n].iter().sum::<f64>() / n as f64;
    let size = n / blocks;
    let block_means: Vec<f64> = (0..blocks)
        .map(|b| x[b * size..(b + 1) * size].iter().sum::<f64>() / size as f64)
        .collect();
    let var_blocks = block_means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (blocks - 1) as f64;
    let variance = x[..n].iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, (var_blocks / blocks as f64).sqrt(), variance)
}
