//! Rigid-ion models: point charges per species plus short-range pair terms (Buckingham, Lennard-Jones,
//! Morse, r⁻¹² repulsion; [`pair`]), with Coulomb by Ewald summation ([`ewald`]) or damped shifted force
//! ([`dsf`]), all parameters from a TOML file ([`params`]).
//!
//! E = Σ_{i<j,n} [φ_ij(r_ijn) + k_e q_i q_j v(r_ijn)] + Σ_i E_self,i (+ reciprocal and background terms for
//! Ewald), k_e = e²/4πε₀ = [`COULOMB_EV_A`]. Energies eV, lengths Å, charges e, forces eV/Å, stress eV/Å³
//! (ASE sign). Per-atom energies give each atom half of each of its pair terms, its self term, its share
//! q_i·Re(S*(k) e^{ik·r_i}) of the reciprocal sum and q_i/Q of the background term.
//!
//! Shipped parameter sets are embedded ([`builtin`], [`builtin_names`]; the list is in [`params`]):
//! `pedone2006` (Li, Ca, Sr, Ti, Zr, O) and `du_teter` (Li, Sr, La, Ti, Zr, O); neither covers Ta.

pub mod dsf;
pub mod ewald;
pub mod pair;
pub mod params;
mod table;

use crate::potential::{
    ListRequest, Output, Potential, Request, accumulate_virial, coincident, require_list, stress_from_virial,
};
use crate::{Change, Error, Result};
use dsf::Dsf;
use ewald::EwaldParameters;
use gbion_atoms::{Cell, Element, ListKind, NeighborList, Structure, Vec3, linalg};
use pair::PairTerm;
use params::{CoulombSpec, Parameters};
use std::path::Path;
use std::sync::Arc;
use table::Table;

/// k_e = e²/(4πε₀) in eV·Å (CODATA 2018). LAMMPS `units metal` uses 14.399645 (3·10⁻⁸ relative lower).
pub const COULOMB_EV_A: f64 = 14.399_645_478_425_668;

/// (erfc(x), exp(−x²)) for x ≥ 0, as erfc(x) = exp(−x²)·erfcx(x): one exponential shared by the Coulomb
/// energy and force of a pair, and erfcx from libcerf's piecewise Chebyshev fit (relative error ~1e-15, a
/// table lookup and a degree-9 polynomial) instead of a 26-term Chebyshev recurrence plus an exponential.
#[inline]
pub(crate) fn erfc_and_gauss(x: f64) -> (f64, f64) {
    debug_assert!(x >= 0.0, "erfc_and_gauss({x})");
    let gauss = (-x * x).exp();
    (gauss * puruspe::erfcx(x), gauss)
}

/// The shipped parameter sets: (name, TOML text), embedded from `crates/gbion-potentials/params/`.
const BUILTIN: &[(&str, &str)] = &[
    ("pedone2006", include_str!("../../params/pedone2006.toml")),
    ("du_teter", include_str!("../../params/du_teter.toml")),
    ("lstz_toy", include_str!("../../params/lstz_toy.toml")),
];

/// Names of the shipped parameter sets, for [`builtin`].
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _)| *name)
}

/// The TOML text of a shipped parameter set, by name (see [`builtin_names`]).
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// A rigid-ion model: charges, pair terms and a Coulomb method (see the module documentation).
#[derive(Clone, Debug)]
pub struct RigidIon {
    name: String,
    citation: Option<String>,
    species: Vec<Element>,
    charges: Vec<f64>,
    /// Type index by atomic number (`u8::MAX`: not a species of this model).
    type_by_number: [u8; 256],
    /// Pair term of types (a, b) at a·n + b (symmetric); `None` when the pair has no short-range term.
    pair_terms: Vec<Option<PairTerm>>,
    /// Charge product and short-range term of types (a, b) at a·n + b, for the evaluation loops.
    kernels: Vec<PairKernel>,
    /// The DSF pair function's table (DSF models only; Ewald's depends on the structure and is built per
    /// evaluation).
    dsf_table: Option<Arc<Table>>,
    coulomb: CoulombSpec,
    range: f64,
}

/// The Coulomb method resolved for one structure (Ewald's α and k_c depend on it).
#[derive(Clone, Copy, Debug)]
enum CoulombEval {
    None,
    Ewald(EwaldParameters),
    Dsf(Dsf),
}

impl CoulombEval {
    /// (v, dv/dr) per unit k_e·q_i·q_j of the pairwise part.
    #[inline]
    fn pair(&self, r: f64) -> (f64, f64) {
        match self {
            CoulombEval::None => (0.0, 0.0),
            CoulombEval::Ewald(parameters) => parameters.real_space(r),
            CoulombEval::Dsf(dsf) => dsf.pair(r),
        }
    }

    /// Self energy per unit k_e·q².
    fn self_energy_per_charge_squared(&self) -> f64 {
        match self {
            CoulombEval::None => 0.0,
            CoulombEval::Ewald(parameters) => parameters.self_energy_per_charge_squared(),
            CoulombEval::Dsf(dsf) => dsf.self_energy_per_charge_squared(),
        }
    }
}

/// The pairwise Coulomb part, (v, dv/dr) per unit k_e·q_i·q_j, for loops specialised per method.
trait PairCoulomb {
    fn pair(&self, r: f64) -> (f64, f64);
}

struct NoCoulomb;

impl PairCoulomb for NoCoulomb {
    #[inline(always)]
    fn pair(&self, _r: f64) -> (f64, f64) {
        (0.0, 0.0)
    }
}

impl PairCoulomb for EwaldParameters {
    #[inline(always)]
    fn pair(&self, r: f64) -> (f64, f64) {
        self.real_space(r)
    }
}

impl PairCoulomb for Dsf {
    #[inline(always)]
    fn pair(&self, r: f64) -> (f64, f64) {
        Dsf::pair(self, r)
    }
}

impl PairCoulomb for CoulombEval {
    #[inline]
    fn pair(&self, r: f64) -> (f64, f64) {
        CoulombEval::pair(self, r)
    }
}

/// A Coulomb pair function read from its cubic Hermite table ([`table`]) between the table's start and
/// the cutoff, evaluated exactly below the start, zero at and beyond the cutoff.
struct Tabulated<'a, C> {
    table: &'a Table,
    exact: &'a C,
    cutoff: f64,
}

impl<C: PairCoulomb> PairCoulomb for Tabulated<'_, C> {
    #[inline(always)]
    fn pair(&self, r: f64) -> (f64, f64) {
        if r >= self.cutoff {
            (0.0, 0.0)
        } else if r >= self.table.r_lo() {
            self.table.eval(r)
        } else {
            self.exact.pair(r)
        }
    }
}

/// The table of `exact` from [`table::R_LO`] to `cutoff` (a single dummy interval when the cutoff is
/// shorter, so that every distance goes to the exact function).
fn coulomb_table(exact: &impl PairCoulomb, cutoff: f64) -> Table {
    let r_hi = cutoff.max(2.0 * table::R_LO);
    Table::new(|r| exact.pair(r), table::R_LO, r_hi, table::SPACING)
}

/// The short-range term of one pair of types as the evaluation loop uses it.
#[derive(Clone, Debug)]
enum Short {
    None,
    /// A lone Buckingham form, cut or shifted: A·exp(−r/ρ) − C/r⁶ − offset below r_c (the arithmetic of
    /// [`PairTerm::energy_and_derivative`], inline).
    Buckingham {
        a: f64,
        rho: f64,
        c: f64,
        offset: f64,
        cutoff: f64,
    },
    /// Anything else: the general term.
    Term(PairTerm),
}

impl Short {
    fn new(term: Option<&PairTerm>) -> Short {
        match term {
            None => Short::None,
            Some(term) => match term.lone_buckingham() {
                Some((a, rho, c, offset)) => Short::Buckingham {
                    a,
                    rho,
                    c,
                    offset,
                    cutoff: term.cutoff(),
                },
                None => Short::Term(term.clone()),
            },
        }
    }

    /// (E, dE/dr) at distance `r`.
    #[inline(always)]
    fn energy_and_derivative(&self, r: f64) -> (f64, f64) {
        match *self {
            Short::None => (0.0, 0.0),
            Short::Buckingham {
                a,
                rho,
                c,
                offset,
                cutoff,
            } => {
                if r >= cutoff {
                    return (0.0, 0.0);
                }
                let repulsion = a * (-r / rho).exp();
                let r2 = r * r;
                let dispersion = c / (r2 * r2 * r2);
                (repulsion - dispersion - offset, -repulsion / rho + 6.0 * dispersion / r)
            }
            Short::Term(ref term) => term.energy_and_derivative(r),
        }
    }
}

/// One pair of types: k_e·q_a·q_b and the short-range term.
#[derive(Clone, Debug)]
struct PairKernel {
    ke_qq: f64,
    short: Short,
}

impl PairKernel {
    /// (E, dE/dr) of the pair at distance `r`.
    #[inline(always)]
    fn evaluate<C: PairCoulomb>(&self, r: f64, coulomb: &C) -> (f64, f64) {
        let (mut energy, mut derivative) = self.short.energy_and_derivative(r);
        if self.ke_qq != 0.0 {
            let (v, dv) = coulomb.pair(r);
            energy += self.ke_qq * v;
            derivative += self.ke_qq * dv;
        }
        (energy, derivative)
    }
}

/// Sums of one evaluation: energy, per-atom energies, forces and virial, as asked.
struct Accumulator {
    energy: f64,
    energies: Option<Vec<f64>>,
    forces: Option<Vec<Vec3>>,
    virial: Option<[f64; 6]>,
}

impl Accumulator {
    fn new(n: usize, request: Request) -> Accumulator {
        Accumulator {
            energy: 0.0,
            energies: request.energies.then(|| vec![0.0; n]),
            forces: request.forces.then(|| vec![[0.0; 3]; n]),
            virial: request.stress.then_some([0.0; 6]),
        }
    }

    fn add_atom(&mut self, i: usize, energy: f64) {
        self.energy += energy;
        if let Some(energies) = self.energies.as_mut() {
            energies[i] += energy;
        }
    }

    fn add_reciprocal(&mut self, reciprocal: ewald::Reciprocal) {
        self.energy += COULOMB_EV_A * reciprocal.energy;
        if let (Some(sum), Some(part)) = (self.energies.as_mut(), reciprocal.energies) {
            sum.iter_mut().zip(part).for_each(|(s, p)| *s += COULOMB_EV_A * p);
        }
        if let (Some(sum), Some(part)) = (self.forces.as_mut(), reciprocal.forces) {
            for (s, p) in sum.iter_mut().zip(part) {
                (0..3).for_each(|c| s[c] += COULOMB_EV_A * p[c]);
            }
        }
        if let Some(virial) = self.virial.as_mut() {
            virial
                .iter_mut()
                .zip(reciprocal.virial)
                .for_each(|(s, p)| *s += COULOMB_EV_A * p);
        }
    }
}

impl RigidIon {
    /// A model from the TOML text of a parameter file; `source_name` names it in error messages.
    pub fn from_toml(text: &str, source_name: &str) -> Result<RigidIon> {
        Ok(RigidIon::from_parameters(params::parse(text, source_name)?))
    }

    /// A model from a parameter file on disk.
    pub fn from_file(path: &Path) -> Result<RigidIon> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", path.display())))?;
        RigidIon::from_toml(&text, &path.display().to_string())
    }

    /// A model from checked parameters.
    pub fn from_parameters(parameters: Parameters) -> RigidIon {
        let n = parameters.species.len();
        let mut type_by_number = [u8::MAX; 256];
        for (t, e) in parameters.species.iter().enumerate() {
            type_by_number[e.number() as usize] = t as u8;
        }
        let mut pair_terms = vec![None; n * n];
        let mut range: f64 = 0.0;
        for (a, b, term) in parameters.pairs {
            range = range.max(term.cutoff());
            pair_terms[a * n + b] = Some(term.clone());
            pair_terms[b * n + a] = Some(term);
        }
        range = match parameters.coulomb {
            CoulombSpec::None => range,
            CoulombSpec::Ewald { cutoff, .. } | CoulombSpec::Dsf { cutoff, .. } => range.max(cutoff),
        };
        let kernels = (0..n * n)
            .map(|ab| PairKernel {
                ke_qq: COULOMB_EV_A * (parameters.charges[ab / n] * parameters.charges[ab % n]),
                short: Short::new(pair_terms[ab].as_ref()),
            })
            .collect();
        RigidIon {
            name: parameters.name,
            citation: parameters.citation,
            species: parameters.species,
            charges: parameters.charges,
            type_by_number,
            pair_terms,
            kernels,
            dsf_table: match parameters.coulomb {
                CoulombSpec::Dsf { alpha, cutoff } => Some(Arc::new(coulomb_table(&Dsf::new(alpha, cutoff), cutoff))),
                _ => None,
            },
            coulomb: parameters.coulomb,
            range,
        }
    }

    /// The model's name (from its file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source of the parameters, when the file gives one.
    pub fn citation(&self) -> Option<&str> {
        self.citation.as_deref()
    }

    /// Charge (e) of each species, in the order of [`Potential::species`].
    pub fn charges(&self) -> &[f64] {
        &self.charges
    }

    /// The Coulomb method of the file.
    pub fn coulomb(&self) -> CoulombSpec {
        self.coulomb
    }

    /// The pair term between two species, if any.
    pub fn pair_term(&self, a: Element, b: Element) -> Option<&PairTerm> {
        let (ta, tb) = (self.type_of(a)?, self.type_of(b)?);
        self.pair_terms[ta * self.species.len() + tb].as_ref()
    }

    /// The Ewald parameters this model uses for `structure` (`None` unless its Coulomb method is Ewald).
    pub fn ewald_parameters(&self, structure: &Structure) -> Result<Option<EwaldParameters>> {
        let charges = self.atom_charges(&self.types(&structure.elements)?);
        Ok(match self.coulomb_for(structure, &charges) {
            CoulombEval::Ewald(parameters) => Some(parameters),
            _ => None,
        })
    }

    fn type_of(&self, element: Element) -> Option<usize> {
        match self.type_by_number[element.number() as usize] {
            u8::MAX => None,
            t => Some(t as usize),
        }
    }

    /// Type index of every atom; an error naming the first atom whose element the model lacks.
    fn types(&self, elements: &[Element]) -> Result<Vec<usize>> {
        elements
            .iter()
            .enumerate()
            .map(|(i, &e)| {
                self.type_of(e).ok_or_else(|| {
                    Error::Invalid(format!(
                        "atom {i} is {}, which rigid-ion model '{}' does not describe (it has {})",
                        e.symbol(),
                        self.name,
                        self.species.iter().map(|s| s.symbol()).collect::<Vec<_>>().join(", ")
                    ))
                })
            })
            .collect()
    }

    fn atom_charges(&self, types: &[usize]) -> Vec<f64> {
        types.iter().map(|&t| self.charges[t]).collect()
    }

    fn coulomb_for(&self, structure: &Structure, charges: &[f64]) -> CoulombEval {
        match self.coulomb {
            CoulombSpec::None => CoulombEval::None,
            CoulombSpec::Dsf { alpha, cutoff } => CoulombEval::Dsf(Dsf::new(alpha, cutoff)),
            CoulombSpec::Ewald { accuracy, cutoff } => {
                let sum_q2 = charges.iter().map(|q| q * q).sum();
                let volume = structure.cell.volume();
                CoulombEval::Ewald(EwaldParameters::choose(accuracy, cutoff, charges.len(), sum_q2, volume))
            }
        }
    }

    /// (E, dE/dr) of the pairwise interaction of types `a`, `b` at distance `r`.
    #[inline]
    fn pair_interaction<C: PairCoulomb>(&self, a: usize, b: usize, r: f64, coulomb: &C) -> (f64, f64) {
        self.kernels[a * self.species.len() + b].evaluate(r, coulomb)
    }

    /// All pair terms over the half list, with the loop specialised to the Coulomb method.
    fn real_space(
        &self,
        structure: &Structure,
        list: &NeighborList,
        types: &[usize],
        coulomb: &CoulombEval,
        sums: &mut Accumulator,
    ) {
        match coulomb {
            CoulombEval::None => self.real_space_with(structure, list, types, &NoCoulomb, sums),
            CoulombEval::Ewald(parameters) => {
                let table = coulomb_table(parameters, parameters.real_cutoff);
                let tabulated = Tabulated {
                    table: &table,
                    exact: parameters,
                    cutoff: parameters.real_cutoff,
                };
                self.real_space_with(structure, list, types, &tabulated, sums)
            }
            CoulombEval::Dsf(dsf) => {
                let table = self.dsf_table.as_deref().expect("DSF models carry their table");
                let tabulated = Tabulated {
                    table,
                    exact: dsf,
                    cutoff: dsf.cutoff(),
                };
                self.real_space_with(structure, list, types, &tabulated, sums)
            }
        }
    }

    fn real_space_with<C: PairCoulomb>(
        &self,
        structure: &Structure,
        list: &NeighborList,
        types: &[usize],
        coulomb: &C,
        sums: &mut Accumulator,
    ) {
        let positions = &structure.positions;
        let range2 = self.range * self.range;
        let n = self.species.len();
        // Cartesian translations of the image shifts in {−1, 0, 1}³ (all of them once the cell is wider
        // than twice the range); others are computed when met.
        let translations: [Vec3; 27] = std::array::from_fn(|k| {
            structure
                .cell
                .translation([k as i32 / 9 - 1, k as i32 / 3 % 3 - 1, k as i32 % 3 - 1])
        });
        // Sums in locals (the per-atom arrays taken out of `sums`), the force and energy of atom i summed
        // over its row before they are stored.
        let mut energy_sum = 0.0;
        let mut virial = [0.0; 6];
        let want_virial = sums.virial.is_some();
        let mut forces = sums.forces.take();
        let mut energies = sums.energies.take();
        let want_gradient = forces.is_some() || want_virial;
        for i in 0..positions.len() {
            let (neighbors, shifts) = list.row(i);
            let origin = positions[i];
            let row = &self.kernels[types[i] * n..(types[i] + 1) * n];
            let mut force_i = [0.0; 3];
            let mut energy_i = 0.0;
            for (&j, &shift) in neighbors.iter().zip(shifts) {
                let j = j as usize;
                let mut vector = linalg::sub(positions[j], origin);
                if shift != [0, 0, 0] {
                    let translation = match shift {
                        [-1..=1, -1..=1, -1..=1] => {
                            translations[(9 * (shift[0] + 1) + 3 * (shift[1] + 1) + shift[2] + 1) as usize]
                        }
                        _ => structure.cell.translation(shift),
                    };
                    vector = linalg::add(vector, translation);
                }
                let r2 = linalg::dot(vector, vector);
                if r2 >= range2 {
                    continue;
                }
                let r = r2.sqrt();
                let (energy, derivative) = row[types[j]].evaluate(r, coulomb);
                energy_sum += energy;
                if let Some(energies) = energies.as_mut() {
                    energy_i += 0.5 * energy;
                    energies[j] += 0.5 * energy;
                }
                if want_gradient {
                    // ∂E/∂r_j = (dE/dr) r_ij/r; atom i gets the opposite.
                    let gradient = linalg::scale(vector, derivative / r);
                    if let Some(forces) = forces.as_mut() {
                        for c in 0..3 {
                            force_i[c] += gradient[c];
                            forces[j][c] -= gradient[c];
                        }
                    }
                    if want_virial {
                        accumulate_virial(&mut virial, vector, gradient);
                    }
                }
            }
            if let Some(forces) = forces.as_mut() {
                (0..3).for_each(|c| forces[i][c] += force_i[c]);
            }
            if let Some(energies) = energies.as_mut() {
                energies[i] += energy_i;
            }
        }
        sums.energy += energy_sum;
        sums.forces = forces;
        sums.energies = energies;
        if let Some(sum) = sums.virial.as_mut() {
            sum.iter_mut().zip(virial).for_each(|(s, v)| *s += v);
        }
    }

    /// Self terms, and for Ewald the background and reciprocal terms.
    fn coulomb_terms(
        &self,
        structure: &Structure,
        charges: &[f64],
        coulomb: &CoulombEval,
        request: Request,
        sums: &mut Accumulator,
    ) -> Result<()> {
        let self_factor = COULOMB_EV_A * coulomb.self_energy_per_charge_squared();
        for (i, q) in charges.iter().enumerate() {
            sums.add_atom(i, self_factor * q * q);
        }
        let CoulombEval::Ewald(parameters) = coulomb else {
            return Ok(());
        };
        let volume = structure.cell.volume();
        let net: f64 = charges.iter().sum();
        let background = COULOMB_EV_A * parameters.background_energy(net, volume);
        if background != 0.0 {
            for (i, q) in charges.iter().enumerate() {
                sums.add_atom(i, background * q / net);
            }
            if let Some(virial) = sums.virial.as_mut() {
                (0..3).for_each(|a| virial[a] -= background);
            }
        }
        let reciprocal = ewald::reciprocal(
            &structure.cell,
            &structure.positions,
            charges,
            parameters,
            request.forces,
            request.energies,
        )?;
        sums.add_reciprocal(reciprocal);
        Ok(())
    }

    /// The energy (eV) of all terms that involve atom `atom` when it has type `t` and sits at `position`,
    /// with the other atoms of types `types`: its pairs with every other atom (all images), half of its
    /// pairs with its own images, and its self term. O(N) with a cheap per-atom rejection by fractional
    /// distance, not a neighbour-list walk.
    fn site_energy(
        &self,
        cell: &Cell,
        positions: &[Vec3],
        types: &[usize],
        atom: usize,
        t: usize,
        position: Vec3,
    ) -> f64 {
        match (self.local_coulomb(), self.dsf_table.as_deref()) {
            (CoulombEval::Dsf(dsf), Some(table)) => {
                let tabulated = Tabulated {
                    table,
                    exact: &dsf,
                    cutoff: dsf.cutoff(),
                };
                let self_term = dsf.self_energy_per_charge_squared();
                self.site_energy_with(cell, positions, types, atom, t, position, &tabulated, self_term)
            }
            _ => self.site_energy_with(cell, positions, types, atom, t, position, &NoCoulomb, 0.0),
        }
    }

    /// [`Self::site_energy`] with the pairwise Coulomb function `coulomb` and self energy per unit k_e·q²
    /// `self_term`.
    #[allow(clippy::too_many_arguments)]
    fn site_energy_with<C: PairCoulomb>(
        &self,
        cell: &Cell,
        positions: &[Vec3],
        types: &[usize],
        atom: usize,
        t: usize,
        position: Vec3,
        coulomb: &C,
        self_term: f64,
    ) -> f64 {
        let q = self.charges[t];
        let inverse = linalg::inverse(cell.matrix()).expect("a valid cell has an inverse");
        let heights = cell.heights();
        let pbc = cell.pbc();
        let reach: [f64; 3] = std::array::from_fn(|d| if pbc[d] { self.range / heights[d] } else { 0.0 });
        let mut energy = COULOMB_EV_A * self_term * q * q;
        for (j, &x) in positions.iter().enumerate() {
            let (other, factor) = if j == atom { (t, 0.5) } else { (types[j], 1.0) };
            let origin = if j == atom { position } else { x };
            let s = linalg::vec_mat(linalg::sub(origin, position), &inverse);
            let s: Vec3 = std::array::from_fn(|d| if pbc[d] { s[d] - s[d].round() } else { s[d] });
            let lo: [i32; 3] = std::array::from_fn(|d| if pbc[d] { (-reach[d] - s[d]).ceil() as i32 } else { 0 });
            let hi: [i32; 3] = std::array::from_fn(|d| if pbc[d] { (reach[d] - s[d]).floor() as i32 } else { 0 });
            for n0 in lo[0]..=hi[0] {
                for n1 in lo[1]..=hi[1] {
                    for n2 in lo[2]..=hi[2] {
                        if j == atom && [n0, n1, n2] == [0, 0, 0] {
                            continue;
                        }
                        let shifted = [s[0] + n0 as f64, s[1] + n1 as f64, s[2] + n2 as f64];
                        let r = linalg::norm(cell.to_cartesian(shifted));
                        if r < self.range {
                            energy += factor * self.pair_interaction(t, other, r, coulomb).0;
                        }
                    }
                }
            }
        }
        energy
    }

    /// The Coulomb method for local energy differences (`None` for Ewald, which has no local form).
    fn local_coulomb(&self) -> CoulombEval {
        match self.coulomb {
            CoulombSpec::Dsf { alpha, cutoff } => CoulombEval::Dsf(Dsf::new(alpha, cutoff)),
            _ => CoulombEval::None,
        }
    }

    fn change_type(&self, structure: &Structure, types: &mut [usize], atom: usize, element: Element) -> Result<f64> {
        let new = self.type_of(element).ok_or_else(|| {
            Error::Invalid(format!(
                "element {} is not a species of rigid-ion model '{}'",
                element.symbol(),
                self.name
            ))
        })?;
        let (cell, positions) = (&structure.cell, &structure.positions);
        let position = positions[atom];
        let before = self.site_energy(cell, positions, types, atom, types[atom], position);
        types[atom] = new;
        Ok(self.site_energy(cell, positions, types, atom, new, position) - before)
    }

    fn local_energy_change(&self, structure: &Structure, change: &Change) -> Result<f64> {
        let n = structure.len();
        let check = |atom: usize| {
            if atom < n {
                Ok(())
            } else {
                Err(Error::Invalid(format!(
                    "atom {atom} out of range (structure has {n} atoms)"
                )))
            }
        };
        let mut types = self.types(&structure.elements)?;
        match *change {
            Change::SetElement { atom, element } => {
                check(atom)?;
                self.change_type(structure, &mut types, atom, element)
            }
            Change::Swap { a, b } => {
                check(a)?;
                check(b)?;
                let (ea, eb) = (structure.elements[a], structure.elements[b]);
                let first = self.change_type(structure, &mut types, a, eb)?;
                Ok(first + self.change_type(structure, &mut types, b, ea)?)
            }
            Change::Move { atom, position } => {
                check(atom)?;
                if position.iter().any(|v| !v.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "move of atom {atom} to a non-finite position {position:?}"
                    )));
                }
                let (cell, positions, t) = (&structure.cell, &structure.positions, types[atom]);
                let before = self.site_energy(cell, positions, &types, atom, t, positions[atom]);
                Ok(self.site_energy(cell, positions, &types, atom, t, position) - before)
            }
        }
    }
}

impl Potential for RigidIon {
    fn describe(&self) -> String {
        let coulomb = match self.coulomb {
            CoulombSpec::None => "no Coulomb".to_string(),
            CoulombSpec::Ewald { accuracy, cutoff } => format!("Ewald Coulomb (accuracy {accuracy:e}, r_c {cutoff} Å)"),
            CoulombSpec::Dsf { alpha, cutoff } => format!("DSF Coulomb (α {alpha} 1/Å, r_c {cutoff} Å)"),
        };
        let species: Vec<&str> = self.species.iter().map(|e| e.symbol()).collect();
        format!(
            "rigid-ion '{}' ({}), {coulomb}, range {} Å",
            self.name,
            species.join(", "),
            self.range
        )
    }

    fn species(&self) -> Option<&[Element]> {
        Some(&self.species)
    }

    fn neighbor_list(&self) -> Option<ListRequest> {
        Some(ListRequest {
            cutoff: self.range,
            kind: ListKind::Half,
        })
    }

    fn compute(&self, structure: &Structure, list: Option<&NeighborList>, request: Request) -> Result<Output> {
        let needed = self.neighbor_list().expect("rigid-ion models use a neighbour list");
        let list = require_list(list, needed)?;
        if list.len() != structure.len() {
            return Err(Error::Invalid(format!(
                "neighbour list has {} atoms, structure {}",
                list.len(),
                structure.len()
            )));
        }
        let types = self.types(&structure.elements)?;
        let charges = self.atom_charges(&types);
        let coulomb = self.coulomb_for(structure, &charges);
        let mut sums = Accumulator::new(structure.len(), request);
        self.real_space(structure, list, &types, &coulomb, &mut sums);
        if !sums.energy.is_finite() {
            // The pair loop does not test for r = 0; name the atoms when that is why.
            if let Some((i, n)) = list.pairs(&structure.positions).find(|(_, n)| n.distance == 0.0) {
                return Err(coincident(i, n.index));
            }
        }
        self.coulomb_terms(structure, &charges, &coulomb, request, &mut sums)?;
        let stress = sums
            .virial
            .map(|virial| stress_from_virial(structure, virial))
            .transpose()?;
        Ok(Output {
            energy: sums.energy,
            energies: sums.energies,
            forces: sums.forces,
            stress,
        })
    }

    /// Local for pair terms and DSF Coulomb; `None` with Ewald (the reciprocal sum is not local).
    fn energy_change(&self, structure: &Structure, _list: &NeighborList, change: &Change) -> Option<Result<f64>> {
        if matches!(self.coulomb, CoulombSpec::Ewald { .. }) {
            return None;
        }
        Some(self.local_energy_change(structure, change))
    }
}
