//! The A-site ordering parameter S of a perovskite ABO3 (paper 000, Fig. 2 caption):
//!
//! S = (R_rich − R_overall) / (1 − R_overall),
//!
//! where R_overall is the fraction of all A sites occupied by the ordering species (Sr in LSTZ0.75, La in
//! LLTO) and R_rich the fraction of the A sites of the Sr-rich layers occupied by it. A layers alternate
//! along one lattice axis, so the A layers split into two interleaved sets (even and odd layers); the set
//! holding more of the ordering species is the rich one. S is 0 for a disordered crystal (up to sampling
//! noise, which biases S of a finite random cell slightly above 0) and reaches
//! S_max = (min(1, 2 R_overall) − R_overall) / (1 − R_overall) when the rich layers hold all of it: 0.78 for
//! LSTZ0.75 (R_overall = 0.4375, S_max = 7/9).
//!
//! What counts as an A site: atoms tagged `site = A` when the structure has the builder's `site` tag;
//! otherwise every cation that is not a typical B-site cation (see [`is_b_site_element`]) or an anion.
//! Vacant A sites are not atoms: the number of A sites is taken as the number of B sites (fully occupied in
//! ABO3), so vacancies count in the denominators.
//!
//! Layers: the A-site layers along lattice axis k are planes of constant fractional coordinate s_k; their
//! number is n = round(h_k / a_pc), with h_k the cell height along k and a_pc = (V / N_B)^{1/3} the
//! pseudo-cubic lattice constant, and an atom's layer is round(n·s_k − φ) mod n, where the phase φ is the
//! circular mean of n·s_k over the A-site atoms (so thermal displacements well below half a layer spacing
//! do not change the assignment). Only axes with an even number of layers can alternate.

use crate::{Error, Result};
use gbion_atoms::structure::tags;
use gbion_atoms::{Element, SiteKind, Structure};

/// The A-site ordering of one structure.
#[derive(Clone, Debug, PartialEq)]
pub struct AsiteOrdering {
    /// Ordering parameter S (dimensionless).
    pub s: f64,
    /// Its largest possible value for this composition, S_max.
    pub s_max: f64,
    /// Lattice axis (0 = a, 1 = b, 2 = c) along which the layers alternate.
    pub axis: usize,
    /// The ordering species (the most abundant A-site element other than Li, unless chosen).
    pub species: Element,
    /// R_overall: fraction of all A sites occupied by the ordering species.
    pub fraction_overall: f64,
    /// R_rich: fraction of the rich layers' A sites occupied by the ordering species.
    pub fraction_rich: f64,
    /// Number of atoms of the ordering species in each A layer along `axis`, in layer order.
    pub layer_counts: Vec<usize>,
    /// Number of A sites per layer (N_B / n_layers).
    pub sites_per_layer: f64,
}

/// Typical B-site cations of oxide perovskites (octahedral, small, high valence).
const B_SITE_CATIONS: [&str; 17] = [
    "Ti", "Zr", "Hf", "Nb", "Ta", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Al", "Ga", "Sc", "Sn", "W", "Mo",
];

/// Whether `element` is a typical B-site cation (Ti, Zr, Hf, Nb, Ta, V, Cr, Mn, Fe, Co, Ni, Al, Ga, Sc, Sn,
/// W, Mo).
pub fn is_b_site_element(element: Element) -> bool {
    B_SITE_CATIONS.contains(&element.symbol())
}

fn is_anion(element: Element) -> bool {
    matches!(element.symbol(), "O" | "F" | "N" | "S" | "Cl")
}

/// The A-site ordering of `structure` along `axis` (0, 1, 2 = a, b, c), or along the axis with the largest S
/// when `axis` is `None`. The ordering species is the most abundant A-site element other than Li.
pub fn a_site_ordering(structure: &Structure, axis: Option<usize>) -> Result<AsiteOrdering> {
    let sites = classify_sites(structure)?;
    let species = ordering_species(structure, &sites)?;
    a_site_ordering_of(structure, axis, species)
}

/// As [`a_site_ordering`], for a chosen ordering species.
pub fn a_site_ordering_of(structure: &Structure, axis: Option<usize>, species: Element) -> Result<AsiteOrdering> {
    let sites = classify_sites(structure)?;
    let n_b = sites.iter().filter(|&&k| k == SiteKind::B).count();
    if n_b == 0 {
        return Err(Error::Invalid(
            "no B-site atoms (Ti, Zr, Nb, Ta, ... or site = B tags): not a perovskite ABO3".into(),
        ));
    }
    let a_pc = (structure.cell.volume() / n_b as f64).cbrt();
    let axes: Vec<usize> = match axis {
        Some(k) if k < 3 => vec![k],
        Some(k) => return Err(Error::Invalid(format!("axis {k} is not 0, 1 or 2"))),
        None => (0..3).collect(),
    };
    let mut best: Option<AsiteOrdering> = None;
    let mut reasons = Vec::new();
    for k in axes {
        match ordering_along(structure, &sites, species, n_b, a_pc, k) {
            Ok(o) => {
                if best.as_ref().is_none_or(|b| o.s > b.s + 1e-12) {
                    best = Some(o);
                }
            }
            Err(e) => reasons.push(e.to_string()),
        }
    }
    best.ok_or_else(|| Error::Invalid(reasons.join("; ")))
}

/// Site kind of every atom: from the `site` tag when present, otherwise from the element.
fn classify_sites(structure: &Structure) -> Result<Vec<SiteKind>> {
    if let Some(tag) = structure.int_tag(tags::SITE) {
        return tag
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                SiteKind::from_tag(v)
                    .ok_or_else(|| Error::Invalid(format!("atom {i}: site tag {v} is not A (0), B (1) or O (2)")))
            })
            .collect();
    }
    Ok(structure
        .elements
        .iter()
        .map(|&e| {
            if is_anion(e) {
                SiteKind::O
            } else if is_b_site_element(e) {
                SiteKind::B
            } else {
                SiteKind::A
            }
        })
        .collect())
}

/// The most abundant A-site element other than Li (ties: the heavier element).
fn ordering_species(structure: &Structure, sites: &[SiteKind]) -> Result<Element> {
    let mut counts = std::collections::BTreeMap::<u8, usize>::new();
    for (&e, &k) in structure.elements.iter().zip(sites) {
        if k == SiteKind::A && e.symbol() != "Li" {
            *counts.entry(e.number()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(z, n)| (n, z))
        .map(|(z, _)| Element(z))
        .ok_or_else(|| Error::Invalid("no A-site atoms other than Li: nothing to order".into()))
}

fn ordering_along(
    structure: &Structure,
    sites: &[SiteKind],
    species: Element,
    n_b: usize,
    a_pc: f64,
    axis: usize,
) -> Result<AsiteOrdering> {
    let axis_name = ["a", "b", "c"][axis];
    let n_layers = (structure.cell.heights()[axis] / a_pc).round() as usize;
    if n_layers < 2 || !n_layers.is_multiple_of(2) {
        return Err(Error::Invalid(format!(
            "{n_layers} A layers along {axis_name}: alternating layers need an even number"
        )));
    }
    let n = n_layers as f64;
    let a_atoms: Vec<(usize, f64)> = sites
        .iter()
        .enumerate()
        .filter(|&(_, &k)| k == SiteKind::A)
        .map(|(i, _)| (i, structure.cell.to_fractional(structure.positions[i])[axis]))
        .collect();
    // Circular mean of n·s over the A atoms: the phase of the A planes.
    let (sin, cos) = a_atoms.iter().fold((0.0, 0.0), |(s, c), &(_, f)| {
        let t = std::f64::consts::TAU * n * f;
        (s + t.sin(), c + t.cos())
    });
    let phase = sin.atan2(cos) / std::f64::consts::TAU;
    let mut layer_counts = vec![0usize; n_layers];
    for &(i, f) in &a_atoms {
        if structure.elements[i] == species {
            let layer = (n * f - phase).round().rem_euclid(n) as usize % n_layers;
            layer_counts[layer] += 1;
        }
    }
    let total: usize = layer_counts.iter().sum();
    let sites_per_layer = n_b as f64 / n;
    let fraction_overall = total as f64 / n_b as f64;
    if fraction_overall >= 1.0 {
        return Err(Error::Invalid(format!(
            "{} fills every A site: S is undefined",
            species.symbol()
        )));
    }
    let even: usize = layer_counts.iter().step_by(2).sum();
    let rich = even.max(total - even) as f64;
    let half_sites = n_b as f64 / 2.0;
    let fraction_rich = rich / half_sites;
    let order = |r_rich: f64| (r_rich - fraction_overall) / (1.0 - fraction_overall);
    Ok(AsiteOrdering {
        s: order(fraction_rich),
        s_max: order((2.0 * fraction_overall).min(1.0)),
        axis,
        species,
        fraction_overall,
        fraction_rich,
        layer_counts,
        sites_per_layer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gbion_atoms::Cell;
    use rand::seq::SliceRandom;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    const A: f64 = 3.95;

    /// A cubic perovskite of nx × ny × nz units with the A-site species `a_species(x, y, z)` ("Va" = vacant),
    /// B = Ta, O3; positions in Å, with an optional site tag.
    fn perovskite(n: [usize; 3], a_species: impl Fn(usize, usize, usize) -> &'static str, tag: bool) -> Structure {
        let (mut elements, mut positions, mut site) = (Vec::new(), Vec::new(), Vec::new());
        let mut add = |symbol: &str, p: [f64; 3], kind: SiteKind| {
            if symbol != "Va" {
                elements.push(Element::from_symbol(symbol).unwrap());
                positions.push(p.map(|c| c * A));
                site.push(kind as i64);
            }
        };
        for x in 0..n[0] {
            for y in 0..n[1] {
                for z in 0..n[2] {
                    let o = [x as f64, y as f64, z as f64];
                    add(a_species(x, y, z), o, SiteKind::A);
                    add("Ta", [o[0] + 0.5, o[1] + 0.5, o[2] + 0.5], SiteKind::B);
                    for d in [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                        add("O", [o[0] + d[0], o[1] + d[1], o[2] + d[2]], SiteKind::O);
                    }
                }
            }
        }
        let cell = Cell::orthorhombic(n.map(|k| k as f64 * A)).unwrap();
        let mut s = Structure::new(cell, elements, positions).unwrap();
        if tag {
            s.set_int_tag(tags::SITE, site).unwrap();
        }
        s
    }

    /// LSTZ0.75's A sublattice in its 16-f.u. cell (2 × 2 × 4): z = 0, 2 Sr-rich (7 Sr + 1 Li), z = 1, 3
    /// Sr-poor (5 Li + 3 vacancies).
    fn layered(x: usize, y: usize, z: usize) -> &'static str {
        const LAYERS: [[&str; 4]; 4] = [
            ["Sr", "Sr", "Sr", "Sr"],
            ["Li", "Li", "Li", "Va"],
            ["Sr", "Sr", "Sr", "Li"],
            ["Li", "Li", "Va", "Va"],
        ];
        LAYERS[z % 4][2 * (x % 2) + y % 2]
    }

    #[test]
    fn fully_layered_lstz_has_s_max_seven_ninths_along_c() {
        for tag in [true, false] {
            let s = perovskite([4, 4, 8], layered, tag);
            let o = a_site_ordering(&s, None).unwrap();
            assert_eq!(o.species.symbol(), "Sr");
            assert_eq!(o.axis, 2);
            assert!((o.fraction_overall - 0.4375).abs() < 1e-15);
            assert!((o.s - 7.0 / 9.0).abs() < 1e-12, "S = {}", o.s);
            assert!((o.s_max - 7.0 / 9.0).abs() < 1e-12);
            assert_eq!(o.layer_counts.len(), 8);
            assert_eq!(o.layer_counts.iter().sum::<usize>(), 7 * 8);
        }
    }

    #[test]
    fn one_sr_moved_to_a_poor_layer_lowers_s_to_five_ninths() {
        // In the 16-f.u. cell the rich layers hold 7 of 8 sites' Sr; move one Sr to a vacant poor site:
        // R_rich = 6/8, S = (0.75 − 0.4375)/0.5625 = 5/9.
        let moved = |x: usize, y: usize, z: usize| match (x, y, z) {
            (0, 0, 0) => "Va",
            (1, 1, 3) => "Sr",
            _ => layered(x, y, z),
        };
        let o = a_site_ordering(&perovskite([2, 2, 4], moved, true), None).unwrap();
        assert!((o.s - 5.0 / 9.0).abs() < 1e-12, "S = {}", o.s);
        assert_eq!(o.layer_counts, vec![3, 0, 3, 1]);
    }

    #[test]
    fn thermal_displacements_and_an_origin_shift_do_not_change_s() {
        let mut s = perovskite([4, 4, 8], layered, false);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for p in &mut s.positions {
            for c in p.iter_mut() {
                *c += rng.random_range(-0.4..0.4) + 1.3;
            }
        }
        let o = a_site_ordering(&s, None).unwrap();
        assert_eq!(o.axis, 2);
        assert!((o.s - 7.0 / 9.0).abs() < 1e-12, "S = {}", o.s);
    }

    #[test]
    fn random_ordering_has_s_near_zero() {
        // 8 × 8 × 8 A sites with 224 Sr (R = 0.4375). The rich/poor split is hypergeometric: the even layers
        // hold 112 ± 3.7 Sr, so the best of three axes has S ≲ 4σ/(256 · 0.5625) ≈ 0.10 almost surely.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut mean = 0.0;
        for _ in 0..20 {
            let mut species: Vec<&'static str> = [vec!["Sr"; 224], vec!["Li"; 192], vec!["Va"; 96]].concat();
            species.shuffle(&mut rng);
            let s = perovskite([8, 8, 8], |x, y, z| species[64 * x + 8 * y + z], true);
            let o = a_site_ordering(&s, None).unwrap();
            assert!(o.s >= 0.0 && o.s < 0.1, "S = {}", o.s);
            mean += o.s / 20.0;
        }
        assert!(mean < 0.05, "mean S = {mean}");
    }

    #[test]
    fn a_structure_without_b_sites_is_refused() {
        let cell = Cell::orthorhombic([4.0; 3]).unwrap();
        let s = Structure::new(cell, vec![Element::from_symbol("Sr").unwrap()], vec![[0.0; 3]]).unwrap();
        let err = a_site_ordering(&s, None).unwrap_err().to_string();
        assert!(err.contains("no B-site atoms"), "{err}");
    }

    #[test]
    fn an_odd_number_of_layers_cannot_alternate() {
        let s = perovskite([3, 3, 3], |_, _, z| if z == 0 { "Sr" } else { "Li" }, true);
        let err = a_site_ordering(&s, Some(2)).unwrap_err().to_string();
        assert!(err.contains("even number"), "{err}");
    }
}
