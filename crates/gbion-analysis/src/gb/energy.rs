//! Grain-boundary energy of a periodic bicrystal with two GBs:
//!
//! γ = (E_bicrystal − Σ_s N_s e_s) / (2A)   (eV/Å², reported in J/m²),
//!
//! with N_s the number of atoms of species s in the bicrystal, e_s the bulk reference energy per atom of
//! species s, and A the GB area, the cross-section of the cell parallel to the GB (A = V / h_k for the normal
//! along lattice axis k); the factor 2 counts the two GBs of the periodic cell (paper 000, Table S1).
//!
//! The reference Σ_s N_s e_s is well defined in two cases:
//! - a bulk structure with its total energy E_bulk and composition n_s, when the bicrystal holds exactly k
//!   formula units of it (N_s = k n_s for every species, one k): Σ_s N_s e_s = k E_bulk;
//! - explicit per-species energies e_s (eV/atom): bulk energies of elemental references, or chemical
//!   potentials μ_s. A non-stoichiometric GB (no single k) has an energy only relative to chosen chemical
//!   potentials; with a bulk structure as reference that case is an error, not a number.

use crate::{Error, Result};
use gbion_atoms::Structure;
use std::collections::BTreeMap;

/// 1 eV/Å² in J/m²: 1.602176634e-19 J / 1e-20 m².
pub const EV_PER_A2_IN_J_PER_M2: f64 = 16.02176634;

/// The bulk reference of a GB energy.
#[derive(Clone, Debug, PartialEq)]
pub enum BulkReference {
    /// A bulk structure's total energy (eV) and its atom count per species.
    Bulk {
        energy: f64,
        counts: BTreeMap<&'static str, usize>,
    },
    /// Reference energy per atom (eV) of each species: e_s, or the chemical potential μ_s.
    PerAtom(BTreeMap<&'static str, f64>),
}

impl BulkReference {
    /// The reference of a bulk structure that carries its total energy.
    pub fn from_bulk(bulk: &Structure) -> Result<BulkReference> {
        let energy = bulk
            .results
            .energy
            .ok_or_else(|| Error::Invalid("the bulk reference structure has no energy".into()))?;
        Ok(BulkReference::Bulk {
            energy,
            counts: bulk.composition(),
        })
    }
}

/// A GB energy and the numbers it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct GbEnergy {
    /// γ (J/m²).
    pub gamma_j_m2: f64,
    /// E_bicrystal − Σ_s N_s e_s (eV).
    pub excess_energy_ev: f64,
    /// Σ_s N_s e_s (eV).
    pub reference_energy_ev: f64,
    /// GB area A (Å²), one of the two GBs.
    pub area_a2: f64,
    /// Number k of bulk formula units in the bicrystal, for a bulk-structure reference.
    pub bulk_units: Option<f64>,
}

/// γ of the bicrystal `structure` with total energy `energy` (eV), GB normal along lattice `axis`.
pub fn gb_energy(structure: &Structure, energy: f64, axis: usize, reference: &BulkReference) -> Result<GbEnergy> {
    if !energy.is_finite() {
        return Err(Error::Invalid(format!(
            "the bicrystal energy {energy} is not a finite number"
        )));
    }
    if axis > 2 || !structure.cell.pbc()[axis] {
        return Err(Error::Invalid(format!(
            "the GB normal (axis {axis}) must be a periodic lattice axis: γ counts two GBs per cell"
        )));
    }
    let area_a2 = structure.cell.volume() / structure.cell.heights()[axis];
    let counts = structure.composition();
    let (reference_energy_ev, bulk_units) = match reference {
        BulkReference::Bulk {
            energy: bulk_energy,
            counts: bulk,
        } => {
            let k = formula_units(&counts, bulk)?;
            (k * bulk_energy, Some(k))
        }
        BulkReference::PerAtom(per_atom) => (per_atom_reference(&counts, per_atom)?, None),
    };
    let excess_energy_ev = energy - reference_energy_ev;
    Ok(GbEnergy {
        gamma_j_m2: excess_energy_ev / (2.0 * area_a2) * EV_PER_A2_IN_J_PER_M2,
        excess_energy_ev,
        reference_energy_ev,
        area_a2,
        bulk_units,
    })
}

/// The number k of bulk formula units with N_s = k n_s for every species, or an error naming the
/// mismatch (exact integer comparison N_s n_t = N_t n_s).
fn formula_units(bicrystal: &BTreeMap<&'static str, usize>, bulk: &BTreeMap<&'static str, usize>) -> Result<f64> {
    let describe = |c: &BTreeMap<&'static str, usize>| c.iter().map(|(s, n)| format!("{s}{n}")).collect::<String>();
    let same_species = bicrystal.keys().eq(bulk.keys());
    let (&first, &n_first) = bulk
        .iter()
        .next()
        .ok_or_else(|| Error::Invalid("the bulk reference has no atoms".into()))?;
    let proportional = same_species
        && bulk
            .iter()
            .all(|(s, &n)| bicrystal[s] * n_first == bicrystal[first] * n);
    if !proportional {
        return Err(Error::Invalid(format!(
            "the bicrystal ({}) is not a whole number of bulk formula units ({}): the energy of a \
             non-stoichiometric GB depends on the chemical potentials; give a reference energy per atom \
             (chemical potential) for every species instead",
            describe(bicrystal),
            describe(bulk)
        )));
    }
    Ok(bicrystal[first] as f64 / n_first as f64)
}

/// Σ_s N_s e_s, with every species of the bicrystal given a reference.
fn per_atom_reference(counts: &BTreeMap<&'static str, usize>, per_atom: &BTreeMap<&'static str, f64>) -> Result<f64> {
    counts
        .iter()
        .map(|(s, &n)| {
            per_atom
                .get(s)
                .map(|e| n as f64 * e)
                .ok_or_else(|| Error::Invalid(format!("no reference energy per atom for {s}")))
        })
        .sum()
}
