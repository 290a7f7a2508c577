//! The kiln compiler: reads a KDL project, renders its components per target and writes
//! reproducible, content-addressed bundles.
//!
//! The pipeline, one module per stage: [`project`] parses `kiln.kdl` into the [`model`];
//! [`graph`] checks references and orders components into waves; [`resolve`] evaluates templates
//! for one target into render jobs; [`render`] turns jobs into objects (through the [`cache`]);
//! [`build`] checks the objects of a target and hands them to `kiln-bundle`.

pub mod build;
pub mod cache;
pub mod cli;
pub mod diag;
pub mod graph;
pub mod model;
pub mod project;
pub mod render;
pub mod resolve;
pub mod sources;
pub mod stdlib;
pub mod template;
