//! Metropolis Monte Carlo at fixed positions of the lattice: species swaps between chosen pairs of
//! elements (Li ↔ Sr, Ta ↔ Zr) and vacancy hops of a chosen species into the builder's vacant sites (frame
//! info `vacancies`, flattened x y z in Å, see gbion_build::occupy::assemble), with acceptance counted per
//! move type.
//!
//! Acceptance (Metropolis, Rosenbluth, Rosenbluth, Teller & Teller, J. Chem. Phys. 21, 1087 (1953); with
//! an asymmetric proposal, Hastings, Biometrika 57, 97 (1970)):
//! P_acc = min(1, exp(−ΔE / k_B T) · q(new → old) / q(old → new)).
//! - Swap: one atom of each species, uniformly among the free atoms of each; the proposal is symmetric.
//!   Swapped atoms exchange element, mass and charge; velocities are scaled by √(m_old/m_new) so each
//!   atom keeps its kinetic energy (LAMMPS `fix atom/swap ... ke yes`).
//! - Vacancy hop: an atom of the species, uniformly among its free atoms, then a vacancy uniformly among
//!   the n(x) vacancies within `max_distance` (minimum image) of it; the atom moves by the minimum-image
//!   displacement (so positions stay unwrapped) and its old position becomes a vacancy. The proposal ratio
//!   is n(x_old) / n(x_new), both counted in the respective configuration.
//!
//! ΔE comes from [`gbion_potentials::Potential::energy_change`] when the potential has a local form, else
//! from two full evaluations (the current energy is cached). Energies eV, temperatures K, lengths Å.

use crate::engine::Engine;
use crate::units::KB_EV_K;
use crate::velocities::free_mask;
use crate::{Error, Result};
use gbion_atoms::linalg::{add, norm, sub};
use gbion_atoms::{Element, InfoValue, Structure, Vec3};
use gbion_potentials::{Change, Request};
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// One kind of trial move.
#[derive(Clone, Debug, PartialEq)]
pub enum MoveKind {
    /// Exchange the elements of an atom of `a` and an atom of `b`.
    Swap { a: Element, b: Element },
    /// Move an atom of `species` into a vacancy within `max_distance` Å.
    VacancyHop { species: Element, max_distance: f64 },
}

impl MoveKind {
    /// The name used in thermo columns (`accept_<name>`): `swap_Li_Sr`, `hop_Li`.
    pub fn name(&self) -> String {
        match self {
            MoveKind::Swap { a, b } => format!("swap_{a}_{b}"),
            MoveKind::VacancyHop { species, .. } => format!("hop_{species}"),
        }
    }
}

/// Attempted and accepted counts of one move type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveStats {
    pub attempted: u64,
    pub accepted: u64,
}

impl MoveStats {
    /// accepted / attempted (NaN before any attempt).
    pub fn ratio(&self) -> f64 {
        if self.attempted == 0 {
            f64::NAN
        } else {
            self.accepted as f64 / self.attempted as f64
        }
    }
}

/// A Monte Carlo sampler: move types (chosen uniformly per attempt), temperature and counters.
#[derive(Clone, Debug)]
pub struct MonteCarlo {
    pub moves: Vec<MoveKind>,
    /// Temperature (K).
    pub temperature: f64,
    pub stats: Vec<MoveStats>,
}

/// Vacant sites of a structure (frame info `vacancies`), Å.
pub fn vacancies(structure: &Structure) -> Vec<Vec3> {
    match structure.info.get("vacancies") {
        Some(InfoValue::RealArray(flat)) => flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
        _ => Vec::new(),
    }
}

/// Store vacant sites in the frame info `vacancies`.
pub fn set_vacancies(structure: &mut Structure, sites: &[Vec3]) {
    structure.info.insert(
        "vacancies".into(),
        InfoValue::RealArray(sites.iter().flatten().copied().collect()),
    );
}

impl MonteCarlo {
    /// A sampler at `temperature` K with the given move types.
    pub fn new(moves: Vec<MoveKind>, temperature: f64) -> Result<MonteCarlo> {
        if moves.is_empty() {
            return Err(Error::Invalid("Monte Carlo needs at least one move type".into()));
        }
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(Error::Invalid(format!(
                "Monte Carlo temperature {temperature} K must be positive"
            )));
        }
        let stats = vec![MoveStats::default(); moves.len()];
        Ok(MonteCarlo {
            moves,
            temperature,
            stats,
        })
    }

    /// Check that every move can ever happen in `structure` (its species are present, hops have vacancies).
    pub fn check(&self, structure: &Structure) -> Result<()> {
        let has = |e: &Element| structure.elements.contains(e);
        for m in &self.moves {
            match m {
                MoveKind::Swap { a, b } => {
                    if a == b || !has(a) || !has(b) {
                        return Err(Error::Invalid(format!(
                            "swap {a} ↔ {b}: needs two different elements that are both in the structure"
                        )));
                    }
                }
                MoveKind::VacancyHop { species, max_distance } => {
                    if !has(species) {
                        return Err(Error::Invalid(format!(
                            "hop of {species}: no {species} in the structure"
                        )));
                    }
                    if vacancies(structure).is_empty() {
                        return Err(Error::Invalid(format!(
                            "hop of {species}: the structure lists no vacancies (frame info `vacancies`)"
                        )));
                    }
                    if !(max_distance.is_finite() && *max_distance > 0.0) {
                        return Err(Error::Invalid(format!(
                            "hop of {species}: max_distance must be positive"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// One trial move of a uniformly chosen type on `structure` with current energy `*energy` (eV), which
    /// is updated when the move is accepted. Returns whether it was accepted.
    pub fn attempt(
        &mut self,
        structure: &mut Structure,
        energy: &mut f64,
        engine: &mut Engine,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Result<bool> {
        let k = rng.random_range(0..self.moves.len());
        let beta = 1.0 / (KB_EV_K * self.temperature);
        let accepted = match self.moves[k].clone() {
            MoveKind::Swap { a, b } => swap(structure, energy, engine, rng, beta, a, b)?,
            MoveKind::VacancyHop { species, max_distance } => {
                hop(structure, energy, engine, rng, beta, species, max_distance)?
            }
        };
        self.stats[k].attempted += 1;
        self.stats[k].accepted += u64::from(accepted);
        Ok(accepted)
    }
}

/// Uniform choice among the free atoms of `element`.
fn pick(structure: &Structure, free: &[bool], element: Element, rng: &mut Xoshiro256PlusPlus) -> Option<usize> {
    let candidates: Vec<usize> = (0..structure.len())
        .filter(|&i| free[i] && structure.elements[i] == element)
        .collect();
    (!candidates.is_empty()).then(|| candidates[rng.random_range(0..candidates.len())])
}

/// Metropolis–Hastings test of exp(−βΔE)·ratio, drawing a uniform number only when needed.
fn metropolis(delta: f64, beta: f64, proposal_ratio: f64, rng: &mut Xoshiro256PlusPlus) -> bool {
    let p = (-beta * delta).exp() * proposal_ratio;
    // Always draw, so the random stream does not depend on rounding of ΔE near zero.
    let u: f64 = rng.random();
    u < p
}

/// Exchange element, mass and charge of atoms i and j, keeping each atom's kinetic energy.
fn exchange(structure: &mut Structure, i: usize, j: usize) {
    let (mi, mj) = (structure.masses[i], structure.masses[j]);
    structure.elements.swap(i, j);
    structure.masses.swap(i, j);
    if let Some(q) = &mut structure.charges {
        q.swap(i, j);
    }
    if let Some(v) = &mut structure.velocities {
        v[i] = v[i].map(|x| x * (mi / mj).sqrt());
        v[j] = v[j].map(|x| x * (mj / mi).sqrt());
    }
}

/// E(after) − E(before) of `change`, by the local form or by a full evaluation of the changed structure.
fn delta_energy(
    structure: &mut Structure,
    energy: f64,
    engine: &mut Engine,
    change: &Change,
    apply: impl Fn(&mut Structure),
    undo: impl Fn(&mut Structure),
) -> Result<f64> {
    if let Some(delta) = engine.energy_change(structure, change)? {
        return Ok(delta);
    }
    apply(structure);
    let after = engine.compute(structure, Request::ENERGY);
    undo(structure);
    Ok(after?.energy - energy)
}

fn swap(
    structure: &mut Structure,
    energy: &mut f64,
    engine: &mut Engine,
    rng: &mut Xoshiro256PlusPlus,
    beta: f64,
    a: Element,
    b: Element,
) -> Result<bool> {
    let free = free_mask(structure);
    let (Some(i), Some(j)) = (pick(structure, &free, a, rng), pick(structure, &free, b, rng)) else {
        return Ok(false);
    };
    let change = Change::Swap { a: i, b: j };
    let delta = delta_energy(
        structure,
        *energy,
        engine,
        &change,
        |s| exchange(s, i, j),
        |s| exchange(s, i, j),
    )?;
    if !delta.is_finite() {
        return Err(Error::Invalid(format!(
            "swap of atoms {i} and {j}: non-finite energy change"
        )));
    }
    let accepted = metropolis(delta, beta, 1.0, rng);
    if accepted {
        exchange(structure, i, j);
        *energy += delta;
    }
    Ok(accepted)
}

/// Indices of the vacancies within `max_distance` of `x` (minimum image).
fn vacancies_near(structure: &Structure, sites: &[Vec3], x: Vec3, max_distance: f64) -> Vec<usize> {
    (0..sites.len())
        .filter(|&v| norm(structure.cell.minimum_image(sub(sites[v], x))) <= max_distance)
        .collect()
}

fn hop(
    structure: &mut Structure,
    energy: &mut f64,
    engine: &mut Engine,
    rng: &mut Xoshiro256PlusPlus,
    beta: f64,
    species: Element,
    max_distance: f64,
) -> Result<bool> {
    let free = free_mask(structure);
    let Some(i) = pick(structure, &free, species, rng) else {
        return Ok(false);
    };
    let mut sites = vacancies(structure);
    let old = structure.positions[i];
    let near = vacancies_near(structure, &sites, old, max_distance);
    if near.is_empty() {
        return Ok(false);
    }
    let v = near[rng.random_range(0..near.len())];
    let new = add(old, structure.cell.minimum_image(sub(sites[v], old)));
    let vacancy = sites[v];
    // The reverse proposal: vacancies near the new position once the old position is vacant.
    sites[v] = structure.cell.wrap(old);
    let n_back = vacancies_near(structure, &sites, new, max_distance).len();
    sites[v] = vacancy;
    let change = Change::Move { atom: i, position: new };
    let delta = delta_energy(
        structure,
        *energy,
        engine,
        &change,
        |s| s.positions[i] = new,
        |s| s.positions[i] = old,
    )?;
    if !delta.is_finite() {
        return Err(Error::Invalid(format!("hop of atom {i}: non-finite energy change")));
    }
    let accepted = metropolis(delta, beta, near.len() as f64 / n_back as f64, rng);
    if accepted {
        structure.positions[i] = new;
        sites[v] = structure.cell.wrap(old);
        set_vacancies(structure, &sites);
        *energy += delta;
    }
    Ok(accepted)
}
