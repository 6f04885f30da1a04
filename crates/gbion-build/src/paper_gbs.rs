//! The five grain boundaries of paper 000 (LSTZ0.75, Fig. 4a): symmetric tilt Σ5[100](0-12), twist
//! Σ5[100](100), symmetric tilt Σ3[110](1-11), twist Σ3[110](110) and the high-Σ tilt Σ51[110] with planes
//! (001)/(3-3 10). The last label is rounded: the exact Σ51 tilt about [110] (θ = 22.84°) from (001) has
//! (14 -14 47) in grain B, 0.14° from (3 -3 10), and that is what gets built.

use crate::bicrystal::{BicrystalSpec, Misorientation};
use crate::csl::IVec3;
use crate::formula::Formula;

/// One named boundary of paper 000.
#[derive(Clone, Copy, Debug)]
pub struct PaperGb {
    /// Name for `gbion build gb --paper NAME`.
    pub name: &'static str,
    /// The paper's label.
    pub label: &'static str,
    pub axis: IVec3,
    pub sigma: i64,
    pub plane: IVec3,
    pub plane2: Option<IVec3>,
}

/// The five boundaries, in the paper's order.
pub const PAPER_GBS: [PaperGb; 5] = [
    PaperGb {
        name: "sigma5-tilt",
        label: "symmetric tilt Σ5[100](0-12)",
        axis: [1, 0, 0],
        sigma: 5,
        plane: [0, -1, 2],
        plane2: None,
    },
    PaperGb {
        name: "sigma5-twist",
        label: "twist Σ5[100](100)",
        axis: [1, 0, 0],
        sigma: 5,
        plane: [1, 0, 0],
        plane2: None,
    },
    PaperGb {
        name: "sigma3-tilt",
        label: "symmetric tilt Σ3[110](1-11)",
        axis: [1, 1, 0],
        sigma: 3,
        plane: [1, -1, 1],
        plane2: None,
    },
    PaperGb {
        name: "sigma3-twist",
        label: "twist Σ3[110](110)",
        axis: [1, 1, 0],
        sigma: 3,
        plane: [1, 1, 0],
        plane2: None,
    },
    PaperGb {
        name: "sigma51-tilt",
        label: "asymmetric tilt Σ51[110](001)/(3-3 10)",
        axis: [1, 1, 0],
        sigma: 51,
        plane: [0, 0, 1],
        plane2: Some([3, -3, 10]),
    },
];

/// The paper boundary called `name`.
pub fn by_name(name: &str) -> Option<&'static PaperGb> {
    PAPER_GBS.iter().find(|g| g.name == name)
}

impl PaperGb {
    /// A spec for this boundary with the given formula and lattice constant (Å), no rigid translation,
    /// merging closer than 1 Å, seed 0.
    pub fn spec(&self, formula: Formula, a: f64, layers: Option<usize>) -> BicrystalSpec {
        BicrystalSpec {
            formula,
            a,
            axis: self.axis,
            misorientation: Misorientation::Sigma(self.sigma),
            plane: self.plane,
            plane2: self.plane2,
            layers,
            repeat: [1, 1],
            translation: [0.0, 0.0],
            merge_distance: 1.0,
            seed: 0,
        }
    }
}
