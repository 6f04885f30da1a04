//! The basis values of every site of a structure at once: the rows of the linear part of the MTP,
//! E_i = species_coeffs[t_i] + Σ_k moment_coeffs[k] · B_k(i) with B_k(i) = M_{alpha_moment_mapping[k]}(i)
//! (Shapeev, Multiscale Model. Simul. 14, 1153 (2016), eq. 5), which the extrapolation grade and the
//! linear fit need for all atoms. Same values as [`Mtp::site_basis`], one pass over the structure.

use super::kernel::SiteWork;
use super::{BLOCK_ATOMS, Mtp};
use crate::potential::require_list;
use crate::{Error, Result};
use gbion_atoms::{NeighborList, Structure};
use rayon::prelude::*;

/// The site basis values of all atoms of a structure.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteBases {
    /// Type index t_i of every atom (position in the species map).
    pub types: Vec<usize>,
    /// Number of basis functions K (`alpha_scalar_moments`, the length of `moment_coeffs`).
    pub width: usize,
    /// B_k(i) for atom i, row-major: `values[i * width + k]` (dimensionless moments × radial function
    /// values, so the units of `moment_coeffs` are eV).
    pub values: Vec<f64>,
}

impl SiteBases {
    /// The basis values of atom `atom`.
    pub fn row(&self, atom: usize) -> &[f64] {
        &self.values[atom * self.width..(atom + 1) * self.width]
    }
}

impl Mtp {
    /// The basis values of every site (see [`Mtp::site_basis`] for one site). Needs the radial
    /// coefficients and the species map; `list` is a full list of at least the cutoff's range, valid for
    /// `structure`. Blocks of atoms run in parallel; the result does not depend on the thread count.
    pub fn site_bases(&self, structure: &Structure, list: &NeighborList) -> Result<SiteBases> {
        self.check_ready(false)?;
        let types = self.types_for(structure)?;
        require_list(Some(list), self.list_request())?;
        if list.len() != structure.len() {
            return Err(Error::Invalid(format!(
                "the neighbour list has {} atoms, the structure {}",
                list.len(),
                structure.len()
            )));
        }
        let n = structure.len();
        let width = self.model.mapping.len();
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(BLOCK_ATOMS))
            .into_par_iter()
            .with_max_len(1)
            .map(|b| {
                let mut work = SiteWork::default();
                let mut values = Vec::with_capacity(BLOCK_ATOMS * width);
                for atom in b * BLOCK_ATOMS..((b + 1) * BLOCK_ATOMS).min(n) {
                    self.load_site(&mut work, structure, list, &types, atom)?;
                    work.moments(&self.model, types[atom]);
                    values.extend(self.model.mapping.iter().map(|&m| work.moments[m]));
                }
                Ok(values)
            })
            .collect::<Result<_>>()?;
        Ok(SiteBases {
            types,
            width,
            values: blocks.concat(),
        })
    }
}
