//! The parse tree: Go's `text/template/parse` nodes, reduced to what execution needs, with
//! functions resolved at parse time and constants precomputed. `Display` renders nodes the way
//! Go's `Node.String()` does, which is the `<...>` context of execution errors.

use std::fmt::{self, Write};
use std::sync::Arc;

use crate::builtins::Builtin;
use crate::func::Function;
use crate::gofmt;

/// One parsed template (the body of a file, a `define` or a `block`).
#[derive(Debug)]
pub(crate) struct Tree {
    pub name: String,
    /// The file the template was parsed from (Go's `ParseName`).
    pub parse_name: Arc<str>,
    /// The whole text of that file, for error locations.
    pub text: Arc<str>,
    pub root: Vec<Node>,
    /// Whether nesting is deep enough that dropping recursively could overflow the stack.
    pub deep: bool,
}

impl Tree {
    /// Go's `parse.IsEmptyTree`: only whitespace text and comments.
    pub(crate) fn is_empty_tree(&self) -> bool {
        self.root.iter().all(|n| match n {
            Node::Text(t) => t
                .of(&self.text)
                .trim_matches(|c: char| c.is_whitespace())
                .is_empty(),
            _ => false,
        })
    }
}

/// Literal text of a template: a range of its tree's source ([`Tree::text`]), kept in 32 bits
/// (the parser takes no longer source) so that a node is 16 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text {
    start: u32,
    len: u32,
}

impl Text {
    /// The `len` bytes at `start` of the tree's source; both lie within a source of at most
    /// `u32::MAX` bytes.
    pub(crate) fn new(start: usize, len: usize) -> Text {
        Text {
            start: start as u32,
            len: len as u32,
        }
    }

    /// The text, from the source of the tree holding it.
    pub(crate) fn of<'a>(&self, source: &'a str) -> &'a str {
        let start = self.start as usize;
        source
            .get(start..start + self.len as usize)
            .unwrap_or_default()
    }
}

#[derive(Debug)]
pub(crate) enum Node {
    Text(Text),
    Action(Box<Action>),
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    Template(Box<TemplateCall>),
    Break(usize),
    Continue(usize),
}

/// An action: its position is its pipeline's (Go places both at the first token after `{{`).
#[derive(Debug)]
pub(crate) struct Action {
    pub pipe: Pipe,
}

impl Action {
    pub(crate) fn pos(&self) -> usize {
        self.pipe.pos as usize
    }
}

/// `if`, `with` and `range`: a pipeline, a body and an optional else body.
#[derive(Debug)]
pub(crate) struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Box<[Node]>,
    pub else_list: Option<Box<[Node]>>,
}

#[derive(Debug)]
pub(crate) struct TemplateCall {
    pub pos: usize,
    pub name: String,
    pub pipe: Option<Pipe>,
}

/// `$x := cmd | cmd` or `$x = ...` or just commands. The position is kept in 32 bits (the
/// parser takes no longer source) so that it shares a word with `is_assign`.
#[derive(Debug)]
pub(crate) struct Pipe {
    pub pos: u32,
    pub is_assign: bool,
    /// Declared or assigned variables (each with its position).
    pub decl: Box<[(usize, Arc<str>)]>,
    pub cmds: Commands,
}

/// The commands of a pipeline, allocated at their exact number.
pub(crate) type Commands = Box<[Command]>;

#[derive(Debug)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Args,
}

/// The arguments of a command (the function or value first), allocated at their exact number.
pub(crate) type Args = Box<[Arg]>;

/// An argument of a command. Positions are kept in 32 bits (the parser takes no longer source),
/// with the variant's tag, so that an argument is 40 bytes.
#[derive(Debug)]
pub(crate) enum Arg {
    /// `.A.B.C`
    Field {
        pos: u32,
        idents: Idents,
    },
    /// `(pipe).A.B` or `func.A` style chains on a term that is not a field or variable.
    Chain {
        pos: u32,
        node: Box<Arg>,
        fields: Box<[Arc<str>]>,
    },
    /// A function name, resolved (the function shared by every call of it in a template set).
    Ident {
        pos: u32,
        name: Arc<str>,
        func: Arc<Func>,
    },
    /// `$x.A.B`; `idents[0]` is the variable name including `$`.
    Variable {
        pos: u32,
        idents: Idents,
    },
    Dot(u32),
    Nil(u32),
    Bool(u32, bool),
    Number(Box<Number>),
    /// A string constant, shared by every use of the same literal in a template set.
    String {
        pos: u32,
        literal: Arc<StringLiteral>,
    },
    Pipe(Box<Pipe>),
}

/// A string constant: the quoted source text and the unquoted value.
#[derive(Debug)]
pub(crate) struct StringLiteral {
    pub quoted: Box<str>,
    pub value: Arc<str>,
}

/// The names of a field or variable chain, shared by every use of the same chain in a template set.
pub(crate) type Idents = Arc<[Arc<str>]>;

/// A function a command can call.
#[derive(Debug, Clone)]
pub(crate) enum Func {
    Builtin(Builtin),
    User(Function),
}

/// A numeric constant with every interpretation Go's parser finds valid.
#[derive(Debug, Clone)]
pub(crate) struct Number {
    pub pos: usize,
    pub text: Arc<str>,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub int: i64,
    pub float: f64,
}

impl Arg {
    pub(crate) fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::String { pos, .. } => *pos as usize,
            Arg::Number(n) => n.pos,
            Arg::Pipe(p) => p.pos as usize,
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node], source: &str) -> fmt::Result {
    list.iter()
        .try_for_each(|n| write!(f, "{}", n.display(source)))
}

impl Node {
    /// Go's `Node.String()`; `source` is the source of the tree holding the node.
    pub(crate) fn display<'a>(&'a self, source: &'a str) -> NodeDisplay<'a> {
        NodeDisplay { node: self, source }
    }
}

/// A node shown with its tree's source (see [`Node::display`]).
pub(crate) struct NodeDisplay<'a> {
    node: &'a Node,
    source: &'a str,
}

impl fmt::Display for NodeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = self.source;
        match self.node {
            Node::Text(t) => f.write_str(t.of(source)),
            Node::Action(a) => write!(f, "{{{{{}}}}}", a.pipe),
            Node::If(b) => write_branch(f, "if", b, source),
            Node::With(b) => write_branch(f, "with", b, source),
            Node::Range(b) => write_branch(f, "range", b, source),
            Node::Template(t) => match &t.pipe {
                None => write!(f, "{{{{template {}}}}}", gofmt::quote(&t.name)),
                Some(p) => write!(f, "{{{{template {} {p}}}}}", gofmt::quote(&t.name)),
            },
            Node::Break(_) => f.write_str("{{break}}"),
            Node::Continue(_) => f.write_str("{{continue}}"),
        }
    }
}

fn write_branch(f: &mut fmt::Formatter<'_>, name: &str, b: &Branch, source: &str) -> fmt::Result {
    write!(f, "{{{{{name} {}}}}}", b.pipe)?;
    write_list(f, &b.list, source)?;
    if let Some(e) = &b.else_list {
        f.write_str("{{else}}")?;
        write_list(f, e, source)?;
    }
    f.write_str("{{end}}")
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, (_, v)) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(v)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            match a {
                Arg::Pipe(p) => write!(f, "({p})")?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => idents.iter().try_for_each(|i| write!(f, ".{i}")),
            Arg::Chain { node, fields, .. } => {
                match &**node {
                    Arg::Pipe(p) => write!(f, "({p})")?,
                    other => write!(f, "{other}")?,
                }
                fields.iter().try_for_each(|i| write!(f, ".{i}"))
            }
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Variable { idents, .. } => {
                for (i, id) in idents.iter().enumerate() {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    f.write_str(id)?;
                }
                Ok(())
            }
            Arg::Dot(_) => f.write_char('.'),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(n) => f.write_str(&n.text),
            Arg::String { literal, .. } => f.write_str(&literal.quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

/// Dropping a deeply nested tree recursively could overflow the stack; take it apart iteratively.
impl Drop for Tree {
    fn drop(&mut self) {
        if !self.deep {
            return;
        }
        enum Part {
            Node(Node),
            Pipe(Pipe),
            Arg(Arg),
        }
        fn pipe_parts(p: Pipe, stack: &mut Vec<Part>) {
            let Pipe { cmds, .. } = p;
            for c in cmds {
                stack.extend(c.args.into_iter().map(Part::Arg));
            }
        }
        let mut stack: Vec<Part> = std::mem::take(&mut self.root)
            .into_iter()
            .map(Part::Node)
            .collect();
        while let Some(part) = stack.pop() {
            match part {
                Part::Node(Node::Action(a)) => pipe_parts(a.pipe, &mut stack),
                Part::Node(Node::If(b) | Node::With(b) | Node::Range(b)) => {
                    let Branch {
                        pipe,
                        list,
                        else_list,
                        ..
                    } = *b;
                    pipe_parts(pipe, &mut stack);
                    stack.extend(list.into_iter().map(Part::Node));
                    stack.extend(else_list.into_iter().flatten().map(Part::Node));
                }
                Part::Node(Node::Template(t)) => {
                    if let Some(p) = t.pipe {
                        pipe_parts(p, &mut stack);
                    }
                }
                Part::Node(_) => {}
                Part::Pipe(p) => pipe_parts(p, &mut stack),
                Part::Arg(Arg::Pipe(p)) => stack.push(Part::Pipe(*p)),
                Part::Arg(Arg::Chain { node, .. }) => stack.push(Part::Arg(*node)),
                Part::Arg(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trees of real charts hold tens of thousands of nodes and arguments: their size is most of
    /// the memory parsing touches.
    #[test]
    fn nodes_and_arguments_stay_small() {
        assert_eq!(size_of::<Text>(), 8);
        assert_eq!(size_of::<Node>(), 16);
        assert_eq!(size_of::<Arg>(), 32);
        assert_eq!(size_of::<Command>(), 24);
        assert_eq!(size_of::<Pipe>(), 40);
        assert_eq!(size_of::<Action>(), 40);
        assert_eq!(size_of::<Branch>(), 80);
    }

    #[test]
    fn text_is_a_range_of_its_source() {
        let source = "abcdef";
        assert_eq!(Text::new(2, 2).of(source), "cd");
        assert_eq!(Text::new(4, 9).of(source), "");
    }
}
