//! Derivatives of the MTP with respect to its parameters, which a fit needs (gbion-learn): the flat
//! parameter vector θ, the design rows of the linear coefficients, and the gradient of a loss through one
//! combined direction per configuration.
//!
//! θ = [radial_coeffs c[t_i][t_j][μ][k] in file order, species_coeffs, moment_coeffs]
//! ([`ParameterOffsets`]). The energy is linear in the last two groups, E = Σ_t n_t s_t + Σ_k ξ_k Σ_i B_k(i)
//! with B_k(i) = M_{mapping[k]}(i), so [`Mtp::linear_rows`] gives ∂E/∂(s, ξ), the forces' and the stress'
//! rows exactly.
//!
//! For all of θ, [`Mtp::directional_parameter_gradient`] returns ∂(a·E + Ė)/∂θ, where Ė is the derivative
//! of the energy along atom displacements v_i and a homogeneous strain U (ṙ_ij = v_j − v_i + U r_ij):
//! Ė = −Σ_i F_i·v_i + V Σ_ab U_ab σ_ab. A least-squares loss in energies, forces and stresses has exactly
//! this gradient with a = ∂L/∂E, v_i = −∂L/∂F_i and U = ∂L/∂σ / V, so one forward pass and one reverse pass
//! per configuration give the whole gradient (reverse mode over the forward tangent of the site energy;
//! equations in the `kernel` module doc, "Fitting"). A fit calls [`Mtp::evaluate_for_fit`] (E, F, σ, and
//! the per-site tables kept in [`FitTables`]), forms a, v and U from the residual, then
//! [`Mtp::parameter_gradient_from`], so each site's moments are computed once per evaluation.

use super::Mtp;
use super::add_site_gradient;
pub use super::kernel::ParameterOffsets;
use super::kernel::{FitSites, FitWork, Separate, SiteWork};
use crate::potential::require_list;
use crate::{Error, Output, Request, Result, accumulate_virial, stress_from_virial};
use gbion_atoms::{NeighborList, Structure, Vec3};

/// ∂E/∂(species_coeffs, moment_coeffs) of one configuration, and the same for its forces and stress: the
/// rows of the linear least-squares problem. Columns: species types first, then basis functions.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearRows {
    /// Number of columns (species_count + basis functions).
    pub columns: usize,
    /// ∂E/∂θ_lin (eV per unit coefficient).
    pub energy: Vec<f64>,
    /// ∂F_{i,d}/∂θ_lin, row (3i + d), row-major `[row * columns + column]`.
    pub forces: Vec<f64>,
    /// ∂σ_v/∂θ_lin for Voigt v (xx yy zz yz xz xy; eV/Å³, ASE sign), `[v * columns + column]`.
    pub stress: Vec<f64>,
}

/// A direction in configuration space for [`Mtp::directional_parameter_gradient`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitDirection {
    /// Factor a of the energy.
    pub energy_factor: f64,
    /// Displacement rates v_i (Å per unit), one per atom.
    pub displacements: Vec<Vec3>,
    /// Strain rate U (symmetric, per unit); ṙ_ij gains U r_ij.
    pub strain: [[f64; 3]; 3],
}

impl Mtp {
    /// Where species_coeffs and moment_coeffs start in θ, and its length.
    pub fn parameter_offsets(&self) -> ParameterOffsets {
        self.model.parameter_offsets()
    }

    /// θ of this potential; missing groups (an untrained template) are zeros.
    pub fn parameter_vector(&self) -> Vec<f64> {
        let p = &self.parameters;
        let offsets = self.parameter_offsets();
        let mut theta = vec![0.0; offsets.len];
        let groups = [
            (0, &p.radial_coeffs),
            (offsets.species, &p.species_coeffs),
            (offsets.moments, &p.moment_coeffs),
        ];
        for (start, group) in groups {
            if let Some(values) = group {
                theta[start..start + values.len()].copy_from_slice(values);
            }
        }
        theta
    }

    /// The same potential (and species map) with parameters θ.
    pub fn with_parameter_vector(&self, theta: &[f64]) -> Result<Mtp> {
        let offsets = self.parameter_offsets();
        if theta.len() != offsets.len {
            return Err(Error::Invalid(format!(
                "the MTP has {} parameters, {} were given",
                offsets.len,
                theta.len()
            )));
        }
        if let Some(i) = theta.iter().position(|x| !x.is_finite()) {
            return Err(Error::Invalid(format!(
                "MTP parameter {i} is not finite ({})",
                theta[i]
            )));
        }
        let mut parameters = self.parameters.clone();
        parameters.radial_coeffs = Some(theta[..offsets.species].to_vec());
        parameters.species_coeffs = Some(theta[offsets.species..offsets.moments].to_vec());
        parameters.moment_coeffs = Some(theta[offsets.moments..].to_vec());
        let mtp = Mtp::new(parameters)?;
        Ok(Mtp {
            species: self.species.clone(),
            ..mtp
        })
    }

    /// The linear rows of one configuration (needs radial coefficients and the species map; `list` is a
    /// full list of at least the cutoff's range).
    pub fn linear_rows(&self, structure: &Structure, list: &NeighborList) -> Result<LinearRows> {
        self.check_ready(false)?;
        let types = self.types_for(structure)?;
        require_list(Some(list), self.list_request())?;
        let species_count = self.model.species_count;
        let basis = self.model.mapping.len();
        let columns = species_count + basis;
        let n = structure.len();
        let mut rows = LinearRows {
            columns,
            energy: vec![0.0; columns],
            forces: vec![0.0; 3 * n * columns],
            stress: vec![0.0; 6 * columns],
        };
        let mut virial = vec![[0.0; 6]; basis];
        let (mut work, mut fit) = (SiteWork::default(), FitWork::default());
        for atom in 0..n {
            self.load_site(&mut work, structure, list, &types, atom)?;
            work.moments(&self.model, types[atom]);
            rows.energy[types[atom]] += 1.0;
            for (k, &m) in self.model.mapping.iter().enumerate() {
                rows.energy[species_count + k] += work.moments[m];
            }
            work.basis_jacobian(&self.model, &mut fit);
            for (j, (&other, &r)) in work.index.iter().zip(&work.vector).enumerate() {
                for (k, sum) in virial.iter_mut().enumerate() {
                    let g = [0, 1, 2].map(|d| fit.jacobian[(3 * j + d) * basis + k]);
                    accumulate_virial(sum, r, g);
                    // F = −∂E/∂x with r_ij = x_j − x_i: F_i += ∂/∂r_ij, F_j −= ∂/∂r_ij.
                    for (d, &g_d) in g.iter().enumerate() {
                        rows.forces[(3 * atom + d) * columns + species_count + k] += g_d;
                        rows.forces[(3 * other + d) * columns + species_count + k] -= g_d;
                    }
                }
            }
        }
        for (k, sum) in virial.into_iter().enumerate() {
            let stress = stress_from_virial(structure, sum)?;
            for (v, s) in stress.into_iter().enumerate() {
                rows.stress[v * columns + species_count + k] = s;
            }
        }
        Ok(rows)
    }

    /// E, and F and σ as `request` asks, of one configuration (as [`crate::Potential::compute`] gives them, sites
    /// in order on one thread), filling `tables` (emptied first; reuse them from configuration to configuration
    /// to keep their memory) with the per-site tables that [`Mtp::parameter_gradient_from`] needs: a fit forms
    /// its residual from the output and then takes the gradient without computing the moments again. Needs
    /// all coefficients and the species map.
    pub fn evaluate_for_fit(
        &self,
        structure: &Structure,
        list: &NeighborList,
        request: Request,
        tables: &mut FitTables,
    ) -> Result<Output> {
        self.check_ready(true)?;
        let types = self.types_for(structure)?;
        require_list(Some(list), self.list_request())?;
        let n = structure.len();
        if list.len() != n {
            return Err(Error::Invalid(format!(
                "the neighbour list has {} atoms, the structure {n}",
                list.len()
            )));
        }
        let mut energies = Vec::with_capacity(n);
        let mut forces = vec![[0.0; 3]; if request.forces { n } else { 0 }];
        let mut virial = [0.0; 6];
        let mut work = SiteWork::default();
        let sites = &mut tables.sites;
        sites.clear();
        for (atom, &centre) in types.iter().enumerate() {
            self.load_site(&mut work, structure, list, &types, atom)?;
            work.moments(&self.model, centre);
            energies.push(work.energy(&self.model, centre));
            work.keep_for_fit(&self.model, centre, sites);
            if atom == 0 {
                sites.reserve_like_first(&self.model, n);
            }
            if request.forces || request.stress {
                work.gradient::<Separate>(&self.model);
                add_site_gradient(&work, atom, &mut forces, &mut virial);
            }
        }
        let output = Output {
            energy: energies.iter().sum(),
            forces: request.forces.then_some(forces),
            stress: if request.stress {
                Some(stress_from_virial(structure, virial)?)
            } else {
                None
            },
            energies: request.energies.then_some(energies),
        };
        Ok(output)
    }

    /// (E, Ė) of the configuration of `tables` (from [`Mtp::evaluate_for_fit`] with this potential) and
    /// ∂(a·E + Ė)/∂θ added to `grad` (length [`ParameterOffsets::len`]); see the module doc.
    pub fn parameter_gradient_from(
        &self,
        tables: &mut FitTables,
        direction: &FitDirection,
        grad: &mut [f64],
    ) -> Result<(f64, f64)> {
        let atoms = tables.sites.site_count();
        if direction.displacements.len() != atoms || grad.len() != self.parameter_offsets().len {
            return Err(Error::Invalid(format!(
                "fit direction for {} atoms and gradient of {} parameters, expected {atoms} and {}",
                direction.displacements.len(),
                grad.len(),
                self.parameter_offsets().len
            )));
        }
        Ok(tables.sites.parameter_gradient(
            &self.model,
            direction.energy_factor,
            &direction.displacements,
            &direction.strain,
            &mut tables.work,
            grad,
        ))
    }

    /// (E, Ė) of one configuration and ∂(a·E + Ė)/∂θ added to `grad` (length [`ParameterOffsets::len`]):
    /// [`Mtp::evaluate_for_fit`] then [`Mtp::parameter_gradient_from`]. Needs all coefficients and the
    /// species map.
    pub fn directional_parameter_gradient(
        &self,
        structure: &Structure,
        list: &NeighborList,
        direction: &FitDirection,
        grad: &mut [f64],
    ) -> Result<(f64, f64)> {
        let mut tables = FitTables::default();
        self.evaluate_for_fit(structure, list, Request::ENERGY, &mut tables)?;
        self.parameter_gradient_from(&mut tables, direction, grad)
    }
}

/// The per-site tables of one configuration kept by [`Mtp::evaluate_for_fit`] for
/// [`Mtp::parameter_gradient_from`] (memory: about 25 numbers per neighbour within the cutoff and the moments, some
/// hundreds, per atom).
#[derive(Default)]
pub struct FitTables {
    sites: FitSites,
    /// The work tables of the gradient pass.
    work: FitWork,
}

thread_local! {
    /// Each thread's [`FitTables`] for [`FitTables::with_thread_tables`]: they keep the size of the largest
    /// configuration seen (roughly 10 kB per atom at level 16) until the thread ends.
    static FIT_TABLES: std::cell::RefCell<FitTables> = std::cell::RefCell::new(FitTables::default());
}

impl FitTables {
    /// `work` on this thread's tables, kept from configuration to configuration and from call to call, so
    /// that a fit can hand its configurations to the threads one at a time without regrowing tables.
    pub fn with_thread_tables<R>(work: impl FnOnce(&mut FitTables) -> R) -> R {
        super::with_thread_local(&FIT_TABLES, work)
    }
}
