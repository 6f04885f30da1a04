//! gbion-atoms owns the atomistic data model: triclinic cells, structures with per-atom tags and properties,
//! element data, neighbour lists, and the file formats users bring (extended XYZ, VASP, LAMMPS, MLIP `.cfg`).

pub mod cell;
pub mod element;
pub mod error;
pub mod io;
pub mod linalg;
pub mod neighbor;
pub mod structure;

pub use cell::Cell;
pub use element::Element;
pub use error::{Error, Result};
pub use linalg::{Mat3, Vec3};
pub use neighbor::{ListKind, Neighbor, NeighborList};
pub use structure::{InfoValue, Property, Results, SiteKind, Structure};
