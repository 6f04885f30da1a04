//! The moment tensor potential (MTP; Shapeev 2016) evaluated exactly as MLIP-2/MLIP-3 and motep do:
//! [`Mtp`] implements [`Potential`] (energy, per-atom energies, forces, stress, and local energy changes
//! for Monte Carlo), reads and writes MLIP `.mtp` files ([`MtpParameters`]) and maps the file's type
//! indices to elements ([`Mtp::with_species`]).
//!
//! Modules: `file` (the `.mtp` format), `kernel` (the site energy and its gradient, with the equations),
//! `local` (energy changes touching only the sites within the cutoff of a change), `mc_cache` (the
//! stateful Monte Carlo evaluator that caches basic moments per site), `fit` (derivatives with respect to
//! the parameters, for fitting), `rows` (the basis values of all sites at once, [`SiteBases`]).
//!
//! Units: Å, eV; forces eV/Å; stress eV/Å³ with ASE's sign (σ = (1/V) Σ sym(r_ij ⊗ ∂E/∂r_ij), negative
//! under compression), Voigt xx yy zz yz xz xy.

mod file;
mod fit;
mod kernel;
mod local;
mod mc_cache;
mod rows;

pub use file::MtpParameters;
pub use fit::{FitDirection, FitTables, LinearRows, ParameterOffsets};
pub use rows::SiteBases;

use crate::potential::{ListRequest, accumulate_virial, coincident, require_list, stress_from_virial};
use crate::{Change, Error, LocalEnergy, Output, Potential, Request, Result};
use gbion_atoms::{Element, ListKind, NeighborList, Structure, Vec3};
#[cfg(target_arch = "x86_64")]
use kernel::Fused;
use kernel::{BATCH, Model, MulAdd, Separate, SiteBatch, SiteWork};
use rayon::prelude::*;
use std::path::Path;

/// Atoms per block of parallel work. Blocks, and the order their partial sums are added in, depend only on
/// the number of atoms, so results are bit-for-bit the same on any number of threads.
const BLOCK_ATOMS: usize = 256;

/// A moment tensor potential with its type → element map.
#[derive(Clone, Debug)]
pub struct Mtp {
    parameters: MtpParameters,
    model: Model,
    /// Element of each type index; empty until [`Mtp::with_species`].
    species: Vec<Element>,
}

impl Mtp {
    /// A potential from checked parameters (no species map yet).
    pub fn new(parameters: MtpParameters) -> Result<Mtp> {
        parameters
            .check()
            .map_err(|(field, message)| Error::Invalid(format!("MTP parameter {field}: {message}")))?;
        let model = Model::new(&parameters);
        Ok(Mtp {
            parameters,
            model,
            species: Vec::new(),
        })
    }

    /// Read an `.mtp` file (no species map yet: `.mtp` files carry no element names).
    pub fn read(path: &Path) -> Result<Mtp> {
        Mtp::new(MtpParameters::read(path)?)
    }

    /// Set the element of each type index, in type order (`[Li, Sr, Ta, Zr, O]`): as many as the file's
    /// `species_count`, each element once.
    pub fn with_species(mut self, species: Vec<Element>) -> Result<Mtp> {
        let expected = self.parameters.species_count;
        if species.len() != expected {
            return Err(Error::Invalid(format!(
                "the MTP has {expected} species (types 0..{expected}) but {} elements were given ({})",
                species.len(),
                element_names(&species)
            )));
        }
        if let Some((i, e)) = species.iter().enumerate().find(|(i, e)| species[..*i].contains(e)) {
            return Err(Error::Invalid(format!(
                "element {e} is given twice in the MTP species map (type {i})"
            )));
        }
        self.species = species;
        Ok(self)
    }

    /// The file contents.
    pub fn parameters(&self) -> &MtpParameters {
        &self.parameters
    }

    /// The cutoff `max_dist` (Å).
    pub fn cutoff(&self) -> f64 {
        self.model.max_dist
    }

    /// The radial basis at distance `r` (Å): Q_k(r) = scaling·T_k(s)·(max_dist − r)² and dQ_k/dr, k <
    /// radial_basis_size (kernel module doc); the radial functions are f_μ(r) = Σ_k c[t_i][t_j][μ][k] Q_k(r).
    pub fn radial_basis(&self, r: f64) -> (Vec<f64>, Vec<f64>) {
        let size = self.parameters.radial_basis_size;
        let (mut values, mut derivatives) = (vec![0.0; size], vec![0.0; size]);
        self.model.radial_basis(r, &mut values, &mut derivatives);
        (values, derivatives)
    }

    /// The values of the basis functions of one site, M_{alpha_moment_mapping[k]} for
    /// k < alpha_scalar_moments, before they are weighted by `moment_coeffs` (so the site energy is
    /// species_coeffs[t] + Σ_k moment_coeffs[k] · value[k]). Needs the radial coefficients and the species
    /// map, not the energy coefficients; `list` is a full list of at least the cutoff's range.
    pub fn site_basis(&self, structure: &Structure, list: &NeighborList, atom: usize) -> Result<Vec<f64>> {
        self.check_ready(false)?;
        let types = self.types_for(structure)?;
        require_list(Some(list), self.list_request())?;
        if atom >= structure.len() {
            return Err(Error::Invalid(format!(
                "atom {atom} is out of range ({} atoms)",
                structure.len()
            )));
        }
        let mut work = SiteWork::default();
        self.load_site(&mut work, structure, list, &types, atom)?;
        work.moments(&self.model, types[atom]);
        Ok(self.model.mapping.iter().map(|&m| work.moments[m]).collect())
    }

    fn list_request(&self) -> ListRequest {
        ListRequest {
            cutoff: self.model.max_dist,
            kind: ListKind::Full,
        }
    }

    /// Whether the potential can evaluate: radial coefficients, energy coefficients when `energy`, and a
    /// species map.
    fn check_ready(&self, energy: bool) -> Result<()> {
        if !self.model.has_radial_coeffs() || (energy && !self.model.has_energy_coeffs()) {
            let missing = if energy {
                "radial_coeffs, species_coeffs or moment_coeffs"
            } else {
                "radial_coeffs"
            };
            return Err(Error::Invalid(format!(
                "the MTP has no {missing} (an untrained template)"
            )));
        }
        if self.species.is_empty() {
            return Err(Error::Invalid(
                "the MTP has no species map: name the element of each type (e.g. --species Li,Sr,Ta,Zr,O)".into(),
            ));
        }
        Ok(())
    }

    /// The type index of every atom; an error for elements outside the species map.
    fn types_for(&self, structure: &Structure) -> Result<Vec<usize>> {
        structure
            .elements
            .iter()
            .enumerate()
            .map(|(i, e)| self.type_of(*e, i))
            .collect()
    }

    fn type_of(&self, element: Element, atom: usize) -> Result<usize> {
        self.species.iter().position(|s| *s == element).ok_or_else(|| {
            Error::Invalid(format!(
                "atom {atom} is {element}, which the MTP does not know (its species: {})",
                element_names(&self.species)
            ))
        })
    }

    /// Load the neighbours of `atom` from the list into `work` (inlined, so that it is compiled for the
    /// caller's kernel).
    #[inline(always)]
    fn load_site(
        &self,
        work: &mut SiteWork,
        structure: &Structure,
        list: &NeighborList,
        types: &[usize],
        atom: usize,
    ) -> Result<()> {
        let neighbours = list
            .neighbors_of(atom, &structure.positions)
            .map(|n| (n.index, n.vector, types[n.index]));
        work.load(&self.model, neighbours).map_err(|j| coincident(atom, j))
    }

    /// Energy, per-atom energies, forces and virial sum of the atoms in `range`, on the widest kernel this
    /// CPU runs: AVX2 with fused multiply-adds in the gradient where the CPU has them (the energies are
    /// the same bit for bit on every kernel; forces and stress differ in the last bits).
    fn compute_block(
        &self,
        scratch: &mut BlockScratch,
        structure: &Structure,
        list: &NeighborList,
        types: &[usize],
        range: std::ops::Range<usize>,
        request: Request,
    ) -> Result<BlockSums> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { self.compute_block_avx2(scratch, structure, list, types, range, request) };
        }
        self.compute_block_with::<Separate>(scratch, structure, list, types, range, request)
    }

    /// [`Self::compute_block`] compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn compute_block_avx2(
        &self,
        scratch: &mut BlockScratch,
        structure: &Structure,
        list: &NeighborList,
        types: &[usize],
        range: std::ops::Range<usize>,
        request: Request,
    ) -> Result<BlockSums> {
        self.compute_block_with::<Fused>(scratch, structure, list, types, range, request)
    }

    /// [`Self::compute_block`] with a·b + c in the gradient evaluated by `F`. Forces are summed per block
    /// over the atoms it touches (its centres and their neighbours), in the order they are first met.
    #[inline(always)]
    fn compute_block_with<F: MulAdd>(
        &self,
        scratch: &mut BlockScratch,
        structure: &Structure,
        list: &NeighborList,
        types: &[usize],
        range: std::ops::Range<usize>,
        request: Request,
    ) -> Result<BlockSums> {
        let need_gradient = request.forces || request.stress;
        let mut sums = BlockSums {
            energies: Vec::with_capacity(range.len()),
            touched: Vec::new(),
            forces: Vec::new(),
            virial: [0.0; 6],
        };
        let BlockScratch { works, batch, slot } = scratch;
        // Every entry untouched at the start of each block (whatever an earlier block, call or error
        // left there: the work space lives on with its thread).
        slot.clear();
        slot.resize(structure.len(), UNTOUCHED);
        let model = &self.model;
        for first in range.clone().step_by(BATCH) {
            let atoms = first..(first + BATCH).min(range.end);
            batch.clear(model);
            for (lane, atom) in atoms.clone().enumerate() {
                self.load_site(&mut works[lane], structure, list, types, atom)?;
                works[lane].compute_basic_moments::<F>(model, types[atom]);
                batch.set_basic(model, lane, &works[lane]);
            }
            batch.products(model);
            let energies = batch.energies(model, &types[atoms.clone()]);
            sums.energies.extend_from_slice(&energies[..atoms.len()]);
            if !need_gradient {
                continue;
            }
            batch.reverse::<F>(model);
            for (lane, atom) in atoms.enumerate() {
                let work = &mut works[lane];
                batch.give_moment_grad(model, lane, work);
                work.neighbour_gradient::<F>(model);
                sums.scatter_site_gradient(work, slot, atom, request.forces);
            }
        }
        Ok(sums)
    }
}

/// Scatter ∂E_i/∂r_ij of the site of `atom` (after [`SiteWork::gradient`]) into the forces (r_ij = x_j − x_i
/// and F = −∂E/∂x: F_i += ∂E_i/∂r_ij, F_j −= ∂E_i/∂r_ij; skipped when `forces` is empty) and the virial sum.
fn add_site_gradient(work: &SiteWork, atom: usize, forces: &mut [Vec3], virial: &mut [f64; 6]) {
    if !forces.is_empty() {
        for (&j, &g) in work.index.iter().zip(&work.gradient) {
            for (d, &g_d) in g.iter().enumerate() {
                forces[atom][d] += g_d;
                forces[j][d] -= g_d;
            }
        }
    }
    add_site_virial(work, virial);
}

/// Add the site's virial sum Σ_j sym(r_ij ⊗ ∂E_i/∂r_ij) (after [`SiteWork::gradient`]) to `virial`: summed
/// in registers over the site, then added once.
#[inline(always)]
fn add_site_virial(work: &SiteWork, virial: &mut [f64; 6]) {
    let mut site = [0.0; 6];
    for (&r, &g) in work.vector.iter().zip(&work.gradient) {
        accumulate_virial(&mut site, r, g);
    }
    for (sum, v) in virial.iter_mut().zip(site) {
        *sum += v;
    }
}

/// What one block of atoms contributes.
struct BlockSums {
    energies: Vec<f64>,
    /// The atoms whose forces the block changes, and those changes.
    touched: Vec<usize>,
    forces: Vec<Vec3>,
    virial: [f64; 6],
}

impl BlockSums {
    /// Scatter ∂E_i/∂r_ij of the site of `atom` into the block's forces (when `forces`) and virial sum.
    #[inline(always)]
    fn scatter_site_gradient(&mut self, work: &SiteWork, slot: &mut [u32], atom: usize, forces: bool) {
        if forces {
            // r_ij = x_j − x_i and F = −∂E/∂x: F_i += Σ_j ∂E_i/∂r_ij, F_j −= ∂E_i/∂r_ij.
            let mut centre_force = [0.0; 3];
            for (&j, &g) in work.index.iter().zip(&work.gradient) {
                let other = self.slot_of(slot, j);
                for d in 0..3 {
                    centre_force[d] += g[d];
                    self.forces[other][d] -= g[d];
                }
            }
            let centre = self.slot_of(slot, atom);
            for (force, sum) in self.forces[centre].iter_mut().zip(centre_force) {
                *force += sum;
            }
        }
        add_site_virial(work, &mut self.virial);
    }

    /// Where `atom`'s force sits in `forces`, adding a zero entry when the block first touches it.
    #[inline(always)]
    fn slot_of(&mut self, slot: &mut [u32], atom: usize) -> usize {
        if slot[atom] == UNTOUCHED {
            slot[atom] = self.touched.len() as u32;
            self.touched.push(atom);
            self.forces.push([0.0; 3]);
        }
        slot[atom] as usize
    }
}

thread_local! {
    /// Each thread's [`BlockScratch`], kept from call to call: its tables are sized by the first sites
    /// and then reused, instead of allocated (and their pages faulted in) for every rayon job.
    static BLOCK_SCRATCH: std::cell::RefCell<BlockScratch> = std::cell::RefCell::new(BlockScratch::default());
}

/// `work` on this thread's value of `key`, or on a fresh default one if the thread re-enters (a rayon job
/// stolen while the value is borrowed; gbion never does that): per-thread work spaces kept from call to call.
fn with_thread_local<T: Default + 'static, R>(
    key: &'static std::thread::LocalKey<std::cell::RefCell<T>>,
    work: impl FnOnce(&mut T) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut value) => work(&mut value),
        Err(_) => work(&mut T::default()),
    })
}

/// Per-thread work space of [`Mtp::compute_block`]: the site tables of one batch of sites, their moments,
/// and for each atom of the structure its entry in the block's force list (or [`UNTOUCHED`]); every entry
/// is reset at the start of each block.
#[derive(Default)]
struct BlockScratch {
    /// The sites of one batch.
    works: [SiteWork; BATCH],
    batch: SiteBatch,
    slot: Vec<u32>,
}

/// An atom that the current block has not touched yet.
const UNTOUCHED: u32 = u32::MAX;

fn element_names(elements: &[Element]) -> String {
    let names: Vec<&str> = elements.iter().map(|e| e.symbol()).collect();
    names.join(", ")
}

impl Potential for Mtp {
    fn describe(&self) -> String {
        let p = &self.parameters;
        format!(
            "MTP ({} basis functions, {} moments), {} species{}, cutoff {} Å",
            p.alpha_moment_mapping.len(),
            p.alpha_moments_count,
            p.species_count,
            if self.species.is_empty() {
                String::new()
            } else {
                format!(" ({})", element_names(&self.species))
            },
            p.max_dist
        )
    }

    fn species(&self) -> Option<&[Element]> {
        Some(&self.species)
    }

    fn neighbor_list(&self) -> Option<ListRequest> {
        Some(self.list_request())
    }

    fn energy_change(&self, structure: &Structure, list: &NeighborList, change: &Change) -> Option<Result<f64>> {
        Some(self.local_energy_change(structure, list, change))
    }

    fn local_energy(&self) -> Option<Box<dyn LocalEnergy + '_>> {
        Some(Box::new(mc_cache::MomentCache::new(self)))
    }

    fn compute(&self, structure: &Structure, list: Option<&NeighborList>, request: Request) -> Result<Output> {
        self.check_ready(true)?;
        let types = self.types_for(structure)?;
        let list = require_list(list, self.list_request())?;
        if list.len() != structure.len() {
            return Err(Error::Invalid(format!(
                "the neighbour list has {} atoms, the structure {}",
                list.len(),
                structure.len()
            )));
        }
        let n = structure.len();
        let blocks: Vec<_> = (0..n.div_ceil(BLOCK_ATOMS))
            .map(|b| b * BLOCK_ATOMS..((b + 1) * BLOCK_ATOMS).min(n))
            .collect();
        // One block per rayon job, so an idle thread steals single blocks. Without it rayon stops splitting
        // at two pieces per thread (≈ 10 blocks each for 10k atoms on 2 threads), and a thread that the
        // machine slows holds up the call by up to a piece (measured: one thread done 15 ms of 55 early).
        let sums = blocks
            .into_par_iter()
            .with_max_len(1)
            .map(|range| {
                with_thread_local(&BLOCK_SCRATCH, |scratch| {
                    self.compute_block(scratch, structure, list, &types, range, request)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let energies: Vec<f64> = sums.iter().flat_map(|s| s.energies.iter().copied()).collect();
        let mut output = Output {
            energy: energies.iter().sum(),
            ..Output::default()
        };
        if request.forces {
            let mut forces = vec![[0.0; 3]; n];
            for block in &sums {
                for (&atom, g) in block.touched.iter().zip(&block.forces) {
                    for d in 0..3 {
                        forces[atom][d] += g[d];
                    }
                }
            }
            output.forces = Some(forces);
        }
        if request.stress {
            let mut virial = [0.0; 6];
            for block in &sums {
                for (v, b) in virial.iter_mut().zip(&block.virial) {
                    *v += b;
                }
            }
            output.stress = Some(stress_from_virial(structure, virial)?);
        }
        if request.energies {
            output.energies = Some(energies);
        }
        Ok(output)
    }
}
