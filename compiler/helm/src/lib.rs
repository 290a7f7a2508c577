//! Native Helm: renders charts into the objects `helm template` (Helm v4) prints, using the
//! Go template engine of `kiln-gotemplate` and Helm's function library.

pub mod cli;
