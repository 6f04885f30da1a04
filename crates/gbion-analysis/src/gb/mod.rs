//! Grain-boundary analysis of periodic bicrystals (paper 000, Fig. 4, Tables S1 and S2): the GB planes
//! ([`planes`]), the interplanar spacing that sets the GB width ([`spacing`]), composition profiles and GB
//! versus bulk composition ([`composition`]), and the GB energy ([`energy`]). [`analyze`] runs the
//! composition analysis over the frames of a trajectory; [`diffusion`] splits the mobile ions' diffusivity
//! into GB and bulk, in-plane and across.
//!
//! GB width (paper 000, Fig. 4a): "two or four times the interplanar distance between GB planes with a
//! general requirement of d_GB > 5 Å": w = max(n·d, [`MIN_GB_WIDTH_A`]) for n spacings d, or a width in Å.

pub mod composition;
pub mod diffusion;
pub mod energy;
pub mod planes;
pub mod spacing;

use crate::trajectory_ordering::MeanStd;
use crate::{Error, Result};
use composition::{CompositionProfile, ProfileAccumulator, RegionComposition, region_composition};
use gbion_atoms::Structure;
use planes::{GbPlanes, find_planes};
use std::collections::BTreeMap;

/// Smallest GB width (Å) a number of interplanar spacings may give (paper 000, Fig. 4a).
pub const MIN_GB_WIDTH_A: f64 = 5.0;

/// How wide the GB region is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GbWidth {
    /// A width in Å.
    Absolute(f64),
    /// This many interplanar spacings, at least [`MIN_GB_WIDTH_A`].
    Spacings(f64),
}

/// Options of a GB composition analysis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GbOptions {
    /// Lattice axis of the GB normal; found on the first frame when `None` and kept for all frames.
    pub axis: Option<usize>,
    pub width: GbWidth,
    /// Profile bin width (Å); the interplanar spacing when `None`.
    pub bin_width: Option<f64>,
}

impl Default for GbOptions {
    /// The normal found automatically, a GB of two interplanar spacings (at least 5 Å), bins one spacing wide.
    fn default() -> GbOptions {
        GbOptions {
            axis: None,
            width: GbWidth::Spacings(2.0),
            bin_width: None,
        }
    }
}

/// The GB planes and region composition of one frame.
#[derive(Clone, Debug, PartialEq)]
pub struct GbFrame {
    pub planes: GbPlanes,
    pub composition: RegionComposition,
}

/// The GB composition analysis of a trajectory (or of a single structure).
#[derive(Clone, Debug)]
pub struct GbAnalysis {
    /// Per frame, in order.
    pub frames: Vec<GbFrame>,
    /// Interplanar spacing along the normal (Å), measured on the first frame; `None` when it could not be
    /// measured and was not needed.
    pub interplanar_spacing: Option<f64>,
    /// GB width used (Å).
    pub width: f64,
    /// Profile bin width used (Å).
    pub bin_width: f64,
    /// The composition profile, all frames together.
    pub profile: CompositionProfile,
    /// Symbol → atomic percent in the GB region, mean ± standard deviation over frames.
    pub gb_at_percent: BTreeMap<&'static str, MeanStd>,
    /// Symbol → atomic percent in the bulk, mean ± standard deviation over frames.
    pub bulk_at_percent: BTreeMap<&'static str, MeanStd>,
    /// The last frame (for its energy and cell).
    pub last: Structure,
}

/// GB planes, regions and composition of every frame. Errors name the frame (0-based).
pub fn analyze<I>(frames: I, options: &GbOptions) -> Result<GbAnalysis>
where
    I: IntoIterator<Item = gbion_atoms::Result<Structure>>,
{
    let mut analyzed: Vec<GbFrame> = Vec::new();
    let mut setup: Option<(Option<f64>, f64, ProfileAccumulator)> = None;
    let mut last = None;
    for (index, frame) in frames.into_iter().enumerate() {
        let in_frame = |e: Error| Error::Invalid(format!("frame {index}: {e}"));
        let frame = frame.map_err(|e| in_frame(e.into()))?;
        let axis = analyzed.first().map(|f| f.planes.axis).or(options.axis);
        let planes = find_planes(&frame, axis).map_err(in_frame)?;
        if setup.is_none() {
            setup = Some(widths(&frame, &planes, options).map_err(in_frame)?);
        }
        let (_, width, profile) = setup.as_mut().expect("set on the first frame");
        profile.add(&frame, &planes);
        let composition = region_composition(&frame, &planes, *width).map_err(in_frame)?;
        analyzed.push(GbFrame { planes, composition });
        last = Some(frame);
    }
    let (Some((spacing, width, profile)), Some(last)) = (setup, last) else {
        return Err(Error::Invalid("the trajectory has no frames".into()));
    };
    let bin_width = profile.bin_width();
    let profile = profile.profile();
    let statistics = |pick: fn(&RegionComposition) -> &BTreeMap<&'static str, f64>| {
        profile
            .species
            .iter()
            .map(|&s| {
                let values: Vec<f64> = analyzed
                    .iter()
                    .map(|f| pick(&f.composition).get(s).copied().unwrap_or(0.0))
                    .collect();
                (s, MeanStd::of(&values))
            })
            .collect()
    };
    Ok(GbAnalysis {
        gb_at_percent: statistics(|c| &c.gb_at_percent),
        bulk_at_percent: statistics(|c| &c.bulk_at_percent),
        interplanar_spacing: spacing,
        width,
        bin_width,
        profile,
        frames: analyzed,
        last,
    })
}

/// The interplanar spacing (when measurable), the GB width and an empty profile, from the first frame.
fn widths(frame: &Structure, planes: &GbPlanes, options: &GbOptions) -> Result<(Option<f64>, f64, ProfileAccumulator)> {
    let spacing = spacing::interplanar_spacing(frame, planes);
    let width = gb_width(&spacing, options.width)?;
    let bin_width = match options.bin_width {
        Some(b) => b,
        None => *spacing.as_ref().map_err(clone_error)?,
    };
    Ok((spacing.ok(), width, ProfileAccumulator::new(bin_width)?))
}

/// The GB width (Å) asked for, given the interplanar spacing (needed only for a width in spacings).
pub(crate) fn gb_width(spacing: &Result<f64>, width: GbWidth) -> Result<f64> {
    match width {
        GbWidth::Absolute(w) if w.is_finite() && w > 0.0 => Ok(w),
        GbWidth::Absolute(w) => Err(Error::Invalid(format!("the GB width must be positive, not {w} Å"))),
        GbWidth::Spacings(n) if n.is_finite() && n > 0.0 => {
            Ok((n * *spacing.as_ref().map_err(clone_error)?).max(MIN_GB_WIDTH_A))
        }
        GbWidth::Spacings(n) => Err(Error::Invalid(format!(
            "the number of spacings must be positive, not {n}"
        ))),
    }
}

fn clone_error(e: &Error) -> Error {
    Error::Invalid(e.to_string())
}
