//! gbion-build owns the construction of structures: perovskite supercells from a formula with mixed and
//! vacant sites (random, layered and user-given orderings) and coincidence-site-lattice (CSL) bicrystals of
//! cubic lattices with two periodic grain boundaries.
