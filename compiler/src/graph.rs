//! The dependency graph of a project's components: references checked, cycles reported with
//! their path, and topological waves (components in one wave do not depend on each other).
//!
//! The graph does not depend on the target (every target has every component), so it is built
//! once per project; waves are the order the applier applies components in.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diag::{Error, Result, suggestion};
use crate::model::Project;

/// Components and their dependencies, by index into `Project::components`.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Edges point from a dependency to its dependent.
    graph: DiGraph<usize, ()>,
    /// Component names, by index.
    names: Vec<String>,
    /// Waves of component indexes, each sorted by name.
    waves: Vec<Vec<usize>>,
}

impl Graph {
    /// Builds the graph, failing on undefined dependencies and cycles.
    pub fn build(project: &Project) -> Result<Graph> {
        let names: Vec<String> = project.components.keys().cloned().collect();
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..names.len()).map(|i| graph.add_node(i)).collect();
        for (i, component) in project.components.values().enumerate() {
            for dep in &component.depends_on {
                let Some(j) = project.components.get_index_of(&dep.value) else {
                    let candidates: Vec<&str> = names
                        .iter()
                        .map(String::as_str)
                        .filter(|n| *n != component.name.value)
                        .collect();
                    return Err(Error::input(
                        "kiln::graph::undefined-component",
                        format!(
                            "component `{}` depends on `{}`, which is not defined",
                            component.name.value, dep.value
                        ),
                    )
                    .at(&project.file, dep.span, "no component has this name")
                    .help(suggestion(&dep.value, &candidates)));
                };
                graph.add_edge(nodes[j], nodes[i], ());
            }
        }
        if let Some(cycle) = find_cycle(&graph) {
            let path: Vec<&str> = cycle
                .iter()
                .chain(cycle.first())
                .map(|&i| names[i].as_str())
                .collect();
            let first = &project.components[cycle[0]];
            let mut err = Error::input(
                "kiln::graph::cycle",
                format!("dependency cycle: {}", path.join(" -> ")),
            )
            .at(
                &project.file,
                first.name.span,
                "this component depends on itself through the cycle",
            );
            for w in cycle
                .windows(2)
                .chain(std::iter::once(&[cycle[cycle.len() - 1], cycle[0]][..]))
            {
                let (from, to) = (&project.components[w[0]], &names[w[1]]);
                if let Some(dep) = from.depends_on.iter().find(|d| &d.value == to) {
                    err =
                        err.and_label(dep.span, format!("`{}` depends on `{to}`", from.name.value));
                }
            }
            return Err(err.help("components are applied after their dependencies; remove one `depends-on` to break the cycle"));
        }
        let waves = waves(&graph, &names);
        Ok(Graph {
            graph,
            names,
            waves,
        })
    }

    /// The waves, as indexes into `Project::components`.
    pub fn waves(&self) -> &[Vec<usize>] {
        &self.waves
    }

    /// The waves, as component names.
    pub fn wave_names(&self) -> Vec<Vec<String>> {
        self.waves
            .iter()
            .map(|w| w.iter().map(|&i| self.names[i].clone()).collect())
            .collect()
    }

    /// Graphviz DOT text of the graph, one cluster per wave.
    pub fn to_dot(&self, project: &str) -> String {
        let mut out = format!(
            "digraph {} {{\n  rankdir=LR;\n  node [shape=box];\n",
            quote(project)
        );
        for (w, wave) in self.waves.iter().enumerate() {
            out.push_str(&format!(
                "  subgraph cluster_wave{w} {{\n    label=\"wave {w}\";\n"
            ));
            for &i in wave {
                out.push_str(&format!("    {};\n", quote(&self.names[i])));
            }
            out.push_str("  }\n");
        }
        let mut edges: Vec<(&str, &str)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| {
                (
                    self.names[self.graph[b]].as_str(),
                    self.names[self.graph[a]].as_str(),
                )
            })
            .collect();
        edges.sort();
        for (dependent, dependency) in edges {
            out.push_str(&format!(
                "  {} -> {};\n",
                quote(dependent),
                quote(dependency)
            ));
        }
        out.push_str("}\n");
        out
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A cycle as component indexes in dependency order, when the graph has one.
fn find_cycle(graph: &DiGraph<usize, ()>) -> Option<Vec<usize>> {
    let mut sccs: Vec<Vec<NodeIndex>> = tarjan_scc(graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
        .collect();
    for scc in &mut sccs {
        scc.sort_by_key(|n| graph[*n]);
    }
    sccs.sort_by_key(|scc| graph[scc[0]]);
    let scc = sccs.first()?;
    // Walk from the lowest-index member along edges inside the component until a node repeats.
    let start = scc[0];
    let mut path = vec![start];
    let mut current = start;
    loop {
        let mut next: Vec<NodeIndex> = graph
            .neighbors(current)
            .filter(|n| scc.contains(n))
            .collect();
        next.sort_by_key(|n| graph[*n]);
        let n = *next.first()?;
        if let Some(pos) = path.iter().position(|p| *p == n) {
            // Edges go dependency -> dependent; report as "a depends on b" order.
            let mut cycle: Vec<usize> = path[pos..].iter().map(|p| graph[*p]).collect();
            cycle.reverse();
            let min = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, v)| **v)
                .map(|(i, _)| i)
                .unwrap_or(0);
            cycle.rotate_left(min);
            return Some(cycle);
        }
        path.push(n);
        current = n;
    }
}

/// Longest-path layering: a component's wave is one more than its deepest dependency's.
fn waves(graph: &DiGraph<usize, ()>, names: &[String]) -> Vec<Vec<usize>> {
    let order = petgraph::algo::toposort(graph, None).unwrap_or_default();
    let mut level = vec![0usize; names.len()];
    for n in order {
        let l = graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
            .map(|d| level[graph[d]] + 1)
            .max()
            .unwrap_or(0);
        level[graph[n]] = l;
    }
    let count = level.iter().max().map(|m| m + 1).unwrap_or(0);
    let mut waves = vec![Vec::new(); count];
    for (i, l) in level.iter().enumerate() {
        waves[*l].push(i);
    }
    for w in &mut waves {
        w.sort_by(|a, b| names[*a].cmp(&names[*b]));
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;

    fn project(components: &str) -> Project {
        let text = format!("project \"p\"\ntarget \"t\"\n{components}");
        crate::project::parse(SourceFile::new("kiln.kdl", "kiln.kdl", text), ".".into()).unwrap()
    }

    #[test]
    fn waves_follow_dependencies() {
        let p = project(
            "component \"c\" { depends-on \"a\" \"b\"; manifests \"x\" }\n\
             component \"b\" { depends-on \"a\"; manifests \"x\" }\n\
             component \"a\" { manifests \"x\" }\n\
             component \"z\" { manifests \"x\" }\n",
        );
        let g = Graph::build(&p).unwrap();
        assert_eq!(g.wave_names(), vec![vec!["a", "z"], vec!["b"], vec!["c"]]);
        assert!(g.to_dot("p").contains("\"c\" -> \"b\";"));
    }

    #[test]
    fn cycles_print_their_path() {
        let p = project(
            "component \"a\" { depends-on \"c\"; manifests \"x\" }\n\
             component \"b\" { depends-on \"a\"; manifests \"x\" }\n\
             component \"c\" { depends-on \"b\"; manifests \"x\" }\n",
        );
        let e = Graph::build(&p).unwrap_err();
        assert_eq!(e.to_string(), "dependency cycle: a -> c -> b -> a");
        let p = project("component \"a\" { depends-on \"a\"; manifests \"x\" }\n");
        assert_eq!(
            Graph::build(&p).unwrap_err().to_string(),
            "dependency cycle: a -> a"
        );
    }

    #[test]
    fn undefined_dependencies_suggest_a_name() {
        let p = project(
            "component \"web\" { depends-on \"dbb\"; manifests \"x\" }\ncomponent \"db\" { manifests \"x\" }\n",
        );
        let e = Graph::build(&p).unwrap_err();
        assert_eq!(e.code, "kiln::graph::undefined-component");
        assert!(e.render_plain().contains("did you mean `db`?"));
    }
}
