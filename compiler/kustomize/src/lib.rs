//! Native Kustomize: renders a kustomization directory into the objects `kubectl kustomize`
//! (kustomize v5.7.1) prints, in the same order, with no Go binary involved.

pub mod cli;
