//! The [`Potential`] trait every model implements (DESIGN.md, "Core interfaces"), what a caller asks for
//! ([`Request`]) and gets back ([`Output`]), local changes for Monte Carlo ([`Change`]) and the stateful
//! evaluator of their energies a potential may offer ([`LocalEnergy`]), and the shared virial → stress
//! conversion.
//!
//! Stress convention (ASE): σ = (1/V) ∂E/∂ε for a homogeneous strain ε, which for any potential that is a
//! function of pair vectors r_ij = x_j + n·M − x_i equals σ = (1/V) Σ sym(r_ij ⊗ ∂E/∂r_ij). It is negative
//! under compression; units eV/Å³; Voigt order xx, yy, zz, yz, xz, xy.

use crate::{Error, Result};
use gbion_atoms::{Element, ListKind, NeighborList, Structure, Vec3};

/// What a caller asks a potential to compute. The total energy is always computed; everything else only
/// when asked for, so MD pays only for what it uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// Forces F_i = −∂E/∂x_i (eV/Å).
    pub forces: bool,
    /// Stress (eV/Å³, ASE sign); needs a cell periodic in all three directions.
    pub stress: bool,
    /// Per-atom energies E_i with Σ_i E_i = E (eV).
    pub energies: bool,
}

impl Request {
    /// Energy only.
    pub const ENERGY: Request = Request {
        forces: false,
        stress: false,
        energies: false,
    };
    /// Energy and forces (what MD needs).
    pub const FORCES: Request = Request {
        forces: true,
        stress: false,
        energies: false,
    };
    /// Energy, forces and stress.
    pub const EFS: Request = Request {
        forces: true,
        stress: true,
        energies: false,
    };
    /// Everything.
    pub const ALL: Request = Request {
        forces: true,
        stress: true,
        energies: true,
    };
}

/// The results of one evaluation. Fields not asked for in the [`Request`] are `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// Total energy (eV).
    pub energy: f64,
    /// Per-atom energies (eV), summing to `energy`.
    pub energies: Option<Vec<f64>>,
    /// Forces (eV/Å), one per atom.
    pub forces: Option<Vec<Vec3>>,
    /// Stress (eV/Å³), ASE sign, Voigt xx yy zz yz xz xy.
    pub stress: Option<[f64; 6]>,
}

impl Output {
    /// An error naming the first non-finite value (energy, an atom's energy or force, a stress component),
    /// which parameters far out of range or overlapping atoms give; `Ok` when every value is finite.
    pub fn check_finite(&self) -> Result<()> {
        let bad = |what: String, value: f64| {
            Err(Error::Invalid(format!(
                "the potential gave a non-finite {what} ({value})"
            )))
        };
        if !self.energy.is_finite() {
            return bad("energy".into(), self.energy);
        }
        for (i, &e) in self.energies.iter().flatten().enumerate() {
            if !e.is_finite() {
                return bad(format!("energy of atom {i}"), e);
            }
        }
        for (i, f) in self.forces.iter().flatten().enumerate() {
            if let Some(&x) = f.iter().find(|x| !x.is_finite()) {
                return bad(format!("force on atom {i}"), x);
            }
        }
        const VOIGT: [&str; 6] = ["xx", "yy", "zz", "yz", "xz", "xy"];
        for (name, &s) in VOIGT.iter().zip(self.stress.iter().flatten()) {
            if !s.is_finite() {
                return bad(format!("stress component {name}"), s);
            }
        }
        Ok(())
    }
}

/// The error for two atoms at the same position (a pair distance of 0, where no potential is defined).
pub(crate) fn coincident(atom: usize, other: usize) -> Error {
    Error::Invalid(format!(
        "atoms {atom} and {other} sit at the same position (distance 0)"
    ))
}

/// The neighbour list a potential needs: range (the list's cutoff + skin must reach it) and kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListRequest {
    /// Interaction range (Å).
    pub cutoff: f64,
    /// Half lists for pair sums, full lists for many-body site energies.
    pub kind: ListKind,
}

/// A local change of a structure, for Monte Carlo energy differences.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// Atom `atom` takes element `element` (a species change at one site).
    SetElement { atom: usize, element: Element },
    /// Atoms `a` and `b` exchange their elements (a swap move; positions stay).
    Swap { a: usize, b: usize },
    /// Atom `atom` moves to `position` (Å). The move may be of any length (e.g. into a vacant site): an
    /// implementation must find the neighbours of the new position itself, not only from the list.
    Move { atom: usize, position: Vec3 },
}

/// An interatomic model. Implementations are `Send + Sync` so callers may evaluate frames in parallel.
pub trait Potential: Send + Sync {
    /// A one-line description for summaries (`"MTP level 16, 5 species, cutoff 5 Å"`).
    fn describe(&self) -> String;

    /// The elements this potential can evaluate, in the order of its type indices; `None` when any element
    /// is accepted (an external command).
    fn species(&self) -> Option<&[Element]>;

    /// The neighbour list `compute` needs, or `None` when it needs none (an external command).
    fn neighbor_list(&self) -> Option<ListRequest>;

    /// Energy, and forces / stress / per-atom energies as asked. `list` must be a list of the kind and at
    /// least the range of [`Potential::neighbor_list`], valid for `structure` (see [`require_list`]).
    fn compute(&self, structure: &Structure, list: Option<&NeighborList>, request: Request) -> Result<Output>;

    /// E(after) − E(before) for a local change (eV), computed from the atoms within the cutoff of the changed
    /// sites only; `None` when the potential has no local form (Ewald sums, external commands), in which case
    /// callers evaluate both structures with `compute`. `list` is valid for the structure before the change.
    fn energy_change(&self, _structure: &Structure, _list: &NeighborList, _change: &Change) -> Option<Result<f64>> {
        None
    }

    /// A stateful evaluator of local energy changes for a run of Monte Carlo moves ([`LocalEnergy`]), or
    /// `None` when the potential offers none (callers then use [`Potential::energy_change`]).
    fn local_energy(&self) -> Option<Box<dyn LocalEnergy + '_>> {
        None
    }
}

/// Local energy changes for a run of Monte Carlo moves, from an evaluator that keeps per-site data of the
/// current configuration between calls (the MTP keeps each site's basic moments and energy), so that an
/// attempt costs less than [`Potential::energy_change`].
///
/// Contract:
/// - [`LocalEnergy::energy_change`] returns what [`Potential::energy_change`] does, up to rounding, for the
///   structure it is given, provided the evaluator's data describe that structure: the caller calls
///   [`LocalEnergy::sync`] whenever positions, cell or elements may have changed other than by changes
///   reported through [`LocalEnergy::accepted`], and [`LocalEnergy::invalidate`] whenever the neighbour
///   list was rebuilt.
/// - Its results are a function of the structure and the neighbour list only, never of the history of
///   calls (which sites happen to be cached, which moves were rejected): an evaluator created afresh gives
///   the same bits, so a run resumed from a checkpoint (which stores no evaluator) continues bit for bit.
pub trait LocalEnergy: Send {
    /// Compare `structure` (positions, cell, elements) with the configuration the data describe, O(N), and
    /// forget the data when they differ.
    fn sync(&mut self, structure: &Structure);

    /// E(after) − E(before) of `change` (eV); `list` is a full list valid for the structure before the
    /// change. The structure is not modified.
    fn energy_change(&mut self, structure: &Structure, list: &NeighborList, change: &Change) -> Result<f64>;

    /// `change` has been applied: `structure` is the structure after it, `list` valid for it.
    fn accepted(&mut self, structure: &Structure, list: &NeighborList, change: &Change);

    /// Forget all data (the neighbour list was rebuilt, or the structure changed in an unknown way).
    fn invalidate(&mut self);
}

/// Evaluate a potential on a structure, building the neighbour list it needs (no skin).
pub fn evaluate(potential: &dyn Potential, structure: &Structure, request: Request) -> Result<Output> {
    let output = match potential.neighbor_list() {
        None => potential.compute(structure, None, request),
        Some(needed) => {
            let list = NeighborList::build(structure, needed.cutoff, 0.0, needed.kind)?;
            potential.compute(structure, Some(&list), request)
        }
    }?;
    output.check_finite()?;
    Ok(output)
}

/// Check that `list` is present and fits `needed` (kind, and cutoff + skin ≥ the needed range).
pub fn require_list(list: Option<&NeighborList>, needed: ListRequest) -> Result<&NeighborList> {
    let list = list.ok_or_else(|| Error::Invalid("this potential needs a neighbour list".into()))?;
    if list.kind() != needed.kind {
        return Err(Error::Invalid(format!(
            "this potential needs a {:?} neighbour list, got a {:?} list",
            needed.kind,
            list.kind()
        )));
    }
    if list.cutoff() + list.skin() < needed.cutoff {
        return Err(Error::Invalid(format!(
            "neighbour list range {} Å is shorter than the potential's cutoff {} Å",
            list.cutoff() + list.skin(),
            needed.cutoff
        )));
    }
    Ok(list)
}

/// Add sym(r ⊗ g) to a Voigt accumulator (xx yy zz yz xz xy), where r = r_ij is a pair vector (Å) and
/// g = ∂E/∂r_ij (eV/Å). Summed over all pair terms and divided by the volume this is the ASE stress.
#[inline]
pub fn accumulate_virial(sum: &mut [f64; 6], r: Vec3, g: Vec3) {
    sum[0] += r[0] * g[0];
    sum[1] += r[1] * g[1];
    sum[2] += r[2] * g[2];
    sum[3] += 0.5 * (r[1] * g[2] + r[2] * g[1]);
    sum[4] += 0.5 * (r[0] * g[2] + r[2] * g[0]);
    sum[5] += 0.5 * (r[0] * g[1] + r[1] * g[0]);
}

/// σ = (1/V) Σ sym(r_ij ⊗ ∂E/∂r_ij) (eV/Å³, ASE sign) from the accumulated sum of [`accumulate_virial`];
/// an error when the structure is not periodic in all three directions (no volume to divide by).
pub fn stress_from_virial(structure: &Structure, sum: [f64; 6]) -> Result<[f64; 6]> {
    if !structure.cell.pbc().iter().all(|&p| p) {
        return Err(Error::Invalid(
            "stress needs a cell that is periodic in all three directions".into(),
        ));
    }
    let volume = structure.cell.volume();
    Ok(sum.map(|s| s / volume))
}

#[cfg(test)]
mod tests {
    use super::Output;

    #[test]
    fn check_finite_names_the_first_non_finite_value() {
        let good = Output {
            energy: -1.0,
            energies: Some(vec![-0.5, -0.5]),
            forces: Some(vec![[0.0; 3], [1.0, -1.0, 0.0]]),
            stress: Some([0.0; 6]),
        };
        assert!(good.check_finite().is_ok());
        let message = |out: Output| out.check_finite().unwrap_err().to_string();
        let mut bad = good.clone();
        bad.energy = f64::NAN;
        assert!(message(bad).contains("non-finite energy (NaN)"));
        let mut bad = good.clone();
        bad.energies = Some(vec![-0.5, f64::INFINITY]);
        assert!(message(bad).contains("non-finite energy of atom 1 (inf)"));
        let mut bad = good.clone();
        bad.forces = Some(vec![[0.0; 3], [1.0, f64::NEG_INFINITY, 0.0]]);
        assert!(message(bad).contains("non-finite force on atom 1 (-inf)"));
        let mut bad = good;
        bad.stress = Some([0.0, 0.0, 0.0, 0.0, f64::NAN, 0.0]);
        assert!(message(bad).contains("non-finite stress component xz (NaN)"));
    }
}
