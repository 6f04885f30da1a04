//! Diffusivity split by region of a bicrystal (issue 8, paper 000 Fig. 4c): which mobile ions belong to the
//! GB region and which to the bulk, and their tracer diffusivities in the GB plane and across it.
//!
//! **Regions.** The GB planes are found on the first frame (from `grain` tags or the structural signature,
//! [`super::planes`]) and kept as fractions of the cell height along the normal, so they follow a changing
//! cell. In every frame an ion is in the GB region when its distance to the nearest plane is at most half
//! the GB width ([`super::GbWidth`], paper 000: two or four interplanar spacings, at least 5 Å). Ions move
//! between regions, so each is assigned to the region it spends most frames in (the GB when its fraction
//! of frames there is ≥ 1/2); the *residence* of a region is the mean fraction of frames its ions spend in
//! it (1 when no ion ever leaves; lower values say the split mixes GB and bulk motion).
//!
//! **Diffusivities.** For each region's ions, [`crate::diffusion::tracer_diffusivity`] along all three
//! axes, along the two axes in the GB plane (d = 2) and along the normal (d = 1), each with its own GLS fit
//! and window. The GB normal must lie along a Cartesian axis (as in the cells `gbion build gb` makes, whose
//! GBs lie in the xy plane); other orientations are refused rather than projected.

use super::planes::{GbPlanes, axis_coordinates, find_planes};
use super::{GbOptions, GbWidth, gb_width, spacing::interplanar_spacing};
use crate::diffusion::{DiffusionFit, FitOptions, tracer_diffusivity};
use crate::msd::{Components, Trajectory};
use crate::{Error, Result};
use gbion_atoms::Structure;
use gbion_atoms::linalg::cross;

/// Tolerance on the GB normal's alignment with a Cartesian axis (|n_k| ≥ 1 − this).
const ALIGNMENT_TOLERANCE: f64 = 1e-6;

/// The region an ion is assigned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Gb,
    Bulk,
}

impl Region {
    /// `gb` or `bulk`, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Region::Gb => "gb",
            Region::Bulk => "bulk",
        }
    }
}

/// Counts, frame by frame, how often each tracked ion is in the GB region.
#[derive(Clone, Debug)]
pub struct RegionTracker {
    planes: GbPlanes,
    /// Plane positions as fractions of the height along the normal (first frame).
    plane_fractions: Vec<f64>,
    width: f64,
    /// Cartesian axis of the GB normal.
    normal: usize,
    atoms: Vec<usize>,
    frames_in_gb: Vec<u32>,
    n_frames: u32,
}

impl RegionTracker {
    /// A tracker of the ions `atoms` (indices in each frame), with the planes and GB width taken from the
    /// first frame `first` (which is not counted; push it like every other frame).
    pub fn new(first: &Structure, atoms: Vec<usize>, options: &GbOptions) -> Result<RegionTracker> {
        let planes = find_planes(first, options.axis)?;
        let spacing = match options.width {
            GbWidth::Spacings(_) => interplanar_spacing(first, &planes),
            GbWidth::Absolute(_) => Ok(f64::NAN),
        };
        let width = gb_width(&spacing, options.width)?;
        let normal = cartesian_normal(first, planes.axis)?;
        if let Some(&bad) = atoms.iter().find(|&&a| a >= first.len()) {
            return Err(Error::Invalid(format!(
                "ion index {bad} is out of range ({} atoms)",
                first.len()
            )));
        }
        let plane_fractions = planes.positions.iter().map(|p| p / planes.height).collect();
        Ok(RegionTracker {
            planes,
            plane_fractions,
            width,
            normal,
            frames_in_gb: vec![0; atoms.len()],
            atoms,
            n_frames: 0,
        })
    }

    /// Count the ions in the GB region of `frame` (the planes scaled to its cell height).
    pub fn push(&mut self, frame: &Structure) -> Result<()> {
        if let Some(&bad) = self.atoms.iter().find(|&&a| a >= frame.len()) {
            return Err(Error::Invalid(format!(
                "frame {}: ion index {bad} is out of range ({} atoms)",
                self.n_frames,
                frame.len()
            )));
        }
        let height = frame.cell.heights()[self.planes.axis];
        let planes = GbPlanes {
            height,
            positions: self.plane_fractions.iter().map(|f| f * height).collect(),
            ..self.planes.clone()
        };
        let z = axis_coordinates(frame, self.planes.axis);
        for (count, &atom) in self.frames_in_gb.iter_mut().zip(&self.atoms) {
            if planes.signed_distance(z[atom]).1.abs() <= 0.5 * self.width {
                *count += 1;
            }
        }
        self.n_frames += 1;
        Ok(())
    }

    /// The GB planes of the first frame.
    pub fn planes(&self) -> &GbPlanes {
        &self.planes
    }

    /// The GB width (Å).
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The Cartesian axis (0, 1, 2 = x, y, z) of the GB normal.
    pub fn normal_axis(&self) -> usize {
        self.normal
    }

    /// Per tracked ion, the fraction of the frames pushed so far it spent in the GB region.
    pub fn gb_fractions(&self) -> Vec<f64> {
        let n = f64::from(self.n_frames.max(1));
        self.frames_in_gb.iter().map(|&c| f64::from(c) / n).collect()
    }
}

/// The unit normal of the plane spanned by the two lattice vectors other than `axis` must lie along a
/// Cartesian axis; which one.
fn cartesian_normal(structure: &Structure, axis: usize) -> Result<usize> {
    let m = structure.cell.matrix();
    let n = cross(m[(axis + 1) % 3], m[(axis + 2) % 3]);
    let length = n.iter().map(|x| x * x).sum::<f64>().sqrt();
    (0..3)
        .find(|&k| (n[k] / length).abs() >= 1.0 - ALIGNMENT_TOLERANCE)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the GB normal ({:.4}, {:.4}, {:.4}) is not along x, y or z: rotate the cell so the GB planes are \
                 Cartesian planes to split in-plane and across diffusion",
                n[0] / length,
                n[1] / length,
                n[2] / length
            ))
        })
}

/// The tracer diffusivities of one region's ions.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionDiffusivity {
    pub region: Region,
    /// Indices (among the trajectory's atoms) of the ions assigned to the region.
    pub ions: Vec<usize>,
    /// Mean fraction of frames the region's ions spent in it.
    pub residence: f64,
    /// Along x, y and z (d = 3).
    pub total: DiffusionFit,
    /// Along the two axes in the GB plane (d = 2).
    pub in_plane: DiffusionFit,
    /// Along the GB normal (d = 1).
    pub across: DiffusionFit,
}

/// The diffusivities of the GB and bulk ions of `trajectory` (whose atoms are the tracker's, in the same
/// order), frames `dt_fs` apart. A region without ions is `None`.
pub fn region_diffusivities(
    trajectory: &Trajectory,
    tracker: &RegionTracker,
    dt_fs: f64,
    options: &FitOptions,
) -> Result<[Option<RegionDiffusivity>; 2]> {
    if trajectory.n_atoms() != tracker.atoms.len() || tracker.n_frames as usize != trajectory.n_frames() {
        return Err(Error::Invalid(format!(
            "the region tracker saw {} ions in {} frames, the trajectory has {} in {}",
            tracker.atoms.len(),
            tracker.n_frames,
            trajectory.n_atoms(),
            trajectory.n_frames()
        )));
    }
    let fractions = tracker.gb_fractions();
    let normal = tracker.normal;
    let fit = |ions: &[usize], components| -> Result<DiffusionFit> {
        tracer_diffusivity(trajectory, ions, components, dt_fs, options)
            .map(|d| d.fit)
            .map_err(|e| Error::Invalid(format!("{} diffusion: {e}", components.name())))
    };
    let region = |region: Region| -> Result<Option<RegionDiffusivity>> {
        let in_region = |f: f64| (f >= 0.5) == (region == Region::Gb);
        let ions: Vec<usize> = (0..fractions.len()).filter(|&i| in_region(fractions[i])).collect();
        if ions.is_empty() {
            return Ok(None);
        }
        let residence = ions
            .iter()
            .map(|&i| {
                if region == Region::Gb {
                    fractions[i]
                } else {
                    1.0 - fractions[i]
                }
            })
            .sum::<f64>()
            / ions.len() as f64;
        Ok(Some(RegionDiffusivity {
            region,
            total: fit(&ions, Components::XYZ)?,
            in_plane: fit(&ions, Components::normal_to(normal))?,
            across: fit(&ions, Components::along(normal))?,
            residence,
            ions,
        }))
    };
    Ok([region(Region::Gb)?, region(Region::Bulk)?])
}
