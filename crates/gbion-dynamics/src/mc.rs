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
//! ΔE comes from the potential's local form when it has one (its stateful evaluator,
//! [`gbion_potentials::LocalEnergy`] through [`Engine::energy_change`], which is told of accepted moves; else
//! [`gbion_potentials::Potential::energy_change`]), otherwise from two full evaluations (the current energy
//! is cached). Energies eV, temperatures K, lengths Å.
//!
//! Cost per swap attempt independent of the number of atoms: the sampler keeps, per element of its
//! moves, a Fenwick tree over the atom indices marking the free atoms of that element, so the k-th such
//! atom in index order (the uniform pick) is found in O(log N) and an accepted swap updates it in
//! O(log N); [`MonteCarlo::attempts`] tests the neighbour list for a rebuild once per batch (and again
//! after a hop), not per attempt, since swaps move no atom. The picks are those of a scan in index order,
//! so results do not depend on when the index was built. The index assumes that between calls only the
//! sampler's own moves change elements and `fixed` tags; it is rebuilt when the number of atoms changes
//! or a picked atom turns out not to match, and [`MonteCarlo::invalidate`] forces a rebuild after other
//! changes.

use crate::engine::Engine;
use crate::units::KB_EV_K;
use crate::{Error, Result};
use gbion_atoms::linalg::{add, norm, sub};
use gbion_atoms::structure::tags;
use gbion_atoms::{Element, InfoValue, Structure, Vec3};
use gbion_potentials::{Change, Request};
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// One kind of trial move; read from TOML as `{ swap = ["Li", "Sr"] }` or
/// `{ hop = "Li", max_distance = 4.2 }` (Å, default 4.5).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "crate::config::MoveTable")]
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
    /// Free atoms of each element of the moves, built on first use (see the module documentation).
    index: Option<SpeciesIndex>,
}

/// Counts of marked indices in a Fenwick (binary indexed) tree over 0..n, with the k-th marked index found
/// by binary lifting (Fenwick, Software: Practice and Experience 24, 327 (1994)).
#[derive(Clone, Debug)]
struct Fenwick {
    /// tree[i] (1-based) counts the marks in (i − lowbit(i), i].
    tree: Vec<u32>,
    total: usize,
}

impl Fenwick {
    /// A tree marking the indices where `marked` is true, built in O(n).
    fn new(marked: impl Iterator<Item = bool>) -> Fenwick {
        let mut tree = vec![0u32];
        tree.extend(marked.map(u32::from));
        let total = tree.iter().map(|&c| c as usize).sum();
        let n = tree.len() - 1;
        for i in 1..=n {
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                tree[parent] += tree[i];
            }
        }
        Fenwick { tree, total }
    }

    /// Mark (`add`) or unmark index `i`; the caller keeps marks 0/1.
    fn set(&mut self, i: usize, add: bool) {
        let mut k = i + 1;
        while k < self.tree.len() {
            if add {
                self.tree[k] += 1;
            } else {
                self.tree[k] -= 1;
            }
            k += k & k.wrapping_neg();
        }
        if add {
            self.total += 1;
        } else {
            self.total -= 1;
        }
    }

    /// The k-th (0-based) marked index; k < total.
    fn kth(&self, k: usize) -> usize {
        let n = self.tree.len() - 1;
        let mut pos = 0;
        let mut remaining = k as u32 + 1;
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] < remaining {
                pos = next;
                remaining -= self.tree[next];
            }
            step >>= 1;
        }
        pos
    }
}

/// The free atoms of each element the moves name.
#[derive(Clone, Debug)]
struct SpeciesIndex {
    n_atoms: usize,
    trees: Vec<(Element, Fenwick)>,
}

impl SpeciesIndex {
    fn new(structure: &Structure, moves: &[MoveKind]) -> SpeciesIndex {
        let mut elements: Vec<Element> = Vec::new();
        for m in moves {
            let named = match m {
                MoveKind::Swap { a, b } => vec![*a, *b],
                MoveKind::VacancyHop { species, .. } => vec![*species],
            };
            for e in named {
                if !elements.contains(&e) {
                    elements.push(e);
                }
            }
        }
        let fixed = structure.int_tag(tags::FIXED);
        let trees = elements
            .into_iter()
            .map(|e| {
                let marked =
                    (0..structure.len()).map(|i| structure.elements[i] == e && fixed.is_none_or(|f| f[i] == 0));
                (e, Fenwick::new(marked))
            })
            .collect();
        SpeciesIndex {
            n_atoms: structure.len(),
            trees,
        }
    }

    fn tree_mut(&mut self, element: Element) -> Option<&mut Fenwick> {
        self.trees.iter_mut().find(|(e, _)| *e == element).map(|(_, t)| t)
    }

    /// Atom i has changed from element `from` to `to`.
    fn retype(&mut self, i: usize, from: Element, to: Element) {
        if let Some(t) = self.tree_mut(from) {
            t.set(i, false);
        }
        if let Some(t) = self.tree_mut(to) {
            t.set(i, true);
        }
    }
}

/// Whether atom `i` is free (no non-zero `fixed` tag).
fn is_free(structure: &Structure, i: usize) -> bool {
    structure.int_tag(tags::FIXED).is_none_or(|f| f[i] == 0)
}

/// Vacant sites of a structure (frame info `vacancies`: x y z of each site, Å; none without the key), or an
/// error when the info is not 3k numbers (it used to be dropped silently).
pub fn vacancies(structure: &Structure) -> Result<Vec<Vec3>> {
    let info = structure.info.get("vacancies");
    let malformed = || {
        Error::Invalid(format!(
            "frame info `vacancies` must list x y z (Å) of each vacant site, 3k numbers; got {info:?}"
        ))
    };
    let flat: Vec<f64> = match info {
        None => return Ok(Vec::new()),
        Some(InfoValue::RealArray(flat)) => flat.clone(),
        Some(InfoValue::IntArray(flat)) => flat.iter().map(|&v| v as f64).collect(),
        Some(InfoValue::Real(v)) => vec![*v],
        Some(InfoValue::Int(v)) => vec![*v as f64],
        Some(_) => return Err(malformed()),
    };
    if !flat.len().is_multiple_of(3) || flat.iter().any(|v| !v.is_finite()) {
        return Err(malformed());
    }
    Ok(flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect())
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
            index: None,
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
                    if vacancies(structure)?.is_empty() {
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

    /// Forget the index of free atoms per element (rebuilt at the next attempt): needed after elements or
    /// `fixed` tags were changed other than by this sampler's moves.
    pub fn invalidate(&mut self) {
        self.index = None;
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
        let mut list_checked = false;
        self.attempt_with(structure, energy, engine, rng, &mut list_checked)
    }

    /// `n` trial moves as [`Self::attempt`] (the same moves and random numbers), testing the neighbour list
    /// for a rebuild once at the start and after each hop rather than at every attempt. The structure must
    /// not change other than by these moves during the call. Returns whether any move was accepted.
    pub fn attempts(
        &mut self,
        n: u64,
        structure: &mut Structure,
        energy: &mut f64,
        engine: &mut Engine,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Result<bool> {
        let mut list_checked = false;
        let mut any = false;
        for _ in 0..n {
            any |= self.attempt_with(structure, energy, engine, rng, &mut list_checked)?;
        }
        Ok(any)
    }

    /// One attempt; `list_checked` says the engine's list was tested at the current positions and no atom
    /// has moved since, and is updated.
    fn attempt_with(
        &mut self,
        structure: &mut Structure,
        energy: &mut f64,
        engine: &mut Engine,
        rng: &mut Xoshiro256PlusPlus,
        list_checked: &mut bool,
    ) -> Result<bool> {
        let k = rng.random_range(0..self.moves.len());
        let beta = 1.0 / (KB_EV_K * self.temperature);
        let accepted = match self.moves[k].clone() {
            MoveKind::Swap { a, b } => {
                let (Some(i), Some(j)) = (self.pick(structure, a, rng), self.pick(structure, b, rng)) else {
                    return self.count(k, false);
                };
                let accepted = swap(structure, energy, engine, rng, beta, i, j, *list_checked)?;
                // Swaps move no atom: the list stays valid for the positions.
                *list_checked = true;
                if accepted && let Some(index) = &mut self.index {
                    index.retype(i, a, b);
                    index.retype(j, b, a);
                }
                accepted
            }
            MoveKind::VacancyHop { species, max_distance } => {
                let Some(i) = self.pick(structure, species, rng) else {
                    return self.count(k, false);
                };
                *list_checked = false;
                hop(structure, energy, engine, rng, beta, i, max_distance)?
            }
        };
        self.count(k, accepted)
    }

    fn count(&mut self, k: usize, accepted: bool) -> Result<bool> {
        self.stats[k].attempted += 1;
        self.stats[k].accepted += u64::from(accepted);
        Ok(accepted)
    }

    /// Uniform choice among the free atoms of `element`: the k-th in index order, k uniform (no draw when
    /// there is none).
    fn pick(&mut self, structure: &Structure, element: Element, rng: &mut Xoshiro256PlusPlus) -> Option<usize> {
        let mut fresh = false;
        if self.index.as_ref().is_none_or(|x| x.n_atoms != structure.len()) {
            self.index = Some(SpeciesIndex::new(structure, &self.moves));
            fresh = true;
        }
        loop {
            let tree = self.index.as_mut().and_then(|x| x.tree_mut(element))?;
            if tree.total == 0 {
                return None;
            }
            let i = tree.kth(rng.random_range(0..tree.total));
            if structure.elements[i] == element && is_free(structure, i) {
                return Some(i);
            }
            if fresh {
                return None;
            }
            // A stale index (elements or tags changed behind the sampler's back): rebuild and draw again.
            self.index = Some(SpeciesIndex::new(structure, &self.moves));
            fresh = true;
        }
    }
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
    list_checked: bool,
    apply: impl Fn(&mut Structure),
    undo: impl Fn(&mut Structure),
) -> Result<f64> {
    let local = if list_checked {
        engine.energy_change_unmoved(structure, change)?
    } else {
        engine.energy_change(structure, change)?
    };
    if let Some(delta) = local {
        return Ok(delta);
    }
    apply(structure);
    let after = engine.compute(structure, Request::ENERGY);
    undo(structure);
    Ok(after?.energy - energy)
}

/// Swap the elements of atoms i and j (already picked) by the Metropolis test.
#[allow(clippy::too_many_arguments)]
fn swap(
    structure: &mut Structure,
    energy: &mut f64,
    engine: &mut Engine,
    rng: &mut Xoshiro256PlusPlus,
    beta: f64,
    i: usize,
    j: usize,
    list_checked: bool,
) -> Result<bool> {
    let change = Change::Swap { a: i, b: j };
    let delta = delta_energy(
        structure,
        *energy,
        engine,
        &change,
        list_checked,
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
        engine.accepted(structure, &change);
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

/// Hop atom i (already picked) into a vacancy within `max_distance` by the Metropolis–Hastings test.
fn hop(
    structure: &mut Structure,
    energy: &mut f64,
    engine: &mut Engine,
    rng: &mut Xoshiro256PlusPlus,
    beta: f64,
    i: usize,
    max_distance: f64,
) -> Result<bool> {
    let mut sites = vacancies(structure)?;
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
        false,
        |s| s.positions[i] = new,
        |s| s.positions[i] = old,
    )?;
    if !delta.is_finite() {
        return Err(Error::Invalid(format!("hop of atom {i}: non-finite energy change")));
    }
    let accepted = metropolis(delta, beta, near.len() as f64 / n_back as f64, rng);
    if accepted {
        structure.positions[i] = new;
        engine.accepted(structure, &change);
        sites[v] = structure.cell.wrap(old);
        set_vacancies(structure, &sites);
        *energy += delta;
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use super::Fenwick;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The k-th marked index equals the k-th of a scan in index order, through random updates.
    #[test]
    fn fenwick_kth_matches_a_scan() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for n in [1usize, 2, 7, 64, 100, 1000] {
            let mut marks: Vec<bool> = (0..n).map(|_| rng.random_range(0..3) == 0).collect();
            let mut tree = Fenwick::new(marks.iter().copied());
            for _ in 0..200 {
                let scan: Vec<usize> = (0..n).filter(|&i| marks[i]).collect();
                assert_eq!(tree.total, scan.len());
                for (k, &i) in scan.iter().enumerate() {
                    assert_eq!(tree.kth(k), i, "n {n} k {k}");
                }
                let i = rng.random_range(0..n);
                marks[i] = !marks[i];
                tree.set(i, marks[i]);
            }
        }
    }
}
