//! The kiln compiler: reads a KDL project, renders its components per target and writes
//! reproducible, content-addressed bundles.
