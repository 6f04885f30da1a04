//! gbion-atoms owns the atomistic data model: triclinic cells, structures with per-atom tags and properties,
//! element data, neighbour lists, and the file formats users bring (extended XYZ, VASP, LAMMPS, MLIP `.cfg`).
